//! Writing an initramfs: a cpio archive in the "newc" format (magic `070701`), as Linux
//! reads it (`Documentation/driver-api/early-userspace/buffer-format.rst`; the same format
//! as `usr/gen_init_cpio.c` writes).
//!
//! Each entry is a 110-byte ASCII header (the magic, then thirteen 8-digit hexadecimal
//! fields: ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
//! rdevminor, namesize including the NUL, check), the NUL-terminated name padded to a
//! multiple of 4 bytes (counting from the header's start), then the data padded likewise.
//! The archive ends with an entry named `TRAILER!!!`.
//!
//! What sv39 writes, so that two runs give the same bytes: names without a leading slash;
//! every parent directory as its own entry (mode `040755`) before what it holds; entries in
//! path order; inode numbers 1, 2, ... in that order; mtime 0; uid and gid 0; nlink 2 for
//! directories and 1 for files.

use std::collections::BTreeMap;

/// The newc header magic.
pub const NEWC_MAGIC: &[u8; 6] = b"070701";
/// The name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";
/// `S_IFDIR`: the file-type bits of a directory.
pub const S_IFDIR: u32 = 0o040000;
/// `S_IFREG`: the file-type bits of a regular file.
pub const S_IFREG: u32 = 0o100000;
/// Mode of every directory sv39 writes.
pub const DIR_MODE: u32 = S_IFDIR | 0o755;
/// Mode of a program.
pub const PROGRAM_MODE: u32 = S_IFREG | 0o755;
/// Default mode of a data file.
pub const FILE_MODE: u32 = S_IFREG | 0o644;

/// Length of a newc header.
const HEADER_LEN: usize = 110;

/// Why a file cannot go into the archive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitramfsError {
    /// The path is empty, or names the root directory.
    #[error("guest path '{0}' does not name a file")]
    NotAFilePath(String),
    /// A path component is empty, `.` or `..`, or the path holds a NUL byte.
    #[error("guest path '{0}' is not normalised (absolute, no '.', '..' or empty components)")]
    NotNormalised(String),
    /// Two files were given the same path.
    #[error("guest path {0} is given twice")]
    Duplicate(String),
    /// A path is needed both as a file and as a directory.
    #[error("guest path {0} would be both a file and a directory")]
    FileIsDirectory(String),
    /// A file is larger than the format's 32-bit size field.
    #[error("{path} is too large for an initramfs ({size} bytes; at most 4 GiB - 1)")]
    TooLarge {
        /// The guest path.
        path: String,
        /// Its size in bytes.
        size: u64,
    },
}

enum Entry {
    Directory,
    File { data: Vec<u8>, mode: u32 },
}

/// An archive being assembled: files by absolute guest path, directories implied.
#[derive(Default)]
pub struct Initramfs {
    /// Keyed by the name as stored (no leading slash); a parent sorts before its children.
    entries: BTreeMap<String, Entry>,
}

impl Initramfs {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a regular file at the absolute, normalised `guest_path` (such as `/bin/hello`)
    /// with permission bits `permissions` (`0o755`; file-type bits are ignored), and every
    /// directory above it.
    pub fn add_file(
        &mut self,
        guest_path: &str,
        data: Vec<u8>,
        permissions: u32,
    ) -> Result<(), InitramfsError> {
        let name = stored_name(guest_path)?;
        if u32::try_from(data.len()).is_err() {
            return Err(InitramfsError::TooLarge {
                path: guest_path.to_string(),
                size: data.len() as u64,
            });
        }
        // Every parent must be (or become) a directory.
        for (i, _) in name.match_indices('/') {
            let parent = &name[..i];
            match self.entries.get(parent) {
                Some(Entry::File { .. }) => {
                    return Err(InitramfsError::FileIsDirectory(format!("/{parent}")));
                }
                Some(Entry::Directory) => {}
                None => {
                    self.entries.insert(parent.to_string(), Entry::Directory);
                }
            }
        }
        match self.entries.get(name) {
            Some(Entry::File { .. }) => {
                return Err(InitramfsError::Duplicate(guest_path.to_string()));
            }
            Some(Entry::Directory) => {
                return Err(InitramfsError::FileIsDirectory(guest_path.to_string()));
            }
            None => {}
        }
        let mode = S_IFREG | (permissions & 0o7777);
        self.entries
            .insert(name.to_string(), Entry::File { data, mode });
        Ok(())
    }

