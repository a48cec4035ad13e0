//! Signal system calls: kill and tgkill with default actions, and the bookkeeping calls
//! (rt_sigaction, rt_sigprocmask, sigaltstack) that C libraries make at start-up.

use sv39_policy::errno::Errno;

use super::{Args, ret};
use crate::mm::uaccess;
use crate::proc::signal::{self, NSIG, SIGKILL, SIGSTOP};
use crate::proc::{Kernel, Outcome, Process, State, exit};

/// kill(2), tkill(2), tgkill(2): the target is a pid (processes are single-threaded).
pub fn kill(k: &mut Kernel, p: &mut Process, target: i64, sig: i64) -> Outcome {
    if !(0..=i64::from(NSIG)).contains(&sig) {
        return ret(Err(Errno::EINVAL));
    }
    let sig = sig as u32;
    // 0 and -1 and a negative group id mean (at most) ourselves and everyone; sv39 treats a
    // group as the caller's own process.
    let pid = if target <= 0 { p.pid } else { target as u32 };
    if pid == p.pid {
        if sig != 0 && signal::is_fatal(p, sig) {
            exit::terminate(k, p, sig);
            return Outcome::Done;
        }
        return Outcome::Return(0);
    }
    let Some(mut other) = k.procs.remove(&pid) else {
        return ret(Err(Errno::ESRCH));
    };
    if sig != 0 && !matches!(other.state, State::Zombie(_)) && signal::is_fatal(&other, sig) {
        exit::terminate(k, &mut other, sig);
    }
    k.procs.insert(pid, other);
    Outcome::Return(0)
}

/// rt_sigaction(2): records dispositions (struct sigaction on riscv64: handler, flags, mask).
pub fn rt_sigaction(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let sig = a.int(0);
    if !(1..=i64::from(NSIG)).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let sig = sig as usize;
    let old = p.sigactions[sig];
    if a.u(1) != 0 {
        if sig as u32 == SIGKILL || sig as u32 == SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 24];
        uaccess::copy_in(p.space(), a.u(1), &mut b)?;
        let word = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8"));
        p.sigactions[sig] = crate::proc::SigAction {
            handler: word(0),
            flags: word(1),
            mask: word(2),
        };
    }
    if a.u(2) != 0 {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&old.handler.to_le_bytes());
        b[8..16].copy_from_slice(&old.flags.to_le_bytes());
        b[16..].copy_from_slice(&old.mask.to_le_bytes());
        uaccess::copy_out(p.space(), a.u(2), &b)?;
    }
    Ok(0)
}

/// rt_sigprocmask(2).
pub fn rt_sigprocmask(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let old = p.sigmask;
    if a.u(1) != 0 {
        let set = uaccess::read_u64(p.space(), a.u(1))?;
        let unblockable = (1u64 << (SIGKILL - 1)) | (1u64 << (SIGSTOP - 1));
        p.sigmask = match a.int(0) {
            0 => old | set,
            1 => old & !set,
            2 => set,
            _ => return Err(Errno::EINVAL),
        } & !unblockable;
    }
    if a.u(2) != 0 {
        uaccess::write_u64(p.space(), a.u(2), old)?;
    }
    Ok(0)
}

/// sigaltstack(2): accepted; reports "disabled" when asked.
pub fn sigaltstack(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if a.u(1) != 0 {
        let mut b = [0u8; 24];
        b[8..12].copy_from_slice(&2u32.to_le_bytes()); // SS_DISABLE
        uaccess::copy_out(p.space(), a.u(1), &b)?;
    }
    Ok(0)
}

/// rt_sigreturn(2): no handler ever runs, so there is no frame to return to.
pub fn rt_sigreturn(k: &mut Kernel, p: &mut Process) -> Outcome {
    exit::terminate(k, p, signal::SIGSEGV);
    Outcome::Done
}
