//! The mmap(2) system call's checks and placement, on top of [`VmaSet`].
//!
//! Follows mmap(2) and Linux's `do_mmap` (`mm/mmap.c`) for the order of the checks and their
//! errno values. The kernel resolves the file descriptor first (a bad one is `EBADF`, one
//! that cannot be mapped, such as a directory or a pipe, `ENODEV`) unless `MAP_ANONYMOUS` is
//! set, in which case the descriptor is ignored.
//!
//! Known difference from Linux: a `MAP_FIXED` mapping overlapping the kernel window fails
//! with `ENOMEM` (that window is not user space in this kernel).

use alloc::vec::Vec;
use core::ops::Range;

use crate::errno::{Errno, KResult};
use crate::vma::{
    Backing, FileId, MmapLayout, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, Perms, Sharing,
    USER_END, Vma, VmaName, VmaSet, is_page_aligned, page_ceil, page_floor,
};

/// Writes are shared with every mapping of the object.
pub const MAP_SHARED: u64 = 0x01;
/// Writes are private (copy on write).
pub const MAP_PRIVATE: u64 = 0x02;
/// `MAP_SHARED`, failing with `EOPNOTSUPP` on unknown flags.
pub const MAP_SHARED_VALIDATE: u64 = 0x03;
/// The mask of the mapping type (`MAP_TYPE`).
pub const MAP_TYPE: u64 = 0x0f;
/// Place the mapping exactly at `addr`, replacing what is there.
pub const MAP_FIXED: u64 = 0x10;
/// No file: zero-filled memory.
pub const MAP_ANONYMOUS: u64 = 0x20;
/// A stack that grows down (accepted, not acted on).
pub const MAP_GROWSDOWN: u64 = 0x100;
/// Ignored (historical).
pub const MAP_DENYWRITE: u64 = 0x800;
/// Ignored (historical).
pub const MAP_EXECUTABLE: u64 = 0x1000;
/// Lock the pages (accepted, not acted on).
pub const MAP_LOCKED: u64 = 0x2000;
/// Do not reserve swap (accepted, not acted on).
pub const MAP_NORESERVE: u64 = 0x4000;
/// Fault the pages in now (accepted; the kernel may prefault).
pub const MAP_POPULATE: u64 = 0x8000;
/// With `MAP_POPULATE`, do not block (accepted, not acted on).
pub const MAP_NONBLOCK: u64 = 0x10000;
/// A hint that the mapping is a stack (accepted, not acted on).
pub const MAP_STACK: u64 = 0x20000;
/// Huge pages (not supported: `EINVAL`).
pub const MAP_HUGETLB: u64 = 0x40000;
/// Like `MAP_FIXED` but fail with `EEXIST` instead of replacing.
pub const MAP_FIXED_NOREPLACE: u64 = 0x100000;

/// The flags `MAP_SHARED_VALIDATE` accepts (Linux's `LEGACY_MAP_MASK` and the few newer
/// ones this kernel knows).
const KNOWN_FLAGS: u64 = MAP_TYPE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_GROWSDOWN
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_FIXED_NOREPLACE;

/// The arguments of mmap(2) as the program passed them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MmapArgs {
    /// `addr`: the address (with `MAP_FIXED`) or hint.
    pub addr: u64,
    /// `length` in bytes.
    pub len: u64,
    /// `prot`: `PROT_*` bits.
    pub prot: u64,
    /// `flags`: `MAP_*` bits.
    pub flags: u64,
    /// `offset` into the file, in bytes.
    pub offset: u64,
}

/// The file a non-anonymous mapping maps, as the kernel's open file describes it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MappedFile {
    /// The kernel's index of the file.
    pub file: FileId,
    /// The file's size: pages wholly past it raise `SIGBUS`.
    pub size: u64,
    /// The name `/proc/<pid>/maps` shows (a [`VmaName::File`]).
    pub name: VmaName,
    /// Whether the descriptor was opened for reading.
    pub readable: bool,
    /// Whether the descriptor was opened for writing.
    pub writable: bool,
}

/// A successful mmap.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Mapped {
    /// The address of the mapping (the system call's return value).
    pub addr: u64,
    /// Ranges a `MAP_FIXED` mapping replaced: the kernel drops their PTEs.
    pub unmapped: Vec<Range<u64>>,
}

