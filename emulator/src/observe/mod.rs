//! Per-fault accounting: what `sv39 run --faults` measures and reports.
//!
//! - [`faults`]: the observer that follows every page fault from its trap into S-mode to the
//!   `sret` that ends it, classified by the kernel through the fault-trace channel
//!   ([`crate::devices::fault_trace`]);
//! - [`symbols`]: kernel function names for the cycles spent inside handlers;
//! - [`report`]: the table, the CSV / JSON-lines log and the SVG histogram.

pub mod faults;
pub mod plot;
pub mod report;
pub mod symbols;

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::devices::FaultKind;

/// The access that faulted, from the trap's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultAccess {
    /// An instruction fetch (cause 12).
    Fetch,
    /// A load (cause 13).
    Load,
    /// A store or AMO (cause 15).
    Store,
}

impl FaultAccess {
    /// The name used in reports and logs.
    pub fn name(self) -> &'static str {
        match self {
            FaultAccess::Fetch => "fetch",
            FaultAccess::Load => "load",
            FaultAccess::Store => "store",
        }
    }
}

/// One page fault, from its first trap to the `sret` that resumed the process for good.
///
/// A fault that waits for the disk is one record: the kernel blocks the process, which
/// later runs the faulting instruction again and faults a second time; the second fault
/// completes the first (`segments` counts them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// 1, 2, 3, ... in the order the faults were first taken.
    pub n: u64,
    /// The faulting process, as the kernel reported it (0 when it did not).
    pub pid: u32,
    /// What the kernel did.
    pub kind: FaultKind,
    /// The page was read back from swap (the kernel counts the fault in `maj_flt`).
    pub major: bool,
    /// The faulting virtual address (`stval`).
    pub va: u64,
    /// The faulting instruction (`sepc`).
    pub pc: u64,
    /// Fetch, load or store.
    pub access: FaultAccess,
    /// The cycle of the first trap.
    pub start_cycle: u64,
    /// Cycles from the first trap to the final `sret`, the wait included.
    pub cycles: u64,
    /// Instructions retired inside the handler (every segment, nested traps included).
    pub instructions: u64,
    /// PTEs read by the hardware walker while handling the fault.
    pub pte_reads: u64,
    /// TLB misses (instruction and data) while handling the fault.
    pub tlb_misses: u64,
    /// Disk requests submitted while handling the fault.
    pub disk_requests: u64,
    /// Cycles the process spent blocked between a wait and the fault that completed it
    /// (the disk's latency and whatever else ran meanwhile).
    pub wait_cycles: u64,
    /// Traps taken inside the handler (firmware calls, interrupts).
    pub nested_traps: u64,
    /// Traps that make up this fault: 1, plus one per wait.
    pub segments: u32,
}

impl FaultRecord {
    /// Cycles spent handling, without the wait.
    pub fn handler_cycles(&self) -> u64 {
        self.cycles.saturating_sub(self.wait_cycles)
    }
}

/// Everything `--faults`, `--fault-log` and `--fault-plot` report about one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaultProfile {
    /// Every fault, in order.
    pub records: Vec<FaultRecord>,
    /// Per kind, the cycles spent in each kernel function while handling faults of that kind
    /// (function names demangled, without the hash). Empty without kernel symbols.
    pub functions: BTreeMap<FaultKind, BTreeMap<String, u64>>,
    /// Whether kernel symbols were available for [`FaultProfile::functions`].
    pub symbols: bool,
}
