//! Trap entry and exit (privileged spec 4.1: `stvec`, `sscratch`, `sepc`, `scause`, `stval`).
//!
//! The kernel runs with `sstatus.SIE` clear, so the only traps it takes itself are bugs; user
//! programs run with interrupts on (in U-mode S-level interrupts are always enabled). While a
//! process runs, `sscratch` holds its [`TrapFrame`]; in the kernel it holds 0, which is how the
//! vector tells a trap from U-mode from a trap in the kernel.
//!
//! Every trap from U-mode saves the user registers in the frame, switches to the single
//! kernel stack and calls [`crate::proc::user_trap`], which returns the frame to resume (the
//! same process or another). Nothing in the kernel ever sleeps in the middle of a call:
//! a system call that must wait rewinds `sepc` to its `ecall` and is re-executed when the
//! process runs again, so one kernel stack serves every process.

use core::arch::global_asm;
use core::mem::offset_of;

/// The user state of a process, as saved on a trap and restored on return.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct TrapFrame {
    /// x0..x31; `regs[0]` is unused, `regs[2]` is the user `sp`.
    pub regs: [u64; 32],
    /// Where the user program resumes.
    pub sepc: u64,
    /// The top of the kernel stack, loaded on every trap.
    pub kernel_sp: u64,
    /// f0..f31, saved only when the program has dirtied them.
    pub fregs: [u64; 32],
    /// `fcsr`.
    pub fcsr: u64,
}

impl TrapFrame {
    /// A frame with every register zero.
    pub const fn zeroed() -> Self {
        TrapFrame {
            regs: [0; 32],
            sepc: 0,
            kernel_sp: 0,
            fregs: [0; 32],
            fcsr: 0,
        }
    }
}

const SEPC: usize = offset_of!(TrapFrame, sepc);
const KERNEL_SP: usize = offset_of!(TrapFrame, kernel_sp);

global_asm!(
    r#"
    .section .text, "ax", @progbits
    .balign 4
    .globl trap_vector
trap_vector:
    csrrw   sp, sscratch, sp
    beqz    sp, 1f
    sd      x1, 8(sp)
    sd      x3, 24(sp)
    sd      x4, 32(sp)
    sd      x5, 40(sp)
    sd      x6, 48(sp)
    sd      x7, 56(sp)
    sd      x8, 64(sp)
    sd      x9, 72(sp)
    sd      x10, 80(sp)
    sd      x11, 88(sp)
    sd      x12, 96(sp)
    sd      x13, 104(sp)
    sd      x14, 112(sp)
    sd      x15, 120(sp)
    sd      x16, 128(sp)
    sd      x17, 136(sp)
    sd      x18, 144(sp)
    sd      x19, 152(sp)
    sd      x20, 160(sp)
    sd      x21, 168(sp)
    sd      x22, 176(sp)
    sd      x23, 184(sp)
    sd      x24, 192(sp)
    sd      x25, 200(sp)
    sd      x26, 208(sp)
    sd      x27, 216(sp)
    sd      x28, 224(sp)
    sd      x29, 232(sp)
    sd      x30, 240(sp)
    sd      x31, 248(sp)
    csrr    t0, sscratch
    sd      t0, 16(sp)
    csrw    sscratch, zero
    csrr    t0, sepc
    sd      t0, {sepc}(sp)
    mv      a0, sp
    ld      sp, {kernel_sp}(a0)
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    call    {user_trap}
    j       return_to_user

    // A trap in the kernel: a bug. Report it on a fresh stack.
1:  csrrw   sp, sscratch, sp
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    la      sp, boot_stack_top
    tail    {kernel_trap}

    // a0 = the frame to resume.
    .globl return_to_user
return_to_user:
    ld      t0, {sepc}(a0)
    csrw    sepc, t0
    csrw    sscratch, a0
    ld      x1, 8(a0)
    ld      x2, 16(a0)
    ld      x3, 24(a0)
    ld      x4, 32(a0)
    ld      x5, 40(a0)
    ld      x6, 48(a0)
    ld      x7, 56(a0)
    ld      x8, 64(a0)
    ld      x9, 72(a0)
    ld      x11, 88(a0)
    ld      x12, 96(a0)
    ld      x13, 104(a0)
    ld      x14, 112(a0)
    ld      x15, 120(a0)
    ld      x16, 128(a0)
    ld      x17, 136(a0)
    ld      x18, 144(a0)
    ld      x19, 152(a0)
    ld      x20, 160(a0)
    ld      x21, 168(a0)
    ld      x22, 176(a0)
    ld      x23, 184(a0)
    ld      x24, 192(a0)
    ld      x25, 200(a0)
    ld      x26, 208(a0)
    ld      x27, 216(a0)
    ld      x28, 224(a0)
    ld      x29, 232(a0)
    ld      x30, 240(a0)
    ld      x31, 248(a0)
    ld      x10, 80(a0)
    sret
    "#,
    sepc = const SEPC,
    kernel_sp = const KERNEL_SP,
    user_trap = sym crate::proc::user_trap,
    kernel_trap = sym kernel_trap,
);

unsafe extern "C" {
    fn trap_vector();
    fn return_to_user(frame: *mut TrapFrame) -> !;
    static boot_stack_top: u8;
}

/// The top of the kernel stack, for [`TrapFrame::kernel_sp`].
pub fn kernel_stack_top() -> u64 {
    // Only the address of the linker-provided symbol is taken.
    &raw const boot_stack_top as u64
}

/// Installs the real trap vector (direct mode) and enables the supervisor timer interrupt
/// (it is taken only in U-mode, and wakes `wfi` in the idle loop).
pub fn install() {
    // SAFETY: `trap_vector` is 4-byte aligned code that handles every trap; sscratch = 0 marks
    // "in the kernel"; setting sie.STIE only allows the timer to be taken (from U-mode).
    unsafe {
        core::arch::asm!(
            "csrw sscratch, zero",
            "csrw stvec, {vector}",
            "li t0, 0x20",
            "csrs sie, t0",
            vector = in(reg) trap_vector as *const () as usize,
            out("t0") _,
        );
    }
}

/// Enters U-mode with `frame` (never returns: the next trap re-enters the kernel afresh).
///
/// # Safety
///
/// `frame` must stay valid and unmoved while the process runs, and `satp` must hold the
/// process's page table.
pub unsafe fn enter_user(frame: *mut TrapFrame) -> ! {
    // SAFETY: clearing SPP makes sret go to U-mode; SPIE is irrelevant there. The caller
    // vouches for the frame.
    unsafe {
        core::arch::asm!("li t0, 0x100", "csrc sstatus, t0", out("t0") _);
        return_to_user(frame)
    }
}

/// Called by the vector for a trap taken in the kernel: always a bug.
extern "C" fn kernel_trap(scause: usize, sepc: usize, stval: usize) -> ! {
    panic!("trap in the kernel: scause {scause:#x}, sepc {sepc:#x}, stval {stval:#x}");
}