/// Performs mmap(2) on `vmas`: checks the arguments as Linux does, places the mapping and
/// records it. `file` is `None` for `MAP_ANONYMOUS` (and must be `Some` otherwise, else
/// `EBADF`).
///
/// Errors: `EINVAL` for an unaligned offset, a zero length, an unaligned `MAP_FIXED`
/// address or a bad mapping type; `ENOMEM` when the length overflows, the range leaves user
/// space or no room is left; `EOVERFLOW` when offset plus length overflows; `EEXIST` for a
/// `MAP_FIXED_NOREPLACE` range that is in use; `EOPNOTSUPP` for unknown flags with
/// `MAP_SHARED_VALIDATE`; `EACCES` for a file not opened for reading, or a shared writable
/// mapping of a file not opened for writing.
pub fn mmap(
    vmas: &mut VmaSet,
    layout: &MmapLayout,
    args: &MmapArgs,
    file: Option<&MappedFile>,
) -> KResult<Mapped> {
    if !is_page_aligned(args.offset) {
        return Err(Errno::EINVAL);
    }
    let anonymous = args.flags & MAP_ANONYMOUS != 0;
    let file = if anonymous {
        None
    } else {
        Some(file.ok_or(Errno::EBADF)?)
    };
    if args.len == 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_ceil(args.len).ok_or(Errno::ENOMEM)?;
    if args.offset.checked_add(len).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    if args.flags & MAP_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    let sharing = match args.flags & MAP_TYPE {
        MAP_PRIVATE => Sharing::Private,
        MAP_SHARED => Sharing::Shared,
        MAP_SHARED_VALIDATE => {
            if args.flags & !KNOWN_FLAGS != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            Sharing::Shared
        }
        _ => return Err(Errno::EINVAL),
    };
    let fixed = args.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if len > USER_END || args.addr > USER_END - len {
            return Err(Errno::ENOMEM);
        }
        if !is_page_aligned(args.addr) {
            return Err(Errno::EINVAL);
        }
        if args.flags & MAP_FIXED == 0 && !vmas.is_free(args.addr..args.addr + len) {
            return Err(Errno::EEXIST);
        }
        args.addr
    } else {
        // Linux's round_hint_to_min: the hint is rounded down, then raised to the floor.
        let hint = page_floor(args.addr);
        let hint = (hint != 0).then_some(hint.max(layout.floor));
        vmas.find_free(len, hint, layout).ok_or(Errno::ENOMEM)?
    };
    let perms = Perms {
        read: args.prot & PROT_READ != 0,
        write: args.prot & PROT_WRITE != 0,
        exec: args.prot & PROT_EXEC != 0,
    };
    let vma = match file {
        None => Vma {
            start,
            end: start + len,
            perms,
            sharing,
            backing: Backing::Anonymous,
            name: VmaName::None,
        },
        Some(file) => {
            if sharing == Sharing::Shared && perms.write && !file.writable {
                return Err(Errno::EACCES);
            }
            if !file.readable {
                return Err(Errno::EACCES);
            }
            Vma {
                start,
                end: start + len,
                perms,
                sharing,
                backing: Backing::File {
                    file: file.file,
                    offset: args.offset,
                    file_end: file.size,
                },
                name: file.name.clone(),
            }
        }
    };
    let unmapped = vmas.map_fixed(vma)?;
    Ok(Mapped {
        addr: start,
        unmapped,
    })
}

