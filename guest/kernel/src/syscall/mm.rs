//! Memory system calls: brk, mmap, munmap, mprotect, madvise. They change the VMAs (the
//! policy); page-table entries follow lazily, except that removed or narrowed ranges lose
//! their entries at once.

use alloc::sync::Arc;

use sv39_policy::errno::Errno;
use sv39_policy::vma::{Backing, Perms, Sharing, Vma, VmaName, is_page_aligned, page_ceil};

use super::Args;
use crate::fs::initramfs;
use crate::fs::{Node, O_ACCMODE};
use crate::proc::Process;

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_TYPE: u64 = 0x0f;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

/// brk(2): returns the new break, or the old one when the request cannot be met.
pub fn brk(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let space = p.space();
    let mut brk = space.brk;
    let dropped = space.vmas.set_brk(&mut brk, a.u(0));
    space.brk = brk;
    for range in dropped {
        space.drop_range(range.start, range.end);
    }
    Ok(space.brk.current as i64)
}

/// mmap(2).
pub fn mmap(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let (addr, len, prot, flags, fd, offset) = (a.u(0), a.u(1), a.u(2), a.u(3), a.int(4), a.u(5));
    if len == 0 || !is_page_aligned(offset) {
        return Err(Errno::EINVAL);
    }
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    let perms = Perms::from_prot(prot)?;
    let sharing = match flags & MAP_TYPE {
        MAP_SHARED | MAP_SHARED_VALIDATE => Sharing::Shared,
        MAP_PRIVATE => Sharing::Private,
        _ => return Err(Errno::EINVAL),
    };
    let (backing, name) = if flags & MAP_ANONYMOUS != 0 {
        (Backing::Anonymous, VmaName::None)
    } else {
        let file = p.files.get(fd)?;
        let f = file.borrow();
        let Node::File(id) = f.node else {
            return Err(match f.node {
                Node::Generated(_) | Node::Dir(_) | Node::Pipe(_) | Node::Console(_) => {
                    Errno::ENODEV
                }
                _ => Errno::EACCES,
            });
        };
        if f.flags & O_ACCMODE == 1 {
            return Err(Errno::EACCES);
        }
        if sharing == Sharing::Shared && perms.write {
            return Err(Errno::EACCES); // the initramfs is opened read-only
        }
        let (path, _, inode, size) = initramfs::stat(id).ok_or(Errno::EBADF)?;
        let name = VmaName::File {
            path: Arc::from(path.as_str()),
            dev_major: 0,
            dev_minor: 1,
            inode,
        };
        (
            Backing::File {
                file: id,
                offset,
                file_end: size,
            },
            name,
        )
    };
    // A read-only shared file mapping behaves as a private one: no one can write the file.
    let sharing = if matches!(backing, Backing::File { .. }) {
        Sharing::Private
    } else {
        sharing
    };
    let space = p.space();
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        if end > space.layout.user_end || addr < space.layout.floor {
            return Err(Errno::ENOMEM);
        }
        if addr < space.layout.reserved.end && space.layout.reserved.start < end {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && !space.vmas.is_free(addr..end) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        let hint = (addr != 0).then_some(addr & !0xFFF);
        space
            .vmas
            .find_free(len, hint, &space.layout)
            .ok_or(Errno::ENOMEM)?
    };
    let vma = Vma {
        start,
        end: start + len,
        perms,
        sharing,
        backing,
        name,
    };
    let removed = space.vmas.map_fixed(vma)?;
    for range in removed {
        space.drop_range(range.start, range.end);
    }
    Ok(start as i64)
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
/// other advice is accepted and ignored.
pub fn madvise(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    const MADV_DONTNEED: u64 = 4;
    let (start, len) = (a.u(0), a.u(1));
    if !is_page_aligned(start) {
        return Err(Errno::EINVAL);
    }
    if a.u(2) == MADV_DONTNEED {
        let end = start
            .checked_add(page_ceil(len).ok_or(Errno::EINVAL)?)
            .ok_or(Errno::EINVAL)?;
        let space = p.space();
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
    Ok(0)
}
