//! Time system calls, all from the `time` CSR: deterministic, because sv39 derives time from
//! the instruction count. The wall clock starts at a fixed date (2026-01-01T00:00:00Z) at
//! boot.

use sv39_policy::errno::Errno;

use super::Args;
use crate::arch::cpu;
use crate::mm::uaccess;
use crate::proc::{Kernel, Outcome, Process, WaitReason};

/// Seconds from the Unix epoch to boot, for CLOCK_REALTIME.
const BOOT_EPOCH: u64 = 1_767_225_600;

fn now_for(k: &Kernel, clock: i64) -> Result<u64, Errno> {
    let ns = k.now_ns();
    match clock {
        0 | 5 | 8 => Ok(ns + BOOT_EPOCH * 1_000_000_000), // REALTIME, REALTIME_COARSE, ALARM
        1 | 2 | 3 | 4 | 6 | 7 | 9 => Ok(ns),
        _ => Err(Errno::EINVAL),
    }
}

fn write_timespec(p: &mut Process, va: u64, ns: u64) -> Result<(), Errno> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    uaccess::copy_out(p.space(), va, &b)
}

/// clock_gettime(2).
pub fn clock_gettime(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    let ns = now_for(k, a.int(0))?;
    write_timespec(p, a.u(1), ns)?;
    Ok(0)
}

/// clock_getres(2): one timebase tick.
pub fn clock_getres(p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if !(0..=9).contains(&a.int(0)) {
        return Err(Errno::EINVAL);
    }
    if a.u(1) != 0 {
        write_timespec(p, a.u(1), 100)?;
    }
    Ok(0)
}

/// gettimeofday(2).
pub fn gettimeofday(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if a.u(0) != 0 {
        let ns = now_for(k, 0)?;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
        uaccess::copy_out(p.space(), a.u(0), &b)?;
    }
    Ok(0)
}

/// times(2): clock ticks (100 Hz) since boot; process times are zero.
pub fn times(k: &mut Kernel, p: &mut Process, a: &Args) -> Result<i64, Errno> {
    if a.u(0) != 0 {
        uaccess::copy_out(p.space(), a.u(0), &[0u8; 32])?;
    }
    Ok((k.now_ns() / 10_000_000) as i64)
}

/// nanosleep(2) and clock_nanosleep(2): the first call sets the deadline and waits; the
/// restarted call returns once it has passed.
pub fn nanosleep(
    k: &mut Kernel,
    p: &mut Process,
    req: u64,
    flags: u64,
    clock_form: bool,
) -> Outcome {
    if let Some(deadline) = p.sleep_until {
        if cpu::time() >= deadline {
            p.sleep_until = None;
            return Outcome::Return(0);
        }
        return Outcome::Block(WaitReason::Sleep);
    }
    let mut b = [0u8; 16];
    if let Err(e) = uaccess::copy_in(p.space(), req, &mut b) {
        return super::ret(Err(e));
    }
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return super::ret(Err(Errno::EINVAL));
    }
    let ns = (sec as u128) * 1_000_000_000 + nsec as u128;
    let ticks = (ns * k.timebase as u128 / 1_000_000_000) as u64;
    let now = cpu::time();
    let deadline = if clock_form && flags & 1 != 0 {
        // TIMER_ABSTIME, against the clock's own origin.
        let origin = if p.frame.regs[10] == 0 {
            BOOT_EPOCH * k.timebase
        } else {
            0
        };
        ticks.saturating_sub(origin)
    } else {
        now.saturating_add(ticks)
    };
    if deadline <= now {
        return Outcome::Return(0);
    }
    p.sleep_until = Some(deadline);
    Outcome::Block(WaitReason::Sleep)
}
