//! Power-off and reboot through the SiFive test finisher (`sifive,test0`), and the SBI system
//! reset extension (SBI spec chapter 10, SRST) on top of it.
//!
//! A write of `0x5555` powers off with success, `0x7777` resets the machine, and
//! `0x3333 | (code << 16)` powers off with failure: QEMU and sv39 then exit with status `code`.

use core::ptr::write_volatile;
use core::sync::atomic::{AtomicUsize, Ordering};

use sbi_spec::srst::{
    RESET_REASON_NO_REASON, RESET_REASON_SYSTEM_FAILURE, RESET_TYPE_COLD_REBOOT,
    RESET_TYPE_SHUTDOWN, RESET_TYPE_WARM_REBOOT,
};

use crate::console::println;

const FINISHER_PASS: u32 = 0x5555;
const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_RESET: u32 = 0x7777;

/// The exit status of a firmware fault (a trap the firmware did not expect, or a panic).
pub const FIRMWARE_FAULT_STATUS: u16 = 3;

/// First SRST reset reason of the vendor/platform range.
const VENDOR_REASON_FIRST: u32 = 0xF000_0000;

/// The finisher's base address; 0 until the device tree names one.
static FINISHER_BASE: AtomicUsize = AtomicUsize::new(0);

/// Uses the finisher at `base`.
pub fn init(base: usize) {
    FINISHER_BASE.store(base, Ordering::Relaxed);
}

/// Whether the device tree named a finisher.
pub fn present() -> bool {
    FINISHER_BASE.load(Ordering::Relaxed) != 0
}

fn finish(command: u32) -> ! {
    let base = FINISHER_BASE.load(Ordering::Relaxed);
    if base != 0 {
        // SAFETY: the finisher register of the `sifive,test0` device the device tree describes.
        unsafe { write_volatile(base as *mut u32, command) };
    }
    // Only reached without a finisher (or if it ignored the command): say so rather than hang
    // silently.
    println!("sv39-firmware: cannot power off (no sifive,test0 finisher); halted");
    crate::arch::halt()
}

/// Powers off with success.
pub fn power_off() -> ! {
    finish(FINISHER_PASS)
}

/// Powers off with failure; the host process exits with `status`.
pub fn power_off_failure(status: u16) -> ! {
    finish(FINISHER_FAIL | (u32::from(status) << 16))
}

/// Resets the whole machine.
pub fn reboot() -> ! {
    finish(FINISHER_RESET)
}

/// Why a `system_reset` request was refused.
pub enum ResetError {
    /// A reserved reset type or reason (`SBI_ERR_INVALID_PARAM`).
    InvalidParam,
}

/// SBI `system_reset(reset_type, reset_reason)`. Returns only if the request is refused.
pub fn system_reset(reset_type: u32, reason: u32) -> ResetError {
    let reason_known = matches!(reason, RESET_REASON_NO_REASON | RESET_REASON_SYSTEM_FAILURE)
        || reason >= VENDOR_REASON_FIRST;
    if !reason_known {
        return ResetError::InvalidParam;
    }
    match reset_type {
        RESET_TYPE_SHUTDOWN => match reason {
            RESET_REASON_NO_REASON => power_off(),
            RESET_REASON_SYSTEM_FAILURE => power_off_failure(1),
            // Vendor reasons carry the exit status in their low 16 bits.
            vendor => power_off_failure((vendor & 0xffff) as u16),
        },
        RESET_TYPE_COLD_REBOOT | RESET_TYPE_WARM_REBOOT => reboot(),
        _ => ResetError::InvalidParam,
    }
}
