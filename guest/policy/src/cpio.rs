//! The initramfs: a cpio archive in the "newc" format, and a path index over it.
//!
//! Follows the Linux kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`
//! and cpio(5): each entry is a 110-byte ASCII header (magic `070701`, or `070702` for the
//! "crc" variant, then 13 fields of 8 hexadecimal digits), the NUL-terminated name, padding
//! to a multiple of 4, the data, padding to a multiple of 4. The entry named `TRAILER!!!`
//! ends the archive. Names have no leading slash (`bin/hello`); [`Initramfs`] stores them as
//! normalised absolute paths (`/bin/hello`) and adds the directories that paths imply.
//! Nothing here panics on malformed input.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::path;
use crate::vma::FileId;

/// The size of a newc header.
const HEADER_SIZE: usize = 110;
/// The name of the entry that ends an archive.
const TRAILER: &[u8] = b"TRAILER!!!";

/// The file-type bits of a mode (`S_IFMT`).
pub const S_IFMT: u32 = 0o170000;
/// A socket.
pub const S_IFSOCK: u32 = 0o140000;
/// A symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// A regular file.
pub const S_IFREG: u32 = 0o100000;
/// A block device.
pub const S_IFBLK: u32 = 0o060000;
/// A directory.
pub const S_IFDIR: u32 = 0o040000;
/// A character device.
pub const S_IFCHR: u32 = 0o020000;
/// A FIFO.
pub const S_IFIFO: u32 = 0o010000;

/// Why an archive cannot be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CpioError {
    /// A header at `offset` does not begin with `070701` or `070702`.
    BadMagic {
        /// The header's offset in the archive.
        offset: usize,
    },
    /// The archive ends inside the entry whose header is at `offset`.
    Truncated {
        /// The header's offset in the archive.
        offset: usize,
    },
    /// A header field is not 8 hexadecimal digits.
    BadField {
        /// The header's offset in the archive.
        offset: usize,
        /// The field's name (`c_filesize`, ...).
        field: &'static str,
    },
    /// A name that is not NUL-terminated or has a NUL inside (`c_namesize` 0 included).
    BadName {
        /// The header's offset in the archive.
        offset: usize,
    },
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpioError::BadMagic { offset } => write!(f, "cpio: bad magic at offset {offset}"),
            CpioError::Truncated { offset } => {
                write!(f, "cpio: archive ends inside the entry at offset {offset}")
            }
            CpioError::BadField { offset, field } => {
                write!(
                    f,
                    "cpio: field {field} of the entry at offset {offset} is not hexadecimal"
                )
            }
            CpioError::BadName { offset } => {
                write!(f, "cpio: the entry at offset {offset} has a malformed name")
            }
        }
    }
}

/// One archive entry as stored.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CpioEntry<'a> {
    /// The name, without its NUL (`bin/hello`).
    pub name: &'a [u8],
    /// `c_ino`.
    pub ino: u32,
    /// `c_mode`: file type and permission bits.
    pub mode: u32,
    /// `c_uid`.
    pub uid: u32,
    /// `c_gid`.
    pub gid: u32,
    /// `c_nlink`.
    pub nlink: u32,
    /// `c_mtime`, seconds since the epoch.
    pub mtime: u32,
    /// `c_devmajor`: the device holding the file.
    pub dev_major: u32,
    /// `c_devminor`.
    pub dev_minor: u32,
    /// `c_rdevmajor`: the device a device node stands for.
    pub rdev_major: u32,
    /// `c_rdevminor`.
    pub rdev_minor: u32,
    /// Where the data lies in the archive.
    pub data: Range<usize>,
}

/// Iterates over the entries of a newc archive, up to (not including) `TRAILER!!!`. After
/// an error it yields nothing more.
#[derive(Clone, Debug)]
pub struct CpioEntries<'a> {
    archive: &'a [u8],
    offset: usize,
    done: bool,
}

/// The entries of `archive`.
pub fn entries(archive: &[u8]) -> CpioEntries<'_> {
    CpioEntries {
        archive,
        offset: 0,
        done: false,
    }
}

