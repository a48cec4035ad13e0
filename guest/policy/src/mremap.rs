//! The mremap(2) system call: shrink, grow in place, or move a mapping.
//!
//! Follows mremap(2) and Linux's `mm/mremap.c` for the checks and their errno values. The
//! areas are updated here; the kernel then drops the PTEs of [`Remapped::unmapped`] and
//! moves the PTEs (and frames) of [`Remapped::moved`] from the old to the new address.
//!
//! Not supported: `MREMAP_DONTUNMAP`, and an `old_size` of 0 (which duplicates a shared
//! mapping on Linux): both fail with `EINVAL`.

use alloc::vec::Vec;
use core::ops::Range;

use crate::errno::{Errno, KResult};
use crate::vma::{
    Backing, KERNEL_WINDOW, MmapLayout, USER_END, Vma, VmaSet, is_page_aligned, page_ceil,
};

/// The mapping may move to a new address.
pub const MREMAP_MAYMOVE: u64 = 1;
/// The mapping moves to exactly `new_address` (requires `MREMAP_MAYMOVE`).
pub const MREMAP_FIXED: u64 = 2;
/// Keep the old range mapped after a move (not supported).
pub const MREMAP_DONTUNMAP: u64 = 4;

/// A page-table move the kernel must carry out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageMove {
    /// The old start address.
    pub from: u64,
    /// The new start address.
    pub to: u64,
    /// How many bytes of pages move (the smaller of the old and new sizes).
    pub len: u64,
}

/// A successful mremap.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Remapped {
    /// The mapping's address (the system call's return value).
    pub addr: u64,
    /// Ranges whose pages are gone: drop their PTEs (before carrying out `moved`).
    pub unmapped: Vec<Range<u64>>,
    /// Pages to move, if the mapping moved.
    pub moved: Option<PageMove>,
}

/// Performs mremap(2) on `vmas`.
///
/// Errors: `EINVAL` for unknown or unsupported flags, `MREMAP_FIXED` without
/// `MREMAP_MAYMOVE`, an unaligned address, a zero new size, or a fixed target overlapping
/// the old range; `EFAULT` when the old range is not inside one area; `ENOMEM` when the
/// mapping can grow neither in place nor (without `MREMAP_MAYMOVE`, or for lack of room)
/// elsewhere, or a fixed target leaves user space.
pub fn mremap(
    vmas: &mut VmaSet,
    layout: &MmapLayout,
    old_addr: u64,
    old_size: u64,
    new_size: u64,
    flags: u64,
    new_addr: u64,
) -> KResult<Remapped> {
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 {
        return Err(Errno::EINVAL);
    }
    let may_move = flags & MREMAP_MAYMOVE != 0;
    let fixed = flags & MREMAP_FIXED != 0;
    if (fixed && !may_move) || !is_page_aligned(old_addr) {
        return Err(Errno::EINVAL);
    }
    let old_len = page_ceil(old_size).ok_or(Errno::EINVAL)?;
    let new_len = page_ceil(new_size).ok_or(Errno::EINVAL)?;
    if new_len == 0 || old_len == 0 {
        return Err(Errno::EINVAL);
    }
    let old_end = old_addr.checked_add(old_len).ok_or(Errno::EFAULT)?;
    let vma = vmas.find(old_addr).cloned().ok_or(Errno::EFAULT)?;
    if old_end > vma.end {
        return Err(Errno::EFAULT);
    }
    if fixed {
        return move_to(
            vmas,
            &vma,
            old_addr,
            old_len,
            new_len,
            Some(new_addr),
            layout,
        );
    }
    if new_len <= old_len {
        let unmapped = if new_len < old_len {
            vmas.unmap(old_addr + new_len, old_len - new_len)?
        } else {
            Vec::new()
        };
        return Ok(Remapped {
            addr: old_addr,
            unmapped,
            moved: None,
        });
    }
    // Grow in place when the old range ends the area and the pages after it are free.
    let new_end = old_addr.checked_add(new_len).filter(|&e| e <= USER_END);
    if let Some(new_end) = new_end
        && old_end == vma.end
        && vmas.is_free(old_end..new_end)
        && !(old_end < KERNEL_WINDOW.end && KERNEL_WINDOW.start < new_end)
    {
        vmas.insert(piece(&vma, old_end, new_end))?;
        return Ok(Remapped {
            addr: old_addr,
            unmapped: Vec::new(),
            moved: None,
        });
    }
    if !may_move {
        return Err(Errno::ENOMEM);
    }
    move_to(vmas, &vma, old_addr, old_len, new_len, None, layout)
}

