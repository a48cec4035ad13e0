//! Memory system calls: brk, mmap, munmap, mprotect, madvise. They change the VMAs (the
//! policy); page-table entries follow lazily, except that removed or narrowed ranges lose
//! their entries at once.

use alloc::sync::Arc;

use sv39_policy::errno::Errno;
use sv39_policy::mmap::{MAP_ANONYMOUS, MappedFile, MmapArgs};
use sv39_policy::vma::{Perms, Sharing, VmaName, is_page_aligned, page_ceil};

use super::Args;
use crate::fs::initramfs;
use crate::fs::{Node, O_ACCMODE};
use crate::proc::Process;

/// Linux's default `vm.max_map_count`.
const MAX_MAP_COUNT: usize = 65_530;

/// The pages a single heap or mapping may reach under the overcommit heuristic: all of RAM
/// plus all of swap (Linux's heuristic mode refuses only what could never fit).
fn commit_limit() -> usize {
    let (_, total) = crate::mm::frame::usage();
    total + crate::mm::swap::usage().0 as usize
}

/// brk(2): returns the new break, or the old one when the request cannot be met.
pub fn brk(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let space = p.space();
    // The same overcommit heuristic as mmap: a heap larger than RAM is refused.
    let total_frames = commit_limit();
    if a.u(0).saturating_sub(space.brk.start).div_ceil(4096) > total_frames as u64 {
        return Ok(space.brk.current as i64);
    }
    let mut brk = space.brk;
    let dropped = space.vmas.set_brk(&mut brk, a.u(0));
    space.brk = brk;
    for range in dropped {
        space.drop_range(range.start, range.end);
    }
    Ok(space.brk.current as i64)
}

/// mmap(2): the policy crate checks and places the mapping (Linux's `do_mmap` order);
/// replaced ranges lose their entries here. Shared mappings of initramfs files behave as
/// private ones (the files are read-only).
pub fn mmap(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let args = MmapArgs {
        addr: a.u(0),
        len: a.u(1),
        prot: a.u(2),
        flags: a.u(3),
        offset: a.u(5),
    };
    let file = if args.flags & MAP_ANONYMOUS != 0 {
        None
    } else {
        let file = p.files.get(a.int(4))?;
        let f = file.borrow();
        let Node::File(id) = f.node else {
            return Err(match f.node {
                Node::Null => Errno::ENODEV,
                _ => Errno::EACCES,
            });
        };
        let (path, _, inode, size) = initramfs::stat(id).ok_or(Errno::EBADF)?;
        let name = VmaName::File {
            path: Arc::from(path.as_str()),
            dev_major: 0,
            dev_minor: 1,
            inode,
        };
        let readable = f.flags & O_ACCMODE != 1;
        Some(MappedFile {
            file: id,
            size,
            name,
            readable,
            writable: false,
        })
    };
    // Linux's heuristic overcommit (vm.overcommit_memory = 0) refuses a writable private or
    // shared anonymous mapping larger than all of RAM plus swap outright.
    const MAP_NORESERVE: u64 = 0x4000;
    let accountable = args.prot & 2 != 0
        && (args.flags & MAP_ANONYMOUS != 0 || args.flags & 0x3 == 0x2)
        && args.flags & MAP_NORESERVE == 0;
    let total_frames = commit_limit();
    if accountable && args.len.div_ceil(4096) > total_frames as u64 {
        return Err(Errno::ENOMEM);
    }
    let space = p.space();
    // Linux's vm.max_map_count: a process may hold at most 65,530 areas (and the kernel heap
    // that holds them must not run dry).
    if space.vmas.len() >= MAX_MAP_COUNT || crate::mm::heap::low() {
        return Err(Errno::ENOMEM);
    }
    let layout = space.layout.clone();
    let mapped = sv39_policy::mmap::mmap(&mut space.vmas, &layout, &args, file.as_ref())?;
    for range in mapped.unmapped {
        space.drop_range(range.start, range.end);
    }
    Ok(mapped.addr as i64)
}

/// mremap(2): pages that move keep their frames (their entries move).
pub fn mremap(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let space = p.space();
    let layout = space.layout.clone();
    let remapped = sv39_policy::mremap::mremap(
        &mut space.vmas,
        &layout,
        a.u(0),
        a.u(1),
        a.u(2),
        a.u(3),
        a.u(4),
    )?;
    for range in remapped.unmapped {
        space.drop_range(range.start, range.end);
    }
    if let Some(moved) = remapped.moved {
        space.move_pages(moved.from, moved.to, moved.len);
    }
    Ok(remapped.addr as i64)
}