/// Rounds up to a multiple of 4, or `None` on overflow.
fn align4(value: usize) -> Option<usize> {
    value.checked_add(3).map(|v| v & !3)
}

/// Reads 8 hexadecimal digits.
fn hex_field(bytes: &[u8]) -> Option<u32> {
    if bytes.len() != 8 {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &b| {
        let digit = (b as char).to_digit(16)?;
        Some(acc << 4 | digit)
    })
}

impl<'a> CpioEntries<'a> {
    /// Parses the entry at the current offset and moves past it.
    fn parse_next(&mut self) -> Result<Option<CpioEntry<'a>>, CpioError> {
        let offset = self.offset;
        let truncated = CpioError::Truncated { offset };
        let header = self
            .archive
            .get(offset..offset.checked_add(HEADER_SIZE).ok_or(truncated)?)
            .ok_or(truncated)?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(CpioError::BadMagic { offset });
        }
        const FIELDS: [&str; 13] = [
            "c_ino",
            "c_mode",
            "c_uid",
            "c_gid",
            "c_nlink",
            "c_mtime",
            "c_filesize",
            "c_devmajor",
            "c_devminor",
            "c_rdevmajor",
            "c_rdevminor",
            "c_namesize",
            "c_check",
        ];
        let mut values = [0u32; 13];
        for (i, field) in FIELDS.iter().enumerate() {
            let at = 6 + 8 * i;
            values[i] =
                hex_field(&header[at..at + 8]).ok_or(CpioError::BadField { offset, field })?;
        }
        let [
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            filesize,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            namesize,
            _check,
        ] = values;
        let name_start = offset + HEADER_SIZE;
        let name_end = name_start.checked_add(namesize as usize).ok_or(truncated)?;
        let name_with_nul = self.archive.get(name_start..name_end).ok_or(truncated)?;
        let name = match name_with_nul.split_last() {
            Some((0, name)) if !name.contains(&0) => name,
            _ => return Err(CpioError::BadName { offset }),
        };
        let data_start = align4(name_end).ok_or(truncated)?;
        let data_end = data_start.checked_add(filesize as usize).ok_or(truncated)?;
        if data_end > self.archive.len() {
            return Err(truncated);
        }
        if name == TRAILER {
            return Ok(None);
        }
        // The final entry's data padding may be missing; the next header check catches it.
        self.offset = align4(data_end).ok_or(truncated)?;
        Ok(Some(CpioEntry {
            name,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            data: data_start..data_end,
        }))
    }
}

impl<'a> Iterator for CpioEntries<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse_next() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

/// One file, directory, link or device of the initramfs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    /// The normalised absolute path (`/bin/hello`, `/` for the root).
    pub path: Vec<u8>,
    /// The mode: file type and permission bits.
    pub mode: u32,
    /// The inode number (from the archive, or made up for an implied directory).
    pub ino: u64,
    /// The link count.
    pub nlink: u32,
    /// The owner.
    pub uid: u32,
    /// The group.
    pub gid: u32,
    /// The modification time, seconds since the epoch.
    pub mtime: u32,
    /// The device a device node stands for: (major, minor).
    pub rdev: (u32, u32),
    /// The contents' range in the archive (a symbolic link's target; empty for directories).
    pub data: Range<usize>,
    /// For a directory, its entries by name in byte order.
    pub children: Vec<FileId>,
}

impl Node {
    /// The file type bits (`mode & S_IFMT`).
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    /// Whether this is a regular file.
    pub fn is_regular(&self) -> bool {
        self.file_type() == S_IFREG
    }

    /// Whether this is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    /// The size in bytes (`st_size`).
    pub fn size(&self) -> u64 {
        (self.data.end - self.data.start) as u64
    }

    /// The last path component (empty for the root).
    pub fn name(&self) -> &[u8] {
        path::split_parent(&self.path).1
    }

