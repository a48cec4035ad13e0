//! Swap: the swap area on the virtio disk, the swap cache, page replacement and the disk
//! I/O that moves pages out and back.
//!
//! A swapped-out page leaves a *swap entry* in every page-table entry that mapped it: an
//! invalid entry (V = 0) holding the slot number, so the hardware faults and the fault
//! handler knows where the page went. The slot counts the entries naming it
//! (`SwapSlots`), so a page shared by copy-on-write after fork is written once and read
//! once, whatever order fork, write, swap-out and exit come in.
//!
//! The *swap cache* links a slot to the frame that holds its page while both exist: during
//! a write (the frame is freed when the write completes, unless a fault took it back), after
//! a read (until every entry naming the slot has been mapped again), and for a page read
//! back but not written since (evicting it again needs no write).
//!
//! Disk I/O completes by interrupt. A fault that needs a read queues it, and the process
//! waits (`WaitReason::Disk`) while others run; when the read completes, the fault runs
//! again and finds the page in the swap cache. Allocation works the same way: when memory
//! runs short, victims chosen by the replacement policy are written out, and the process
//! that needed a frame waits for one to be freed.

use alloc::collections::{BTreeMap, BTreeSet};

use sv39_policy::replace::Policy;
use sv39_policy::swapslots::SwapSlots;

use super::frame::{self, Mapping, flag};
use super::pagetable::{PTE_A, PTE_D, PTE_V, PageTable};
use super::phys::PAGE_SIZE;
use super::space::fence_mapping;
use crate::drivers::virtio_blk::{self, Op, SECTOR};
use crate::sync::KernelCell;
use crate::vmstat;

/// An invalid entry with this bit (the first of the two "reserved for software" bits) is a
/// swap entry; the slot number is where a valid entry's PPN would be.
pub const PTE_SWAP: u64 = 1 << 8;

/// The swap entry for `slot`.
pub fn swap_pte(slot: u32) -> u64 {
    (u64::from(slot) << 10) | PTE_SWAP
}

/// The slot a swap entry names (`None`: not a swap entry).
pub fn pte_slot(pte: u64) -> Option<u32> {
    (pte & PTE_V == 0 && pte & PTE_SWAP != 0).then_some((pte >> 10) as u32)
}

/// The most slots used, whatever the disk's size: their counts live on the kernel heap.
const MAX_SLOTS: u64 = 1 << 20;
/// Frames kept free for page tables and the kernel: user pages are not given the last
/// 1/64 of memory (at least 64 frames), enough for the tables of a fork of a space as large
/// as RAM several times over.
fn reserve(total: usize) -> usize {
    (total / 64).max(64)
}
/// Pages written out at once when memory (rather than the `vm.frames` budget) runs short.
const BATCH: usize = 32;

/// A disk request in flight.
#[derive(Debug, Clone, Copy)]
struct Io {
    slot: u32,
    frame: u64,
    op: Op,
}

struct Swap {
    /// The slots, `None` without a disk.
    slots: Option<SwapSlots>,
    /// The swap cache, both ways.
    cache: BTreeMap<u32, u64>,
    by_frame: BTreeMap<u64, u32>,
    /// Requests in flight by token.
    inflight: BTreeMap<u64, Io>,
    /// Slots being written, and those of them no entry names any more: a slot is reused
    /// only after its write completes, since a device may complete requests in any order.
    writing: BTreeSet<u32>,
    orphaned: BTreeSet<u32>,
    next_token: u64,
}

static SWAP: KernelCell<Swap> = KernelCell::new(Swap {
    slots: None,
    cache: BTreeMap::new(),
    by_frame: BTreeMap::new(),
    inflight: BTreeMap::new(),
    writing: BTreeSet::new(),
    orphaned: BTreeSet::new(),
    next_token: 1,
});

/// Uses the disk (`capacity` sectors) as the swap area.
pub fn init(capacity: u64) -> u32 {
    let slots = (capacity * SECTOR / PAGE_SIZE).min(MAX_SLOTS) as u32;
    SWAP.with(|s| s.slots = Some(SwapSlots::new(slots)));
    slots
}

/// (total, used) swap slots.
pub fn usage() -> (u32, u32) {
    SWAP.with(|s| s.slots.as_ref().map_or((0, 0), |x| (x.total(), x.used())))
}

