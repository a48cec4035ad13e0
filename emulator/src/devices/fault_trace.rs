//! The sv39 fault-trace channel at `0x1003_0000` (compatible `"sv39,fault-trace"`): how a
//! guest kernel tells the emulator what kind of page fault it has just handled, so that
//! `sv39 run --faults` can classify every fault it measures (see [`crate::observe`]).
//!
//! QEMU has no such device (the page is free in its `virt` map), so a kernel looks for the
//! node in the device tree and reports nothing when it is absent.
//!
//! # Registers (little-endian)
//!
//! ```text
//! off    name     access  meaning
//! 0x000  MAGIC    RO u32  0x3933_5653, the bytes "SV39"
//! 0x004  VERSION  RO u32  1
//! 0x008  EVENT    WO u64  one handled fault, written once, before the handler returns:
//!                           bits  0..8   the kind (below)
//!                           bit   8      major: the page was read back from swap
//!                           bits 32..64  the pid of the faulting process
//! ```
//!
//! Kinds: 1 demand-zero, 2 file-backed, 3 COW copy, 4 COW reuse, 5 swap-in, 6 upgrade (rights
//! or A/D bits raised on a present page), 7 spurious (the entry already allowed the access),
//! 8 SIGSEGV, 9 SIGBUS, 10 out of memory (the process is killed), 16 waiting for the page to
//! come back from swap, 17 waiting for frames to be written out. After a wait (16, 17) the
//! process re-executes the faulting instruction, faults again, and that fault's report
//! completes the first one.
//!
//! EVENT takes an aligned 64-bit write. Any other size or offset reads 0 and ignores writes
//! (never an access fault); EVENT reads 0.
//!
//! Events are queued with the cycle of the write only while a consumer asked for them
//! ([`FaultTrace::set_recording`]); otherwise the device only counts them, so a long run
//! without `--faults` keeps no history.

use crate::bus::{Device, DeviceError};

/// `MAGIC`: the bytes "SV39" read as a little-endian u32.
pub const MAGIC: u32 = 0x3933_5653;
/// `VERSION` of the register interface.
pub const VERSION: u32 = 1;

/// Register offsets.
pub mod reg {
    /// MAGIC (RO u32).
    pub const MAGIC: u64 = 0x000;
    /// VERSION (RO u32).
    pub const VERSION: u64 = 0x004;
    /// EVENT (WO u64).
    pub const EVENT: u64 = 0x008;
}

/// What the kernel says a fault was, from EVENT's low byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A fresh zeroed page.
    DemandZero,
    /// A page read from a file (an ELF segment or a file mapping).
    FileBacked,
    /// A private copy of a page shared copy-on-write.
    CowCopy,
    /// A write made allowed again on a page no one else holds.
    CowReuse,
    /// A page back from swap (read from the disk, or still in the swap cache).
    SwapIn,
    /// Rights or A/D bits raised on a page that was present.
    Upgrade,
    /// The entry already allowed the access (another fault got there first).
    Spurious,
    /// The access was not allowed: the process got SIGSEGV.
    Segv,
    /// A file mapping's page lies past the end of the file: SIGBUS.
    Bus,
    /// No memory: the process was killed.
    OutOfMemory,
    /// The fault never completed (the process waited and did not fault again, or the run
    /// ended first), or the kernel sent no report.
    Unreported,
}

