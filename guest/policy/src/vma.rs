//! Virtual memory areas: the per-process map of what each user address means.
//!
//! Follows the Linux semantics of mmap(2), munmap(2), mprotect(2) and brk(2) (as implemented
//! in `mm/mmap.c`, `mm/vma.c`, `mm/mprotect.c`): VMAs are page aligned, never overlap, are
//! split when an operation covers part of one, and adjacent VMAs that Linux would merge are
//! merged, so `/proc/<pid>/maps` shows the same lines. The page tables are not touched here:
//! each operation returns the address ranges whose PTEs the kernel must drop or rewrite.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use crate::errno::{Errno, KResult};

/// The page size (Sv39 base pages).
pub const PAGE_SIZE: u64 = 4096;

/// The end (exclusive) of Sv39 user space: the lower half of the 39-bit space, 256 GiB.
/// Linux's `TASK_SIZE` and `STACK_TOP` on an Sv39 riscv64 machine.
pub const USER_END: u64 = 0x40_0000_0000;

/// The window the kernel identity-maps at the same virtual address in every process; no user
/// mapping may overlap it.
pub const KERNEL_WINDOW: Range<u64> = 0x8000_0000..0xC000_0000;

/// Linux's `stack_guard_gap` default: 256 pages kept free below a stack.
pub const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;

/// The default `RLIMIT_STACK` soft limit (8 MiB).
pub const DEFAULT_STACK_RLIMIT: u64 = 8 << 20;

/// `PROT_READ` from `<sys/mman.h>`.
pub const PROT_READ: u64 = 1;
/// `PROT_WRITE` from `<sys/mman.h>`.
pub const PROT_WRITE: u64 = 2;
/// `PROT_EXEC` from `<sys/mman.h>`.
pub const PROT_EXEC: u64 = 4;

/// Rounds `value` down to a page boundary.
pub const fn page_floor(value: u64) -> u64 {
    value & !(PAGE_SIZE - 1)
}

/// Rounds `value` up to a page boundary, or `None` on overflow.
pub const fn page_ceil(value: u64) -> Option<u64> {
    match value.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(page_floor(v)),
        None => None,
    }
}

/// Whether `value` is a multiple of the page size.
pub const fn is_page_aligned(value: u64) -> bool {
    value.is_multiple_of(PAGE_SIZE)
}

/// Whether two half-open ranges share at least one address.
fn overlaps(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

/// The access rights a VMA grants (its `PROT_*` bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Perms {
    /// `PROT_READ`.
    pub read: bool,
    /// `PROT_WRITE`.
    pub write: bool,
    /// `PROT_EXEC`.
    pub exec: bool,
}

impl Perms {
    /// `PROT_NONE`.
    pub const NONE: Perms = Perms {
        read: false,
        write: false,
        exec: false,
    };
    /// Read only.
    pub const R: Perms = Perms {
        read: true,
        write: false,
        exec: false,
    };
    /// Read and write.
    pub const RW: Perms = Perms {
        read: true,
        write: true,
        exec: false,
    };
    /// Read and execute.
    pub const RX: Perms = Perms {
        read: true,
        write: false,
        exec: true,
    };
    /// Read, write and execute.
    pub const RWX: Perms = Perms {
        read: true,
        write: true,
        exec: true,
    };

    /// The rights a `prot` argument asks for, or `EINVAL` if it has bits other than
    /// `PROT_READ | PROT_WRITE | PROT_EXEC` (Linux also rejects unknown bits).
    pub fn from_prot(prot: u64) -> KResult<Perms> {
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(Perms {
            read: prot & PROT_READ != 0,
            write: prot & PROT_WRITE != 0,
            exec: prot & PROT_EXEC != 0,
        })
    }

    /// The `PROT_*` bits of these rights.
    pub fn to_prot(self) -> u64 {
        (if self.read { PROT_READ } else { 0 })
            | (if self.write { PROT_WRITE } else { 0 })
            | (if self.exec { PROT_EXEC } else { 0 })
    }
}

/// Whether writes are private to the process (copy on write) or shared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Sharing {
    /// `MAP_PRIVATE`: the process's writes are its own (after fork, copy on write).
    Private,
    /// `MAP_SHARED`: writes are seen by every process mapping the same object.
    Shared,
}