/// A copy of `vma`'s attributes covering `[start, end)`, with the file offset that address
/// has in `vma` (which may lie past `vma.end` when growing).
fn piece(vma: &Vma, start: u64, end: u64) -> Vma {
    let mut out = vma.clone();
    out.start = start;
    out.end = end;
    if let Backing::File { offset, .. } = &mut out.backing {
        *offset = offset.wrapping_add(start.wrapping_sub(vma.start));
    }
    out
}

/// Moves `[old_addr, old_addr + old_len)` of `vma` to a new place of `new_len` bytes: the
/// fixed `target`, or the highest free place.
fn move_to(
    vmas: &mut VmaSet,
    vma: &Vma,
    old_addr: u64,
    old_len: u64,
    new_len: u64,
    target: Option<u64>,
    layout: &MmapLayout,
) -> KResult<Remapped> {
    let mut unmapped = Vec::new();
    let to = match target {
        Some(to) => {
            if !is_page_aligned(to) {
                return Err(Errno::EINVAL);
            }
            if new_len > USER_END || to > USER_END - new_len {
                return Err(Errno::ENOMEM);
            }
            if to < old_addr + old_len && old_addr < to + new_len {
                return Err(Errno::EINVAL);
            }
            unmapped.extend(vmas.unmap(to, new_len)?);
            to
        }
        None => vmas.find_free(new_len, None, layout).ok_or(Errno::ENOMEM)?,
    };
    let moved_len = old_len.min(new_len);
    let new_vma = piece(vma, old_addr, old_addr + new_len);
    // The old range's pages beyond the new size are dropped; the rest move.
    if old_len > new_len {
        unmapped.extend(vmas.unmap(old_addr + new_len, old_len - new_len)?);
    }
    vmas.unmap(old_addr, moved_len)?;
    let mut placed = new_vma;
    placed.end = to + new_len;
    placed.start = to;
    unmapped.extend(vmas.map_fixed(placed)?);
    Ok(Remapped {
        addr: to,
        unmapped,
        moved: Some(PageMove {
            from: old_addr,
            to,
            len: moved_len,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vma::{PAGE_SIZE, PageContent, Perms, Sharing, VmaName};
    use alloc::vec;

    const P: u64 = PAGE_SIZE;

    fn layout() -> MmapLayout {
        MmapLayout {
            floor: 0x10000,
            ceiling: 0x100_0000,
            user_end: USER_END,
            reserved: KERNEL_WINDOW,
        }
    }

    fn ranges(set: &VmaSet) -> Vec<(u64, u64)> {
        set.iter().map(|v| (v.start, v.end)).collect()
    }

    #[test]
    fn shrink_and_same_size() {
        let mut set = VmaSet::new();
        set.insert(Vma::anonymous(0x40000, 0x44000, Perms::RW))
            .unwrap();
        let r = mremap(&mut set, &layout(), 0x40000, 0x4000, 0x1800, 0, 0).unwrap();
        assert_eq!((r.addr, r.moved), (0x40000, None));
        assert_eq!(r.unmapped, vec![0x42000..0x44000]);
        let r = mremap(&mut set, &layout(), 0x40000, 0x2000, 0x2000, 0, 0).unwrap();
        assert_eq!(r.unmapped, vec![]);
        assert_eq!(ranges(&set), vec![(0x40000, 0x42000)]);
    }

    #[test]
    fn grow_in_place_or_move() {
        let mut set = VmaSet::new();
        set.insert(Vma::anonymous(0x40000, 0x42000, Perms::RW))
            .unwrap();
        set.insert(Vma::anonymous(0x45000, 0x46000, Perms::R))
            .unwrap();
        let r = mremap(&mut set, &layout(), 0x40000, 0x2000, 0x5000, 0, 0).unwrap();
        assert_eq!(
            r,
            Remapped {
                addr: 0x40000,
                unmapped: vec![],
                moved: None
            }
        );
        assert_eq!(ranges(&set), vec![(0x40000, 0x45000), (0x45000, 0x46000)]);
        // No room after it and no MAYMOVE.
        assert_eq!(
            mremap(&mut set, &layout(), 0x40000, 0x5000, 0x6000, 0, 0),
            Err(Errno::ENOMEM)
        );
        let r = mremap(
            &mut set,
            &layout(),
            0x40000,
            0x5000,
            0x6000,
            MREMAP_MAYMOVE,
            0,
        )
        .unwrap();
        assert_eq!(r.addr, 0x100_0000 - 0x6000);
        assert_eq!(
            r.moved,
            Some(PageMove {
                from: 0x40000,
                to: r.addr,
                len: 0x5000
            })
        );
        assert_eq!(r.unmapped, vec![]);
        assert_eq!(ranges(&set), vec![(0x45000, 0x46000), (r.addr, 0x100_0000)]);
    }

    #[test]
    fn fixed_moves_replace_the_target() {
        let mut set = VmaSet::new();
        let file = Vma {
            start: 0x40000,
            end: 0x44000,
            perms: Perms::R,
            sharing: Sharing::Private,
            backing: Backing::File {
                file: 1,
                offset: 0x10000,
                file_end: 0x20000,
            },
            name: VmaName::None,
        };
        set.insert(file).unwrap();
        set.insert(Vma::anonymous(0x80000, 0x82000, Perms::RW))
            .unwrap();
        let flags = MREMAP_MAYMOVE | MREMAP_FIXED;
        let r = mremap(&mut set, &layout(), 0x41000, 0x2000, 0x1000, flags, 0x81000).unwrap();
        assert_eq!(r.addr, 0x81000);
        assert_eq!(r.unmapped, vec![0x81000..0x82000, 0x42000..0x43000]);
        assert_eq!(
            r.moved,
            Some(PageMove {
                from: 0x41000,
                to: 0x81000,
                len: 0x1000
            })
        );
        assert_eq!(
            ranges(&set),
            vec![
                (0x40000, 0x41000),
                (0x43000, 0x44000),
                (0x80000, 0x81000),
                (0x81000, 0x82000)
            ]
        );
        // The moved page keeps its file offset.
        assert_eq!(
            set.find(0x81000).unwrap().page_content(0x81000),
            PageContent::File {
                file: 1,
                offset: 0x11000,
                len: P
            }
        );
        assert_eq!(
            mremap(&mut set, &layout(), 0x80000, P, P, flags, 0x80000),
            Err(Errno::EINVAL),
            "overlap"
        );
        assert_eq!(
            mremap(&mut set, &layout(), 0x80000, P, P, flags, 0x90001),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mremap(&mut set, &layout(), 0x80000, P, 2 * P, flags, USER_END - P),
            Err(Errno::ENOMEM)
        );
    }

    #[test]
    fn argument_errors() {
        let mut set = VmaSet::new();
        set.insert(Vma::anonymous(0x40000, 0x42000, Perms::RW))
            .unwrap();
        set.insert(Vma::anonymous(0x42000, 0x43000, Perms::R))
            .unwrap();
        let l = layout();
        let mut call = |a, o, n, f| mremap(&mut set, &l, a, o, n, f, 0);
        assert_eq!(call(0x40000, P, P, MREMAP_FIXED), Err(Errno::EINVAL));
        assert_eq!(
            call(0x40000, P, P, MREMAP_DONTUNMAP | MREMAP_MAYMOVE),
            Err(Errno::EINVAL)
        );
        assert_eq!(call(0x40001, P, P, 0), Err(Errno::EINVAL));
        assert_eq!(call(0x40000, P, 0, 0), Err(Errno::EINVAL));
        assert_eq!(call(0x40000, 0, P, 0), Err(Errno::EINVAL));
        assert_eq!(call(0x50000, P, P, 0), Err(Errno::EFAULT));
        assert_eq!(
            call(0x41000, 2 * P, P, 0),
            Err(Errno::EFAULT),
            "spans two areas"
        );
        assert_eq!(call(0x40000, u64::MAX, P, 0), Err(Errno::EINVAL));
    }
}