impl FaultKind {
    /// Every kind, in report order.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::DemandZero,
        FaultKind::FileBacked,
        FaultKind::CowCopy,
        FaultKind::CowReuse,
        FaultKind::SwapIn,
        FaultKind::Upgrade,
        FaultKind::Spurious,
        FaultKind::Segv,
        FaultKind::Bus,
        FaultKind::OutOfMemory,
        FaultKind::Unreported,
    ];

    /// The name used in reports and logs.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::DemandZero => "demand-zero",
            FaultKind::FileBacked => "file-backed",
            FaultKind::CowCopy => "cow-copy",
            FaultKind::CowReuse => "cow-reuse",
            FaultKind::SwapIn => "swap-in",
            FaultKind::Upgrade => "upgrade",
            FaultKind::Spurious => "spurious",
            FaultKind::Segv => "sigsegv",
            FaultKind::Bus => "sigbus",
            FaultKind::OutOfMemory => "oom-kill",
            FaultKind::Unreported => "unreported",
        }
    }

    /// Whether the kernel counts the fault in the process's `min_flt` / `maj_flt` (it
    /// resolved the fault and the process went on).
    pub fn resolved(self) -> bool {
        matches!(
            self,
            FaultKind::DemandZero
                | FaultKind::FileBacked
                | FaultKind::CowCopy
                | FaultKind::CowReuse
                | FaultKind::SwapIn
                | FaultKind::Upgrade
                | FaultKind::Spurious
        )
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One EVENT write, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEvent {
    /// The fault is handled: its kind, whether it was major, the pid.
    Done {
        /// The kind.
        kind: FaultKind,
        /// The page came back from swap.
        major: bool,
        /// The faulting process.
        pid: u32,
    },
    /// The process waits for the disk and will fault again; `read` when the page itself
    /// must come back from swap.
    Wait {
        /// Waiting for the page to be read (16) rather than for frames to be written (17).
        read: bool,
        /// The faulting process.
        pid: u32,
    },
    /// An EVENT value with an unknown kind.
    Unknown(u64),
}

impl TraceEvent {
    /// Decodes an EVENT value.
    pub fn decode(value: u64) -> Self {
        let pid = (value >> 32) as u32;
        let major = value & 0x100 != 0;
        let kind = match value & 0xff {
            1 => FaultKind::DemandZero,
            2 => FaultKind::FileBacked,
            3 => FaultKind::CowCopy,
            4 => FaultKind::CowReuse,
            5 => FaultKind::SwapIn,
            6 => FaultKind::Upgrade,
            7 => FaultKind::Spurious,
            8 => FaultKind::Segv,
            9 => FaultKind::Bus,
            10 => FaultKind::OutOfMemory,
            16 => return TraceEvent::Wait { read: true, pid },
            17 => return TraceEvent::Wait { read: false, pid },
            _ => return TraceEvent::Unknown(value),
        };
        TraceEvent::Done { kind, major, pid }
    }
}

/// The fault-trace device.
#[derive(Debug, Default)]
pub struct FaultTrace {
    recording: bool,
    events: Vec<(u64, u64)>,
    written: u64,
}

impl FaultTrace {
    /// A device that counts events but does not queue them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue events (with their cycle) for [`FaultTrace::take_events`] from now on.
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
        if !on {
            self.events.clear();
        }
    }

    /// Whether events are queued.
    pub fn recording(&self) -> bool {
        self.recording
    }

    /// EVENT writes so far.
    pub fn events_written(&self) -> u64 {
        self.written
    }

    /// Whether events are waiting in the queue.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The queued `(cycle, EVENT value)` pairs, oldest first, emptying the queue.
    pub fn take_events(&mut self) -> Vec<(u64, u64)> {
        std::mem::take(&mut self.events)
    }

    /// An EVENT write at `cycle`.
    pub fn write_event(&mut self, cycle: u64, value: u64) {
        self.written += 1;
        if self.recording {
            self.events.push((cycle, value));
        }
    }
}

impl Device for FaultTrace {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        let word = MAGIC as u64 | (VERSION as u64) << 32;
        Ok(match (offset, size) {
            (reg::MAGIC, 8) => word,
            (reg::MAGIC, 4) => MAGIC as u64,
            (reg::VERSION, 4) => VERSION as u64,
            _ => 0,
        })
    }

    /// EVENT writes need the cycle; the bus calls [`FaultTrace::write_event`] for them, and
    /// every other write lands here and is ignored.
    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        log::debug!("fault-trace: write of {value:#x} ({size} bytes) at {offset:#x} ignored");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_and_version_read_back() {
        let mut d = FaultTrace::new();
        assert_eq!(d.read(reg::MAGIC, 4).unwrap(), MAGIC as u64);
        assert_eq!(d.read(reg::VERSION, 4).unwrap(), 1);
        assert_eq!(d.read(reg::MAGIC, 8).unwrap(), 0x1_3933_5653);
        assert_eq!(d.read(reg::EVENT, 8).unwrap(), 0);
        assert_eq!(d.read(0x123, 1).unwrap(), 0);
    }

    #[test]
    fn events_are_queued_only_while_recording() {
        let mut d = FaultTrace::new();
        d.write_event(10, 1 | 7 << 32);
        assert!(!d.has_events());
        d.set_recording(true);
        d.write_event(20, 5 | 0x100 | 3 << 32);
        assert_eq!(d.take_events(), vec![(20, 5 | 0x100 | 3 << 32)]);
        assert!(d.take_events().is_empty());
        assert_eq!(d.events_written(), 2);
    }

    #[test]
    fn events_decode() {
        assert_eq!(
            TraceEvent::decode(5 | 0x100 | 42 << 32),
            TraceEvent::Done {
                kind: FaultKind::SwapIn,
                major: true,
                pid: 42
            }
        );
        assert_eq!(
            TraceEvent::decode(16 | 9 << 32),
            TraceEvent::Wait { read: true, pid: 9 }
        );
        assert_eq!(
            TraceEvent::decode(17 | 9 << 32),
            TraceEvent::Wait {
                read: false,
                pid: 9
            }
        );
        assert_eq!(TraceEvent::decode(99), TraceEvent::Unknown(99));
        for (code, kind) in (1..=10).zip(FaultKind::ALL) {
            assert_eq!(
                TraceEvent::decode(code),
                TraceEvent::Done {
                    kind,
                    major: false,
                    pid: 0
                }
            );
        }
    }
}