    /// The `d_type` getdents64(2) reports (`DT_DIR`, `DT_REG`, ...).
    pub fn d_type(&self) -> u8 {
        match self.file_type() {
            S_IFIFO => 1,
            S_IFCHR => 2,
            S_IFDIR => 4,
            S_IFBLK => 6,
            S_IFREG => 8,
            S_IFLNK => 10,
            S_IFSOCK => 12,
            _ => 0,
        }
    }
}

/// The initramfs as a tree of nodes indexed by path. A node's index is its [`FileId`]; the
/// root is always node 0.
#[derive(Clone, Debug)]
pub struct Initramfs {
    nodes: Vec<Node>,
    by_path: BTreeMap<Vec<u8>, FileId>,
}

/// The inode numbers given to implied directories count down from here, clear of the
/// small numbers cpio tools assign.
const IMPLIED_INO_BASE: u64 = 0xffff_0000;

impl Initramfs {
    /// Indexes `archive`. A later entry with the same path replaces an earlier one (as
    /// unpacking does), except that a directory entry keeps the children already found.
    /// Entries whose names normalise to nothing valid are skipped. Directories that paths
    /// imply but the archive does not list are added with mode `0o40755`.
    pub fn new(archive: &[u8]) -> Result<Initramfs, CpioError> {
        let mut fs = Initramfs {
            nodes: Vec::new(),
            by_path: BTreeMap::new(),
        };
        fs.add(Node {
            path: alloc::vec![b'/'],
            mode: S_IFDIR | 0o755,
            ino: IMPLIED_INO_BASE,
            nlink: 2,
            uid: 0,
            gid: 0,
            mtime: 0,
            rdev: (0, 0),
            data: 0..0,
            children: Vec::new(),
        });
        for entry in entries(archive) {
            let entry = entry?;
            let Ok(path) = path::normalize(b"/", entry.name) else {
                continue;
            };
            fs.ensure_parents(&path);
            fs.add(Node {
                path,
                mode: entry.mode,
                ino: u64::from(entry.ino),
                nlink: entry.nlink,
                uid: entry.uid,
                gid: entry.gid,
                mtime: entry.mtime,
                rdev: (entry.rdev_major, entry.rdev_minor),
                data: entry.data,
                children: Vec::new(),
            });
        }
        for node in 0..fs.nodes.len() {
            let mut children = core::mem::take(&mut fs.nodes[node].children);
            children.sort_by(|&a, &b| fs.nodes[a as usize].path.cmp(&fs.nodes[b as usize].path));
            children.dedup();
            fs.nodes[node].children = children;
        }
        Ok(fs)
    }

    /// Adds or replaces the node at `node.path`, linking it into its parent.
    fn add(&mut self, mut node: Node) -> FileId {
        if let Some(&id) = self.by_path.get(&node.path) {
            let old = &mut self.nodes[id as usize];
            if node.is_dir() {
                node.children = core::mem::take(&mut old.children);
            }
            *old = node;
            return id;
        }
        let id = self.nodes.len() as FileId;
        let parent = path::split_parent(&node.path).0.to_vec();
        self.by_path.insert(node.path.clone(), id);
        self.nodes.push(node);
        if id != 0
            && let Some(&parent) = self.by_path.get(&parent)
        {
            self.nodes[parent as usize].children.push(id);
        }
        id
    }

    /// Adds the missing directories above `path`.
    fn ensure_parents(&mut self, path: &[u8]) {
        let mut prefix: Vec<u8> = Vec::new();
        let components: Vec<&[u8]> = path::components(path).collect();
        for component in components.iter().take(components.len().saturating_sub(1)) {
            prefix.push(b'/');
            prefix.extend_from_slice(component);
            if !self.by_path.contains_key(&prefix) {
                let ino = IMPLIED_INO_BASE + self.nodes.len() as u64;
                self.add(Node {
                    path: prefix.clone(),
                    mode: S_IFDIR | 0o755,
                    ino,
                    nlink: 2,
                    uid: 0,
                    gid: 0,
                    mtime: 0,
                    rdev: (0, 0),
                    data: 0..0,
                    children: Vec::new(),
                });
            }
        }
    }

