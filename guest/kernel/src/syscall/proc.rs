//! Process system calls: clone (fork semantics), execve, exit, wait4, identity and limits.

use alloc::boxed::Box;
use alloc::vec::Vec;

use sv39_policy::errno::Errno;
use sv39_policy::fault::Access;

use super::{Args, ret};
use crate::mm::space::{EWAIT_DISK, FaultError};
use crate::mm::uaccess;
use crate::proc::exit::{self, WaitResult};
use crate::proc::{Kernel, Outcome, Process, WaitReason, exec};

/// The most processes (zombies included) the kernel keeps.
const MAX_PROCESSES: usize = 4096;
const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x1_0000;
const CLONE_SETTLS: u64 = 0x8_0000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;

/// exit(2) and exit_group(2).
pub fn exit(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    exit::exit(k, p, a.int(0) as i32);
    Outcome::Done
}

/// clone(2) (riscv64 order: flags, stack, parent_tid, tls, child_tid): fork semantics, or
/// vfork's (CLONE_VM | CLONE_VFORK: the child borrows the parent's address space and the
/// parent waits until the child execs or exits). Threads (CLONE_THREAD, or CLONE_VM without
/// CLONE_VFORK) are not supported.
pub fn clone(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    match clone_inner(k, p, a) {
        Ok((pid, true)) => {
            p.frame.regs[10] = u64::from(pid);
            Outcome::Suspend(WaitReason::Vfork)
        }
        Ok((pid, false)) => Outcome::Return(i64::from(pid)),
        Err(e) => ret(Err(e)),
    }
}

fn clone_inner(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<(u32, bool), Errno> {
    // RLIMIT_NPROC's role: a bounded process table, and kernel memory in reserve.
    if k.procs.len() >= MAX_PROCESSES || crate::mm::heap::low() {
        return Err(Errno::EAGAIN);
    }
    let (flags, stack, ptid, tls, ctid) = (a.u(0), a.u(1), a.u(2), a.u(3), a.u(4));
    let vfork = flags & CLONE_VM != 0 && flags & CLONE_VFORK != 0;
    if flags & CLONE_THREAD != 0 || (flags & CLONE_VM != 0 && !vfork) {
        crate::klog!(
            "{}[{}]: clone with threads ({flags:#x}) is not supported",
            p.comm,
            p.pid
        );
        return Err(Errno::ENOSYS);
    }
    let space = if vfork {
        p.space.take().ok_or(Errno::EINVAL)?
    } else {
        match p.space().fork() {
            Ok(space) => space,
            Err(FaultError::Wait(_)) => return Err(EWAIT_DISK),
            Err(_) => return Err(Errno::ENOMEM),
        }
    };
    let pid = k.alloc_pid();
    let mut child = Box::new(Process::new(pid, p.pid));
    child.space = Some(space);
    child.files = p.files.clone();
    child.cwd = p.cwd.clone();
    child.exe = p.exe.clone();
    child.comm = p.comm.clone();
    child.sigactions = p.sigactions;
    child.sigmask = p.sigmask;
    child.umask = p.umask;
    child.arg_range = p.arg_range;
    if vfork {
        child.vfork_parent = Some(p.pid);
    }
    let kernel_sp = child.frame.kernel_sp;
    *child.frame = (*p.frame).clone();
    child.frame.kernel_sp = kernel_sp;
    child.frame.regs[10] = 0;
    if stack != 0 {
        child.frame.regs[2] = stack;
    }
    if flags & CLONE_SETTLS != 0 {
        child.frame.regs[4] = tls;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let _ = uaccess::write_u32(child.space.as_mut().expect("just set"), ctid, pid);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = ctid;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        if let Some(space) = p.space.as_mut() {
            let _ = uaccess::write_u32(space, ptid, pid);
        }
        let _ = uaccess::write_u32(child.space.as_mut().expect("just set"), ptid, pid);
    }
    k.procs.insert(pid, child);
    k.enqueue(pid);
    Ok((pid, vfork))
}

/// execve(2).
pub fn execve(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    type Strings = Vec<Vec<u8>>;
    let read = |p: &mut Process| -> Result<(Vec<u8>, Strings, Strings), Errno> {
        let path = uaccess::read_string(p.space(), a.u(0))?;
        let argv = uaccess::read_string_array(p.space(), a.u(1))?;
        let envp = uaccess::read_string_array(p.space(), a.u(2))?;
        Ok((path, argv, envp))
    };
    let (path, argv, envp) = match read(p) {
        Ok(x) => x,
        Err(e) => return ret(Err(e)),
    };
    let path = match core::str::from_utf8(&path) {
        Ok(s) if !s.is_empty() => alloc::string::String::from(s),
        _ => return ret(Err(Errno::ENOENT)),
    };
    match exec::exec(
        k,
        p,
        &path,
        &exec::as_slices(&argv),
        &exec::as_slices(&envp),
    ) {
        Ok(()) => Outcome::Done,
        Err(e) => {
            crate::klog!("{}[{}]: execve {path}: {}", p.comm, p.pid, e.message);
            ret(Err(e.errno))
        }
    }
}

/// wait4(2).
pub fn wait4(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    const WNOHANG: u64 = 1;
    let (which, status_va, options, rusage_va) = (a.int(0), a.u(1), a.u(2), a.u(3));
    // Reaping cannot be undone: the status and rusage pages must be there first.
    for (va, len) in [(status_va, 4), (rusage_va, 144)] {
        if va != 0
            && let Err(e) = uaccess::prefault(p.space(), va, len, Access::Write)
        {
            return ret(Err(e));
        }
    }
    match exit::reap(k, p.pid, which) {
        WaitResult::Reaped(pid, status) => {
            if status_va != 0
                && let Err(e) = uaccess::write_u32(p.space(), status_va, status as u32)
            {
                return ret(Err(e));
            }
            if rusage_va != 0 {
                let _ = uaccess::copy_out(p.space(), rusage_va, &[0u8; 144]);
            }
            Outcome::Return(i64::from(pid))
        }
        WaitResult::NotYet if options & WNOHANG != 0 => Outcome::Return(0),
        WaitResult::NotYet => Outcome::Block(WaitReason::Child),
        WaitResult::NoChild => ret(Err(Errno::ECHILD)),
    }
}

/// uname(2).
pub fn uname(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let mut b = [0u8; 65 * 6];
    let fields: [&[u8]; 6] = [
        b"Linux",
        b"sv39",
        b"6.1.0-sv39",
        b"#1 sv39",
        b"riscv64",
        b"(none)",
    ];
    for (i, f) in fields.iter().enumerate() {
        b[65 * i..65 * i + f.len()].copy_from_slice(f);
    }
    uaccess::copy_out(p.space(), a.u(0), &b)?;
    Ok(0)
}

/// prlimit64(2) for the calling process (and getrlimit): reports the limits sv39 enforces
/// or assumes; setting them is accepted and ignored.
pub fn getrlimit(p: &mut Process, resource: u64, _new: u64, old: u64) -> Result<i64, Errno> {
    const INFINITY: u64 = u64::MAX;
    let (cur, max) = match resource {
        3 => (sv39_policy::vma::DEFAULT_STACK_RLIMIT, INFINITY), // RLIMIT_STACK
        7 => (crate::fs::MAX_FDS as u64, crate::fs::MAX_FDS as u64), // RLIMIT_NOFILE
        0..=15 => (INFINITY, INFINITY),
        _ => return Err(Errno::EINVAL),
    };
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&cur.to_le_bytes());
        b[8..].copy_from_slice(&max.to_le_bytes());
        uaccess::copy_out(p.space(), old, &b)?;
    }
    Ok(0)
}

