//! System-wide memory counters, in the spirit of `/proc/vmstat`.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm::space::FaultOutcome;

/// Page faults resolved, by kind.
pub static PGFAULT: AtomicU64 = AtomicU64::new(0);
/// Demand-zero faults.
pub static DEMAND_ZERO: AtomicU64 = AtomicU64::new(0);
/// File-backed faults.
pub static FILE_BACKED: AtomicU64 = AtomicU64::new(0);
/// Copy-on-write copies.
pub static COW_COPY: AtomicU64 = AtomicU64::new(0);
/// Copy-on-write reuses.
pub static COW_REUSE: AtomicU64 = AtomicU64::new(0);

/// Counts one resolved fault.
pub fn count_fault(outcome: FaultOutcome) {
    PGFAULT.fetch_add(1, Ordering::Relaxed);
    let counter = match outcome {
        FaultOutcome::DemandZero => &DEMAND_ZERO,
        FaultOutcome::FileBacked => &FILE_BACKED,
        FaultOutcome::CowCopy => &COW_COPY,
        FaultOutcome::CowReuse => &COW_REUSE,
        FaultOutcome::Upgrade | FaultOutcome::Spurious => return,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}
