//! The early trap vector: until the kernel has its real one, any S-mode trap is a bug, so it
//! is reported as a panic naming the cause, the faulting pc and `stval`.

core::arch::global_asm!(
    r#"
    .section .text, "ax", @progbits
    .balign 4
    .globl early_trap_vector
early_trap_vector:
    csrr    a0, scause
    csrr    a1, sepc
    csrr    a2, stval
    // A fresh stack: the trap may have come from a stack overflow. Nothing returns here.
    la      sp, boot_stack_top
    tail    {report}
    "#,
    report = sym early_trap,
);

/// Called by `early_trap_vector` with the trap CSRs; never returns.
extern "C" fn early_trap(scause: usize, sepc: usize, stval: usize) -> ! {
    panic!("unexpected trap: scause {scause:#x}, sepc {sepc:#x}, stval {stval:#x}");
}
