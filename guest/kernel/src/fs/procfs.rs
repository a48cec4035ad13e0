//! `/proc`: generated when opened, from the kernel's own state. `maps` lists the VMAs in
//! Linux's format (`start-end perms offset major:minor inode path`), `stat` carries the
//! fault counters where Linux keeps them, `exe` is a link to the program.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use sv39_policy::errno::Errno;

use super::{DT_DIR, DT_LNK, DT_REG, DirEntry, Node};
use crate::proc::{Kernel, Process, State};

/// Splits `/proc/<who>/<rest>` and resolves `self`: (pid, rest).
fn split<'a>(p: &Process, path: &'a str) -> Option<(u32, &'a str)> {
    let rest = path.strip_prefix("/proc/")?;
    let (who, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let pid = if who == "self" || who == "thread-self" {
        p.pid
    } else {
        who.parse().ok()?
    };
    Some((pid, tail))
}

/// Runs `body` on process `pid`, which may be the caller (out of the table while it runs).
fn with_process<R>(
    k: &mut Kernel,
    p: &mut Process,
    pid: u32,
    body: impl FnOnce(&mut Process) -> R,
) -> Option<R> {
    if pid == p.pid {
        return Some(body(p));
    }
    k.procs
        .get_mut(&pid)
        .filter(|q| !matches!(q.state, State::Zombie(_)))
        .map(|q| body(q))
}

/// Opens a `/proc` path.
pub fn open(k: &mut Kernel, p: &mut Process, path: &str) -> Result<Node, Errno> {
    if path == "/proc" {
        let mut pids: Vec<u32> = k.procs.keys().copied().collect();
        pids.push(p.pid);
        pids.sort_unstable();
        let fixed = [
            DirEntry::new("self", 2, DT_LNK),
            DirEntry::new("meminfo", 3, DT_REG),
            DirEntry::new("vmstat", 4, DT_REG),
        ];
        let per_pid = pids
            .into_iter()
            .map(|pid| DirEntry::new(&alloc::format!("{pid}"), 0x1000 + u64::from(pid), DT_DIR));
        let entries = super::with_dots(fixed.into_iter().chain(per_pid));
        return Ok(Node::Dir(entries));
    }
    if path == "/proc/meminfo" {
        return Ok(Node::Generated(meminfo().into_bytes()));
    }
    if path == "/proc/vmstat" {
        return Ok(Node::Generated(crate::vmstat::render().into_bytes()));
    }
    let (pid, tail) = split(p, path).ok_or(Errno::ENOENT)?;
    let node = with_process(k, p, pid, |q| -> Result<Node, Errno> {
        Ok(match tail {
            "" => Node::Dir(super::with_dots([
                DirEntry::new("cmdline", 5, DT_REG),
                DirEntry::new("exe", 6, DT_LNK),
                DirEntry::new("maps", 7, DT_REG),
                DirEntry::new("stat", 8, DT_REG),
                DirEntry::new("status", 9, DT_REG),
            ])),
            "maps" => Node::Generated(maps(q).into_bytes()),
            "stat" => Node::Generated(stat(q).into_bytes()),
            "status" => Node::Generated(status(q).into_bytes()),
            "cmdline" => Node::Generated(cmdline(q)),
            "exe" => {
                let id = super::initramfs::lookup(&q.exe).ok_or(Errno::ENOENT)?;
                Node::File(id)
            }
            _ => return Err(Errno::ENOENT),
        })
    });
    node.ok_or(Errno::ENOENT)?
}

/// The target of a `/proc` link.
pub fn readlink(k: &mut Kernel, p: &mut Process, path: &str) -> Result<String, Errno> {
    if path == "/proc/self" {
        return Ok(alloc::format!("{}", p.pid));
    }
    let (pid, tail) = split(p, path).ok_or(Errno::EINVAL)?;
    match tail {
        "exe" => with_process(k, p, pid, |q| q.exe.clone()).ok_or(Errno::ENOENT),
        "cwd" => with_process(k, p, pid, |q| q.cwd.clone()).ok_or(Errno::ENOENT),
        _ => Err(Errno::EINVAL),
    }
}

/// `/proc/<pid>/maps`.
pub fn maps(q: &mut Process) -> String {
    let mut out = String::new();
    if let Some(space) = q.space.as_ref() {
        out = sv39_policy::maps::render(&space.vmas);
    }
    out
}

/// `/proc/<pid>/stat`: the fields Linux has, with the ones sv39 keeps filled in (pid, comm,
/// state, ppid, minflt (10), majflt (12)).
fn stat(q: &Process) -> String {
    let state = match q.state {
        State::Runnable => 'R',
        State::Blocked(_) => 'S',
        State::Zombie(_) => 'Z',
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "{} ({}) {state} {} {} {} 0 -1 4194304 {} 0 {} 0",
        q.pid, q.comm, q.ppid, q.pid, 1, q.min_flt, q.maj_flt
    );
    for _ in 0..38 {
        s.push_str(" 0");
    }
    s.push('\n');
    s
}

/// `/proc/<pid>/status`: the common header lines.
fn status(q: &Process) -> String {
    let state = match q.state {
        State::Runnable => "R (running)",
        State::Blocked(_) => "S (sleeping)",
        State::Zombie(_) => "Z (zombie)",
    };
    alloc::format!(
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{state}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
        q.comm,
        q.umask,
        q.pid,
        q.pid,
        q.ppid
    )
}

/// `/proc/<pid>/cmdline`: the argument strings as they lie on the initial stack.
fn cmdline(q: &mut Process) -> Vec<u8> {
    let (start, end) = q.arg_range;
    let mut buf = alloc::vec![0u8; end.saturating_sub(start).min(1 << 16) as usize];
    match q
        .space
        .as_mut()
        .map(|space| crate::mm::uaccess::copy_in(space, start, &mut buf))
    {
        Some(Ok(())) => buf,
        _ => Vec::new(),
    }
}

/// `/proc/meminfo`: totals from the frame allocator and the swap slots.
fn meminfo() -> String {
    let (free, total) = crate::mm::frame::usage();
    let (swap_total, swap_used) = crate::mm::swap::usage();
    alloc::format!(
        "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nSwapTotal:      {:8} kB\nSwapFree:       {:8} kB\n",
        total * 4,
        free * 4,
        free * 4,
        u64::from(swap_total) * 4,
        u64::from(swap_total - swap_used) * 4
    )
}
