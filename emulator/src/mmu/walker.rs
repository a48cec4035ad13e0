//! The Sv39 page-table walker: the algorithm of privileged spec 4.3.2 ("Virtual Address
//! Translation Process") with Sv39's three levels, including the A/D update (step 7) under
//! either policy.
//!
//! The walker reads memory through [`PhysMem`], so tests run it over a fake memory and the
//! machine over the bus. It does not cache: the TLB is built on top of it.

use super::pte::{self, A, D, R, U, V, W, X};

/// Physical memory as the walker sees it: aligned 64-bit PTE reads and an atomic
/// compare-and-swap for the A/D update.
pub trait PhysMem {
    /// Reads the 64-bit PTE at `paddr`; `None` if nothing (or not RAM) is there.
    fn read_pte(&mut self, paddr: u64) -> Option<u64>;
    /// Replaces the PTE at `paddr` with `new` if it still holds `old`. `None` if the
    /// address cannot be written, `Some(false)` if the PTE changed in between.
    fn cas_pte(&mut self, paddr: u64, old: u64, new: u64) -> Option<bool>;
}

/// What kind of access is being translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// Instruction fetch.
    Fetch,
    /// Load (or LR).
    Load,
    /// Store or AMO.
    Store,
}

/// Who is accessing, and the mstatus bits that shape permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessContext {
    /// The effective privilege is U-mode (otherwise S-mode; M-mode never translates).
    pub user: bool,
    /// `mstatus.SUM`: S-mode may load and store U pages.
    pub sum: bool,
    /// `mstatus.MXR`: loads may read executable pages.
    pub mxr: bool,
}

/// How the accessed and dirty bits are maintained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdPolicy {
    /// The walker sets A, and D on stores, atomically with respect to the PTE (QEMU).
    #[default]
    Hardware,
    /// A page fault when A or D would need setting (Spike); software sets them.
    Trap,
}

/// A successful walk: the leaf PTE (as in memory after any A/D update) and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// The leaf PTE.
    pub pte: u64,
    /// Physical address of the leaf PTE.
    pub pte_addr: u64,
    /// Level of the leaf: 0 = 4 KiB page, 1 = 2 MiB, 2 = 1 GiB.
    pub level: u8,
}

impl Leaf {
    /// The physical address `vaddr` maps to through this leaf.
    #[inline(always)]
    pub fn translate(&self, vaddr: u64) -> u64 {
        let shift = pte::page_shift(self.level);
        let mask = (1u64 << shift) - 1;
        ((pte::ppn(self.pte) << 12) & !mask) | (vaddr & mask)
    }
}

/// Why a walk failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkFault {
    /// A page fault of the access's kind.
    Page,
    /// A PTE read or A/D write reached an address with no memory: an access fault.
    Access,
}

/// Counts of the memory traffic of walks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkCounts {
    /// PTEs read.
    pub pte_reads: u64,
    /// A/D updates written.
    pub ad_writes: u64,
}

/// Walks the page table rooted at physical page `root_ppn` for `vaddr`.
///
/// With `update` false the walk has no side effects (used by `--tlb-check`): A/D are
/// neither set nor required.
#[allow(clippy::too_many_arguments)]
pub fn walk(
    mem: &mut impl PhysMem,
    root_ppn: u64,
    vaddr: u64,
    kind: AccessKind,
    ctx: AccessContext,
    policy: AdPolicy,
    update: bool,
    counts: &mut WalkCounts,
) -> Result<Leaf, WalkFault> {
    if !pte::is_canonical(vaddr) {
        return Err(WalkFault::Page);
    }
    let mut table = root_ppn << 12;
    let mut level = pte::LEVELS - 1;
    loop {
        let pte_addr = table + pte::vpn(vaddr, level) * 8;
        counts.pte_reads += 1;
        let entry = mem.read_pte(pte_addr).ok_or(WalkFault::Access)?;
        if entry & V == 0 || (entry & R == 0 && entry & W != 0) || entry & pte::RESERVED_HIGH != 0 {
            return Err(WalkFault::Page);
        }
        if !pte::is_leaf(entry) {
            if level == 0 {
                return Err(WalkFault::Page); // a pointer at the last level
            }
            level -= 1;
            table = pte::ppn(entry) << 12;
            continue;
        }
        if !permitted(entry, kind, ctx) {
            return Err(WalkFault::Page);
        }
        // A superpage's low PPN fields must be zero (step 6).
        if level > 0 && pte::ppn(entry) & ((1 << (9 * level as u32)) - 1) != 0 {
            return Err(WalkFault::Page);
        }
        let needed = if kind == AccessKind::Store { A | D } else { A };
        if !update || entry & needed == needed {
            return Ok(Leaf {
                pte: entry,
                pte_addr,
                level,
            });
        }
        match policy {
            AdPolicy::Trap => return Err(WalkFault::Page),
            AdPolicy::Hardware => {
                let new = entry | needed;
                match mem.cas_pte(pte_addr, entry, new) {
                    None => return Err(WalkFault::Access),
                    Some(true) => {
                        counts.ad_writes += 1;
                        return Ok(Leaf {
                            pte: new,
                            pte_addr,
                            level,
                        });
                    }
                    // The PTE changed under us: the spec says to go back to step 2.
                    Some(false) => continue,
                }
            }
        }
    }
}

/// The leaf permission checks of step 5, including the U-bit rules (privileged spec 4.3.1).
#[inline]
pub fn permitted(entry: u64, kind: AccessKind, ctx: AccessContext) -> bool {
    let user_page = entry & U != 0;
    let privilege_ok = if ctx.user {
        user_page
    } else {
        // S-mode never executes from U pages; it loads and stores them only with SUM.
        !user_page || (kind != AccessKind::Fetch && ctx.sum)
    };
    let kind_ok = match kind {
        AccessKind::Fetch => entry & X != 0,
        AccessKind::Load => entry & R != 0 || (ctx.mxr && entry & X != 0),
        AccessKind::Store => entry & W != 0,
    };
    privilege_ok && kind_ok
}
