//! A process's address space: its page table, ASID and VMAs, and the page-fault handler
//! that turns the VMAs' policy (`sv39_policy::fault::decide`) into page-table entries.
//!
//! Fences follow the privileged spec (4.2.1): an implementation may cache any entry, valid
//! or not, so every change to a live entry of the running address space is followed by
//! `sfence.vma va, asid`; an address space that is not running is fenced by ASID when it
//! next runs, or never needs it because its ASID is fresh.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use sv39_policy::cow::{self, CowAction};
use sv39_policy::errno::Errno;
use sv39_policy::fault::{self, Access, FaultDecision, PteFlags, PteState, SegvReason};
use sv39_policy::vma::{Backing, Brk, DEFAULT_STACK_RLIMIT, MmapLayout, Sharing, VmaSet};

use super::pagetable::{
    PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, PageTable, make_pte, pte_address,
};

/// The rights bits of an entry.
const PTE_RIGHTS: u64 = PTE_R | PTE_W | PTE_X | PTE_U;
use super::frame::{self, Mapping};
use super::phys::{self, PAGE_SIZE};
use super::swap::{self, NoFrame, SwapIn};
use super::{install_kernel_mappings, user_root_indices};
use crate::arch::cpu;
use crate::sync::KernelCell;

/// The ASID allocator: ASIDs are handed out in order within a generation; when they run out,
/// the generation changes, the whole TLB is flushed, and every address space gets a new one
/// the next time it runs.
struct Asids {
    generation: u64,
    next: u32,
    /// The ASID currently in satp, with its generation.
    current: Option<(u16, u64)>,
    /// Each live address space's ASID and its generation, by root table: swap-out changes
    /// entries of spaces that are not running and fences them by ASID.
    roots: BTreeMap<u64, (u16, u64)>,
}

static ASIDS: KernelCell<Asids> = KernelCell::new(Asids {
    generation: 1,
    next: 1,
    current: None,
    roots: BTreeMap::new(),
});

/// Orders a change to the entry of `va` in the address space whose root table is `root`,
/// running or not: `sfence.vma va, asid` with that space's ASID. A space whose ASID is from
/// an old generation needs nothing: it gets a fresh ASID (after a full flush) when it runs.
pub fn fence_mapping(root: u64, va: u64) {
    let bits = super::asid_bits();
    ASIDS.with(|a| match a.roots.get(&root) {
        _ if bits == 0 => cpu::fence_page(va, 0),
        Some(&(asid, generation)) if generation == a.generation => cpu::fence_page(va, asid),
        _ => {}
    });
}

/// What a fault handler did, for the counters and the fault trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOutcome {
    /// A fresh zeroed page.
    DemandZero,
    /// A page read from a file.
    FileBacked,
    /// A private copy of a shared frame.
    CowCopy,
    /// A write made allowed again on a frame no one else holds.
    CowReuse,
    /// A page back from swap (read from the disk, or still in the swap cache).
    SwapIn,
    /// The entry's rights were raised (or its A/D bits set).
    Upgrade,
    /// The entry already allowed the access.
    Spurious,
}

/// Why a fault could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// Deliver SIGSEGV.
    Segv(SegvReason),
    /// Deliver SIGBUS (a file mapping's page lies wholly past the end of the file).
    Bus,
    /// No memory for a frame or a table (SIGKILL-worthy: Linux's OOM).
    OutOfMemory,
    /// Wait for the disk, then fault again; `true` when the page itself must come back from
    /// swap (a major fault), `false` when only frames are being written out to make room.
    Wait(bool),
}

impl From<NoFrame> for FaultError {
    fn from(e: NoFrame) -> Self {
        match e {
            NoFrame::Wait => FaultError::Wait(false),
            NoFrame::OutOfMemory => FaultError::OutOfMemory,
        }
    }
}

/// A kernel-internal errno for "wait for the disk, then restart the system call" (Linux's
/// ERESTARTSYS number, never seen by a program: the dispatcher turns it into a wait).
pub const EWAIT_DISK: Errno = Errno(512);

/// The rights an entry for `frame` gets in an area granting `flags`: a private frame still
/// shared after fork stays read-only, so that the next write copies it.
fn rights(flags: PteFlags, sharing: Sharing, frame: u64) -> u64 {
    if cow::writable(sharing, frame::sharers(frame)) {
        flags.bits()
    } else {
        flags.bits() & !PTE_W
    }
}

