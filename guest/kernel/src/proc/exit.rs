//! Process exit, termination by a signal, and wait4 (wait(2)).

use super::{Kernel, Process, State, WaitReason, wake_all};
use crate::mm::uaccess;

/// Ends `p` (taken out of the table by the caller) with wait status `status`: files closed,
/// memory released, children handed to init, parent woken. When init ends, so does the
/// machine, with the status a shell would report.
pub fn exit_with_status(k: &mut Kernel, p: &mut Process, status: i32) {
    if p.clear_child_tid != 0 {
        let addr = p.clear_child_tid;
        if let Some(space) = p.space.as_mut() {
            let _ = uaccess::write_u32(space, addr, 0);
        }
    }
    p.files.close_all();
    if let Some(space) = p.space.take() {
        match p.vfork_parent.take() {
            Some(ppid) => k.end_vfork(ppid, space),
            None => space.destroy(),
        }
    }
    k.forget_fp_owner(p.pid);
    p.state = State::Zombie(status);
    for child in k.procs.values_mut() {
        if child.ppid == p.pid {
            child.ppid = 1;
        }
    }
    wake_all(WaitReason::Child);
    if p.pid == 1 {
        let code = if status & 0x7f != 0 {
            128 + (status & 0x7f)
        } else {
            (status >> 8) & 0xff
        };
        crate::power_off_with_status(code as u8);
    }
}

/// Ends `p` with exit code `code` (exit_group).
pub fn exit(k: &mut Kernel, p: &mut Process, code: i32) {
    exit_with_status(k, p, (code & 0xff) << 8);
}

/// Ends `p`, killed by signal `sig`.
pub fn terminate(k: &mut Kernel, p: &mut Process, sig: u32) {
    exit_with_status(k, p, (sig & 0x7f) as i32);
}

/// The result of looking for a child to reap.
pub enum WaitResult {
    /// A zombie child: (pid, wait status); it has been removed from the table.
    Reaped(u32, i32),
    /// Children exist, none has exited.
    NotYet,
    /// No child matches.
    NoChild,
}

/// Looks for a child of `parent` matching `which` (-1 or 0: any; > 0: that pid) that has
/// exited, and reaps it.
pub fn reap(k: &mut Kernel, parent: u32, which: i64) -> WaitResult {
    let matches = |pid: u32| which <= 0 || i64::from(pid) == which;
    let mut any = false;
    let mut zombie = None;
    for (pid, p) in &k.procs {
        if p.ppid == parent && matches(*pid) {
            any = true;
            if let State::Zombie(status) = p.state {
                zombie = Some((*pid, status));
                break;
            }
        }
    }
    match zombie {
        Some((pid, status)) => {
            k.procs.remove(&pid);
            WaitResult::Reaped(pid, status)
        }
        None if any => WaitResult::NotYet,
        None => WaitResult::NoChild,
    }
}
