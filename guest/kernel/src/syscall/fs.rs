//! File system calls: read, write and their vector and positional forms, open, stat,
//! directories, descriptors, pipes, the working directory.
//!
//! The initramfs is read-only here (writes and creation are `EROFS`); `/proc` is generated;
//! descriptors 0, 1 and 2 are the console (the host's stdin, stdout and stderr on sv39).

use alloc::string::String;
use alloc::vec::Vec;

use sv39_policy::errno::Errno;
use sv39_policy::fault::Access;

use super::{Args, ret};
use crate::drivers::hostio::Command;
use crate::drivers::stdio;
use crate::fs::initramfs::{self, S_IFDIR, S_IFMT, S_IFREG};
use crate::fs::pipe::{CAPACITY, PIPE_BUF};
use crate::fs::{
    ConsoleStream, DT_DIR, DT_REG, DirEntry, FileRef, Node, O_ACCMODE, O_APPEND, O_CLOEXEC,
    O_CREAT, O_DIRECTORY, O_NONBLOCK, O_TRUNC, O_WRONLY, OpenFile, procfs,
};
use crate::mm::space::EWAIT_DISK;
use crate::mm::uaccess;

/// The most bytes one read or write moves between a file or the console and user memory:
/// the user pages of a transfer are held in memory together.
const MAX_TRANSFER: u64 = 4 << 20;
use crate::proc::{Kernel, Outcome, Process, WaitReason, exit, signal, wake_all};

/// `AT_FDCWD`.
const AT_FDCWD: i64 = -100;
/// `AT_EMPTY_PATH`.
const AT_EMPTY_PATH: u64 = 0x1000;

/// Resolves `path` for `*at` calls relative to `dirfd`.
fn resolve(p: &mut Process, dirfd: i64, path_va: u64) -> Result<String, Errno> {
    let raw = uaccess::read_string(p.space(), path_va)?;
    let text = String::from_utf8(raw).map_err(|_| Errno::ENOENT)?;
    if text.is_empty() {
        return Err(Errno::ENOENT);
    }
    let base = if text.starts_with('/') || dirfd == AT_FDCWD {
        p.cwd.clone()
    } else {
        let file = p.files.get(dirfd)?;
        let f = file.borrow();
        if !matches!(f.node, Node::Dir(_)) {
            return Err(Errno::ENOTDIR);
        }
        f.path.clone()
    };
    crate::fs::normalize(&base, &text)
}

/// Directory entries for `path` in the initramfs, with `.` and `..` (and `/proc` in `/`).
fn list_dir(path: &str) -> Vec<DirEntry> {
    let files = initramfs::list(path).into_iter().map(|(name, mode, ino)| {
        let kind = if mode & S_IFMT == S_IFDIR {
            DT_DIR
        } else {
            DT_REG
        };
        DirEntry { name, ino, kind }
    });
    let proc_dir = (path == "/" && initramfs::lookup("/proc").is_none())
        .then(|| DirEntry::new("proc", 0xF000_0001, DT_DIR));
    crate::fs::with_dots(files.chain(proc_dir))
}

/// openat(2).
pub fn openat(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if crate::mm::heap::low() {
        return Err(Errno::ENOMEM);
    }
    let path = resolve(p, a.int(0), a.u(1))?;
    let flags = a.u(2) as u32;
    let node = open_node(k, p, &path, flags)?;
    let file = OpenFile::new(node, flags & !(O_CLOEXEC | O_CREAT | O_TRUNC), path);
    p.files.install(file, flags & O_CLOEXEC != 0, 0)
}

