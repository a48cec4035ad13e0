//! Power-off and reboot through the SiFive test finisher (`sifive,test0`), and the SBI system
//! reset extension (SBI spec chapter 10, SRST) on top of it.
//!
//! A write of `0x5555` powers off with success, `0x7777` resets the machine, and
//! `0x3333 | (code << 16)` powers off with failure: QEMU and sv39 then exit with status `code`.
//!
//! [`system_reset`] decides (pure, tested on the host); [`finish`] writes the finisher
//! (RISC-V only).

use sbi_spec::srst::{
    RESET_REASON_NO_REASON, RESET_REASON_SYSTEM_FAILURE, RESET_TYPE_COLD_REBOOT,
    RESET_TYPE_SHUTDOWN, RESET_TYPE_WARM_REBOOT,
};

const FINISHER_PASS: u32 = 0x5555;
const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_RESET: u32 = 0x7777;

/// The exit status of a firmware fault (a trap the firmware did not expect, or a panic).
pub const FIRMWARE_FAULT_STATUS: u16 = 3;

/// First SRST reset reason of the vendor/platform range.
const VENDOR_REASON_FIRST: u32 = 0xF000_0000;

/// How the machine stops: one finisher command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Power off with success (the host exits 0).
    PowerOff,
    /// Power off with failure; the host process exits with this status.
    PowerOffFailure(u16),
    /// Reset the whole machine.
    Reboot,
}

impl Finish {
    /// The value written to the finisher's register.
    pub const fn command(self) -> u32 {
        match self {
            Finish::PowerOff => FINISHER_PASS,
            Finish::PowerOffFailure(status) => FINISHER_FAIL | ((status as u32) << 16),
            Finish::Reboot => FINISHER_RESET,
        }
    }
}

/// Why a `system_reset` request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetError {
    /// A reserved reset type or reason (`SBI_ERR_INVALID_PARAM`).
    InvalidParam,
}

/// SBI `system_reset(reset_type, reason)`: how to stop the machine, or why not.
pub fn system_reset(reset_type: u32, reason: u32) -> Result<Finish, ResetError> {
    let reason_known = matches!(reason, RESET_REASON_NO_REASON | RESET_REASON_SYSTEM_FAILURE)
        || reason >= VENDOR_REASON_FIRST;
    if !reason_known {
        return Err(ResetError::InvalidParam);
    }
    match reset_type {
        RESET_TYPE_SHUTDOWN => Ok(match reason {
            RESET_REASON_NO_REASON => Finish::PowerOff,
            RESET_REASON_SYSTEM_FAILURE => Finish::PowerOffFailure(1),
            // Vendor reasons carry the exit status in their low 16 bits.
            vendor => Finish::PowerOffFailure((vendor & 0xffff) as u16),
        }),
        RESET_TYPE_COLD_REBOOT | RESET_TYPE_WARM_REBOOT => Ok(Finish::Reboot),
        _ => Err(ResetError::InvalidParam),
    }
}

#[cfg(target_arch = "riscv64")]
pub use finisher::*;

/// The finisher device itself.
#[cfg(target_arch = "riscv64")]
mod finisher {
    use core::ptr::write_volatile;
    use core::sync::atomic::{AtomicUsize, Ordering};

    use super::Finish;
    use crate::console::println;

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

    /// Stops the machine as `how` says.
    pub fn finish(how: Finish) -> ! {
        let base = FINISHER_BASE.load(Ordering::Relaxed);
        if base != 0 {
            // SAFETY: the finisher register of the `sifive,test0` device the device tree
            // describes.
            unsafe { write_volatile(base as *mut u32, how.command()) };
        }
        // Only reached without a finisher (or if it ignored the command): say so rather than
        // hang silently.
        println!("sv39-firmware: cannot power off (no sifive,test0 finisher); halted");
        crate::arch::halt()
    }

    /// Powers off with failure; the host process exits with `status`.
    pub fn power_off_failure(status: u16) -> ! {
        finish(Finish::PowerOffFailure(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESERVED_TYPE: u32 = 3;
    const VENDOR_TYPE: u32 = 0xF000_0000;
    const RESERVED_REASON: u32 = 2;
    const SBI_REASON: u32 = 0xE000_0000;

    #[test]
    fn finisher_commands() {
        assert_eq!(Finish::PowerOff.command(), 0x5555);
        assert_eq!(Finish::Reboot.command(), 0x7777);
        assert_eq!(Finish::PowerOffFailure(1).command(), 0x1_3333);
        assert_eq!(Finish::PowerOffFailure(42).command(), 0x2a_3333);
        assert_eq!(
            Finish::PowerOffFailure(FIRMWARE_FAULT_STATUS).command(),
            0x3_3333
        );
        assert_eq!(Finish::PowerOffFailure(0xffff).command(), 0xffff_3333);
    }

    #[test]
    fn shutdown_reasons() {
        assert_eq!(system_reset(0, 0), Ok(Finish::PowerOff));
        assert_eq!(system_reset(0, 1), Ok(Finish::PowerOffFailure(1)));
        assert_eq!(
            system_reset(0, 0xF000_002A),
            Ok(Finish::PowerOffFailure(42))
        );
        assert_eq!(system_reset(0, 0xF000_0000), Ok(Finish::PowerOffFailure(0)));
        assert_eq!(
            system_reset(0, 0xFFFF_FFFF),
            Ok(Finish::PowerOffFailure(0xffff))
        );
        // The host keeps the low 8 bits of the status: 0xF000_0100 would exit 0.
        assert_eq!(
            system_reset(0, 0xF000_0100),
            Ok(Finish::PowerOffFailure(0x100))
        );
    }

    #[test]
    fn reboot_types_with_every_known_reason() {
        for reset_type in [1, 2] {
            for reason in [0, 1, 0xF000_0000, 0xF000_002A, 0xFFFF_FFFF] {
                assert_eq!(system_reset(reset_type, reason), Ok(Finish::Reboot));
            }
        }
    }

    #[test]
    fn reserved_types_and_reasons_are_refused() {
        for reset_type in [RESERVED_TYPE, 0xEFFF_FFFF, VENDOR_TYPE, u32::MAX] {
            for reason in [0, 1, 0xF000_002A] {
                assert_eq!(
                    system_reset(reset_type, reason),
                    Err(ResetError::InvalidParam)
                );
            }
        }
        for reset_type in [0, 1, 2, RESERVED_TYPE] {
            for reason in [RESERVED_REASON, 0xDFFF_FFFF, SBI_REASON, 0xEFFF_FFFF] {
                assert_eq!(
                    system_reset(reset_type, reason),
                    Err(ResetError::InvalidParam)
                );
            }
        }
    }
}
