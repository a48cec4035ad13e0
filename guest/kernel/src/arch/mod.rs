//! RISC-V specifics: the only module with inline assembly and CSR access.
//!
//! The rest of the kernel calls the safe or narrowly-unsafe functions here and never writes
//! `asm!` itself.

pub mod cpu;
mod entry;
mod sbi_call;
pub mod trap;

pub use sbi_call::{SbiRet, sbi_call};

/// Waits for an interrupt (`wfi`). With `sstatus.SIE` clear the interrupt is not taken, but
/// `wfi` still resumes when one enabled in `sie` is pending (privileged spec 3.3.3).
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only stalls the hart until an interrupt is pending (or not at all: the
    // privileged spec allows it to be a no-op); it touches no memory or register.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
}