/// The kernel's index of an initramfs file.
pub type FileId = u32;

/// Where a VMA's pages come from when first touched.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Backing {
    /// Zero-filled pages.
    Anonymous,
    /// Pages read from a file.
    File {
        /// The kernel's index of the file.
        file: FileId,
        /// The file offset of the VMA's first byte (`start`).
        offset: u64,
        /// The file offset at and beyond which bytes read as zero: the end of an ELF segment's
        /// file image (`p_offset + p_filesz`), or the file size for mmap(2).
        file_end: u64,
    },
}

/// The name `/proc/<pid>/maps` shows for a VMA.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub enum VmaName {
    /// No name: the line ends after the inode field.
    #[default]
    None,
    /// `[heap]`: the brk area.
    Heap,
    /// `[stack]`: the main thread's stack.
    Stack,
    /// A mapped file, shown by path with its device and inode.
    File {
        /// The absolute path, as `/proc/<pid>/maps` shows it.
        path: Arc<str>,
        /// The device's major number.
        dev_major: u32,
        /// The device's minor number.
        dev_minor: u32,
        /// The inode number.
        inode: u64,
    },
}

/// What the page at one address holds before anything is written to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PageContent {
    /// A page of zeros.
    Zero,
    /// `len` bytes (1..=4096) from `file` at `offset`, then zeros to the end of the page.
    File {
        /// The kernel's index of the file.
        file: FileId,
        /// The file offset of the page's first byte.
        offset: u64,
        /// How many bytes to copy from the file; the rest of the page is zero.
        len: u64,
    },
    /// A page of a file area lying wholly at or past `file_end`: Linux raises `SIGBUS`
    /// there (a mapping longer than its file). Never produced for areas made by
    /// [`crate::elf::ExecImage::vmas`], whose file areas end with the file bytes' last page.
    BeyondEnd,
}

/// One virtual memory area: a page-aligned range with uniform rights and backing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Vma {
    /// The first address (page aligned).
    pub start: u64,
    /// The end address, exclusive (page aligned, above `start`).
    pub end: u64,
    /// The rights the area grants.
    pub perms: Perms,
    /// Private or shared.
    pub sharing: Sharing,
    /// Where the pages come from.
    pub backing: Backing,
    /// The name `/proc/<pid>/maps` shows.
    pub name: VmaName,
}

