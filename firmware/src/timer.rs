//! The SBI timer on the CLINT (`riscv,clint0` / `sifive,clint0`): `mtimecmp` for hart 0, and the
//! standard hand-off of the M-mode timer interrupt to S-mode (SBI spec chapter 6, TIME).
//!
//! `set_timer` programs `mtimecmp`, clears a pending S-mode timer interrupt and enables the
//! M-mode one. When it fires, the firmware raises `mip.STIP` for S-mode and disables `mie.MTIE`
//! until the next `set_timer` (the interrupt would otherwise fire again at once).

use core::ptr::write_volatile;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::{clear_csr, interrupt, set_csr};

/// Offset of hart 0's `mtimecmp` in the CLINT.
const MTIMECMP: usize = 0x4000;

/// The CLINT's base address; 0 until the device tree names one.
static CLINT_BASE: AtomicUsize = AtomicUsize::new(0);

/// Uses the CLINT at `base` and disarms hart 0's timer (`mtimecmp` = never).
pub fn init(base: usize) {
    CLINT_BASE.store(base, Ordering::Relaxed);
    write_mtimecmp(u64::MAX);
}

/// Whether the device tree named a CLINT.
pub fn present() -> bool {
    CLINT_BASE.load(Ordering::Relaxed) != 0
}

fn write_mtimecmp(value: u64) {
    let base = CLINT_BASE.load(Ordering::Relaxed);
    if base != 0 {
        // SAFETY: hart 0's mtimecmp register of the CLINT the device tree describes; RV64 writes
        // it in one 64-bit access.
        unsafe { write_volatile((base + MTIMECMP) as *mut u64, value) };
    }
}

/// SBI `set_timer`: the next S-mode timer interrupt at `mtime` >= `deadline`.
pub fn set_timer(deadline: u64) {
    write_mtimecmp(deadline);
    // SAFETY: STIP is S-mode's pending timer bit, which M-mode owns; MTIE only enables the timer
    // interrupt that `on_machine_timer` handles.
    unsafe {
        clear_csr!("mip", interrupt::STIP);
        set_csr!("mie", interrupt::MTIP);
    }
}

/// The M-mode timer interrupt: pass it to S-mode.
pub fn on_machine_timer() {
    // SAFETY: as in `set_timer`; masking MTIE stops the interrupt until S-mode sets a new deadline.
    unsafe {
        clear_csr!("mie", interrupt::MTIP);
        set_csr!("mip", interrupt::STIP);
    }
}
