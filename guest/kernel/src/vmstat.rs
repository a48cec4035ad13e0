//! System-wide memory counters, in the spirit of `/proc/vmstat`: Linux's names where Linux
//! has the counter (`pgfault`, `pgmajfault`, `pswpin`, `pswpout`, `pgfree`), `sv39_` names
//! for the fault kinds Linux does not count separately.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm::space::FaultOutcome;

/// Page faults resolved (minor and major).
pub static PGFAULT: AtomicU64 = AtomicU64::new(0);
/// Faults that waited for the disk.
pub static PGMAJFAULT: AtomicU64 = AtomicU64::new(0);
/// Pages read from swap.
pub static PSWPIN: AtomicU64 = AtomicU64::new(0);
/// Pages written to swap.
pub static PSWPOUT: AtomicU64 = AtomicU64::new(0);
/// Frames returned to the free list.
pub static PGFREE: AtomicU64 = AtomicU64::new(0);
/// Demand-zero faults.
pub static DEMAND_ZERO: AtomicU64 = AtomicU64::new(0);
/// File-backed faults.
pub static FILE_BACKED: AtomicU64 = AtomicU64::new(0);
/// Copy-on-write copies.
pub static COW_COPY: AtomicU64 = AtomicU64::new(0);
/// Copy-on-write reuses (the last holder writes: no copy).
pub static COW_REUSE: AtomicU64 = AtomicU64::new(0);
/// Faults on a swap entry (the page came back from the disk or the swap cache).
pub static SWAP_IN: AtomicU64 = AtomicU64::new(0);
/// Unmodified file pages dropped instead of written out.
pub static FILE_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Adds one to `counter`.
pub fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// `/proc/vmstat`.
pub fn render() -> alloc::string::String {
    let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let (free, _) = crate::mm::frame::usage();
    let (swap_total, swap_used) = crate::mm::swap::usage();
    alloc::format!(
        "nr_free_pages {free}\nnr_swap_pages {}\npgfault {}\npgmajfault {}\npswpin {}\npswpout {}\npgfree {}\nsv39_demand_zero {}\nsv39_file_backed {}\nsv39_cow_copy {}\nsv39_cow_reuse {}\nsv39_swap_in {}\nsv39_file_dropped {}\n",
        swap_total - swap_used,
        read(&PGFAULT),
        read(&PGMAJFAULT),
        read(&PSWPIN),
        read(&PSWPOUT),
        read(&PGFREE),
        read(&DEMAND_ZERO),
        read(&FILE_BACKED),
        read(&COW_COPY),
        read(&COW_REUSE),
        read(&SWAP_IN),
        read(&FILE_DROPPED),
    )
}

/// Counts one resolved fault; `major` when it waited for the disk.
pub fn count_fault(outcome: FaultOutcome, major: bool) {
    count(&PGFAULT);
    if major {
        count(&PGMAJFAULT);
    }
    let counter = match outcome {
        FaultOutcome::DemandZero => &DEMAND_ZERO,
        FaultOutcome::FileBacked => &FILE_BACKED,
        FaultOutcome::CowCopy => &COW_COPY,
        FaultOutcome::CowReuse => &COW_REUSE,
        FaultOutcome::SwapIn => &SWAP_IN,
        FaultOutcome::Upgrade | FaultOutcome::Spurious => return,
    };
    count(counter);
}