impl Vma {
    /// A private anonymous area with no name.
    pub fn anonymous(start: u64, end: u64, perms: Perms) -> Vma {
        Vma {
            start,
            end,
            perms,
            sharing: Sharing::Private,
            backing: Backing::Anonymous,
            name: VmaName::None,
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the area is empty (never true for an area inside a [`VmaSet`]).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The address range.
    pub fn range(&self) -> Range<u64> {
        self.start..self.end
    }

    /// Whether `addr` lies inside the area.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// The file offset of the area's first byte, or 0 for an anonymous area (what
    /// `/proc/<pid>/maps` shows).
    pub fn file_offset(&self) -> u64 {
        match self.backing {
            Backing::Anonymous => 0,
            Backing::File { offset, .. } => offset,
        }
    }

    /// What the page containing `addr` holds before it is written: zeros, some bytes of
    /// the backing file followed by zeros, or nothing (past the end of the file: `SIGBUS`).
    /// `addr` must lie inside the area.
    pub fn page_content(&self, addr: u64) -> PageContent {
        let page = page_floor(addr);
        match self.backing {
            Backing::Anonymous => PageContent::Zero,
            Backing::File {
                file,
                offset,
                file_end,
            } => {
                let Some(page_offset) = offset.checked_add(page.wrapping_sub(self.start)) else {
                    return PageContent::BeyondEnd;
                };
                if page_offset >= file_end {
                    PageContent::BeyondEnd
                } else {
                    let len = (file_end - page_offset).min(PAGE_SIZE);
                    PageContent::File {
                        file,
                        offset: page_offset,
                        len,
                    }
                }
            }
        }
    }

    /// Checks the area's shape: page aligned, non-empty, inside user space and outside the
    /// kernel window.
    fn validate(&self) -> KResult<()> {
        if !is_page_aligned(self.start) || !is_page_aligned(self.end) || self.start >= self.end {
            return Err(Errno::EINVAL);
        }
        if self.end > USER_END || overlaps(&self.range(), &KERNEL_WINDOW) {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Splits the area at `addr` (strictly inside, page aligned) into the part below and the
    /// part from `addr` on; the upper part's file offset moves with it.
    pub fn split_at(&self, addr: u64) -> (Vma, Vma) {
        debug_assert!(self.start < addr && addr < self.end && is_page_aligned(addr));
        let mut low = self.clone();
        let mut high = self.clone();
        low.end = addr;
        high.start = addr;
        if let Backing::File { offset, .. } = &mut high.backing {
            *offset = offset.wrapping_add(addr - self.start);
        }
        (low, high)
    }

    /// Whether Linux would merge this area with `next`, which begins where this one ends:
    /// same rights, sharing and name, and both anonymous (and private: every shared anonymous
    /// mapping is its own object) or the same file at contiguous offsets.
    pub fn can_merge_with(&self, next: &Vma) -> bool {
        if self.end != next.start
            || self.perms != next.perms
            || self.sharing != next.sharing
            || self.name != next.name
        {
            return false;
        }
        match (&self.backing, &next.backing) {
            (Backing::Anonymous, Backing::Anonymous) => self.sharing == Sharing::Private,
            (
                Backing::File {
                    file: a,
                    offset: offset_a,
                    file_end: end_a,
                },
                Backing::File {
                    file: b,
                    offset: offset_b,
                    file_end: end_b,
                },
            ) => a == b && end_a == end_b && offset_a.checked_add(self.len()) == Some(*offset_b),
            _ => false,
        }
    }
}

/// Where mmap(2) may place a mapping that has no fixed address.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MmapLayout {
    /// The lowest address a mapping may use (Linux's `mmap_min_addr`).
    pub floor: u64,
    /// Top-down placement starts below this address (Linux's `mmap_base`).
    pub ceiling: u64,
    /// A hint may place a mapping anywhere below this address (Linux's `TASK_SIZE`).
    pub user_end: u64,
    /// A range no mapping may overlap (the kernel window).
    pub reserved: Range<u64>,
}

impl MmapLayout {
    /// Linux's layout without address randomization for a stack whose top is `stack_top`
    /// and whose `RLIMIT_STACK` is `stack_rlimit`: `mmap_base` is the stack top less the
    /// stack limit plus the guard gap, clamped to at least 128 MiB (`mm/util.c`, `mmap_base`).
    /// The floor is 64 KiB (a common `vm.mmap_min_addr`), and the kernel window is reserved.
    pub fn linux_default(stack_top: u64, stack_rlimit: u64) -> MmapLayout {
        const MIN_GAP: u64 = 128 << 20;
        let max_gap = stack_top / 6 * 5;
        let gap = stack_rlimit
            .saturating_add(STACK_GUARD_GAP)
            .clamp(MIN_GAP, max_gap.max(MIN_GAP));
        MmapLayout {
            floor: 0x1_0000,
            ceiling: page_floor(stack_top.saturating_sub(gap)),
            user_end: USER_END,
            reserved: KERNEL_WINDOW,
        }
    }
}

/// The program break: `start_brk` and the current `brk` (Linux's `mm->start_brk`, `mm->brk`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Brk {
    /// The lowest value the break may take: the page-aligned end of the loaded image.
    pub start: u64,
    /// The current break, as the program last set it (not page aligned).
    pub current: u64,
}

impl Brk {
    /// A break at `start`, which must be page aligned (the end of the image's last segment).
    pub fn new(start: u64) -> Brk {
        Brk {
            start,
            current: start,
        }
    }
}

/// The ordered set of a process's VMAs, keyed by start address. No two overlap.
#[derive(Clone, Debug, Default)]
pub struct VmaSet {
    areas: alloc::collections::BTreeMap<u64, Vma>,
}

impl VmaSet {
    /// An empty set.
    pub fn new() -> VmaSet {
        VmaSet::default()
    }

    /// The number of areas.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// Whether there are no areas.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The areas in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.areas.values()
    }

    /// The area containing `addr`, if any.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.areas
            .range(..=addr)
            .next_back()
            .map(|(_, vma)| vma)
            .filter(|v| v.contains(addr))
    }

