//! Processes: exit, fork (as `clone`), wait4, getpid, getrusage.

use core::ptr;

use crate::syscall::{self, Errno, nr};

/// `SIGCHLD`: with `clone`, the signal the child sends its parent on exit; alone as the
/// flags, `clone` behaves as `fork`.
pub const SIGCHLD: usize = 17;

/// Ends the process with `status` (its low 8 bits reach the parent).
pub fn exit(status: i32) -> ! {
    // SAFETY: exit_group takes no pointer and does not return.
    unsafe {
        syscall::syscall3(nr::EXIT_GROUP, status as usize, 0, 0);
    }
    unreachable!("exit_group returned")
}

/// The caller's process id.
pub fn getpid() -> usize {
    // SAFETY: getpid takes no argument and cannot fail.
    let raw = unsafe { syscall::syscall3(nr::GETPID, 0, 0, 0) };
    raw as usize
}

/// Which side of a [`fork`] the caller is on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fork {
    /// The new process.
    Child,
    /// The original process, told the child's pid.
    Parent {
        /// The child's process id.
        child: usize,
    },
}

/// Duplicates the process: `clone(SIGCHLD, 0, NULL, 0, NULL)`, the fork of asm-generic.
pub fn fork() -> Result<Fork, Errno> {
    // SAFETY: without CLONE_VM the child gets its own copy of the address space, and a
    // zero stack argument keeps it on (its copy of) the current stack, so neither side can
    // disturb the other's memory.
    let raw = unsafe { syscall::syscall6(nr::CLONE, [SIGCHLD, 0, 0, 0, 0, 0]) };
    Ok(match syscall::result(raw)? {
        0 => Fork::Child,
        child => Fork::Parent { child },
    })
}

/// How a waited-for child ended (decoded from the wait4 status word).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaitStatus {
    /// It called exit with this status.
    Exited(u8),
    /// A signal killed it.
    Signaled {
        /// The signal number.
        signal: u8,
        /// Whether it left a core dump.
        core_dumped: bool,
    },
    /// Another state (stopped or continued), as the raw status word.
    Other(u32),
}

impl WaitStatus {
    /// Decodes a status word as `WIFEXITED`, `WIFSIGNALED` and friends do.
    pub fn from_raw(status: u32) -> WaitStatus {
        let signal = (status & 0x7f) as u8;
        match signal {
            0 => WaitStatus::Exited(((status >> 8) & 0xff) as u8),
            0x7f => WaitStatus::Other(status),
            _ => WaitStatus::Signaled {
                signal,
                core_dumped: status & 0x80 != 0,
            },
        }
    }
}

/// Waits for child `pid` to end: `wait4(pid, &status, 0, NULL)`. Returns the pid reaped
/// and how the child ended.
pub fn wait_pid(pid: usize) -> Result<(usize, WaitStatus), Errno> {
    let mut status: u32 = 0;
    loop {
        // SAFETY: `status` is a live u32 the kernel may write; rusage is NULL.
        let raw = unsafe {
            syscall::syscall6(
                nr::WAIT4,
                [pid, ptr::from_mut(&mut status) as usize, 0, 0, 0, 0],
            )
        };
        match syscall::result(raw) {
            Ok(reaped) => return Ok((reaped, WaitStatus::from_raw(status))),
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
}

/// The page-fault counters of `getrusage(RUSAGE_SELF)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Faults {
    /// `ru_minflt`: faults served without waiting for the disk.
    pub minor: u64,
    /// `ru_majflt`: faults that read their page from the disk.
    pub major: u64,
}

impl Faults {
    /// The faults since `earlier`.
    pub fn since(self, earlier: Faults) -> Faults {
        Faults {
            minor: self.minor.wrapping_sub(earlier.minor),
            major: self.major.wrapping_sub(earlier.major),
        }
    }
}

/// The caller's fault counters: `getrusage(RUSAGE_SELF, &usage)`.
pub fn faults() -> Faults {
    const RUSAGE_SELF: usize = 0;
    // struct rusage: two timevals (32 bytes), then 14 longs; ru_minflt is the fifth long
    // (byte 64), ru_majflt the sixth.
    let mut usage = [0u64; 18];
    // SAFETY: `usage` is valid for writes of the 144 bytes getrusage writes.
    let raw =
        unsafe { syscall::syscall3(nr::GETRUSAGE, RUSAGE_SELF, usage.as_mut_ptr() as usize, 0) };
    match syscall::result(raw) {
        Ok(_) => Faults {
            minor: usage[8],
            major: usage[9],
        },
        Err(_) => Faults::default(),
    }
}