    /// The archive's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, (name, entry)) in (1u32..).zip(&self.entries) {
            let (mode, nlink, data): (u32, u32, &[u8]) = match entry {
                Entry::Directory => (DIR_MODE, 2, &[]),
                Entry::File { data, mode } => (*mode, 1, data),
            };
            write_entry(&mut out, ino, mode, nlink, name, data);
        }
        write_entry(&mut out, 0, 0, 1, TRAILER, &[]);
        out
    }
}

/// The stored form of an absolute, normalised guest path: without the leading slash.
fn stored_name(guest_path: &str) -> Result<&str, InitramfsError> {
    let Some(name) = guest_path.strip_prefix('/') else {
        return Err(InitramfsError::NotNormalised(guest_path.to_string()));
    };
    if name.is_empty() {
        return Err(InitramfsError::NotAFilePath(guest_path.to_string()));
    }
    let bad_component = name
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..");
    if bad_component || name.contains('\0') || name == TRAILER {
        return Err(InitramfsError::NotNormalised(guest_path.to_string()));
    }
    Ok(name)
}

fn write_entry(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, name: &str, data: &[u8]) {
    let namesize = name.len() as u32 + 1;
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        data.len() as u32,
        0, // devmajor
        0, // devminor
        0, // rdevmajor
        0, // rdevminor
        namesize,
        0, // check (only the "070702" format has a checksum)
    ];
    let start = out.len();
    out.extend_from_slice(NEWC_MAGIC);
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    debug_assert_eq!(out.len() - start, HEADER_LEN);
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// Pads with NULs to a multiple of 4 bytes; entries start 4-aligned, so this aligns
/// relative to the entry as the format requires.
fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One entry read back: the 13 header fields, the name and the data.
    #[derive(Debug)]
    struct Parsed {
        fields: [u32; 13],
        name: String,
        data: Vec<u8>,
    }

    /// A strict newc reader: checks magic, alignment and padding, stops at the trailer.
    fn parse(bytes: &[u8]) -> Vec<Parsed> {
        let mut entries = Vec::new();
        let mut off = 0;
        loop {
            assert_eq!(off % 4, 0, "entry at {off} not 4-aligned");
            assert_eq!(&bytes[off..off + 6], NEWC_MAGIC, "magic at {off}");
            let mut fields = [0u32; 13];
            for (i, field) in fields.iter_mut().enumerate() {
                let hex = std::str::from_utf8(&bytes[off + 6 + 8 * i..off + 14 + 8 * i]).unwrap();
                assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "field {hex:?}");
                *field = u32::from_str_radix(hex, 16).unwrap();
            }
            let namesize = fields[11] as usize;
            let name_start = off + HEADER_LEN;
            let name = &bytes[name_start..name_start + namesize];
            assert_eq!(name.last(), Some(&0), "name not NUL-terminated");
            let name = String::from_utf8(name[..namesize - 1].to_vec()).unwrap();
            let data_start = (name_start + namesize).next_multiple_of(4);
            assert!(
                bytes[name_start + namesize..data_start]
                    .iter()
                    .all(|&b| b == 0)
            );
            let size = fields[6] as usize;
            let data = bytes[data_start..data_start + size].to_vec();
            let next = (data_start + size).next_multiple_of(4);
            assert!(bytes[data_start + size..next].iter().all(|&b| b == 0));
            off = next;
            let done = name == TRAILER;
            entries.push(Parsed { fields, name, data });
            if done {
                assert_eq!(off, bytes.len(), "bytes after the trailer");
                return entries;
            }
        }
    }

    #[test]
    fn round_trip() {
        let mut fs = Initramfs::new();
        fs.add_file("/build/hello", b"\x7fELF program".to_vec(), 0o755)
            .unwrap();
        fs.add_file("/etc/motd", b"hi\n".to_vec(), 0o600).unwrap();
        fs.add_file("/build/deep/x", vec![], 0o644).unwrap();
        fs.add_file("/top", vec![1, 2, 3, 4, 5], 0o100644).unwrap();
        let bytes = fs.to_bytes();
        let entries = parse(&bytes);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "build",
                "build/deep",
                "build/deep/x",
                "build/hello",
                "etc",
                "etc/motd",
                "top",
                TRAILER
            ]
        );
        for (i, e) in entries.iter().enumerate() {
            let [
                ino,
                mode,
                uid,
                gid,
                nlink,
                mtime,
                size,
                dmaj,
                dmin,
                rmaj,
                rmin,
                _,
                check,
            ] = e.fields;
            let is_trailer = e.name == TRAILER;
            assert_eq!(ino, if is_trailer { 0 } else { i as u32 + 1 }, "{}", e.name);
            assert_eq!([uid, gid, mtime, dmaj, dmin, rmaj, rmin, check], [0; 8]);
            assert_eq!(size as usize, e.data.len());
            let want_mode = match e.name.as_str() {
                "build" | "build/deep" | "etc" => 0o040755,
                "build/hello" => 0o100755,
                "etc/motd" => 0o100600,
                "build/deep/x" | "top" => 0o100644,
                _ => 0,
            };
            assert_eq!(mode, want_mode, "{}", e.name);
            let want_links = if mode & S_IFDIR != 0 { 2 } else { 1 };
            assert_eq!(nlink, want_links, "{}", e.name);
        }
        assert_eq!(entries[3].data, b"\x7fELF program");
        assert_eq!(entries[5].data, b"hi\n");
        assert_eq!(entries[6].data, [1, 2, 3, 4, 5]);
        // Deterministic.
        assert_eq!(bytes, fs.to_bytes());
    }

    #[test]
    fn empty_archive_is_just_the_trailer() {
        let entries = parse(&Initramfs::new().to_bytes());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].fields[4], 1);
    }

    #[test]
    fn every_name_length_pads_correctly() {
        let mut fs = Initramfs::new();
        for len in 1..=9 {
            let name = format!("/{}", "n".repeat(len));
            fs.add_file(&name, vec![7; len], 0o644).unwrap();
        }
        let entries = parse(&fs.to_bytes());
        assert_eq!(entries.len(), 10);
        for e in &entries[..9] {
            assert_eq!(e.data.len(), e.name.len());
        }
    }

    #[test]
    fn rejects_conflicts_and_bad_paths() {
        let mut fs = Initramfs::new();
        fs.add_file("/a/b", vec![], 0o644).unwrap();
        assert_eq!(
            fs.add_file("/a/b", vec![], 0o644),
            Err(InitramfsError::Duplicate("/a/b".into()))
        );
        assert_eq!(
            fs.add_file("/a", vec![], 0o644),
            Err(InitramfsError::FileIsDirectory("/a".into()))
        );
        assert_eq!(
            fs.add_file("/a/b/c", vec![], 0o644),
            Err(InitramfsError::FileIsDirectory("/a/b".into()))
        );
        assert_eq!(
            fs.add_file("/", vec![], 0o644),
            Err(InitramfsError::NotAFilePath("/".into()))
        );
        for bad in [
            "relative",
            "/a//b",
            "/./x",
            "/x/..",
            "/nul\0",
            "/TRAILER!!!",
        ] {
            assert!(
                matches!(
                    fs.add_file(bad, vec![], 0o644),
                    Err(InitramfsError::NotNormalised(_))
                ),
                "{bad:?}"
            );
        }
    }
}