    /// The areas that overlap `range`, in order.
    pub fn overlapping(&self, range: Range<u64>) -> impl Iterator<Item = &Vma> {
        let first = self
            .areas
            .range(..range.start)
            .next_back()
            .filter(|(_, v)| v.end > range.start)
            .map(|(&start, _)| start)
            .unwrap_or(range.start);
        let end = range.end;
        self.areas
            .range(first..)
            .map(|(_, v)| v)
            .take_while(move |v| v.start < end)
    }

    /// Whether no area overlaps `range`.
    pub fn is_free(&self, range: Range<u64>) -> bool {
        range.start < range.end && self.overlapping(range).next().is_none()
    }

    /// Adds `vma`, merging it with neighbours Linux would merge it with. Fails with `EINVAL`
    /// for a misaligned or empty area, `ENOMEM` outside user space or in the kernel window,
    /// and `EEXIST` (as `MAP_FIXED_NOREPLACE` does) when it overlaps an existing area.
    pub fn insert(&mut self, vma: Vma) -> KResult<()> {
        vma.validate()?;
        if !self.is_free(vma.range()) {
            return Err(Errno::EEXIST);
        }
        let range = vma.range();
        self.areas.insert(vma.start, vma);
        self.merge_around(range);
        Ok(())
    }

    /// Adds `vma` as `MAP_FIXED` does: whatever overlaps it is unmapped first (neighbours are
    /// split). Returns the ranges that were unmapped, whose PTEs the kernel must drop.
    pub fn map_fixed(&mut self, vma: Vma) -> KResult<Vec<Range<u64>>> {
        vma.validate()?;
        let removed = self.remove_range(vma.range());
        let range = vma.range();
        self.areas.insert(vma.start, vma);
        self.merge_around(range);
        Ok(removed)
    }

    /// munmap(2): removes every page in `[start, start + len)`, splitting areas at both ends;
    /// holes are allowed. `EINVAL` when `start` is not page aligned, `len` is zero or the
    /// range leaves user space. Returns the ranges that were mapped and are now gone.
    pub fn unmap(&mut self, start: u64, len: u64) -> KResult<Vec<Range<u64>>> {
        let range = user_range(start, len).ok_or(Errno::EINVAL)?;
        Ok(self.remove_range(range))
    }

    /// mprotect(2): gives every page in `[start, start + len)` the rights `perms`, splitting
    /// areas at both ends and merging afterwards. `EINVAL` for a misaligned `start`, `ENOMEM`
    /// when the range leaves user space or any page of it is unmapped. A zero `len` succeeds
    /// and changes nothing. Returns the ranges whose rights changed: their PTEs must be
    /// rewritten (or dropped).
    ///
    /// Linux changes the areas before the first hole and then fails; this changes nothing
    /// when it fails, which a correct program cannot tell apart.
    pub fn protect(&mut self, start: u64, len: u64, perms: Perms) -> KResult<Vec<Range<u64>>> {
        if !is_page_aligned(start) {
            return Err(Errno::EINVAL);
        }
        let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        let end = start
            .checked_add(len)
            .filter(|&e| e <= USER_END)
            .ok_or(Errno::ENOMEM)?;
        let mut cursor = start;
        for vma in self.overlapping(start..end) {
            if vma.start > cursor {
                return Err(Errno::ENOMEM);
            }
            cursor = vma.end;
        }
        if cursor < end {
            return Err(Errno::ENOMEM);
        }
        self.split_at(start);
        self.split_at(end);
        let mut changed: Vec<Range<u64>> = Vec::new();
        for vma in self.areas.range_mut(start..end).map(|(_, v)| v) {
            if vma.perms != perms {
                vma.perms = perms;
                match changed.last_mut() {
                    Some(last) if last.end == vma.start => last.end = vma.end,
                    _ => changed.push(vma.range()),
                }
            }
        }
        self.merge_around(start..end);
        Ok(changed)
    }