fn open_node(k: &mut Kernel, p: &mut Process, path: &str, flags: u32) -> Result<Node, Errno> {
    let writing = flags & O_ACCMODE != 0 || flags & (O_CREAT | O_TRUNC) != 0;
    if path == "/dev/null" {
        return Ok(Node::Null);
    }
    if path == "/dev/tty" || path == "/dev/console" || path == "/dev/stdout" {
        return Ok(Node::Console(ConsoleStream::Stdout));
    }
    if path == "/dev/stderr" {
        return Ok(Node::Console(ConsoleStream::Stderr));
    }
    if path == "/dev/stdin" {
        return Ok(Node::Console(ConsoleStream::Stdin));
    }
    if path == "/proc" || path.starts_with("/proc/") {
        if writing {
            return Err(Errno::EACCES);
        }
        let node = procfs::open(k, p, path)?;
        if flags & O_DIRECTORY != 0 && !matches!(node, Node::Dir(_)) {
            return Err(Errno::ENOTDIR);
        }
        return Ok(node);
    }
    match initramfs::lookup(path) {
        None if flags & O_CREAT != 0 => Err(Errno::EROFS),
        None => Err(Errno::ENOENT),
        Some(id) => {
            let (_, mode, _, _) = initramfs::stat(id).ok_or(Errno::ENOENT)?;
            if mode & S_IFMT == S_IFDIR {
                if flags & O_ACCMODE != 0 {
                    return Err(Errno::EISDIR);
                }
                return Ok(Node::Dir(list_dir(path)));
            }
            if flags & O_DIRECTORY != 0 {
                return Err(Errno::ENOTDIR);
            }
            if writing {
                return Err(Errno::EROFS);
            }
            Ok(Node::File(id))
        }
    }
}

/// The bytes behind a seekable, readable node.
fn contents(node: &Node) -> Option<&[u8]> {
    match node {
        Node::File(id) => Some(initramfs::file_bytes(*id)),
        Node::Generated(data) => Some(data),
        _ => None,
    }
}

/// Reads into user `[buf, buf + count)`.
fn read_into(p: &mut Process, file: &FileRef, buf: u64, count: u64) -> Result<i64, Outcome> {
    let err = |e: Errno| Outcome::Return(-i64::from(e.0));
    let mut f = file.borrow_mut();
    if f.flags & O_ACCMODE == O_WRONLY {
        return Err(err(Errno::EBADF));
    }
    let nonblock = f.flags & O_NONBLOCK != 0;
    let offset = f.offset;
    match &mut f.node {
        Node::Console(ConsoleStream::Stdin) => {
            let space = p.space();
            // Input read is gone from the host: the buffer must be there first (at most 64 KiB
            // a call, as a terminal or pipe read may return less than asked anyway).
            let count = count.min(1 << 16);
            uaccess::prefault(space, buf, count, Access::Write).map_err(err)?;
            let mut done = 0u64;
            while done < count {
                let at = buf + done;
                let n = (((at | 0xFFF) + 1) - at).min(count - done);
                let pa = space.user_physical(at, Access::Write).map_err(err)?;
                match stdio::read_physical(pa, n) {
                    Some(got) => {
                        done += got;
                        if got < n {
                            break;
                        }
                    }
                    None if done == 0 && !nonblock => {
                        return Err(Outcome::Block(WaitReason::Stdin));
                    }
                    None if done == 0 => return Err(err(Errno::EAGAIN)),
                    None => break,
                }
            }
            Ok(done as i64)
        }
        Node::Console(_) => Err(err(Errno::EBADF)),
        Node::Null => Ok(0),
        Node::Dir(_) => Err(err(Errno::EISDIR)),
        Node::Pipe(end) => {
            if end.write {
                return Err(err(Errno::EBADF));
            }
            let mut pipe = end.pipe.borrow_mut();
            if pipe.buffer.is_empty() {
                return if pipe.writers == 0 {
                    Ok(0)
                } else if nonblock {
                    Err(err(Errno::EAGAIN))
                } else {
                    Err(Outcome::Block(WaitReason::Pipe))
                };
            }
            let n = (count as usize).min(pipe.buffer.len());
            let bytes: Vec<u8> = pipe.buffer.iter().take(n).copied().collect();
            uaccess::copy_out(p.space(), buf, &bytes).map_err(err)?;
            pipe.buffer.drain(..n);
            wake_all(WaitReason::Pipe);
            Ok(n as i64)
        }
        node => {
            // Generated files are small; initramfs files are copied straight from the archive.
            let generated;
            let data: &[u8] = match node {
                Node::File(id) => initramfs::file_bytes(*id),
                other => {
                    generated = contents(other).expect("seekable").to_vec();
                    &generated
                }
            };
            let start = (offset as usize).min(data.len());
            // At most 4 MiB a call, as for console writes (a short read).
            let count = count.min(MAX_TRANSFER);
            let end = start.saturating_add(count as usize).min(data.len());
            uaccess::copy_out(p.space(), buf, &data[start..end]).map_err(err)?;
            f.offset += (end - start) as u64;
            Ok((end - start) as i64)
        }
    }
}

