//! Physical frames: the allocator, a reference count per frame, and for user pages the
//! reverse map (which page-table entries point at a frame) and residency (the replacement
//! policy's list of frames it may evict).
//!
//! Frames are handed out lowest address first (a stack of free frame numbers), so a run is
//! the same every time. A frame's count is the number of references to it: page-table
//! entries, the swap cache, an I/O in flight, or the kernel holding it for a moment (a
//! system call's buffer). The frame returns to the free stack when the count drops to zero.
//!
//! The reverse map answers "who maps this frame?", which swap-out needs to turn every entry
//! of a page shared by copy-on-write into a swap entry at once. Most frames have one
//! mapping, kept inline; the rest go to an overflow map.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use sv39_policy::replace::{Policy, Replacer};

use super::phys::{self, PAGE_SIZE};
use crate::sync::KernelCell;

/// Per-frame state bits.
pub mod flag {
    /// The frame holds a user page (it may be in the replacement policy's list).
    pub const USER: u8 = 1 << 0;
    /// Its contents are a file's, unmodified: it can be dropped and read again.
    pub const FILE: u8 = 1 << 1;
    /// Locked in memory (mlock): never evicted.
    pub const LOCKED: u8 = 1 << 2;
    /// A disk read into it is in flight.
    pub const READING: u8 = 1 << 3;
    /// A disk write from it is in flight.
    pub const WRITING: u8 = 1 << 4;
    /// Written since its swap slot was last written (an entry with D set went away).
    pub const DIRTY: u8 = 1 << 5;
    /// The disk failed to read it: mapping it is a bus error.
    pub const IO_ERROR: u8 = 1 << 6;
}

/// One page-table entry pointing at a frame: the table's root and the virtual page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// Physical address of the page table's root.
    pub root: u64,
    /// The virtual page address.
    pub va: u64,
}

/// A mapping packed in 8 bytes (root frame number, virtual page number); 0 = none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Packed(u64);

impl Packed {
    fn new(m: Mapping) -> Self {
        Packed(((m.root / PAGE_SIZE) << 32) | (m.va / PAGE_SIZE))
    }

    fn get(self) -> Mapping {
        Mapping {
            root: (self.0 >> 32) * PAGE_SIZE,
            va: (self.0 & 0xFFFF_FFFF) * PAGE_SIZE,
        }
    }
}

/// The allocator's state.
struct Frames {
    /// Frame number of index 0.
    first_pfn: u64,
    /// References per frame; 0 = free (or never managed).
    refcount: Vec<u16>,
    /// State bits per frame ([`flag`]).
    flags: Vec<u8>,
    /// The first mapping of each frame.
    rmap: Vec<Packed>,
    /// Further mappings of frames mapped more than once.
    rmap_more: BTreeMap<u32, Vec<Packed>>,
    /// Free frame numbers; the lowest is on top.
    free: Vec<u32>,
    /// Frames under management.
    total: usize,
    /// Resident, evictable user frames, in the replacement policy's order.
    resident: Replacer,
    /// The most frames `resident` may hold (`vm.frames=N`), or `usize::MAX`.
    budget: usize,
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
            flags: alloc::vec![0; count],
            rmap: alloc::vec![Packed::default(); count],
            rmap_more: BTreeMap::new(),
            free,
            total,
            resident: Replacer::new(Policy::Clock, count),
            budget: usize::MAX,
        });
    });
}

/// Bytes of kernel heap the frame tables need per frame (see [`init`] and the replacement
/// policy's lists: up to 12 bytes a frame).
pub const HEAP_BYTES_PER_FRAME: u64 = 2 + 1 + 8 + 12 + 4;

/// Chooses the replacement policy and the budget of evictable user frames (before the first
/// process starts).
pub fn configure(policy: Policy, budget: Option<usize>) {
    with(|f| {
        f.resident = Replacer::new(policy, f.refcount.len());
        f.budget = budget.unwrap_or(usize::MAX);
    });
}

/// The replacement policy in force and the budget (`None`: all of memory).
pub fn policy() -> (Policy, Option<usize>) {
    with(|f| {
        (
            f.resident.policy(),
            (f.budget != usize::MAX).then_some(f.budget),
        )
    })
}

fn with<R>(body: impl FnOnce(&mut Frames) -> R) -> R {
    FRAMES.with(|f| body(f.as_mut().expect("frame allocator not initialised")))
}

