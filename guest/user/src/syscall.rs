//! Raw system calls, Linux riscv64 ABI: `ecall` with the number in a7, arguments in
//! a0..a5, the result in a0, a value in -4095..=-1 being a negated errno.

use core::arch::asm;
use core::fmt;

/// System-call numbers (asm-generic `unistd.h`, which riscv64 uses unchanged).
pub mod nr {
    /// `close(fd)`
    pub const CLOSE: usize = 57;
    /// `openat(dirfd, path, flags, mode)`
    pub const OPENAT: usize = 56;
    /// `read(fd, buf, count)`
    pub const READ: usize = 63;
    /// `write(fd, buf, count)`
    pub const WRITE: usize = 64;
    /// `fstat(fd, statbuf)`
    pub const FSTAT: usize = 80;
    /// `exit(status)`: ends the calling thread.
    pub const EXIT: usize = 93;
    /// `exit_group(status)`: ends the process.
    pub const EXIT_GROUP: usize = 94;
    /// `getrusage(who, usage)`
    pub const GETRUSAGE: usize = 165;
    /// `getpid()`
    pub const GETPID: usize = 172;
    /// `munmap(addr, length)`
    pub const MUNMAP: usize = 215;
    /// `clone(flags, stack, parent_tid, tls, child_tid)`
    pub const CLONE: usize = 220;
    /// `mmap(addr, length, prot, flags, fd, offset)`
    pub const MMAP: usize = 222;
    /// `mprotect(addr, length, prot)`
    pub const MPROTECT: usize = 226;
    /// `madvise(addr, length, advice)`
    pub const MADVISE: usize = 233;
    /// `wait4(pid, status, options, rusage)`
    pub const WAIT4: usize = 260;
}

/// A failed system call: the positive errno the kernel returned negated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub usize);

impl Errno {
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(4);

    /// The symbolic name of the common errno values, `None` for the others.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            4 => "EINTR",
            9 => "EBADF",
            10 => "ECHILD",
            11 => "EAGAIN",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            22 => "EINVAL",
            38 => "ENOSYS",
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// Splits a raw return value into a result: -4095..=-1 are errors, as in the kernel ABI.
pub fn result(raw: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&raw) {
        Err(Errno(raw.unsigned_abs()))
    } else {
        Ok(raw as usize)
    }
}

/// Performs system call `number` with six arguments (unused ones are ignored by the kernel)
/// and returns the raw value of a0.
///
/// # Safety
/// The call must be sound for its arguments: pointers valid for what the call reads or
/// writes, and no call that unmaps or changes memory the program still uses.
#[inline(always)]
pub unsafe fn syscall6(number: usize, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `ecall` into the kernel clobbers only
    // a0 (the result), which is declared, and memory, which asm! assumes by default.
    unsafe {
        asm!(
            "ecall",
            inlateout("a0") args[0] => ret,
            in("a1") args[1],
            in("a2") args[2],
            in("a3") args[3],
            in("a4") args[4],
            in("a5") args[5],
            in("a7") number,
            options(nostack),
        );
    }
    ret
}

/// [`syscall6`] with up to three arguments.
///
/// # Safety
/// As [`syscall6`].
#[inline(always)]
pub unsafe fn syscall3(number: usize, a0: usize, a1: usize, a2: usize) -> isize {
    // SAFETY: forwarded from the caller; the unused registers carry zero.
    unsafe { syscall6(number, [a0, a1, a2, 0, 0, 0]) }
}