/// Writes user `[buf, buf + count)`.
fn write_from(
    k: &mut Kernel,
    p: &mut Process,
    file: &FileRef,
    buf: u64,
    count: u64,
) -> Result<i64, Outcome> {
    let err = |e: Errno| Outcome::Return(-i64::from(e.0));
    let mut f = file.borrow_mut();
    if f.flags & O_ACCMODE == 0 && !matches!(f.node, Node::Console(_) | Node::Pipe(_)) {
        return Err(err(Errno::EBADF));
    }
    let nonblock = f.flags & O_NONBLOCK != 0;
    match &mut f.node {
        Node::Console(stream) => {
            let command = match stream {
                ConsoleStream::Stderr => Command::Stderr,
                _ => Command::Stdout,
            };
            // At most 4 MiB a call (a short write, which callers loop on): the pages written
            // are all held at once, and a buffer larger than memory could never be.
            let count = count.min(MAX_TRANSFER);
            uaccess::for_each_chunk(p.space(), buf, count, Access::Read, |pa, _, n| {
                stdio::write_physical(command, pa, n as u64);
            })
            .map_err(err)?;
            Ok(count as i64)
        }
        Node::Null => Ok(count as i64),
        Node::Pipe(end) => {
            if !end.write {
                return Err(err(Errno::EBADF));
            }
            let pipe_ref = end.pipe.clone();
            drop(f);
            // A blocking write finishes whole (pipe(7)); one of at most PIPE_BUF bytes is also
            // atomic. The bytes already written survive the restart in `partial_write`.
            let done = core::mem::take(&mut p.partial_write);
            let (readers, room) = {
                let pipe = pipe_ref.borrow();
                (pipe.readers, CAPACITY - pipe.buffer.len())
            };
            if readers == 0 {
                if done > 0 {
                    return Ok(done as i64);
                }
                if signal::is_fatal(p, signal::SIGPIPE) {
                    exit::terminate(k, p, signal::SIGPIPE);
                    return Err(Outcome::Done);
                }
                return Err(err(Errno::EPIPE));
            }
            let remaining = count - done;
            let atomic = count <= PIPE_BUF;
            // Pipe buffers live on the kernel heap: when it runs low, a pipe takes no more.
            let room = if crate::mm::heap::low() { 0 } else { room };
            if room == 0 || (atomic && (room as u64) < remaining) {
                if nonblock {
                    return if done > 0 {
                        Ok(done as i64)
                    } else {
                        Err(err(Errno::EAGAIN))
                    };
                }
                p.partial_write = done;
                return Err(Outcome::Block(WaitReason::Pipe));
            }
            let n = remaining.min(room as u64);
            let mut bytes = alloc::vec![0u8; n as usize];
            if let Err(e) = uaccess::copy_in(p.space(), buf + done, &mut bytes) {
                // What is already in the pipe stays written, across a wait for swap too.
                return if e == EWAIT_DISK {
                    p.partial_write = done;
                    Err(Outcome::Block(WaitReason::Disk))
                } else if done > 0 {
                    Ok(done as i64)
                } else {
                    Err(err(e))
                };
            }
            pipe_ref.borrow_mut().buffer.extend(bytes);
            wake_all(WaitReason::Pipe);
            let done = done + n;
            if done < count && !nonblock {
                p.partial_write = done;
                return Err(Outcome::Block(WaitReason::Pipe));
            }
            Ok(done as i64)
        }
        _ => Err(err(Errno::EBADF)),
    }
}

