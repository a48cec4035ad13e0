//! RISC-V specifics: the only module with inline assembly and CSR access.
//!
//! The rest of the kernel calls the safe or narrowly-unsafe functions here and never writes
//! `asm!` itself.

mod entry;
mod sbi_call;
mod trap;

pub use sbi_call::{SbiRet, sbi_call};

/// Waits for an interrupt (`wfi`); used to idle forever once the machine cannot be stopped.
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only stalls the hart until an interrupt is pending (or not at all: the
    // privileged spec allows it to be a no-op); it touches no memory or register.
    unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
}
