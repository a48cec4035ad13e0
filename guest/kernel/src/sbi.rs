//! Typed wrappers for the SBI calls the kernel makes (RISC-V SBI specification v2.0).
//!
//! Base (chapter 4), Debug Console (chapter 12), System Reset (chapter 10) and the legacy
//! console and shutdown (chapter 5), for firmware older than SBI 2.0 such as OpenSBI 1.1.

use crate::arch::{SbiRet, sbi_call};

/// Base extension (chapter 4).
const EID_BASE: usize = 0x10;
/// Debug Console extension, "DBCN" (chapter 12).
pub const EID_DBCN: usize = 0x4442_434E;
/// System Reset extension, "SRST" (chapter 10).
const EID_SRST: usize = 0x5352_5354;
/// Legacy `sbi_console_putchar` (chapter 5.2).
const EID_LEGACY_CONSOLE_PUTCHAR: usize = 0x01;
/// Legacy `sbi_console_getchar` (chapter 5.3).
const EID_LEGACY_CONSOLE_GETCHAR: usize = 0x02;
/// Timer extension, "TIME" (chapter 6).
const EID_TIME: usize = 0x5449_4D45;
/// Legacy `sbi_shutdown` (chapter 5.9).
const EID_LEGACY_SHUTDOWN: usize = 0x08;

const FID_BASE_GET_SPEC_VERSION: usize = 0;
const FID_BASE_GET_IMPL_ID: usize = 1;
const FID_BASE_GET_IMPL_VERSION: usize = 2;
const FID_BASE_PROBE_EXTENSION: usize = 3;
const FID_DBCN_CONSOLE_WRITE: usize = 0;
const FID_SRST_SYSTEM_RESET: usize = 0;

/// `reset_type` of `sbi_system_reset` (table 10.1).
#[derive(Debug, Clone, Copy)]
pub enum ResetType {
    /// Power the system off.
    Shutdown = 0,
}

/// Reset reason "no reason" (table 10.2): a normal shutdown.
pub const RESET_REASON_NONE: u32 = 0;
/// Reset reason "system failure" (table 10.2).
pub const RESET_REASON_SYSTEM_FAILURE: u32 = 1;
/// First vendor or platform specific reset reason (table 10.2); sv39's firmware turns
/// `RESET_REASON_VENDOR_EXIT + n` into host exit code `n`.
pub const RESET_REASON_VENDOR_EXIT: u32 = 0xF000_0000;

/// A negative `SBI_ERR_*` code (table 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbiError(pub isize);

impl SbiRet {
    fn into_result(self) -> Result<usize, SbiError> {
        if self.error == 0 {
            Ok(self.value)
        } else {
            Err(SbiError(self.error))
        }
    }
}

/// A Base extension call; the Base functions have no memory arguments.
fn base_call(fid: usize, arg: usize) -> usize {
    // SAFETY: Base functions take no addresses and only return values.
    let ret = unsafe { sbi_call(EID_BASE, fid, [arg, 0, 0]) };
    // Every Base function is mandatory and cannot fail (chapter 4).
    ret.value
}

/// The SBI specification version the firmware implements, as (major, minor).
pub fn spec_version() -> (usize, usize) {
    let version = base_call(FID_BASE_GET_SPEC_VERSION, 0);
    ((version >> 24) & 0x7f, version & 0xff_ffff)
}

/// The firmware's implementation id (1 is OpenSBI, 4 RustSBI; table 4.1).
pub fn impl_id() -> usize {
    base_call(FID_BASE_GET_IMPL_ID, 0)
}

/// The firmware's implementation version, in the implementation's own encoding.
pub fn impl_version() -> usize {
    base_call(FID_BASE_GET_IMPL_VERSION, 0)
}

/// Whether the firmware implements extension `eid`.
pub fn probe_extension(eid: usize) -> bool {
    base_call(FID_BASE_PROBE_EXTENSION, eid) != 0
}

/// Writes up to `bytes.len()` bytes to the debug console; returns how many were written.
///
/// The firmware reads the buffer by physical address: the kernel's own memory is mapped at
/// VA = PA (paging off at first, then the identity map of RAM), so the slice's address is its
/// physical address.
pub fn debug_console_write(bytes: &[u8]) -> Result<usize, SbiError> {
    let base = bytes.as_ptr() as usize;
    // SAFETY: the firmware only reads `bytes.len()` bytes from `base`, a live slice of kernel
    // memory, whose virtual address equals its physical address; `base_hi` is 0 on RV64.
    let ret = unsafe { sbi_call(EID_DBCN, FID_DBCN_CONSOLE_WRITE, [bytes.len(), base, 0]) };
    ret.into_result()
}

/// Writes one byte through the legacy console (works whether or not DBCN exists).
pub fn legacy_console_putchar(byte: u8) {
    // SAFETY: takes a character, no address.
    unsafe { sbi_call(EID_LEGACY_CONSOLE_PUTCHAR, 0, [usize::from(byte), 0, 0]) };
}

/// Asks the firmware to reset the system; returns only if it could not (no SRST, or an
/// argument it refuses).
pub fn system_reset(reset_type: ResetType, reason: u32) -> SbiError {
    let args = [reset_type as usize, reason as usize, 0];
    // SAFETY: takes a type and a reason, no address.
    let ret = unsafe { sbi_call(EID_SRST, FID_SRST_SYSTEM_RESET, args) };
    SbiError(ret.error)
}

/// The legacy shutdown; returns only if the firmware does not implement it.
pub fn legacy_shutdown() {
    // SAFETY: takes no arguments.
    unsafe { sbi_call(EID_LEGACY_SHUTDOWN, 0, [0; 3]) };
}

/// Reads one byte from the legacy console; `None` when no byte is waiting.
pub fn legacy_console_getchar() -> Option<u8> {
    // SAFETY: takes no arguments and no address.
    let ret = unsafe { sbi_call(EID_LEGACY_CONSOLE_GETCHAR, 0, [0; 3]) };
    u8::try_from(ret.error).ok()
}

/// Programs the next timer interrupt for `time` = `deadline` (chapter 6.1), clearing the
/// pending one.
pub fn set_timer(deadline: u64) {
    // SAFETY: takes a time value, no address.
    unsafe { sbi_call(EID_TIME, 0, [deadline as usize, 0, 0]) };
}
