//! The initramfs: a cpio "newc" archive the boot chain placed in RAM (`/chosen`
//! `linux,initrd-start` / `linux,initrd-end`), parsed once into an index of paths. Files are
//! read in place: the archive is never written, and file-backed pages copy from it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use sv39_policy::vma::FileId;

use crate::sync::KernelCell;

/// One file or directory of the archive.
pub struct Entry {
    /// The absolute path (`/bin/hello`).
    pub path: String,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// The inode number the archive gives it.
    pub ino: u64,
    /// The file's bytes (empty for a directory), in RAM.
    pub data: &'static [u8],
}

/// The `S_IFMT` type bits.
pub const S_IFMT: u32 = 0o170000;
/// A directory.
pub const S_IFDIR: u32 = 0o040000;
/// A regular file.
pub const S_IFREG: u32 = 0o100000;

struct Index {
    entries: Vec<Entry>,
    by_path: BTreeMap<String, FileId>,
}

static INDEX: KernelCell<Option<Index>> = KernelCell::new(None);

/// Indexes the archive `bytes`; every parent directory is present, `/` included. Returns the
/// number of entries, or the parser's complaint.
pub fn init(bytes: &'static [u8]) -> Result<usize, sv39_policy::cpio::CpioError> {
    let mut entries = Vec::new();
    let mut by_path = BTreeMap::new();
    let add = |entries: &mut Vec<Entry>, by_path: &mut BTreeMap<String, FileId>, e: Entry| {
        if let Some(&id) = by_path.get(&e.path) {
            entries[id as usize] = e; // a later entry replaces an earlier one, as on Linux
        } else {
            by_path.insert(e.path.clone(), entries.len() as FileId);
            entries.push(e);
        }
    };
    add(
        &mut entries,
        &mut by_path,
        Entry {
            path: "/".into(),
            mode: S_IFDIR | 0o755,
            ino: 1,
            data: &[],
        },
    );
    for item in sv39_policy::cpio::entries(bytes) {
        let item = item?;
        let Ok(name) = core::str::from_utf8(item.name) else {
            continue;
        };
        let Ok(path) = super::normalize("/", name) else {
            continue;
        };
        if path == "/" {
            continue;
        }
        // Implied parents.
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut parent = String::new();
        for part in &parts[..parts.len() - 1] {
            parent.push('/');
            parent.push_str(part);
            if !by_path.contains_key(&parent) {
                let e = Entry {
                    path: parent.clone(),
                    mode: S_IFDIR | 0o755,
                    ino: 0,
                    data: &[],
                };
                add(&mut entries, &mut by_path, e);
            }
        }
        let data = bytes.get(item.data.clone()).unwrap_or(&[]);
        let e = Entry {
            path,
            mode: item.mode,
            ino: u64::from(item.ino),
            data,
        };
        add(&mut entries, &mut by_path, e);
    }
    let count = entries.len();
    INDEX.with(|i| *i = Some(Index { entries, by_path }));
    Ok(count)
}

/// Indexes nothing: a machine booted without an initramfs.
pub fn init_empty() {
    let root = Entry {
        path: "/".into(),
        mode: S_IFDIR | 0o755,
        ino: 1,
        data: &[],
    };
    let mut by_path = BTreeMap::new();
    by_path.insert(String::from("/"), 0);
    INDEX.with(|i| {
        *i = Some(Index {
            entries: alloc::vec![root],
            by_path,
        })
    });
}

fn with<R>(body: impl FnOnce(&Index) -> R) -> R {
    INDEX.with(|i| body(i.as_ref().expect("initramfs::init first")))
}

/// The id of the entry at absolute, normalised `path`.
pub fn lookup(path: &str) -> Option<FileId> {
    with(|i| i.by_path.get(path).copied())
}

/// The bytes of file `id` (empty for a directory or an unknown id).
pub fn file_bytes(id: FileId) -> &'static [u8] {
    with(|i| i.entries.get(id as usize).map_or(&[][..], |e| e.data))
}

/// (path, mode, inode, size) of entry `id`.
pub fn stat(id: FileId) -> Option<(String, u32, u64, u64)> {
    with(|i| {
        i.entries
            .get(id as usize)
            .map(|e| (e.path.clone(), e.mode, e.ino, e.data.len() as u64))
    })
}

/// The names and modes of the entries directly inside directory `path`, sorted.
pub fn list(path: &str) -> Vec<(String, u32, u64)> {
    with(|i| {
        let prefix = if path == "/" {
            String::from("/")
        } else {
            alloc::format!("{path}/")
        };
        i.by_path
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.len() > prefix.len() && !p[prefix.len()..].contains('/'))
            .map(|(p, &id)| {
                let e = &i.entries[id as usize];
                (String::from(&p[prefix.len()..]), e.mode, e.ino)
            })
            .collect()
    })
}
