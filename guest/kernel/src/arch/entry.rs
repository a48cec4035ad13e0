//! The kernel's first instructions, at the link address 0x8020_0000.
//!
//! The firmware enters in S-mode with `a0` = hart id and `a1` = the device tree's physical
//! address, paging off (`satp` = 0), as OpenSBI does. `_start` sets up the global pointer, a
//! boot stack in `.bss`, zeroes `.bss`, installs the trap vector (any trap this early is reported as a bug) and tail-calls
//! [`crate::kernel_main`] with `a0` and `a1` untouched.

/// Size of the boot stack, in bytes.
const BOOT_STACK_SIZE: usize = 256 * 1024;

core::arch::global_asm!(
    r#"
    .section .text.entry, "ax", @progbits
    .globl _start
    .globl boot_stack_top
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    csrw    sie, zero
    la      sp, boot_stack_top

    // Zero .bss with t0/t1 only: a0 and a1 carry the firmware's arguments to Rust.
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    // Until the kernel installs its own, any trap is a bug: sscratch = 0 says "in the kernel".
    csrw    sscratch, zero
    la      t0, trap_vector
    csrw    stvec, t0
    tail    {main}

    .section .bss.stack, "aw", @nobits
    .balign 16
boot_stack_bottom:
    .space  {stack_size}
boot_stack_top:
    "#,
    main = sym crate::kernel_main,
    stack_size = const BOOT_STACK_SIZE,
);