/// read(2).
pub fn read(p: &mut Process, a: &Args) -> Outcome {
    let file = match p.files.get(a.int(0)) {
        Ok(f) => f,
        Err(e) => return ret(Err(e)),
    };
    match read_into(p, &file, a.u(1), a.u(2)) {
        Ok(n) => Outcome::Return(n),
        Err(outcome) => outcome,
    }
}

/// write(2).
pub fn write(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    let file = match p.files.get(a.int(0)) {
        Ok(f) => f,
        Err(e) => return ret(Err(e)),
    };
    match write_from(k, p, &file, a.u(1), a.u(2)) {
        Ok(n) => Outcome::Return(n),
        Err(outcome) => outcome,
    }
}

/// Reads the iovec array of readv/writev.
fn iovecs(p: &mut Process, va: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::new();
    for i in 0..count {
        let base = uaccess::read_u64(p.space(), va + 16 * i)?;
        let len = uaccess::read_u64(p.space(), va + 16 * i + 8)?;
        out.push((base, len));
    }
    Ok(out)
}

/// The descriptor (a0) and the iovec array (a1, a2) of readv and writev.
fn file_and_iovecs(p: &mut Process, a: &Args) -> Result<(FileRef, Vec<(u64, u64)>), Errno> {
    let file = p.files.get(a.int(0))?;
    Ok((file, iovecs(p, a.u(1), a.u(2))?))
}

/// readv(2): stops at the first short read; blocks only if nothing was read.
pub fn readv(p: &mut Process, a: &Args) -> Outcome {
    let (file, vecs) = match file_and_iovecs(p, a) {
        Ok(x) => x,
        Err(e) => return ret(Err(e)),
    };
    let mut total = 0i64;
    for (base, len) in vecs {
        if len == 0 {
            continue;
        }
        match read_into(p, &file, base, len) {
            Ok(n) => {
                total += n;
                if (n as u64) < len {
                    break;
                }
            }
            Err(outcome) if total == 0 => return outcome,
            Err(_) => break,
        }
    }
    Outcome::Return(total)
}

/// writev(2). Bytes written before a wait are remembered across the restart, as in write.
pub fn writev(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    let (file, vecs) = match file_and_iovecs(p, a) {
        Ok(x) => x,
        Err(e) => return ret(Err(e)),
    };
    let already = core::mem::take(&mut p.partial_write);
    let mut offset = 0u64;
    for (base, len) in vecs {
        if len == 0 || offset + len <= already {
            offset += len;
            continue;
        }
        p.partial_write = already.saturating_sub(offset);
        match write_from(k, p, &file, base, len) {
            Ok(n) => {
                offset += n as u64;
                if (n as u64) < len {
                    break;
                }
            }
            Err(Outcome::Block(reason)) => {
                p.partial_write += offset;
                return Outcome::Block(reason);
            }
            Err(outcome) if offset == 0 => return outcome,
            Err(_) => break,
        }
    }
    p.partial_write = 0;
    Outcome::Return(offset as i64)
}

/// pread64(2).
pub fn pread64(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    let offset = a.i(3);
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    let data: Vec<u8>;
    let bytes: &[u8] = match &file.borrow().node {
        Node::Dir(_) => return Err(Errno::EISDIR),
        Node::File(id) => initramfs::file_bytes(*id),
        node => {
            data = contents(node).ok_or(Errno::ESPIPE)?.to_vec();
            &data
        }
    };
    let start = (offset as usize).min(bytes.len());
    let end = start.saturating_add(a.u(2) as usize).min(bytes.len());
    uaccess::copy_out(p.space(), a.u(1), &bytes[start..end])?;
    Ok((end - start) as i64)
}

