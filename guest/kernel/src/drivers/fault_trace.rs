//! sv39's fault-trace channel (`compatible = "sv39,fault-trace"`): one 64-bit write per
//! handled page fault tells the emulator what kind of fault it was, so that `sv39 run
//! --faults` can classify the faults it measures.
//!
//! Registers (little-endian): MAGIC (0x00, u32, "SV39"), VERSION (0x04, u32), EVENT (0x08,
//! u64, write only): bits 0..8 the kind ([`Kind`]), bit 8 major (the page was read back from
//! swap), bits 32..64 the pid. The kernel writes EVENT once per fault trap, before the trap
//! handler returns, whatever the outcome: per process, the reports of kinds 1..=7 match
//! `min_flt + maj_flt`, and those with the major bit `maj_flt`. QEMU has no such device;
//! there [`report`] does nothing.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm::space::{FaultError, FaultOutcome};

const REG_EVENT: u64 = 0x08;
/// EVENT's major bit.
const MAJOR: u64 = 1 << 8;

/// What a fault came to, as EVENT's low byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A fresh zeroed page.
    DemandZero = 1,
    /// A page read from a file.
    FileBacked = 2,
    /// A private copy of a page shared copy-on-write.
    CowCopy = 3,
    /// A write made allowed again on a page no one else holds.
    CowReuse = 4,
    /// A page back from swap.
    SwapIn = 5,
    /// Rights or A/D bits raised on a present page.
    Upgrade = 6,
    /// The entry already allowed the access.
    Spurious = 7,
    /// The process gets SIGSEGV.
    Segv = 8,
    /// The process gets SIGBUS.
    Bus = 9,
    /// No memory: the process is killed.
    OutOfMemory = 10,
    /// The process waits for its page to come back from swap, then faults again.
    WaitRead = 16,
    /// The process waits for frames to be written out, then faults again.
    WaitWrite = 17,
}

impl From<FaultOutcome> for Kind {
    fn from(outcome: FaultOutcome) -> Self {
        match outcome {
            FaultOutcome::DemandZero => Kind::DemandZero,
            FaultOutcome::FileBacked => Kind::FileBacked,
            FaultOutcome::CowCopy => Kind::CowCopy,
            FaultOutcome::CowReuse => Kind::CowReuse,
            FaultOutcome::SwapIn => Kind::SwapIn,
            FaultOutcome::Upgrade => Kind::Upgrade,
            FaultOutcome::Spurious => Kind::Spurious,
        }
    }
}

impl From<FaultError> for Kind {
    fn from(error: FaultError) -> Self {
        match error {
            FaultError::Segv(_) => Kind::Segv,
            FaultError::Bus => Kind::Bus,
            FaultError::OutOfMemory => Kind::OutOfMemory,
            FaultError::Wait(true) => Kind::WaitRead,
            FaultError::Wait(false) => Kind::WaitWrite,
        }
    }
}

/// The EVENT register's virtual address in the device window, 0 when absent.
static EVENT: AtomicU64 = AtomicU64::new(0);

/// Uses the device at physical `pa` if it answers with the right magic number.
pub fn probe(pa: u64) -> bool {
    let Some(va) = super::probe_sv39_device(pa) else {
        return false;
    };
    EVENT.store(va + REG_EVENT, Ordering::Relaxed);
    true
}

/// The EVENT value for a fault of `kind` by `pid`.
fn event(pid: u32, kind: Kind, major: bool) -> u64 {
    (u64::from(pid) << 32) | if major { MAJOR } else { 0 } | kind as u64
}

/// Reports one handled fault: a single aligned 64-bit write, nothing without the device.
pub fn report(pid: u32, kind: Kind, major: bool) {
    let register = EVENT.load(Ordering::Relaxed);
    if register == 0 {
        return;
    }
    // SAFETY: EVENT of the probed device, an aligned 64-bit write-only register whose only
    // effect is to record the value.
    unsafe { core::ptr::write_volatile(register as *mut u64, event(pid, kind, major)) };
}
