//! The physical frame allocator, with a reference count per frame.
//!
//! Frames are handed out lowest address first (a stack of free frame numbers), so a run is
//! the same every time. A frame's count is the number of page-table entries (or kernel users)
//! holding it; the frame returns to the free stack when the count drops to zero.

use alloc::vec::Vec;

use super::phys::{self, PAGE_SIZE};
use crate::sync::KernelCell;

/// The allocator's state.
struct Frames {
    /// Frame number of `refcount[0]`.
    first_pfn: u64,
    /// References per frame; 0 = free (or never managed).
    refcount: Vec<u16>,
    /// Free frame numbers; the lowest is on top.
    free: Vec<u32>,
    /// Frames under management.
    total: usize,
}

static FRAMES: KernelCell<Option<Frames>> = KernelCell::new(None);

/// Takes `[start, end)` (page aligned) minus `reserved` ranges as the pool of frames.
pub fn init(start: u64, end: u64, reserved: &[(u64, u64)]) {
    let first_pfn = start / PAGE_SIZE;
    let count = ((end - start) / PAGE_SIZE) as usize;
    let mut free = Vec::with_capacity(count);
    for pfn in (first_pfn..first_pfn + count as u64).rev() {
        let pa = pfn * PAGE_SIZE;
        if reserved.iter().any(|&(s, e)| pa + PAGE_SIZE > s && pa < e) {
            continue;
        }
        free.push(pfn as u32);
    }
    let total = free.len();
    FRAMES.with(|f| {
        *f = Some(Frames {
            first_pfn,
            refcount: alloc::vec![0; count],
            free,
            total,
        });
    });
}

fn with<R>(body: impl FnOnce(&mut Frames) -> R) -> R {
    FRAMES.with(|f| body(f.as_mut().expect("frame allocator not initialised")))
}

/// Allocates a zeroed frame with a count of one; `None` when memory is exhausted.
pub fn alloc_zeroed() -> Option<u64> {
    let pa = alloc_uninit()?;
    phys::zero_frame(pa);
    Some(pa)
}

/// Allocates a frame with a count of one, contents undefined.
pub fn alloc_uninit() -> Option<u64> {
    with(|f| {
        let pfn = u64::from(f.free.pop()?);
        f.refcount[(pfn - f.first_pfn) as usize] = 1;
        Some(pfn * PAGE_SIZE)
    })
}

/// Adds a reference to an allocated frame.
pub fn retain(pa: u64) {
    with(|f| {
        let slot = &mut f.refcount[(pa / PAGE_SIZE - f.first_pfn) as usize];
        assert!(*slot > 0, "retain of free frame {pa:#x}");
        *slot += 1;
    });
}

/// Drops a reference; the frame is freed when none remain.
pub fn release(pa: u64) {
    with(|f| {
        let pfn = pa / PAGE_SIZE;
        let slot = &mut f.refcount[(pfn - f.first_pfn) as usize];
        assert!(*slot > 0, "release of free frame {pa:#x}");
        *slot -= 1;
        if *slot == 0 {
            f.free.push(pfn as u32);
        }
    });
}

/// The number of references to an allocated frame.
pub fn refcount(pa: u64) -> u16 {
    with(|f| f.refcount[(pa / PAGE_SIZE - f.first_pfn) as usize])
}

/// (free frames, managed frames).
pub fn usage() -> (usize, usize) {
    with(|f| (f.free.len(), f.total))
}