/// A user address space.
pub struct AddressSpace {
    /// The page table (kernel mappings included).
    pub table: PageTable,
    /// The VMAs: what the program may touch, and what backs it.
    pub vmas: VmaSet,
    /// The program break.
    pub brk: Brk,
    /// Where mmap places mappings.
    pub layout: MmapLayout,
    /// mlockall(MCL_FUTURE): lock every page mapped from now on.
    pub lock_future: bool,
    /// Frames a system call holds across its waits for the disk (see `uaccess`): released
    /// when the call finishes, or with the space.
    pub pinned: Vec<u64>,
    asid: u16,
    asid_generation: u64,
}

impl AddressSpace {
    /// An empty address space; `None` when out of memory.
    pub fn new(layout: MmapLayout) -> Option<Self> {
        let table = PageTable::new()?;
        install_kernel_mappings(&table);
        Some(AddressSpace {
            table,
            vmas: VmaSet::new(),
            brk: Brk::new(0),
            layout,
            lock_future: false,
            pinned: Vec::new(),
            asid: 0,
            asid_generation: 0,
        })
    }

    /// Makes this the running address space: a fresh ASID if its own is from an old
    /// generation, then `satp`.
    pub fn activate(&mut self) {
        let bits = super::asid_bits();
        ASIDS.with(|a| {
            if bits == 0 {
                // No ASIDs: every switch must flush.
                self.asid = 0;
                // SAFETY: the table holds the kernel's mappings.
                unsafe { cpu::write_satp(self.table.root, 0) };
                cpu::fence_all();
                a.current = Some((0, 0));
                return;
            }
            if self.asid_generation != a.generation {
                if a.next >= 1 << bits {
                    a.generation += 1;
                    a.next = 1;
                    cpu::fence_all();
                }
                self.asid = a.next as u16;
                self.asid_generation = a.generation;
                a.next += 1;
            }
            a.roots
                .insert(self.table.root, (self.asid, self.asid_generation));
            if a.current != Some((self.asid, self.asid_generation)) {
                // SAFETY: the table holds the kernel's mappings.
                unsafe { cpu::write_satp(self.table.root, self.asid) };
                a.current = Some((self.asid, self.asid_generation));
            }
        });
    }

    /// Whether this space is the one in `satp`.
    fn is_active(&self) -> bool {
        ASIDS.with(|a| a.current == Some((self.asid, self.asid_generation)))
            && self.asid_generation != 0
    }

    /// Orders a change to the entry of `va` before later accesses.
    fn fence(&self, va: u64) {
        if self.is_active() {
            cpu::fence_page(va, self.asid);
        }
    }

    /// Orders every change to this space's entries (after fork, exec teardown).
    pub fn fence_all_pages(&self) {
        if self.is_active() {
            cpu::fence_asid(self.asid);
        }
    }