/// Another entry names `slot` (fork copied it).
pub fn retain(slot: u32) {
    SWAP.with(|s| {
        if let Some(slots) = s.slots.as_mut() {
            slots.retain(slot);
        }
    });
}

/// An entry naming `slot` went away (unmapped, exited, or mapped again).
pub fn release(slot: u32) {
    SWAP.with(|s| s.release(slot));
}

impl Swap {
    fn release(&mut self, slot: u32) {
        let Some(slots) = self.slots.as_mut() else {
            return;
        };
        if slots.release(slot) {
            if self.writing.contains(&slot) {
                self.orphaned.insert(slot);
            } else {
                slots.free(slot);
            }
            if let Some(pa) = self.cache.remove(&slot) {
                // Whoever still maps the frame holds the only copy of the page now.
                self.by_frame.remove(&pa);
                frame::update_flags(pa, flag::DIRTY, 0);
                frame::release(pa);
            }
        }
    }

    fn submit(&mut self, op: Op, slot: u32, pa: u64) -> bool {
        let token = self.next_token;
        let sector = u64::from(slot) * (PAGE_SIZE / SECTOR);
        if !virtio_blk::submit(op, sector, pa, PAGE_SIZE as u32, token) {
            return false;
        }
        self.next_token += 1;
        self.inflight.insert(
            token,
            Io {
                slot,
                frame: pa,
                op,
            },
        );
        true
    }

    /// Writes frame `pa` out (or drops it) and turns its entries into swap entries.
    fn evict(&mut self, pa: u64) -> Evicted {
        let maps = frame::mappings(pa);
        let flags = frame::flags(pa);
        let dirty = flags & flag::DIRTY != 0
            || maps
                .iter()
                .any(|m| PageTable { root: m.root }.lookup(m.va) & PTE_D != 0);
        let cached = self.by_frame.get(&pa).copied();
        if flags & flag::FILE != 0 && !dirty && cached.is_none() {
            // An unmodified file page: the file still has it.
            for m in maps {
                unmap_entry(pa, m, 0);
            }
            vmstat::count(&vmstat::FILE_DROPPED);
            return Evicted::Freed;
        }
        let Some(slots) = self.slots.as_mut() else {
            return Evicted::Kept;
        };
        let (slot, fresh) = match cached {
            Some(slot) => (slot, false),
            None => match slots.alloc() {
                Some(slot) => (slot, true),
                None => return Evicted::Kept,
            },
        };
        let write = dirty || fresh;
        if write && !virtio_blk::has_room() {
            if fresh {
                slots.free(slot);
            }
            return Evicted::Kept;
        }
        if fresh {
            // The swap cache's own reference keeps the frame while the entries go.
            frame::retain(pa);
            self.cache.insert(slot, pa);
            self.by_frame.insert(pa, slot);
        }
        for m in maps {
            slots.retain(slot);
            unmap_entry(pa, m, swap_pte(slot));
        }
        if write {
            // Written or not, its bytes are the swap slot's from now on, not the file's.
            frame::update_flags(pa, flag::WRITING, flag::DIRTY | flag::FILE);
            frame::retain(pa); // the write's reference
            let queued = self.submit(Op::Write, slot, pa);
            debug_assert!(queued, "room was checked");
            self.writing.insert(slot);
            vmstat::count(&vmstat::PSWPOUT);
            Evicted::Writing
        } else {
            // The slot already holds these bytes.
            self.cache.remove(&slot);
            self.by_frame.remove(&pa);
            frame::release(pa);
            Evicted::Freed
        }
    }

    /// Picks a victim with the replacement policy and evicts it.
    fn evict_one(&mut self) -> Option<Evicted> {
        let by_frame = &self.by_frame;
        let pa = frame::choose_victim(test_and_clear_accessed, |pa| by_frame.contains_key(&pa))?;
        match self.evict(pa) {
            Evicted::Kept => {
                frame::keep_resident(pa);
                None
            }
            done => Some(done),
        }
    }

    fn writes_in_flight(&self) -> usize {
        self.inflight
            .values()
            .filter(|io| io.op == Op::Write)
            .count()
    }
}

/// What evicting one frame did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evicted {
    /// The frame is free now.
    Freed,
    /// Its write is queued; it is freed when the write completes.
    Writing,
    /// It could not go (swap full, the queue full, no disk).
    Kept,
}