    /// Finds room for `len` bytes (rounded up to pages) as mmap(2) without `MAP_FIXED` does:
    /// the page-aligned `hint` if the range there is free, inside `[floor, user_end)` and
    /// clear of the reserved window; otherwise the highest free range below `ceiling` and
    /// at or above `floor` that avoids the reserved window (Linux's top-down layout).
    /// `None` when nothing fits (mmap fails with `ENOMEM`).
    pub fn find_free(&self, len: u64, hint: Option<u64>, layout: &MmapLayout) -> Option<u64> {
        let len = page_ceil(len)?;
        if len == 0 {
            return None;
        }
        let fits = |start: u64, limit: u64| {
            start.checked_add(len).is_some_and(|end| {
                start >= layout.floor
                    && end <= limit
                    && !overlaps(&(start..end), &layout.reserved)
                    && self.is_free(start..end)
            })
        };
        if let Some(hint) = hint.and_then(page_ceil).filter(|&h| h != 0)
            && fits(hint, layout.user_end)
        {
            return Some(hint);
        }
        // Walk the gaps from the top down: each gap is [end of the area below, start of the
        // area above), cut at the ceiling and split around the reserved window.
        let mut gap_top = layout.ceiling;
        let mut areas = self
            .areas
            .range(..layout.ceiling)
            .map(|(_, v)| v)
            .rev()
            .peekable();
        loop {
            // Skip areas that reach above the current gap top.
            while let Some(vma) = areas.next_if(|v| v.end >= gap_top) {
                gap_top = gap_top.min(vma.start);
            }
            let gap_bottom = areas
                .peek()
                .map_or(layout.floor, |v| v.end)
                .max(layout.floor);
            if let Some(start) = highest_fit(gap_bottom..gap_top, len, &layout.reserved) {
                return Some(start);
            }
            let vma = areas.next()?;
            gap_top = vma.start;
            if gap_top <= layout.floor {
                return None;
            }
        }
    }