    /// Handles a fault at `addr` for `access`, from the program or from the kernel touching
    /// user memory on its behalf.
    pub fn handle_fault(&mut self, addr: u64, access: Access) -> Result<FaultOutcome, FaultError> {
        let page = addr & !(PAGE_SIZE - 1);
        let pte = self.table.lookup(page);
        let state = if pte & PTE_V != 0 {
            PteState::Present(PteFlags::from_bits(pte))
        } else {
            PteState::Absent
        };
        // A fault just below the stack grows it, within RLIMIT_STACK (as Linux does).
        if self.vmas.find(addr).is_none() {
            self.vmas.expand_stack(addr, DEFAULT_STACK_RLIMIT);
        }
        let decision = fault::decide(&self.vmas, addr, access, state);
        let dirty = if access == Access::Write { PTE_D } else { 0 };
        let outcome = match decision {
            FaultDecision::Segv(reason) => return Err(FaultError::Segv(reason)),
            FaultDecision::Sigbus => return Err(FaultError::Bus),
            // The area allows the access and the page is not present: if it went to swap,
            // it comes back from there, whatever backs the area.
            FaultDecision::DemandZero { page, flags }
            | FaultDecision::FileBacked { page, flags, .. }
                if swap::pte_slot(pte).is_some() =>
            {
                let slot = swap::pte_slot(pte).unwrap_or_default();
                let frame = match swap::swap_in(slot) {
                    SwapIn::Mapped(frame) => {
                        // swap_in dropped the entry's hold on the slot.
                        self.table.update(page, 0);
                        frame
                    }
                    // Whoever queued the read, this fault waits for the page to come back.
                    SwapIn::Wait(_) => return Err(FaultError::Wait(true)),
                    SwapIn::IoError => return Err(FaultError::Bus),
                    SwapIn::OutOfMemory => return Err(FaultError::OutOfMemory),
                };
                let sharing = self.vmas.find(addr).map_or(Sharing::Private, |v| v.sharing);
                let bits = rights(flags, sharing, frame);
                let dirty = if bits & PTE_W != 0 { dirty } else { 0 };
                self.map_new(page, frame, bits | PTE_A | dirty)?;
                FaultOutcome::SwapIn
            }
            FaultDecision::DemandZero { page, flags } => {
                let frame = swap::alloc_user_frame()?;
                phys::zero_frame(frame);
                self.map_new(page, frame, flags.bits() | PTE_A | dirty)?;
                FaultOutcome::DemandZero
            }
            FaultDecision::FileBacked {
                page,
                file,
                offset,
                len,
                flags,
            } => {
                let frame = swap::alloc_user_frame()?;
                phys::zero_frame(frame);
                let data = crate::fs::initramfs::file_bytes(file);
                let start = (offset as usize).min(data.len());
                let end = (offset.saturating_add(len.min(PAGE_SIZE)) as usize).min(data.len());
                // SAFETY: a frame just allocated, owned here; at most a page is written.
                unsafe { phys::bytes_mut(frame, end - start) }.copy_from_slice(&data[start..end]);
                frame::update_flags(frame, frame::flag::FILE, 0);
                self.map_new(page, frame, flags.bits() | PTE_A | dirty)?;
                FaultOutcome::FileBacked
            }
            FaultDecision::Cow { page, flags } => {
                let old = pte_address(pte);
                if cow::write_fault(frame::sharers(old)) == CowAction::Reuse {
                    self.table
                        .set(page, make_pte(old, flags.bits() | PTE_V | PTE_A | PTE_D));
                    self.fence(page);
                    FaultOutcome::CowReuse
                } else {
                    let copy = swap::alloc_user_frame()?;
                    // The allocation may have evicted the old frame (and even handed it back
                    // as `copy`): copy only what is still mapped here, else fault again.
                    if self.table.lookup(page) != pte {
                        frame::release(copy);
                        return Ok(FaultOutcome::Spurious);
                    }
                    phys::copy_frame(copy, old);
                    self.map_new(page, copy, flags.bits() | PTE_A | PTE_D)?;
                    FaultOutcome::CowCopy
                }
            }
            FaultDecision::UpgradePte { page, flags } => {
                let keep = pte & (PTE_A | PTE_D);
                let frame = pte_address(pte);
                let sharing = self.vmas.find(addr).map_or(Sharing::Private, |v| v.sharing);
                let bits = rights(flags, sharing, frame);
                self.table
                    .set(page, make_pte(frame, bits | keep | PTE_V | PTE_A | dirty));
                self.fence(page);
                FaultOutcome::Upgrade
            }
            FaultDecision::Spurious => {
                // With `--ad trap` (Svade) the walker faults when A or D needs setting.
                let want = PTE_A | dirty;
                let raised = pte & want != want;
                if raised {
                    self.table.set(page, pte | want);
                }
                self.fence(page);
                if raised {
                    FaultOutcome::Upgrade
                } else {
                    FaultOutcome::Spurious
                }
            }
        };
        Ok(outcome)
    }

    /// The reverse-map key of this space's entry for `page`.
    fn mapping(&self, page: u64) -> Mapping {
        Mapping {
            root: self.table.root,
            va: page,
        }
    }

    /// Maps user frame `frame` at `page` (the caller's one reference passes to the entry),
    /// dropping whatever the entry held before.
    fn map_new(&mut self, page: u64, frame: u64, flags: u64) -> Result<(), FaultError> {
        match self.table.set(page, make_pte(frame, flags | PTE_V)) {
            Some(old) => {
                self.forget_entry(page, old);
                frame::map(frame, self.mapping(page));
                if self.lock_future {
                    frame::set_locked(frame, true);
                }
                self.fence(page);
                Ok(())
            }
            None => {
                frame::release(frame);
                Err(FaultError::OutOfMemory)
            }
        }
    }

    /// Drops what entry `pte` of `page` held (already removed from the table): a frame's
    /// reference and reverse mapping, or a swap slot's reference.
    fn forget_entry(&self, page: u64, pte: u64) {
        if pte & PTE_V != 0 {
            let pa = pte_address(pte);
            if pte & PTE_D != 0 && swap::cached_slot(pa).is_some() {
                // The swap slot no longer has this page's latest bytes.
                frame::update_flags(pa, frame::flag::DIRTY, 0);
            }
            frame::unmap(pa, self.mapping(page));
            frame::release(pa);
        } else if let Some(slot) = swap::pte_slot(pte) {
            swap::release(slot);
        }
    }