/// lseek(2).
pub fn lseek(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    let mut f = file.borrow_mut();
    let size = match &f.node {
        Node::Dir(entries) => entries.len() as i64,
        node => contents(node).ok_or(Errno::ESPIPE)?.len() as i64,
    };
    let base = match a.int(2) {
        0 => 0,
        1 => f.offset as i64,
        2 => size,
        _ => return Err(Errno::EINVAL),
    };
    let new = base
        .checked_add(a.i(1))
        .filter(|&o| o >= 0)
        .ok_or(Errno::EINVAL)?;
    f.offset = new as u64;
    Ok(new)
}

/// What stat reports about a file.
struct StatInfo {
    mode: u32,
    ino: u64,
    size: u64,
    rdev: u64,
    dev: u64,
}

fn stat_node(node: &Node, path: &str) -> StatInfo {
    match node {
        Node::File(id) => {
            let (_, mode, ino, size) = initramfs::stat(*id).unwrap_or_default();
            StatInfo {
                mode,
                ino,
                size,
                rdev: 0,
                dev: 1,
            }
        }
        Node::Dir(_) => {
            let ino = initramfs::lookup(path)
                .and_then(initramfs::stat)
                .map_or(1, |s| s.2);
            StatInfo {
                mode: S_IFDIR | 0o755,
                ino,
                size: 0,
                rdev: 0,
                dev: 1,
            }
        }
        Node::Generated(data) => StatInfo {
            mode: S_IFREG | 0o444,
            ino: 0xF000_0002,
            size: data.len() as u64,
            rdev: 0,
            dev: 4,
        },
        // A character device that is not a terminal (TCGETS answers ENOTTY), like a console
        // redirected to a file or pipe on the host.
        Node::Console(_) => StatInfo {
            mode: 0o020620,
            ino: 3,
            size: 0,
            rdev: (5 << 8) | 1,
            dev: 5,
        },
        Node::Null => StatInfo {
            mode: 0o020666,
            ino: 4,
            size: 0,
            rdev: (1 << 8) | 3,
            dev: 5,
        },
        Node::Pipe(_) => StatInfo {
            mode: 0o010600,
            ino: 5,
            size: 0,
            rdev: 0,
            dev: 12,
        },
    }
}

fn stat_path(k: &mut Kernel, p: &mut Process, path: &str) -> Result<StatInfo, Errno> {
    let node = open_node(k, p, path, 0)?;
    Ok(stat_node(&node, path))
}

/// Writes a `struct stat` (asm-generic, 128 bytes).
fn write_stat(p: &mut Process, va: u64, s: &StatInfo) -> Result<i64, Errno> {
    let mut b = [0u8; 128];
    b[0..8].copy_from_slice(&s.dev.to_le_bytes());
    b[8..16].copy_from_slice(&s.ino.to_le_bytes());
    b[16..20].copy_from_slice(&s.mode.to_le_bytes());
    b[20..24].copy_from_slice(&1u32.to_le_bytes()); // nlink
    b[32..40].copy_from_slice(&s.rdev.to_le_bytes());
    b[48..56].copy_from_slice(&s.size.to_le_bytes());
    b[56..60].copy_from_slice(&4096u32.to_le_bytes()); // blksize
    b[64..72].copy_from_slice(&s.size.div_ceil(512).to_le_bytes()); // blocks
    uaccess::copy_out(p.space(), va, &b)?;
    Ok(0)
}

/// fstat(2).
pub fn fstat(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    let info = {
        let f = file.borrow();
        stat_node(&f.node, &f.path)
    };
    write_stat(p, a.u(1), &info)
}

/// newfstatat(2).
pub fn newfstatat(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let info = stat_at(k, p, a.int(0), a.u(1), a.u(3))?;
    write_stat(p, a.u(2), &info)
}

fn stat_at(
    k: &mut Kernel,
    p: &mut Process,
    dirfd: i64,
    path_va: u64,
    flags: u64,
) -> Result<StatInfo, Errno> {
    if flags & AT_EMPTY_PATH != 0 {
        let raw = uaccess::read_string(p.space(), path_va)?;
        if raw.is_empty() {
            if dirfd == AT_FDCWD {
                let cwd = p.cwd.clone();
                return stat_path(k, p, &cwd);
            }
            let file = p.files.get(dirfd)?;
            let f = file.borrow();
            return Ok(stat_node(&f.node, &f.path));
        }
    }
    let path = resolve(p, dirfd, path_va)?;
    stat_path(k, p, &path)
}