impl Frames {
    /// The index of frame `pa`, if managed.
    fn index(&self, pa: u64) -> Option<usize> {
        let i = (pa / PAGE_SIZE).checked_sub(self.first_pfn)? as usize;
        (i < self.refcount.len()).then_some(i)
    }

    fn idx(&self, pa: u64) -> usize {
        self.index(pa)
            .unwrap_or_else(|| panic!("frame {pa:#x} is not managed"))
    }

    fn mappings(&self, i: usize) -> Vec<Mapping> {
        mappings_of(&self.rmap, &self.rmap_more, i)
    }
}

/// Whether the policy may evict a frame now: a user page that is not locked, not under I/O,
/// and whose every reference is a mapping the reverse map knows (`mapped`) or the swap
/// cache (`cached`): a reference from anywhere else (a system call's buffer) pins it.
fn evictable(flags: u8, refcount: u16, mapped: usize, cached: bool) -> bool {
    flags & flag::USER != 0
        && flags & (flag::LOCKED | flag::READING | flag::WRITING) == 0
        && usize::from(refcount) == mapped + usize::from(cached)
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
        let i = (pfn - f.first_pfn) as usize;
        f.refcount[i] = 1;
        f.flags[i] = 0;
        Some(pfn * PAGE_SIZE)
    })
}

/// Adds a reference to an allocated frame.
pub fn retain(pa: u64) {
    with(|f| {
        let i = f.idx(pa);
        assert!(f.refcount[i] > 0, "retain of free frame {pa:#x}");
        f.refcount[i] = f.refcount[i].saturating_add(1);
    });
}

/// Drops a reference; the frame is freed when none remain.
pub fn release(pa: u64) {
    with(|f| {
        let i = f.idx(pa);
        assert!(f.refcount[i] > 0, "release of free frame {pa:#x}");
        f.refcount[i] -= 1;
        if f.refcount[i] == 0 {
            f.resident.remove(i);
            f.flags[i] = 0;
            f.rmap[i] = Packed::default();
            f.rmap_more.remove(&(i as u32));
            f.free.push((pa / PAGE_SIZE) as u32);
            crate::vmstat::count(&crate::vmstat::PGFREE);
        }
    });
}

/// The number of references to an allocated frame.
pub fn refcount(pa: u64) -> u16 {
    with(|f| f.refcount[f.idx(pa)])
}

/// The references to frame `pa` that hold its contents: all but a disk request's (a page
/// being written out that a fault took back is not shared because of the write).
pub fn sharers(pa: u64) -> u16 {
    with(|f| {
        let i = f.idx(pa);
        let io = f.flags[i] & (flag::READING | flag::WRITING) != 0;
        f.refcount[i] - u16::from(io)
    })
}

/// (free frames, managed frames).
pub fn usage() -> (usize, usize) {
    with(|f| (f.free.len(), f.total))
}

/// Evictable user frames resident now, and the budget for them.
pub fn resident() -> (usize, usize) {
    with(|f| (f.resident.len(), f.budget))
}

/// The state bits of frame `pa`.
pub fn flags(pa: u64) -> u8 {
    with(|f| f.flags[f.idx(pa)])
}

/// Sets and clears state bits of frame `pa`.
pub fn update_flags(pa: u64, set: u8, clear: u8) {
    with(|f| {
        let i = f.idx(pa);
        f.flags[i] = (f.flags[i] & !clear) | set;
    });
}

/// Records that the entry of `m` now points at user frame `pa`, and makes the frame
/// resident for the replacement policy (unless locked).
pub fn map(pa: u64, m: Mapping) {
    with(|f| {
        let i = f.idx(pa);
        let packed = Packed::new(m);
        if f.rmap[i] == Packed::default() {
            f.rmap[i] = packed;
        } else {
            f.rmap_more.entry(i as u32).or_default().push(packed);
        }
        f.flags[i] |= flag::USER;
        if f.flags[i] & flag::LOCKED == 0 {
            f.resident.insert(i);
        }
    });
}