    /// Drops the entries of `[start, end)` (after munmap or a replacing mmap).
    pub fn drop_range(&mut self, start: u64, end: u64) {
        let mut va = start;
        while va < end {
            let old = self.table.clear(va);
            if old != 0 {
                self.forget_entry(va, old);
                if old & PTE_V != 0 {
                    self.fence(va);
                }
            }
            va += PAGE_SIZE;
        }
    }

    /// Pushes the resident pages of `[start, end)` out of memory now (`madvise(MADV_PAGEOUT)`):
    /// each page this space alone maps goes to swap, or is dropped if it is an unmodified file
    /// page; shared, locked and pinned pages stay, and so do anonymous pages without swap.
    /// [`EWAIT_DISK`] when the disk's queue is full: the call waits and starts over, and the
    /// pages already out are swap entries by then, so they are not done twice.
    pub fn page_out_range(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        let mut va = start;
        while va < end {
            let pte = self.table.lookup(va);
            if pte & PTE_V != 0 && swap::page_out(pte_address(pte)) == swap::PageOut::Busy {
                return Err(EWAIT_DISK);
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// Moves the entries of `[from, from + len)` to `[to, to + len)` (mremap), frames, swap
    /// entries and all; the target range holds no entries.
    pub fn move_pages(&mut self, from: u64, to: u64, len: u64) {
        for offset in (0..len).step_by(PAGE_SIZE as usize) {
            let (src, dst) = (from + offset, to + offset);
            let old = self.table.clear(src);
            if old == 0 {
                continue;
            }
            if old & PTE_V != 0 {
                self.fence(src);
            }
            if self.table.set(dst, old).is_some() {
                if old & PTE_V != 0 {
                    let pa = pte_address(old);
                    frame::unmap(pa, self.mapping(src));
                    frame::map(pa, self.mapping(dst));
                    self.fence(dst);
                }
            } else {
                // No table: the page reads as new.
                self.forget_entry(src, old);
            }
        }
    }

    /// Rewrites the rights of the present entries of `[start, end)` from the VMAs (after
    /// mprotect). Rights are lowered at once; a raised right is granted on the next fault.
    pub fn reprotect_range(&mut self, start: u64, end: u64) {
        let mut va = start;
        while va < end {
            let pte = self.table.lookup(va);
            if pte & PTE_V != 0 {
                let vma = self.vmas.find(va);
                match vma.and_then(|v| Some((fault::pte_flags(v.perms)?, v.sharing))) {
                    Some((flags, sharing)) => {
                        let bits = rights(flags, sharing, pte_address(pte));
                        self.table.set(va, (pte & !PTE_RIGHTS) | bits);
                    }
                    None => {
                        // PROT_NONE: the frame stays (its contents must survive), but the entry
                        // loses U, so every user access faults and is refused by the VMA.
                        self.table.set(va, (pte & !PTE_RIGHTS) | PTE_R);
                    }
                }
                self.fence(va);
            }
            va += PAGE_SIZE;
        }
    }

    /// Locks (or unlocks) the pages of `[start, end)` in memory, faulting them in first as
    /// Linux's mlock does (a write fault for writable private pages, so no copy-on-write is
    /// left to break). Pages of PROT_NONE areas are skipped.
    pub fn lock_range(&mut self, start: u64, end: u64, lock: bool) -> Result<(), Errno> {
        let mut va = start;
        while va < end {
            let access = match self.vmas.find(va) {
                None => return Err(Errno::ENOMEM),
                Some(v) if fault::pte_flags(v.perms).is_none() => None,
                Some(v) if v.perms.write && v.sharing == Sharing::Private => Some(Access::Write),
                Some(_) => Some(Access::Read),
            };
            if let Some(access) = access {
                if lock {
                    let pa = self.user_physical(va, access)?;
                    frame::set_locked(pa & !(PAGE_SIZE - 1), true);
                } else {
                    let pte = self.table.lookup(va);
                    if pte & PTE_V != 0 {
                        frame::set_locked(pte_address(pte), false);
                    }
                }
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// A copy-on-write duplicate for fork: the same VMAs; private pages shared read-only by
    /// both (one more reference each), shared pages shared as they are (all of them present:
    /// see the first step), swap entries copied (one more reference to the slot).
    pub fn fork(&mut self) -> Result<AddressSpace, FaultError> {
        // Shared anonymous memory has no object behind it but its frames: fault in every
        // never-touched page of a shared area now, so that parent and child hold the same
        // frames (or swap slots) from here on.
        let shared: Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter(|v| v.sharing == Sharing::Shared && v.backing == Backing::Anonymous)
            .filter(|v| fault::pte_flags(v.perms).is_some())
            .map(|v| (v.start, v.end))
            .collect();
        for (start, end) in shared {
            for page in (start..end).step_by(PAGE_SIZE as usize) {
                if self.table.lookup(page) == 0 {
                    let flags = self
                        .vmas
                        .find(page)
                        .and_then(|v| fault::pte_flags(v.perms))
                        .ok_or(FaultError::OutOfMemory)?;
                    let frame = swap::alloc_user_frame()?;
                    phys::zero_frame(frame);
                    self.map_new(page, frame, flags.bits() | PTE_A)?;
                }
            }
        }
        let child = AddressSpace {
            table: PageTable::new().ok_or(FaultError::OutOfMemory)?,
            vmas: self.vmas.clone(),
            brk: self.brk,
            layout: self.layout.clone(),
            lock_future: false,
            pinned: Vec::new(),
            asid: 0,
            asid_generation: 0,
        };
        install_kernel_mappings(&child.table);
        let mut leaves = Vec::new();
        self.table
            .for_each_user_leaf(&user_root_indices(), |va, pte| leaves.push((va, pte)));
        let mut downgraded = false;
        for (va, pte) in leaves {
            let private = self
                .vmas
                .find(va)
                .is_none_or(|v| v.sharing == Sharing::Private);
            let mut shared_pte = pte;
            if pte & PTE_V != 0 && private && pte & PTE_W != 0 {
                shared_pte &= !PTE_W;
                self.table.set(va, shared_pte);
                downgraded = true;
            }
            if child.table.set(va, shared_pte).is_none() {
                child.destroy();
                if downgraded {
                    self.fence_all_pages();
                }
                return Err(FaultError::OutOfMemory);
            }
            if pte & PTE_V != 0 {
                frame::retain(pte_address(pte));
                frame::map(pte_address(pte), child.mapping(va));
            } else if let Some(slot) = swap::pte_slot(pte) {
                swap::retain(slot);
            }
        }
        if downgraded {
            self.fence_all_pages();
        }
        Ok(child)
    }

    /// Releases every user frame, swap slot and table; if the space is running, the
    /// kernel's own table takes over first.
    pub fn destroy(self) {
        ASIDS.with(|a| {
            a.roots.remove(&self.table.root);
        });
        if self.is_active() {
            super::switch_to_kernel();
            ASIDS.with(|a| a.current = None);
        }
        for &pa in &self.pinned {
            frame::release(pa);
        }
        let roots = user_root_indices();
        let mut leaves = Vec::new();
        self.table
            .for_each_user_leaf(&roots, |va, pte| leaves.push((va, pte)));
        for (va, pte) in leaves {
            self.forget_entry(va, pte);
        }
        self.table.free_tables(&roots);
    }

    /// The frame and offset behind user address `va` for `access`, faulting the page in
    /// first as the program's own access would; marks the page accessed (and dirty for a
    /// write), since the kernel reaches it through the identity map, not the MMU.
    /// [`EWAIT_DISK`] when the page must first come back from swap.
    pub fn user_physical(&mut self, va: u64, access: Access) -> Result<u64, Errno> {
        let page = va & !(PAGE_SIZE - 1);
        for _ in 0..3 {
            let pte = self.table.lookup(page);
            let flags = PteFlags::from_bits(pte);
            if pte & PTE_V != 0 && flags.user && flags.allows(access) {
                let want = PTE_A | if access == Access::Write { PTE_D } else { 0 };
                if pte & want != want {
                    self.table.set(page, pte | want);
                    self.fence(page);
                }
                return Ok(pte_address(pte) + (va - page));
            }
            match self.handle_fault(va, access) {
                Ok(_) => {}
                Err(FaultError::Segv(_) | FaultError::Bus) => return Err(Errno::EFAULT),
                Err(FaultError::OutOfMemory) => return Err(Errno::ENOMEM),
                Err(FaultError::Wait(_)) => return Err(EWAIT_DISK),
            }
        }
        Err(Errno::EFAULT)
    }
}