/// Points the entry of `m` at `pte` (a swap entry, or 0) instead of frame `pa`, and drops the
/// entry's reference.
fn unmap_entry(pa: u64, m: Mapping, pte: u64) {
    let table = PageTable { root: m.root };
    let old = table.lookup(m.va);
    if old & PTE_V != 0 {
        table.update(m.va, pte);
        fence_mapping(m.root, m.va);
    }
    frame::unmap(pa, m);
    frame::release(pa);
}

/// Tests and clears the accessed bit of every entry in `maps` (one frame's): whether any
/// was set. The hardware sets A on access; clearing it needs a fence for the next access to
/// set it again (privileged spec 4.3.1: A/D updates are made by the walker, and a cached
/// entry with A set is not re-walked).
fn test_and_clear_accessed(maps: &[Mapping]) -> bool {
    let mut any = false;
    for m in maps {
        let table = PageTable { root: m.root };
        let pte = table.lookup(m.va);
        if pte & PTE_V != 0 && pte & PTE_A != 0 {
            table.update(m.va, pte & !PTE_A);
            fence_mapping(m.root, m.va);
            any = true;
        }
    }
    any
}

/// Why no frame could be had right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoFrame {
    /// Wait for the disk: frames are being written out.
    Wait,
    /// Memory and swap are exhausted.
    OutOfMemory,
}

/// A frame for a user page (count one, contents undefined), evicting others as the
/// replacement policy says when the `vm.frames` budget is spent or memory runs short.
pub fn alloc_user_frame() -> Result<u64, NoFrame> {
    SWAP.with(|s| {
        for _ in 0..4 * BATCH {
            let (free, total) = frame::usage();
            let reserve = reserve(total);
            let (resident, budget) = frame::resident();
            if resident < budget && free > reserve {
                return frame::alloc_uninit().ok_or(NoFrame::OutOfMemory);
            }
            if resident >= budget {
                // The textbook case: one page out for one page in.
                if s.evict_one().is_some() {
                    continue;
                }
                if free > reserve {
                    // Nothing can go (locked, pinned or under I/O): the budget bends.
                    return frame::alloc_uninit().ok_or(NoFrame::OutOfMemory);
                }
            }
            // Memory itself is short: write out a batch, as a page daemon would.
            let mut freed = false;
            for _ in 0..BATCH {
                match s.evict_one() {
                    Some(Evicted::Freed) => freed = true,
                    Some(_) => {}
                    None => break,
                }
            }
            if freed && frame::usage().0 > reserve {
                continue;
            }
            if s.writes_in_flight() > 0 {
                return Err(NoFrame::Wait);
            }
            return frame::alloc_uninit().ok_or(NoFrame::OutOfMemory);
        }
        Err(NoFrame::Wait)
    })
}

/// What [`page_out`] did with one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOut {
    /// The page left memory: written to swap (or on its way), or dropped (a clean file page).
    Done,
    /// It stays: shared, locked, held by a system call, under I/O, or there is no swap (or no
    /// free slot) for it.
    Skipped,
    /// The disk's queue is full: ask again once requests complete.
    Busy,
}

/// Reclaims user frame `pa` now, as `madvise(MADV_PAGEOUT)` asks: through the same eviction
/// as the replacement policy's victims, so its entry becomes a swap entry and the next touch
/// reads it back (a major fault).
pub fn page_out(pa: u64) -> PageOut {
    SWAP.with(|s| {
        if !frame::take_for_pageout(pa, s.by_frame.contains_key(&pa)) {
            return PageOut::Skipped;
        }
        match s.evict(pa) {
            Evicted::Kept => {
                frame::keep_resident(pa);
                if s.slots.is_some() && !virtio_blk::has_room() {
                    PageOut::Busy
                } else {
                    PageOut::Skipped
                }
            }
            Evicted::Freed | Evicted::Writing => PageOut::Done,
        }
    })
}

/// The outcome of a fault on a swap entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapIn {
    /// The page is in frame `pa`, with a reference for the caller's entry (the entry's hold
    /// on the slot is gone).
    Mapped(u64),
    /// Wait for the disk; `true` when this fault queued the read.
    Wait(bool),
    /// The disk could not read it.
    IoError,
    /// No memory for the page.
    OutOfMemory,
}

