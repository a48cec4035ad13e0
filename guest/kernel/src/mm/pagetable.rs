//! Sv39 page tables (privileged spec 4.4): three levels of 512 entries, 4 KiB pages.
//!
//! The mechanism half of memory management: it writes entries and nothing else. What an
//! entry should say is decided by the VMAs (`sv39_policy`); when to fence is the caller's
//! business ([`crate::mm::space`]).

use super::frame;
use super::phys;

/// Valid.
pub const PTE_V: u64 = 1 << 0;
/// Readable.
pub const PTE_R: u64 = 1 << 1;
/// Writable.
pub const PTE_W: u64 = 1 << 2;
/// Executable.
pub const PTE_X: u64 = 1 << 3;
/// User-accessible.
pub const PTE_U: u64 = 1 << 4;
/// Global (every address space).
pub const PTE_G: u64 = 1 << 5;
/// Accessed.
pub const PTE_A: u64 = 1 << 6;
/// Dirty.
pub const PTE_D: u64 = 1 << 7;

/// The physical address an entry points to.
pub fn pte_address(pte: u64) -> u64 {
    ((pte >> 10) & ((1 << 44) - 1)) << 12
}

/// An entry pointing at physical `pa` with `flags`.
pub fn make_pte(pa: u64, flags: u64) -> u64 {
    ((pa >> 12) << 10) | flags
}

fn vpn(va: u64, level: usize) -> u64 {
    (va >> (12 + 9 * level)) & 0x1FF
}

/// A page table's root frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageTable {
    /// Physical address of the root table.
    pub root: u64,
}

impl PageTable {
    /// A new, empty table; `None` when out of memory.
    pub fn new() -> Option<Self> {
        Some(PageTable {
            root: frame::alloc_zeroed()?,
        })
    }

    /// Sets root entry `index` (a 1 GiB region) directly: for the kernel's global mappings.
    pub fn set_root_entry(&self, index: usize, pte: u64) {
        phys::write_u64(self.root + 8 * index as u64, pte);
    }

    /// Reads root entry `index`.
    pub fn root_entry(&self, index: usize) -> u64 {
        phys::read_u64(self.root + 8 * index as u64)
    }

    /// The physical address of the level-0 entry for `va`, creating the intermediate tables
    /// when `create`; `None` if missing (or out of memory), or if a superpage covers `va`.
    fn leaf_slot(&self, va: u64, create: bool) -> Option<u64> {
        let mut table = self.root;
        for level in [2, 1] {
            let slot = table + 8 * vpn(va, level);
            let pte = phys::read_u64(slot);
            if pte & PTE_V == 0 {
                if !create {
                    return None;
                }
                let next = frame::alloc_zeroed()?;
                phys::write_u64(slot, make_pte(next, PTE_V));
                table = next;
            } else if pte & (PTE_R | PTE_W | PTE_X) != 0 {
                return None;
            } else {
                table = pte_address(pte);
            }
        }
        Some(table + 8 * vpn(va, 0))
    }

    /// The leaf entry for `va` (0 when there is none).
    pub fn lookup(&self, va: u64) -> u64 {
        self.leaf_slot(va, false).map_or(0, phys::read_u64)
    }

    /// Writes the leaf entry for `va`, creating tables as needed; returns the previous entry,
    /// or `None` when a table could not be allocated.
    pub fn set(&self, va: u64, pte: u64) -> Option<u64> {
        let slot = self.leaf_slot(va, true)?;
        let old = phys::read_u64(slot);
        phys::write_u64(slot, pte);
        Some(old)
    }

    /// Rewrites an existing leaf entry for `va` without creating tables; returns the
    /// previous entry, or `None` when no table holds `va`.
    pub fn update(&self, va: u64, pte: u64) -> Option<u64> {
        let slot = self.leaf_slot(va, false)?;
        let old = phys::read_u64(slot);
        phys::write_u64(slot, pte);
        Some(old)
    }

    /// Clears the leaf entry for `va`; returns what it was (0 if nothing was mapped).
    pub fn clear(&self, va: u64) -> u64 {
        match self.leaf_slot(va, false) {
            Some(slot) => {
                let old = phys::read_u64(slot);
                phys::write_u64(slot, 0);
                old
            }
            None => 0,
        }
    }

    /// Calls `visit(va, table)` for each level-1 table under root entries `user_roots`
    /// (`va`: the first address it maps), in address order.
    fn for_each_user_level1(&self, user_roots: &[usize], mut visit: impl FnMut(u64, u64)) {
        for &i in user_roots {
            if let Some(t1) = next_table(phys::read_u64(self.root + 8 * i as u64)) {
                visit((i as u64) << 30, t1);
            }
        }
    }

    /// Calls `visit(va, pte)` for every non-zero leaf entry in the user half (root entries
    /// `user_roots`), in address order: valid leaves and swap entries.
    pub fn for_each_user_leaf(&self, user_roots: &[usize], mut visit: impl FnMut(u64, u64)) {
        self.for_each_user_level1(user_roots, |base, t1| {
            for j in 0..512u64 {
                let Some(t0) = next_table(phys::read_u64(t1 + 8 * j)) else {
                    continue;
                };
                for k in 0..512u64 {
                    let pte = phys::read_u64(t0 + 8 * k);
                    if pte != 0 {
                        visit(base | (j << 21) | (k << 12), pte);
                    }
                }
            }
        });
    }

    /// Frees the intermediate tables of the user half and the root itself. Leaves must have
    /// been released by the caller (it knows which frames it owns).
    pub fn free_tables(self, user_roots: &[usize]) {
        self.for_each_user_level1(user_roots, |_, t1| {
            for j in 0..512u64 {
                if let Some(t0) = next_table(phys::read_u64(t1 + 8 * j)) {
                    frame::release(t0);
                }
            }
            frame::release(t1);
        });
        frame::release(self.root);
    }
}

/// The next-level table an entry points to: valid, and neither R, W nor X (a leaf).
fn next_table(pte: u64) -> Option<u64> {
    (pte & PTE_V != 0 && pte & (PTE_R | PTE_W | PTE_X) == 0).then(|| pte_address(pte))
}
