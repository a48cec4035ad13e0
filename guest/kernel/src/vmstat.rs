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

/// `/proc/vmstat`: Linux's names where Linux has the counter (`pgfault`), sv39's own
/// otherwise.
pub fn render() -> alloc::string::String {
    let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
    alloc::format!(
        "pgfault {}\npgmajfault 0\nsv39_demand_zero {}\nsv39_file_backed {}\nsv39_cow_copy {}\nsv39_cow_reuse {}\n",
        read(&PGFAULT),
        read(&DEMAND_ZERO),
        read(&FILE_BACKED),
        read(&COW_COPY),
        read(&COW_REUSE)
    )
}

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