/// Brings the page of `slot` back for one entry naming it.
pub fn swap_in(slot: u32) -> SwapIn {
    let cached = SWAP.with(|s| s.cache.get(&slot).copied());
    if let Some(pa) = cached {
        let flags = frame::flags(pa);
        // Being read: wait for the bytes. Being written: wait too, and read it back after,
        // so that every mapped frame stays evictable (a page the policy just chose does not
        // come back ahead of its turn, and the textbook's fault counts hold).
        if flags & (flag::READING | flag::WRITING) != 0 {
            return SwapIn::Wait(false);
        }
        if flags & flag::IO_ERROR != 0 {
            return SwapIn::IoError;
        }
        frame::retain(pa);
        SWAP.with(|s| s.release(slot));
        return SwapIn::Mapped(pa);
    }
    let pa = match alloc_user_frame() {
        Ok(pa) => pa,
        Err(NoFrame::Wait) => return SwapIn::Wait(false),
        Err(NoFrame::OutOfMemory) => return SwapIn::OutOfMemory,
    };
    SWAP.with(|s| {
        if !virtio_blk::has_room() {
            frame::release(pa);
            return SwapIn::Wait(false);
        }
        // The swap cache holds the new frame; the read holds it too.
        s.cache.insert(slot, pa);
        s.by_frame.insert(pa, slot);
        frame::update_flags(pa, flag::READING, 0);
        frame::retain(pa);
        let queued = s.submit(Op::Read, slot, pa);
        debug_assert!(queued, "room was checked");
        vmstat::count(&vmstat::PSWPIN);
        SwapIn::Wait(true)
    })
}

/// The swap slot whose cached page frame `pa` is, if any.
pub fn cached_slot(pa: u64) -> Option<u32> {
    SWAP.with(|s| s.by_frame.get(&pa).copied())
}

/// Handles the disk's completions (from its interrupt); whether any request finished.
pub fn complete() -> bool {
    let done = virtio_blk::completions();
    let any = !done.is_empty();
    for (token, ok) in done {
        SWAP.with(|s| {
            let Some(io) = s.inflight.remove(&token) else {
                return;
            };
            let pa = io.frame;
            match io.op {
                Op::Read => {
                    frame::update_flags(pa, if ok { 0 } else { flag::IO_ERROR }, flag::READING);
                    if !ok {
                        crate::klog!("swap: reading slot {} failed", io.slot);
                    }
                    // Not on the policy's list until a fault maps it: evicting a page read
                    // for a process that has not run yet would only read it again.
                }
                Op::Write => {
                    frame::update_flags(pa, 0, flag::WRITING);
                    s.writing.remove(&io.slot);
                    if s.orphaned.remove(&io.slot)
                        && let Some(slots) = s.slots.as_mut()
                    {
                        slots.free(io.slot);
                    }
                    if !ok {
                        crate::klog!("swap: writing slot {} failed; the page stays", io.slot);
                        frame::update_flags(pa, flag::DIRTY, 0);
                        frame::make_resident(pa);
                    } else if s.by_frame.get(&pa) == Some(&io.slot) && frame::refcount(pa) == 2 {
                        // No one took the page back while it was written: free it.
                        s.cache.remove(&io.slot);
                        s.by_frame.remove(&pa);
                        frame::release(pa);
                    }
                }
            }
            frame::release(pa); // the request's reference
        });
    }
    any
}

/// Sets the replacement policy and the `vm.frames` budget from the command line's words.
pub fn configure(bootargs: &str) {
    let mut policy = Policy::Clock;
    let mut budget = None;
    for word in bootargs.split_ascii_whitespace() {
        if word == "--" {
            break;
        }
        if let Some(name) = word.strip_prefix("vm.policy=") {
            match Policy::parse(name) {
                Some(p) => policy = p,
                None => crate::klog!("vm.policy={name}: unknown (fifo, clock, lru); using clock"),
            }
        } else if let Some(n) = word.strip_prefix("vm.frames=") {
            match n.parse::<usize>() {
                // One instruction may need its own page and a data page at once: with a
                // single frame they would evict each other forever.
                Ok(1) => {
                    crate::klog!("vm.frames=1: raised to 2 (an instruction and its data)");
                    budget = Some(2);
                }
                Ok(n) if n > 0 => budget = Some(n),
                _ => crate::klog!("vm.frames={n}: not a positive number; ignored"),
            }
        }
    }
    frame::configure(policy, budget);
}