/// getrusage(2): the fault counts; times are zero.
pub fn getrusage(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let mut b = [0u8; 144];
    // struct rusage: two timevals (32 bytes), then longs: maxrss, ixrss, idrss, isrss,
    // minflt (offset 64), majflt (72).
    b[64..72].copy_from_slice(&p.min_flt.to_le_bytes());
    b[72..80].copy_from_slice(&p.maj_flt.to_le_bytes());
    uaccess::copy_out(p.space(), a.u(1), &b)?;
    Ok(0)
}

/// prctl(2): the process name.
pub fn prctl(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    const PR_SET_NAME: i64 = 15;
    const PR_GET_NAME: i64 = 16;
    match a.int(0) {
        PR_SET_NAME => {
            let mut name = uaccess::read_string(p.space(), a.u(1))?;
            name.truncate(15);
            p.comm = alloc::string::String::from_utf8_lossy(&name).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut b = [0u8; 16];
            b[..p.comm.len()].copy_from_slice(p.comm.as_bytes());
            uaccess::copy_out(p.space(), a.u(1), &b)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// sysinfo(2): uptime and memory from real numbers.
pub fn sysinfo(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let (free, total) = crate::mm::frame::usage();
    let mut b = [0u8; 112];
    b[0..8].copy_from_slice(&(k.now_ns() / 1_000_000_000).to_le_bytes());
    b[32..40].copy_from_slice(&((total as u64) * 4096).to_le_bytes());
    b[40..48].copy_from_slice(&((free as u64) * 4096).to_le_bytes());
    let (swap_total, swap_used) = crate::mm::swap::usage();
    b[64..72].copy_from_slice(&(u64::from(swap_total) * 4096).to_le_bytes());
    b[72..80].copy_from_slice(&(u64::from(swap_total - swap_used) * 4096).to_le_bytes());
    b[80..82].copy_from_slice(&(k.procs.len() as u16 + 1).to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    uaccess::copy_out(p.space(), a.u(0), &b)?;
    Ok(0)
}

/// getrandom(2): bytes from a fixed-seed generator, so runs repeat exactly. At most 64 KiB
/// per call (Linux may also return fewer bytes than asked).
pub fn getrandom(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let len = a.u(1).min(1 << 16) as usize;
    // The generator moves on once bytes are drawn: the buffer must be there first.
    uaccess::prefault(p.space(), a.u(0), len as u64, Access::Write)?;
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        bytes.extend_from_slice(&k.random_u64().to_le_bytes());
    }
    bytes.truncate(len);
    uaccess::copy_out(p.space(), a.u(0), &bytes)?;
    Ok(len as i64)
}
