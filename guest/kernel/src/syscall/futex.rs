//! futex(2): FUTEX_WAIT and FUTEX_WAKE (and their bitset forms, with the bitset ignored),
//! keyed by the physical address of the word so that shared mappings work across processes.

use sv39_policy::errno::Errno;
use sv39_policy::fault::Access;

use super::{Args, ret};
use crate::mm::uaccess;
use crate::proc::{Kernel, Outcome, Process, State, WaitReason};

const FUTEX_WAIT: i64 = 0;
const FUTEX_WAKE: i64 = 1;
const FUTEX_WAIT_BITSET: i64 = 9;
const FUTEX_WAKE_BITSET: i64 = 10;
const FUTEX_CMD_MASK: i64 = 0x7F;

/// futex(2).
pub fn futex(k: &mut Kernel, p: &mut Process, a: &Args) -> Outcome {
    let (uaddr, op, val, timeout) = (a.u(0), a.int(1) & FUTEX_CMD_MASK, a.u(2) as u32, a.u(3));
    if uaddr % 4 != 0 {
        return ret(Err(Errno::EINVAL));
    }
    let key = match p.space().user_physical(uaddr, Access::Read) {
        Ok(pa) => pa,
        Err(e) => return ret(Err(e)),
    };
    match op {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if p.futex_woken {
                p.futex_woken = false;
                return Outcome::Return(0);
            }
            let mut b = [0u8; 4];
            if let Err(e) = uaccess::copy_in(p.space(), uaddr, &mut b) {
                return ret(Err(e));
            }
            if u32::from_le_bytes(b) != val {
                return ret(Err(Errno::EAGAIN));
            }
            if timeout != 0 {
                // Timed waits would need a second wake source; no other thread can wake a
                // single-threaded process anyway, so the timeout is reported at once.
                return ret(Err(Errno::ETIMEDOUT));
            }
            p.futex_addr = key;
            Outcome::Block(WaitReason::Futex)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Outcome::Return(i64::from(wake_key(k, key, val))),
        _ => ret(Err(Errno::ENOSYS)),
    }
}

/// Wakes up to `count` processes waiting on the futex word with physical address `key`.
fn wake_key(k: &mut Kernel, key: u64, count: u32) -> u32 {
    let mut woken = 0;
    let pids: alloc::vec::Vec<u32> = k
        .procs
        .iter()
        .filter(|(_, q)| q.state == State::Blocked(WaitReason::Futex) && q.futex_addr == key)
        .map(|(pid, _)| *pid)
        .collect();
    for pid in pids.into_iter().take(count as usize) {
        if let Some(q) = k.procs.get_mut(&pid) {
            q.futex_woken = true;
        }
        k.make_runnable(pid);
        woken += 1;
    }
    woken
}
