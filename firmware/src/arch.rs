//! The only assembly in the firmware: the entry point, the M-mode trap vector, the drop to
//! S-mode, and CSR access (RISC-V privileged spec, chapter 3 "Machine-Level ISA").

use core::arch::global_asm;

/// `mstatus` fields (privileged spec 3.1.6).
pub mod mstatus {
    /// S-mode interrupt enable.
    pub const SIE: usize = 1 << 1;
    /// S-mode interrupt enable before the last trap into S-mode.
    pub const SPIE: usize = 1 << 5;
    /// Privilege before the last trap into S-mode (1 = S, 0 = U).
    pub const SPP: usize = 1 << 8;
    /// Privilege before the last trap into M-mode (two bits).
    pub const MPP_MASK: usize = 3 << 11;
    /// `MPP` = S-mode.
    pub const MPP_SUPERVISOR: usize = 1 << 11;
    /// `MPP` = M-mode.
    pub const MPP_MACHINE: usize = 3 << 11;
    /// Floating-point unit state "Initial": the FPU is on, its registers clean.
    pub const FS_INITIAL: usize = 1 << 13;
}

/// Interrupt bits shared by `mip`, `mie` and `mideleg` (privileged spec 3.1.9).
pub mod interrupt {
    /// Supervisor software interrupt.
    pub const SSIP: usize = 1 << 1;
    /// Supervisor timer interrupt.
    pub const STIP: usize = 1 << 5;
    /// Machine timer interrupt.
    pub const MTIP: usize = 1 << 7;
    /// Supervisor external interrupt.
    pub const SEIP: usize = 1 << 9;
}

/// `mcause` values the firmware handles itself (privileged spec table 3.6).
pub mod cause {
    /// The interrupt flag of `mcause`.
    pub const INTERRUPT: usize = 1 << 63;
    /// Machine timer interrupt (with the interrupt flag).
    pub const MACHINE_TIMER: usize = INTERRUPT | 7;
    /// Environment call from S-mode: an SBI call.
    pub const SUPERVISOR_ECALL: usize = 9;
}

/// Reads a CSR. Reading the CSRs this firmware names has no side effect.
macro_rules! read_csr {
    ($csr:literal) => {{
        let value: usize;
        // SAFETY: a CSR read in M-mode changes no state and touches no memory.
        unsafe {
            core::arch::asm!(concat!("csrr {0}, ", $csr), out(reg) value, options(nomem, nostack))
        };
        value
    }};
}

/// Writes a CSR. The caller's `unsafe` block states why the new value is sound.
macro_rules! write_csr {
    ($csr:literal, $value:expr) => {
        core::arch::asm!(concat!("csrw ", $csr, ", {0}"), in(reg) $value, options(nostack))
    };
}

/// Sets bits in a CSR. The caller's `unsafe` block states why the new bits are sound.
macro_rules! set_csr {
    ($csr:literal, $bits:expr) => {
        core::arch::asm!(concat!("csrs ", $csr, ", {0}"), in(reg) $bits, options(nostack))
    };
}

/// Clears bits in a CSR. The caller's `unsafe` block states why that is sound.
macro_rules! clear_csr {
    ($csr:literal, $bits:expr) => {
        core::arch::asm!(concat!("csrc ", $csr, ", {0}"), in(reg) $bits, options(nostack))
    };
}

pub(crate) use {clear_csr, read_csr, set_csr, write_csr};

/// The registers of the interrupted context, saved by the trap vector: `regs[n]` is `xn`
/// (`regs[0]` is unused, `regs[2]` is the interrupted `sp`). Written back on return.
#[repr(C)]
pub struct TrapFrame {
    /// Integer registers x0..x31.
    pub regs: [usize; 32],
}

impl TrapFrame {
    /// Argument register `a<n>` (x10 + n).
    pub fn a(&self, n: usize) -> usize {
        self.regs[10 + n]
    }

    /// Sets argument register `a<n>` (x10 + n).
    pub fn set_a(&mut self, n: usize, value: usize) {
        self.regs[10 + n] = value;
    }
}

// Entry from the boot ROM: a0 = hart id, a1 = device tree. Hart 0 zeroes .bss, takes the one
// stack and runs `boot_main`; any other hart parks in wfi with its interrupts off.
//
// Trap vector: `mscratch` holds the M-mode stack top while S/U-mode runs and 0 while M-mode runs.
// Swapping it with sp therefore yields either a fresh stack (trap from S/U) or 0 (trap from the
// firmware itself, which then keeps its own stack). All 31 registers go into a `TrapFrame`;
// `trap_handler` returns only for traps from S/U-mode, which resume through mret.
global_asm!(
    r#"
    .section .text.entry, "ax"
    .globl _start
_start:
    csrw mie, zero
    bnez a0, park_hart
    la sp, __stack_top
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  csrw mscratch, zero
    la t0, _trap_vector
    csrw mtvec, t0
    call boot_main
park_hart:
    csrw mie, zero
3:  wfi
    j 3b

    .text
    .altmacro
    .macro SAVE_REG n
        sd x\n, \n*8(sp)
    .endm
    .macro LOAD_REG n
        ld x\n, \n*8(sp)
    .endm

    .balign 4
    .globl _trap_vector
_trap_vector:
    csrrw sp, mscratch, sp
    bnez sp, 1f
    csrrw sp, mscratch, sp
    csrw mscratch, sp
1:  addi sp, sp, -32*8
    sd x1, 1*8(sp)
    .set n, 3
    .rept 29
        SAVE_REG %n
        .set n, n + 1
    .endr
    csrr t0, mscratch
    sd t0, 2*8(sp)
    csrw mscratch, zero
    mv a0, sp
    call trap_handler
    addi t0, sp, 32*8
    csrw mscratch, t0
    ld x1, 1*8(sp)
    .set n, 3
    .rept 29
        LOAD_REG %n
        .set n, n + 1
    .endr
    ld sp, 2*8(sp)
    mret

    .globl enter_supervisor
enter_supervisor:
    csrw mepc, a2
    csrw mscratch, a3
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, 1 << 11
    csrs mstatus, t0
    li t0, 1 << 7
    csrc mstatus, t0
    li a2, 0
    li a3, 0
    li t0, 0
    mret
"#
);

unsafe extern "C" {
    /// Drops to S-mode at `entry` with a0 = `hart_id`, a1 = `device_tree`, and arms the trap
    /// vector with `m_stack_top` (the firmware's stack, free again once this runs).
    ///
    /// # Safety
    /// `entry` must be S-mode code, and `m_stack_top` the top of a stack nothing else uses.
    pub fn enter_supervisor(
        hart_id: usize,
        device_tree: usize,
        entry: usize,
        m_stack_top: usize,
    ) -> !;

    /// The top of the firmware's stack (from link.ld).
    pub static __stack_top: u8;
}

/// Waits for an interrupt, forever: where the firmware stops when it cannot power off.
pub fn halt() -> ! {
    loop {
        // SAFETY: wfi only pauses the hart; it has no effect on memory.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
    }
}

/// `fence.i` on this hart: makes earlier stores visible to instruction fetch.
pub fn fence_i() {
    // SAFETY: a fence changes no register or memory; it only orders fetches after stores.
    unsafe { core::arch::asm!("fence.i", options(nostack)) };
}

/// `sfence.vma` on this hart for all addresses and address spaces.
pub fn sfence_vma_all() {
    // SAFETY: flushing address-translation caches only makes later accesses re-read the page
    // tables; the firmware itself runs untranslated in M-mode.
    unsafe { core::arch::asm!("sfence.vma", options(nostack)) };
}