/// Forgets that the entry of `m` points at `pa` (the caller drops the reference after).
pub fn unmap(pa: u64, m: Mapping) {
    with(|f| {
        let Some(i) = f.index(pa) else { return };
        let packed = Packed::new(m);
        let key = i as u32;
        if f.rmap[i] == packed {
            // Promote an overflow mapping, if any, into the inline slot.
            f.rmap[i] = match f.rmap_more.get_mut(&key) {
                Some(more) => {
                    let next = more.pop().unwrap_or_default();
                    if more.is_empty() {
                        f.rmap_more.remove(&key);
                    }
                    next
                }
                None => Packed::default(),
            };
        } else if let Some(more) = f.rmap_more.get_mut(&key) {
            if let Some(pos) = more.iter().position(|&p| p == packed) {
                more.swap_remove(pos);
            }
            if more.is_empty() {
                f.rmap_more.remove(&key);
            }
        }
    });
}

/// Every entry that points at `pa`.
pub fn mappings(pa: u64) -> Vec<Mapping> {
    with(|f| {
        let i = f.idx(pa);
        f.mappings(i)
    })
}

/// Makes a user frame resident for the policy again (unlocked, or back from the disk).
pub fn make_resident(pa: u64) {
    with(|f| {
        let i = f.idx(pa);
        f.flags[i] |= flag::USER;
        if f.flags[i] & flag::LOCKED == 0 {
            f.resident.insert(i);
        }
    });
}

/// Locks (`true`) or unlocks a user frame in memory.
pub fn set_locked(pa: u64, locked: bool) {
    with(|f| {
        let i = f.idx(pa);
        if locked {
            f.flags[i] |= flag::LOCKED;
            f.resident.remove(i);
        } else if f.flags[i] & flag::LOCKED != 0 {
            f.flags[i] &= !flag::LOCKED;
            if f.flags[i] & flag::USER != 0 {
                f.resident.insert(i);
            }
        }
    });
}

/// Asks the replacement policy for a victim and takes it off the resident list.
///
/// `referenced(mappings)` tests and clears the accessed bits of a frame's entries;
/// `cached(pa)` says whether the swap cache holds the frame. `None`: nothing is evictable.
pub fn choose_victim(
    mut referenced: impl FnMut(&[Mapping]) -> bool,
    mut cached: impl FnMut(u64) -> bool,
) -> Option<u64> {
    with(|f| {
        let Frames {
            resident,
            refcount,
            flags,
            rmap,
            rmap_more,
            first_pfn,
            ..
        } = f;
        let pa_of = |i: usize| (*first_pfn + i as u64) * PAGE_SIZE;
        let victim = resident.victim(
            |i| match rmap_more.get(&(i as u32)) {
                // The common case, one mapping, needs no allocation: the policy may ask
                // about many frames per eviction.
                None if rmap[i] == Packed::default() => referenced(&[]),
                None => referenced(&[rmap[i].get()]),
                Some(_) => referenced(&mappings_of(rmap, rmap_more, i)),
            },
            |i| {
                let mapped = usize::from(rmap[i] != Packed::default())
                    + rmap_more.get(&(i as u32)).map_or(0, Vec::len);
                evictable(flags[i], refcount[i], mapped, cached(pa_of(i)))
            },
        )?;
        Some(pa_of(victim))
    })
}

/// Takes user frame `pa` off the resident list for `madvise(MADV_PAGEOUT)` if the policy
/// could evict it now and exactly one entry maps it (Linux pages out only pages that one
/// process maps); `cached` says whether the swap cache holds it. `false`: it stays.
pub fn take_for_pageout(pa: u64, cached: bool) -> bool {
    with(|f| {
        let i = f.idx(pa);
        let mapped = usize::from(f.rmap[i] != Packed::default())
            + f.rmap_more.get(&(i as u32)).map_or(0, Vec::len);
        let eligible = mapped == 1
            && f.resident.contains(i)
            && evictable(f.flags[i], f.refcount[i], 1, cached);
        if eligible {
            f.resident.remove(i);
        }
        eligible
    })
}

/// Puts a frame that [`choose_victim`] returned but could not be evicted back on the list.
pub fn keep_resident(pa: u64) {
    make_resident(pa);
}

/// The mappings of frame `i` from the inline slot and the overflow map.
fn mappings_of(rmap: &[Packed], more: &BTreeMap<u32, Vec<Packed>>, i: usize) -> Vec<Mapping> {
    let mut out = Vec::new();
    if rmap[i] != Packed::default() {
        out.push(rmap[i].get());
    }
    if let Some(more) = more.get(&(i as u32)) {
        out.extend(more.iter().map(|m| m.get()));
    }
    out
}