/// munmap(2).
pub fn munmap(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let space = p.space();
    let removed = space.vmas.unmap(a.u(0), a.u(1))?;
    for range in removed {
        space.drop_range(range.start, range.end);
    }
    Ok(0)
}

/// mprotect(2).
pub fn mprotect(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let perms = Perms::from_prot(a.u(2))?;
    let space = p.space();
    let changed = space.vmas.protect(a.u(0), a.u(1), perms)?;
    for range in changed {
        space.reprotect_range(range.start, range.end);
    }
    Ok(0)
}

/// madvise(2): MADV_DONTNEED drops private anonymous pages (they read as zero again);
/// MADV_PAGEOUT (Linux 5.4) reclaims the range's pages at once, as the replacement policy
/// would its victims; MADV_COLD is a hint this kernel has no use for; other advice is
/// accepted and ignored.
pub fn madvise(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    const MADV_DONTNEED: u64 = 4;
    const MADV_COLD: u64 = 20;
    const MADV_PAGEOUT: u64 = 21;
    let (start, len, advice) = (a.u(0), a.u(1), a.u(2));
    if !is_page_aligned(start) {
        return Err(Errno::EINVAL);
    }
    let end = start
        .checked_add(page_ceil(len).ok_or(Errno::EINVAL)?)
        .ok_or(Errno::EINVAL)?;
    let space = p.space();
    match advice {
        MADV_DONTNEED => {
            let ranges: alloc::vec::Vec<_> = space
                .vmas
                .overlapping(start..end)
                .filter(|v| v.sharing == Sharing::Private)
                .map(|v| v.start.max(start)..v.end.min(end))
                .collect();
            for r in ranges {
                space.drop_range(r.start, r.end);
            }
        }
        MADV_COLD | MADV_PAGEOUT => {
            // As Linux: the advice applies to the mapped parts, and a range with unmapped
            // parts is ENOMEM.
            let mut mapped_to = start;
            let mut hole = false;
            let ranges: alloc::vec::Vec<_> = space
                .vmas
                .overlapping(start..end)
                .map(|v| {
                    hole |= v.start > mapped_to;
                    mapped_to = v.end;
                    v.start.max(start)..v.end.min(end)
                })
                .collect();
            hole |= mapped_to < end;
            if advice == MADV_PAGEOUT {
                for r in ranges {
                    space.page_out_range(r.start, r.end)?;
                }
            }
            if hole {
                return Err(Errno::ENOMEM);
            }
        }
        _ => {}
    }
    Ok(0)
}

/// mlock(2) and munlock(2) (`lock`): pages of `[addr, addr + len)` stay in memory (they are
/// faulted in first). Locks belong to frames, not areas: a page copied on write after fork
/// is not locked in the child, as Linux does not pass locks on either.
pub fn mlock(p: &mut Process, a: &Args, lock: bool) -> Result<i64, Errno> {
    let start = a.u(0) & !0xFFF;
    let end = a
        .u(0)
        .checked_add(a.u(1))
        .and_then(page_ceil)
        .ok_or(Errno::EINVAL)?;
    p.space().lock_range(start, end, lock)?;
    Ok(0)
}

/// mlockall(2): MCL_CURRENT locks every page mapped now (faulting them in), MCL_FUTURE every
/// page mapped later.
pub fn mlockall(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    const MCL_CURRENT: u64 = 1;
    const MCL_FUTURE: u64 = 2;
    const MCL_ONFAULT: u64 = 4;
    let flags = a.u(0);
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 {
        return Err(Errno::EINVAL);
    }
    let space = p.space();
    if flags & MCL_CURRENT != 0 {
        let areas: alloc::vec::Vec<(u64, u64)> =
            space.vmas.iter().map(|v| (v.start, v.end)).collect();
        for (start, end) in areas {
            space.lock_range(start, end, true)?;
        }
    }
    if flags & MCL_FUTURE != 0 {
        space.lock_future = true;
    }
    Ok(0)
}

/// munlockall(2).
pub fn munlockall(p: &mut Process) -> Result<i64, Errno> {
    let space = p.space();
    space.lock_future = false;
    let areas: alloc::vec::Vec<(u64, u64)> = space.vmas.iter().map(|v| (v.start, v.end)).collect();
    for (start, end) in areas {
        space.lock_range(start, end, false)?;
    }
    Ok(0)
}
