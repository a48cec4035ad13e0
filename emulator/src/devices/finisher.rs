//! The `sifive_test` finisher at `0x10_0000` (QEMU 7.2 `hw/misc/sifive_test.c`; the Linux
//! `syscon-poweroff` / `syscon-reboot` bindings point at it): the guest's way to power off,
//! fail with an exit code, or reset.
//!
//! A write to offset 0 is decoded as QEMU does: the low 16 bits are a status, the next 16 a
//! code. Status 0x5555 powers off with exit status 0, 0x3333 powers off with exit status
//! `code` (QEMU exits with status 0 for 0x3333 with code 0; observed), 0x7777 resets. Any
//! other value, or a write elsewhere, is ignored. Reads return 0. QEMU accepts 2- and
//! 4-byte accesses and faults 1- and 8-byte ones (observed); so does sv39.

use super::check_access;
use crate::bus::{Device, DeviceError, ExitRequest};

const FINISHER_FAIL: u64 = 0x3333;
const FINISHER_PASS: u64 = 0x5555;
const FINISHER_RESET: u64 = 0x7777;

/// The `sifive_test` device.
#[derive(Default)]
pub struct Finisher {
    request: Option<ExitRequest>,
}

impl Finisher {
    /// A finisher with no request pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// The exit or reset the guest asked for since the last call, if any.
    pub fn take_request(&mut self) -> Option<ExitRequest> {
        self.request.take()
    }
}

impl Device for Finisher {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        check_access(offset, size, &[2, 4])?;
        Ok(0)
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        check_access(offset, size, &[2, 4])?;
        if offset != 0 {
            log::debug!("finisher: write of {value:#x} at offset {offset:#x} ignored");
            return Ok(());
        }
        let status = value & 0xffff;
        let code = ((value >> 16) & 0xffff) as u32;
        self.request = match status {
            FINISHER_PASS => Some(ExitRequest::Exit(0)),
            FINISHER_FAIL => Some(ExitRequest::Exit(code)),
            FINISHER_RESET => Some(ExitRequest::Reset),
            _ => {
                log::debug!("finisher: unknown command {value:#x} ignored");
                self.request
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_for(size: u8, value: u64) -> Option<ExitRequest> {
        let mut f = Finisher::new();
        f.write(0, size, value).unwrap();
        f.take_request()
    }

    #[test]
    fn codes_as_qemu() {
        // QEMU 7.2 exit statuses observed: 0x00423333 -> 66, 0x3333 -> 0, 0x5555 -> 0,
        // 0x00015555 -> 0 (only the low 16 bits are the status), 0x12345 -> keeps running.
        assert_eq!(request_for(4, 0x0042_3333), Some(ExitRequest::Exit(0x42)));
        assert_eq!(request_for(4, 0x3333), Some(ExitRequest::Exit(0)));
        assert_eq!(request_for(4, 0x5555), Some(ExitRequest::Exit(0)));
        assert_eq!(request_for(4, 0x0001_5555), Some(ExitRequest::Exit(0)));
        assert_eq!(request_for(4, 0xffff_3333), Some(ExitRequest::Exit(0xffff)));
        assert_eq!(request_for(4, 0x7777), Some(ExitRequest::Reset));
        assert_eq!(request_for(2, 0x5555), Some(ExitRequest::Exit(0)));
        assert_eq!(request_for(4, 0x1_2345), None);
        assert_eq!(request_for(4, 0), None);
    }

    #[test]
    fn request_is_taken_once() {
        let mut f = Finisher::new();
        f.write(0, 4, 0x5555).unwrap();
        f.write(0, 4, 0x1234).unwrap();
        assert_eq!(f.take_request(), Some(ExitRequest::Exit(0)));
        assert_eq!(f.take_request(), None);
    }

    #[test]
    fn other_offsets_and_sizes() {
        let mut f = Finisher::new();
        f.write(4, 4, 0x5555).unwrap();
        assert_eq!(f.take_request(), None);
        assert_eq!(f.read(0, 4), Ok(0));
        assert_eq!(f.read(0xffc, 4), Ok(0));
        assert_eq!(f.read(0, 2), Ok(0));
        assert!(f.read(0, 1).is_err());
        assert!(f.read(0, 8).is_err());
        assert!(f.write(0, 1, 0x55).is_err());
        assert!(f.write(0, 8, 0x5555).is_err());
        assert_eq!(f.take_request(), None);
    }
}