    /// brk(2): moves the break to `requested` if it can, and returns the ranges unmapped by a
    /// shrink (whose PTEs the kernel must drop). The break is left unchanged (and the kernel
    /// returns the old value) when `requested` is below `brk.start`, when the grown heap would
    /// come within a page of the next area, or would leave user space or enter the kernel
    /// window. Growth extends the area ending at the old break if it is private anonymous
    /// read-write memory (the bss, or the heap itself), else adds one; either way it is named
    /// `[heap]`, as Linux's maps shows any area overlapping `[start_brk, brk]`.
    pub fn set_brk(&mut self, brk: &mut Brk, requested: u64) -> Vec<Range<u64>> {
        if requested < brk.start {
            return Vec::new();
        }
        let (Some(old_top), Some(new_top)) = (page_ceil(brk.current), page_ceil(requested)) else {
            return Vec::new();
        };
        if new_top <= old_top {
            brk.current = requested;
            return if new_top < old_top {
                self.remove_range(new_top..old_top)
            } else {
                Vec::new()
            };
        }
        let guard_end = new_top.saturating_add(PAGE_SIZE);
        if new_top > USER_END
            || overlaps(&(old_top..new_top), &KERNEL_WINDOW)
            || !self.is_free(old_top..guard_end.min(USER_END))
        {
            return Vec::new();
        }
        let below = self
            .areas
            .range(..old_top)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| {
                v.end == old_top
                    && v.backing == Backing::Anonymous
                    && v.sharing == Sharing::Private
                    && v.perms == Perms::RW
                    && matches!(v.name, VmaName::None | VmaName::Heap)
            })
            .map(|v| v.start);
        match below.and_then(|start| self.areas.get_mut(&start)) {
            Some(heap) => {
                heap.end = new_top;
                heap.name = VmaName::Heap;
            }
            None => {
                let mut heap = Vma::anonymous(old_top, new_top, Perms::RW);
                heap.name = VmaName::Heap;
                self.areas.insert(old_top, heap);
            }
        }
        self.merge_around(old_top..new_top);
        brk.current = requested;
        Vec::new()
    }

    /// Grows the `[stack]` area down so that it covers `addr`, as Linux does when a fault
    /// lands below a stack: allowed when the grown stack stays within `stack_rlimit` bytes
    /// and keeps [`STACK_GUARD_GAP`] clear above the next area below. Returns `true` if the
    /// stack now covers `addr` (the kernel then decides the fault again).
    pub fn expand_stack(&mut self, addr: u64, stack_rlimit: u64) -> bool {
        let new_start = page_floor(addr);
        let Some((&start, stack)) = self.areas.range(addr..).next() else {
            return false;
        };
        if stack.name != VmaName::Stack || stack.end - new_start > stack_rlimit {
            return false;
        }
        let prev_end = self
            .areas
            .range(..start)
            .next_back()
            .map_or(0, |(_, v)| v.end);
        if new_start < prev_end.saturating_add(STACK_GUARD_GAP)
            || overlaps(&(new_start..start), &KERNEL_WINDOW)
        {
            return false;
        }
        if let Some(mut stack) = self.areas.remove(&start) {
            stack.start = new_start;
            self.areas.insert(new_start, stack);
        }
        true
    }

    /// Removes everything in `range` (page aligned), splitting areas at its ends, and returns
    /// the removed ranges in order.
    fn remove_range(&mut self, range: Range<u64>) -> Vec<Range<u64>> {
        self.split_at(range.start);
        self.split_at(range.end);
        let starts: Vec<u64> = self
            .areas
            .range(range.start..range.end)
            .map(|(&s, _)| s)
            .collect();
        let mut removed: Vec<Range<u64>> = Vec::new();
        for start in starts {
            if let Some(vma) = self.areas.remove(&start) {
                match removed.last_mut() {
                    Some(last) if last.end == vma.start => last.end = vma.end,
                    _ => removed.push(vma.range()),
                }
            }
        }
        removed
    }

    /// Splits the area strictly containing `addr`, if any, so that an area begins at `addr`.
    pub fn split_at(&mut self, addr: u64) {
        let Some((&start, vma)) = self.areas.range(..addr).next_back() else {
            return;
        };
        if vma.end > addr && start < addr {
            let (low, high) = vma.split_at(addr);
            self.areas.insert(start, low);
            self.areas.insert(addr, high);
        }
    }

    /// Merges mergeable neighbours among the areas touching `range` and the ones just
    /// outside it.
    fn merge_around(&mut self, range: Range<u64>) {
        let first = self
            .areas
            .range(..range.start)
            .next_back()
            .map_or(range.start, |(&s, _)| s);
        let starts: Vec<u64> = self
            .areas
            .range(first..)
            .take_while(|(s, _)| **s <= range.end)
            .map(|(&s, _)| s)
            .collect();
        let mut current: Option<u64> = None;
        for start in starts {
            let merged = match current.and_then(|c| self.areas.get(&c)) {
                Some(prev) => self
                    .areas
                    .get(&start)
                    .is_some_and(|next| prev.can_merge_with(next)),
                None => false,
            };
            if merged {
                if let (Some(c), Some(next)) = (current, self.areas.remove(&start))
                    && let Some(prev) = self.areas.get_mut(&c)
                {
                    prev.end = next.end;
                }
            } else {
                current = Some(start);
            }
        }
    }
}

/// The page-aligned range munmap(2) covers, or `None` when Linux fails with `EINVAL`.
fn user_range(start: u64, len: u64) -> Option<Range<u64>> {
    if !is_page_aligned(start) || len == 0 {
        return None;
    }
    let end = start.checked_add(page_ceil(len)?)?;
    (end <= USER_END).then_some(start..end)
}

/// The highest `len`-byte page-aligned start inside `gap` that avoids `reserved`.
fn highest_fit(gap: Range<u64>, len: u64, reserved: &Range<u64>) -> Option<u64> {
    if gap.end < gap.start || gap.end - gap.start < len {
        return None;
    }
    let start = gap.end - len;
    if !overlaps(&(start..gap.end), reserved) {
        return Some(start);
    }
    // The top candidate hits the reserved window: try just below it.
    let below = reserved.start.min(gap.end);
    (below >= gap.start && below - gap.start >= len).then(|| below - len)
}

#[cfg(test)]
mod tests;