/// The number of pages in `len` bytes, rounded up (for statistics such as `VmSize`).
pub fn pages(len: u64) -> u64 {
    len.div_ceil(PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{Access, FaultDecision, PteState, decide};
    use crate::vma::{KERNEL_WINDOW, PageContent};
    use alloc::vec;

    fn layout() -> MmapLayout {
        MmapLayout {
            floor: 0x10000,
            ceiling: 0x1000_0000,
            user_end: USER_END,
            reserved: KERNEL_WINDOW,
        }
    }

    fn args(addr: u64, len: u64, prot: u64, flags: u64, offset: u64) -> MmapArgs {
        MmapArgs {
            addr,
            len,
            prot,
            flags,
            offset,
        }
    }

    fn file(size: u64) -> MappedFile {
        MappedFile {
            file: 2,
            size,
            name: VmaName::File {
                path: "/data".into(),
                dev_major: 0,
                dev_minor: 1,
                inode: 3,
            },
            readable: true,
            writable: false,
        }
    }

    const ANON: u64 = MAP_PRIVATE | MAP_ANONYMOUS;

    #[test]
    fn anonymous_mappings_go_top_down() {
        let mut set = VmaSet::new();
        let l = layout();
        let a = mmap(&mut set, &l, &args(0, 0x2000, 3, ANON, 0), None).unwrap();
        assert_eq!(
            a,
            Mapped {
                addr: 0x1000_0000 - 0x2000,
                unmapped: vec![]
            }
        );
        let b = mmap(&mut set, &l, &args(0, 1, 3, ANON, 0), None).unwrap();
        assert_eq!(b.addr, a.addr - 0x1000);
        assert_eq!(
            set.len(),
            1,
            "adjacent anonymous mappings merge, as on Linux"
        );
        // The fd is ignored with MAP_ANONYMOUS, and so is a file passed in.
        let c = mmap(&mut set, &l, &args(0, 1, 1, ANON, 0), Some(&file(5))).unwrap();
        assert_eq!(set.find(c.addr).unwrap().backing, Backing::Anonymous);
    }

    #[test]
    fn fixed_and_noreplace() {
        let mut set = VmaSet::new();
        let l = layout();
        mmap(&mut set, &l, &args(0x40000, 0x4000, 3, ANON, 0), None).unwrap();
        let m = mmap(
            &mut set,
            &l,
            &args(0x41000, 0x1000, 1, ANON | MAP_FIXED, 0),
            None,
        )
        .unwrap();
        assert_eq!(m.addr, 0x41000);
        assert_eq!(m.unmapped, vec![0x41000..0x42000]);
        assert_eq!(set.len(), 3);
        let noreplace = ANON | MAP_FIXED_NOREPLACE;
        assert_eq!(
            mmap(&mut set, &l, &args(0x43000, 0x2000, 3, noreplace, 0), None),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            mmap(&mut set, &l, &args(0x44000, 0x2000, 3, noreplace, 0), None)
                .unwrap()
                .addr,
            0x44000
        );
        assert_eq!(
            mmap(
                &mut set,
                &l,
                &args(0x44001, 1, 3, ANON | MAP_FIXED, 0),
                None
            ),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            mmap(
                &mut set,
                &l,
                &args(USER_END - 0x1000, 0x2000, 3, ANON | MAP_FIXED, 0),
                None
            ),
            Err(Errno::ENOMEM)
        );
        // A hint that is free is taken as is.
        assert_eq!(
            mmap(&mut set, &l, &args(0x200000, 1, 3, ANON, 0), None)
                .unwrap()
                .addr,
            0x200000
        );
        assert_eq!(
            mmap(&mut set, &l, &args(0x300fff, 1, 3, ANON, 0), None)
                .unwrap()
                .addr,
            0x300000
        );
        // A hint below the floor is raised to it.
        assert_eq!(
            mmap(&mut set, &l, &args(0x1000, 1, 3, ANON, 0), None)
                .unwrap()
                .addr,
            0x10000
        );
    }

    #[test]
    fn argument_errors() {
        let mut set = VmaSet::new();
        let l = layout();
        let mut call = |a: MmapArgs, f: Option<&MappedFile>| mmap(&mut set, &l, &a, f);
        assert_eq!(call(args(0, 0, 3, ANON, 0), None), Err(Errno::EINVAL));
        assert_eq!(call(args(0, 1, 3, ANON, 1), None), Err(Errno::EINVAL));
        assert_eq!(
            call(args(0, u64::MAX, 3, ANON, 0), None),
            Err(Errno::ENOMEM)
        );
        assert_eq!(call(args(0, 1 << 40, 3, ANON, 0), None), Err(Errno::ENOMEM));
        assert_eq!(
            call(args(0, 1, 3, MAP_ANONYMOUS, 0), None),
            Err(Errno::EINVAL),
            "no type"
        );
        assert_eq!(call(args(0, 1, 3, MAP_PRIVATE, 0), None), Err(Errno::EBADF));
        assert_eq!(
            call(args(0, 0x2000, 1, MAP_PRIVATE, !0xfff), Some(&file(5))),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(
            call(
                args(0, 1, 3, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800_0000, 0),
                None
            ),
            Err(Errno::EOPNOTSUPP)
        );
        assert!(
            call(
                args(0, 1, 3, MAP_SHARED | MAP_ANONYMOUS | 0x800_0000, 0),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn file_mappings() {
        let mut set = VmaSet::new();
        let l = layout();
        let f = file(0x1800);
        let m = mmap(&mut set, &l, &args(0, 0x3000, 1, MAP_PRIVATE, 0), Some(&f)).unwrap();
        let vma = set.find(m.addr).unwrap().clone();
        assert_eq!(
            vma.backing,
            Backing::File {
                file: 2,
                offset: 0,
                file_end: 0x1800
            }
        );
        assert_eq!(vma.name, f.name);
        assert_eq!(
            vma.page_content(m.addr + 0x1000),
            PageContent::File {
                file: 2,
                offset: 0x1000,
                len: 0x800
            }
        );
        assert_eq!(
            decide(&set, m.addr + 0x2000, Access::Read, PteState::Absent),
            FaultDecision::Sigbus,
            "a page wholly past the end of the file"
        );
        // Private writable mappings of a read-only file are fine; shared writable are not.
        assert!(mmap(&mut set, &l, &args(0, 1, 3, MAP_PRIVATE, 0), Some(&f)).is_ok());
        assert_eq!(
            mmap(&mut set, &l, &args(0, 1, 3, MAP_SHARED, 0), Some(&f)),
            Err(Errno::EACCES)
        );
        assert!(mmap(&mut set, &l, &args(0, 1, 1, MAP_SHARED, 0), Some(&f)).is_ok());
        let unreadable = MappedFile {
            readable: false,
            ..f.clone()
        };
        assert_eq!(
            mmap(
                &mut set,
                &l,
                &args(0, 1, 1, MAP_PRIVATE, 0),
                Some(&unreadable)
            ),
            Err(Errno::EACCES)
        );
        // An offset moves the file window.
        let m = mmap(
            &mut set,
            &l,
            &args(0, 0x1000, 1, MAP_PRIVATE, 0x1000),
            Some(&f),
        )
        .unwrap();
        assert_eq!(
            set.find(m.addr).unwrap().page_content(m.addr),
            PageContent::File {
                file: 2,
                offset: 0x1000,
                len: 0x800
            }
        );
        assert_eq!(pages(0x1001), 2);
    }
}
