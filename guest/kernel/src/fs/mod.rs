//! Files as the system calls see them: open file descriptions over the initramfs, the
//! console, pipes and `/proc`, and the per-process descriptor table.

pub mod initramfs;
pub mod pipe;
pub mod procfs;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use sv39_policy::errno::Errno;
use sv39_policy::vma::FileId;

use pipe::PipeEnd;

/// Resolves `path` against the directory `base` (both absolute or `path` relative) into an
/// absolute, normalised path.
pub fn normalize(base: &str, path: &str) -> Result<String, Errno> {
    let bytes = sv39_policy::path::normalize(base.as_bytes(), path.as_bytes())?;
    String::from_utf8(bytes).map_err(|_| Errno::ENOENT)
}

/// What an open file description refers to.
pub enum Node {
    /// Standard input, output or error of the machine (the host's, on sv39).
    Console(ConsoleStream),
    /// A regular file of the initramfs.
    File(FileId),
    /// A directory (of the initramfs, or `/proc`), listed at open time.
    Dir(Vec<DirEntry>),
    /// A `/proc` file, generated when opened.
    Generated(Vec<u8>),
    /// One end of a pipe.
    Pipe(PipeEnd),
    /// `/dev/null`.
    Null,
}

/// Which console stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleStream {
    /// fd 0.
    Stdin,
    /// fd 1.
    Stdout,
    /// fd 2.
    Stderr,
}

/// A directory entry for getdents64.
#[derive(Debug, Clone)]
pub struct DirEntry {
    /// The name.
    pub name: String,
    /// The inode number.
    pub ino: u64,
    /// The `d_type` (DT_DIR 4, DT_REG 8, DT_LNK 10).
    pub kind: u8,
}

/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;
/// `d_type` of a regular file.
pub const DT_REG: u8 = 8;
/// `d_type` of a symbolic link.
pub const DT_LNK: u8 = 10;

impl DirEntry {
    /// An entry named `name`.
    pub fn new(name: &str, ino: u64, kind: u8) -> Self {
        DirEntry {
            name: String::from(name),
            ino,
            kind,
        }
    }
}

/// A directory listing: `.` and `..`, then `entries`.
pub fn with_dots(entries: impl IntoIterator<Item = DirEntry>) -> Vec<DirEntry> {
    let mut listing = alloc::vec![
        DirEntry::new(".", 1, DT_DIR),
        DirEntry::new("..", 1, DT_DIR)
    ];
    listing.extend(entries);
    listing
}

/// An open file description (open(2)): shared by dup'd and inherited descriptors.
pub struct OpenFile {
    /// What it refers to.
    pub node: Node,
    /// The file offset (or the directory position).
    pub offset: u64,
    /// The status flags (O_ACCMODE, O_APPEND, O_NONBLOCK).
    pub flags: u32,
    /// The path it was opened by (for /proc/<pid>/fd and maps).
    pub path: String,
}

/// A shared open file description.
pub type FileRef = Rc<RefCell<OpenFile>>;

impl OpenFile {
    /// A new description, shared-ready.
    pub fn new(node: Node, flags: u32, path: String) -> FileRef {
        Rc::new(RefCell::new(OpenFile {
            node,
            offset: 0,
            flags,
            path,
        }))
    }
}

/// `O_ACCMODE`.
pub const O_ACCMODE: u32 = 3;
/// `O_WRONLY`.
pub const O_WRONLY: u32 = 1;
/// `O_CREAT`.
pub const O_CREAT: u32 = 0o100;
/// `O_TRUNC`.
pub const O_TRUNC: u32 = 0o1000;
/// `O_APPEND`.
pub const O_APPEND: u32 = 0o2000;
/// `O_NONBLOCK`.
pub const O_NONBLOCK: u32 = 0o4000;
/// `O_DIRECTORY`.
pub const O_DIRECTORY: u32 = 0o200000;
/// `O_CLOEXEC`.
pub const O_CLOEXEC: u32 = 0o2000000;

/// The most descriptors a process may hold (RLIMIT_NOFILE's usual soft limit).
pub const MAX_FDS: usize = 1024;

/// A process's descriptor table.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<(FileRef, bool)>>,
}

impl FdTable {
    /// Descriptors 0, 1 and 2 on the console.
    pub fn console() -> Self {
        let mut t = FdTable::default();
        for (stream, flags) in [
            (ConsoleStream::Stdin, 0),
            (ConsoleStream::Stdout, O_WRONLY),
            (ConsoleStream::Stderr, O_WRONLY),
        ] {
            let path = String::from("/dev/console");
            t.slots.push(Some((
                OpenFile::new(Node::Console(stream), flags, path),
                false,
            )));
        }
        t
    }

    /// The description behind `fd`.
    pub fn get(&self, fd: i64) -> Result<FileRef, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|(f, _)| f.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor at or above `min`.
    pub fn install(&mut self, file: FileRef, cloexec: bool, min: usize) -> Result<i64, Errno> {
        let mut i = min;
        while i < self.slots.len() && self.slots[i].is_some() {
            i += 1;
        }
        if i >= MAX_FDS {
            return Err(Errno::EMFILE);
        }
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some((file, cloexec));
        Ok(i as i64)
    }

    /// Puts `file` at exactly `fd` (dup2/dup3), closing what was there.
    pub fn install_at(&mut self, fd: i64, file: FileRef, cloexec: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd)
            .ok()
            .filter(|&i| i < MAX_FDS)
            .ok_or(Errno::EBADF)?;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some((file, cloexec));
        Ok(())
    }

    /// Closes `fd`.
    pub fn close(&mut self, fd: i64) -> Result<(), Errno> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .ok_or(Errno::EBADF)?;
        slot.take().map(|_| ()).ok_or(Errno::EBADF)
    }

    /// The close-on-exec flag of `fd`.
    pub fn cloexec(&self, fd: i64) -> Result<bool, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|(_, c)| *c)
            .ok_or(Errno::EBADF)
    }

    /// Sets the close-on-exec flag of `fd`.
    pub fn set_cloexec(&mut self, fd: i64, value: bool) -> Result<(), Errno> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
            .ok_or(Errno::EBADF)?;
        slot.1 = value;
        Ok(())
    }

    /// Closes every close-on-exec descriptor (execve).
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|(_, c)| *c) {
                *slot = None;
            }
        }
    }

    /// Closes everything (exit).
    pub fn close_all(&mut self) {
        self.slots.clear();
    }
}