    /// The node at a normalised absolute path (see [`path::normalize`]).
    pub fn lookup(&self, path: &[u8]) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// The node with index `id`.
    pub fn node(&self, id: FileId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// The number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// The contents of node `id` inside `archive` (the archive given to [`Initramfs::new`]).
    pub fn data<'a>(&self, archive: &'a [u8], id: FileId) -> Option<&'a [u8]> {
        archive.get(self.node(id)?.data.clone())
    }

    /// The entries of directory `id`, by name in byte order (without `.` and `..`, which
    /// getdents64 adds itself).
    pub fn children(&self, id: FileId) -> impl Iterator<Item = (&[u8], FileId)> {
        self.node(id)
            .map(|n| n.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|&child| Some((self.node(child)?.name(), child)))
    }

    /// All nodes with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &Node)> {
        self.nodes.iter().enumerate().map(|(i, n)| (i as FileId, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    /// Appends one newc entry.
    fn entry(out: &mut Vec<u8>, name: &str, mode: u32, ino: u32, data: &[u8]) {
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0x5f00_0000,
            data.len(),
            0,
            0x1f,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    fn archive() -> Vec<u8> {
        let mut a = Vec::new();
        entry(&mut a, ".", S_IFDIR | 0o755, 1, b"");
        entry(&mut a, "bin", S_IFDIR | 0o755, 2, b"");
        entry(&mut a, "bin/hello", S_IFREG | 0o755, 3, b"\x7fELF...");
        entry(&mut a, "bin/sh", S_IFLNK | 0o777, 4, b"hello");
        entry(&mut a, "etc/motd", S_IFREG | 0o644, 5, b"hi\n");
        entry(&mut a, "TRAILER!!!", 0, 0, b"");
        a
    }

    #[test]
    fn iterates_entries() {
        let a = archive();
        let all: Vec<CpioEntry<'_>> = entries(&a).map(|e| e.unwrap()).collect();
        assert_eq!(all.len(), 5);
        assert_eq!(all[2].name, b"bin/hello");
        assert_eq!(all[2].mode, S_IFREG | 0o755);
        assert_eq!((all[2].ino, all[2].nlink, all[2].dev_minor), (3, 1, 0x1f));
        assert_eq!(&a[all[2].data.clone()], b"\x7fELF...");
        assert_eq!(all[2].data.start % 4, 0);
        assert_eq!(&a[all[4].data.clone()], b"hi\n");
        assert_eq!(all[4].mtime, 0x5f00_0000);
    }

    #[test]
    fn stops_at_the_trailer_and_accepts_crc_magic() {
        let mut a = archive();
        a.extend_from_slice(b"garbage after the trailer");
        assert_eq!(entries(&a).count(), 5);
        let mut crc = Vec::new();
        entry(&mut crc, "f", S_IFREG | 0o600, 9, b"x");
        crc[5] = b'2';
        let e = entries(&crc).next().unwrap().unwrap();
        assert_eq!(e.name, b"f");
        // No trailer: iteration ends where the data ends.
        assert_eq!(
            entries(&crc).count(),
            2,
            "one entry, then a truncation error"
        );
        assert_eq!(
            entries(&crc).nth(1),
            Some(Err(CpioError::Truncated { offset: crc.len() }))
        );
        assert_eq!(
            entries(&[]).next(),
            Some(Err(CpioError::Truncated { offset: 0 }))
        );
    }

    #[test]
    fn errors() {
        let a = archive();
        let mut bad = a.clone();
        bad[0] = b'1';
        assert_eq!(
            entries(&bad).next(),
            Some(Err(CpioError::BadMagic { offset: 0 }))
        );
        let mut bad = a.clone();
        bad[6 + 8 * 6] = b'g';
        assert_eq!(
            entries(&bad).next(),
            Some(Err(CpioError::BadField {
                offset: 0,
                field: "c_filesize"
            }))
        );
        let mut bad = Vec::new();
        entry(&mut bad, "abc", 0, 0, b"");
        bad[110 + 3] = b'x';
        assert_eq!(
            entries(&bad).next(),
            Some(Err(CpioError::BadName { offset: 0 }))
        );
        let msg = format!(
            "{}",
            CpioError::BadField {
                offset: 4,
                field: "c_mode"
            }
        );
        assert!(msg.contains("c_mode"));
    }

    #[test]
    fn never_panics_on_prefixes_or_damage() {
        let a = archive();
        for len in 0..a.len() {
            let _ = entries(&a[..len]).count();
            let _ = Initramfs::new(&a[..len]);
        }
        for at in 0..a.len() {
            for value in [b'0', b'f', b'g', 0, 0xff] {
                let mut d = a.clone();
                d[at] = value;
                if let Ok(fs) = Initramfs::new(&d) {
                    for (id, _) in fs.iter() {
                        let _ = fs.data(&d, id);
                        let _ = fs.children(id).count();
                    }
                }
            }
        }
        // Huge sizes in the header do not overflow.
        let mut d = Vec::new();
        entry(&mut d, "f", S_IFREG, 1, b"");
        d[54..62].copy_from_slice(b"ffffffff");
        assert_eq!(
            entries(&d).next(),
            Some(Err(CpioError::Truncated { offset: 0 }))
        );
        d[54..62].copy_from_slice(b"00000000");
        d[94..102].copy_from_slice(b"ffffffff");
        assert_eq!(
            entries(&d).next(),
            Some(Err(CpioError::Truncated { offset: 0 }))
        );
    }

    #[test]
    fn index_with_implied_directories() {
        let a = archive();
        let fs = Initramfs::new(&a).unwrap();
        let root = fs.lookup(b"/").unwrap();
        assert_eq!(root, 0);
        let names: Vec<&[u8]> = fs.children(root).map(|(name, _)| name).collect();
        assert_eq!(names, vec![&b"bin"[..], &b"etc"[..]]);
        let etc = fs.node(fs.lookup(b"/etc").unwrap()).unwrap();
        assert!(etc.is_dir(), "implied by etc/motd");
        assert_eq!(etc.d_type(), 4);
        let bin = fs.lookup(b"/bin").unwrap();
        let names: Vec<&[u8]> = fs.children(bin).map(|(name, _)| name).collect();
        assert_eq!(names, vec![&b"hello"[..], &b"sh"[..]]);
        let hello = fs.lookup(b"/bin/hello").unwrap();
        let node = fs.node(hello).unwrap();
        assert!(node.is_regular());
        assert_eq!((node.size(), node.ino, node.d_type()), (7, 3, 8));
        assert_eq!(fs.data(&a, hello), Some(&b"\x7fELF..."[..]));
        let sh = fs.node(fs.lookup(b"/bin/sh").unwrap()).unwrap();
        assert!(sh.is_symlink());
        assert_eq!(&a[sh.data.clone()], b"hello");
        assert_eq!(
            fs.lookup(b"bin/hello"),
            None,
            "lookups take normalised absolute paths"
        );
        assert_eq!(fs.lookup(b"/nope"), None);
        assert_eq!(fs.len(), 6);
        assert_eq!(fs.node(99), None);
        assert_eq!(fs.children(99).count(), 0);
    }

    #[test]
    fn odd_names_and_duplicates() {
        let mut a = Vec::new();
        entry(&mut a, "./a/./b", S_IFREG | 0o644, 1, b"one");
        entry(&mut a, "/a/b", S_IFREG | 0o644, 2, b"two");
        entry(&mut a, "a", S_IFDIR | 0o700, 3, b"");
        entry(&mut a, "", S_IFREG, 4, b"");
        entry(&mut a, "TRAILER!!!", 0, 0, b"");
        let fs = Initramfs::new(&a).unwrap();
        let b = fs.lookup(b"/a/b").unwrap();
        assert_eq!(fs.data(&a, b), Some(&b"two"[..]), "the later entry wins");
        let dir = fs.lookup(b"/a").unwrap();
        assert_eq!(fs.node(dir).unwrap().mode, S_IFDIR | 0o700);
        assert_eq!(
            fs.children(dir).count(),
            1,
            "children survive the directory's own entry"
        );
        assert_eq!(fs.len(), 3);
    }
}