/// statx(2): the basic fields.
pub fn statx(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let s = stat_at(k, p, a.int(0), a.u(1), a.u(2))?;
    let mut b = [0u8; 256];
    b[0..4].copy_from_slice(&0x7FFu32.to_le_bytes()); // STATX_BASIC_STATS
    b[4..8].copy_from_slice(&4096u32.to_le_bytes());
    b[16..20].copy_from_slice(&1u32.to_le_bytes()); // nlink
    b[28..30].copy_from_slice(&(s.mode as u16).to_le_bytes());
    b[32..40].copy_from_slice(&s.ino.to_le_bytes());
    b[40..48].copy_from_slice(&s.size.to_le_bytes());
    b[48..56].copy_from_slice(&s.size.div_ceil(512).to_le_bytes());
    b[128..132].copy_from_slice(&((s.rdev >> 8) as u32).to_le_bytes());
    b[132..136].copy_from_slice(&((s.rdev & 0xFF) as u32).to_le_bytes());
    b[136..140].copy_from_slice(&((s.dev >> 8) as u32).to_le_bytes());
    b[140..144].copy_from_slice(&((s.dev & 0xFF) as u32).to_le_bytes());
    uaccess::copy_out(p.space(), a.u(4), &b)?;
    Ok(0)
}

/// getdents64(2).
pub fn getdents64(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    let mut out = Vec::new();
    {
        let mut f = file.borrow_mut();
        let start = f.offset as usize;
        let Node::Dir(entries) = &f.node else {
            return Err(Errno::ENOTDIR);
        };
        let mut index = start;
        while let Some(e) = entries.get(index) {
            let reclen = (19 + e.name.len() + 1).div_ceil(8) * 8;
            if out.len() + reclen > a.u(2) as usize {
                if out.is_empty() {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let mut rec = alloc::vec![0u8; reclen];
            rec[0..8].copy_from_slice(&e.ino.to_le_bytes());
            rec[8..16].copy_from_slice(&((index + 1) as u64).to_le_bytes());
            rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
            rec[18] = e.kind;
            rec[19..19 + e.name.len()].copy_from_slice(e.name.as_bytes());
            out.extend_from_slice(&rec);
            index += 1;
        }
        f.offset = index as u64;
    }
    uaccess::copy_out(p.space(), a.u(1), &out)?;
    Ok(out.len() as i64)
}

/// readlinkat(2): `/proc/self/exe` and `/proc/<pid>/exe` are the only links.
pub fn readlinkat(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let path = resolve(p, a.int(0), a.u(1))?;
    let target = procfs::readlink(k, p, &path)?;
    let n = target.len().min(a.u(3) as usize);
    uaccess::copy_out(p.space(), a.u(2), &target.as_bytes()[..n])?;
    Ok(n as i64)
}

/// faccessat(2) and faccessat2.
pub fn faccessat(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let path = resolve(p, a.int(0), a.u(1))?;
    let mode = a.u(2);
    if path == "/proc" || path.starts_with("/proc/") || path.starts_with("/dev/") {
        return Ok(0);
    }
    let id = initramfs::lookup(&path).ok_or(Errno::ENOENT)?;
    let (_, fmode, _, _) = initramfs::stat(id).ok_or(Errno::ENOENT)?;
    if mode & 2 != 0 {
        return Err(Errno::EROFS);
    }
    if mode & 1 != 0 && fmode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// mkdirat, unlinkat, renameat, linkat, symlinkat: the initramfs is read-only.
pub fn modify_fs(p: &mut Process, a: &Args, number: u64) -> Result<i64, Errno> {
    let path = resolve(p, a.int(0), a.u(1))?;
    let exists = initramfs::lookup(&path).is_some();
    match number {
        34 if exists => Err(Errno::EEXIST),
        35 | 38 if !exists => Err(Errno::ENOENT),
        _ => Err(Errno::EROFS),
    }
}

/// chdir(2).
pub fn chdir(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let path = resolve(p, AT_FDCWD, a.u(0))?;
    let id = initramfs::lookup(&path).ok_or(Errno::ENOENT)?;
    let (_, mode, _, _) = initramfs::stat(id).ok_or(Errno::ENOENT)?;
    if mode & S_IFMT != S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    p.cwd = path;
    Ok(0)
}

/// fchdir(2).
pub fn fchdir(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    let f = file.borrow();
    if !matches!(f.node, Node::Dir(_)) {
        return Err(Errno::ENOTDIR);
    }
    p.cwd = f.path.clone();
    Ok(0)
}

/// getcwd(2): the length including the NUL.
pub fn getcwd(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let mut bytes = p.cwd.clone().into_bytes();
    bytes.push(0);
    if bytes.len() as u64 > a.u(1) {
        return Err(Errno::ERANGE);
    }
    uaccess::copy_out(p.space(), a.u(0), &bytes)?;
    Ok(bytes.len() as i64)
}

/// dup(2).
pub fn dup(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let file = p.files.get(a.int(0))?;
    p.files.install(file, false, 0)
}

/// dup3(2) (and dup2, which glibc builds on it).
pub fn dup3(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let (old, new) = (a.int(0), a.int(1));
    if old == new {
        return Err(Errno::EINVAL);
    }
    let file = p.files.get(old)?;
    p.files
        .install_at(new, file, a.u(2) as u32 & O_CLOEXEC != 0)?;
    Ok(new)
}

/// fcntl(2): descriptor duplication and flags.
pub fn fcntl(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let fd = a.int(0);
    let file = p.files.get(fd)?;
    match a.int(1) {
        0 => p.files.install(file, false, a.u(2) as usize), // F_DUPFD
        1030 => p.files.install(file, true, a.u(2) as usize), // F_DUPFD_CLOEXEC
        1 => Ok(i64::from(p.files.cloexec(fd)?)),           // F_GETFD
        2 => p.files.set_cloexec(fd, a.u(2) & 1 != 0).map(|()| 0), // F_SETFD
        3 => Ok(i64::from(file.borrow().flags)),            // F_GETFL
        4 => {
            // F_SETFL: only O_APPEND and O_NONBLOCK change.
            let mut f = file.borrow_mut();
            let mask = O_APPEND | O_NONBLOCK;
            f.flags = (f.flags & !mask) | (a.u(2) as u32 & mask);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// ioctl(2): no descriptor is a terminal.
pub fn ioctl(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    p.files.get(a.int(0))?;
    Err(Errno::ENOTTY)
}

/// pipe2(2).
pub fn pipe2(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if crate::mm::heap::low() {
        return Err(Errno::ENOMEM);
    }
    let flags = a.u(1) as u32;
    if flags & !(O_CLOEXEC | O_NONBLOCK | 0o40000) != 0 {
        return Err(Errno::EINVAL);
    }
    uaccess::prefault(p.space(), a.u(0), 8, Access::Write)?;
    let (r, w) = crate::fs::pipe::PipeEnd::pair();
    let cloexec = flags & O_CLOEXEC != 0;
    let status = flags & O_NONBLOCK;
    let rf = OpenFile::new(Node::Pipe(r), status, String::from("pipe:"));
    let wf = OpenFile::new(Node::Pipe(w), status | O_WRONLY, String::from("pipe:"));
    let rfd = p.files.install(rf, cloexec, 0)?;
    let wfd = match p.files.install(wf, cloexec, 0) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = p.files.close(rfd);
            return Err(e);
        }
    };
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&(rfd as i32).to_le_bytes());
    bytes[4..].copy_from_slice(&(wfd as i32).to_le_bytes());
    if let Err(e) = uaccess::copy_out(p.space(), a.u(0), &bytes) {
        let _ = p.files.close(rfd);
        let _ = p.files.close(wfd);
        return Err(e);
    }
    Ok(0)
}
