//! The Linux riscv64 system-call ABI (asm-generic numbers): `a7` is the number, `a0..a5`
//! the arguments, `a0` the result or `-errno`. One file per family.
//!
//! Calls sv39 does not implement return `-ENOSYS`, logged once per number (the kernel log
//! is shown by `sv39 run -v` or `RUST_LOG`).

pub mod fs;
pub mod futex;
pub mod mm;
pub mod proc;
pub mod signal;
pub mod time;

use sv39_policy::errno::Errno;

use crate::mm::space::EWAIT_DISK;
use crate::proc::{Kernel, Outcome, Process, WaitReason};
use crate::sync::KernelCell;

/// The six argument registers.
pub struct Args(pub [u64; 6]);

impl Args {
    /// Argument `i` as an unsigned value.
    pub fn u(&self, i: usize) -> u64 {
        self.0[i]
    }

    /// Argument `i` as a signed value (fds, pids, dirfds).
    pub fn i(&self, i: usize) -> i64 {
        self.0[i] as i64
    }

    /// Argument `i` as a C `int` (the upper half of the register is ignored, as Linux does).
    pub fn int(&self, i: usize) -> i64 {
        i64::from(self.0[i] as i32)
    }
}

/// Turns a result into the value for a0.
pub fn ret(result: Result<i64, Errno>) -> Outcome {
    Outcome::Return(match result {
        Ok(value) => value,
        Err(errno) => -i64::from(errno.0),
    })
}

/// Numbers already reported as unsupported (bit per number below 512).
static REPORTED: KernelCell<[u64; 8]> = KernelCell::new([0; 8]);

/// Runs the system call in `p`'s registers.
pub fn dispatch(k: &mut Kernel, p: &mut Process) -> Outcome {
    match call(k, p) {
        // A user page the call needs is on its way back from swap: wait, then start over.
        Outcome::Return(value) if value == -i64::from(EWAIT_DISK.0) => {
            Outcome::Block(WaitReason::Disk)
        }
        outcome => outcome,
    }
}

/// Runs system call `a7`.
fn call(k: &mut Kernel, p: &mut Process) -> Outcome {
    let r = &p.frame.regs;
    let number = r[17];
    let a = Args([r[10], r[11], r[12], r[13], r[14], r[15]]);
    match number {
        17 => ret(fs::getcwd(p, &a)),
        23 => ret(fs::dup(p, &a)),
        24 => ret(fs::dup3(p, &a)),
        25 => ret(fs::fcntl(p, &a)),
        29 => ret(fs::ioctl(p, &a)),
        34 | 35 | 37 | 38 | 33 => ret(fs::modify_fs(p, &a, number)),
        48 | 439 => ret(fs::faccessat(p, &a)),
        49 => ret(fs::chdir(p, &a)),
        50 => ret(fs::fchdir(p, &a)),
        56 => ret(fs::openat(k, p, &a)),
        57 => ret(p.files.close(a.int(0)).map(|()| 0)),
        59 => ret(fs::pipe2(p, &a)),
        61 => ret(fs::getdents64(p, &a)),
        62 => ret(fs::lseek(p, &a)),
        63 => fs::read(p, &a),
        64 => fs::write(k, p, &a),
        65 => fs::readv(p, &a),
        66 => fs::writev(k, p, &a),
        67 => ret(fs::pread64(p, &a)),
        78 => ret(fs::readlinkat(k, p, &a)),
        79 => ret(fs::newfstatat(k, p, &a)),
        80 => ret(fs::fstat(p, &a)),
        81..=83 => ret(Ok(0)), // fsync, sync, fdatasync: nothing is buffered
        93 | 94 => proc::exit(k, p, &a),
        96 => {
            p.clear_child_tid = a.u(0);
            ret(Ok(i64::from(p.pid)))
        }
        98 => futex::futex(k, p, &a),
        99 => ret(Ok(0)), // set_robust_list: single-threaded processes have no robust futexes
        101 => time::nanosleep(k, p, a.u(0), 0, false),
        113 => ret(time::clock_gettime(k, p, &a)),
        114 => ret(time::clock_getres(p, &a)),
        115 => time::nanosleep(k, p, a.u(2), a.u(1), true),
        124 => {
            k.yield_now = true;
            ret(Ok(0))
        }
        129 => signal::kill(k, p, a.int(0), a.int(1)),
        130 => signal::kill(k, p, a.int(0), a.int(1)),
        131 => signal::kill(k, p, a.int(1), a.int(2)),
        132 => ret(signal::sigaltstack(p, &a)),
        134 => ret(signal::rt_sigaction(p, &a)),
        135 => ret(signal::rt_sigprocmask(p, &a)),
        139 => signal::rt_sigreturn(k, p),
        153 => ret(time::times(k, p, &a)),
        154 => ret(Ok(0)),                // setpgid
        155 => ret(Ok(i64::from(p.pid))), // getpgid
        156 => ret(Ok(1)),                // getsid
        157 => ret(Ok(i64::from(p.pid))), // setsid
        160 => ret(proc::uname(p, &a)),
        163 => ret(proc::getrlimit(p, a.u(0), 0, a.u(1))),
        165 => ret(proc::getrusage(p, &a)),
        166 => {
            let old = p.umask;
            p.umask = (a.u(0) & 0o777) as u32;
            ret(Ok(i64::from(old)))
        }
        167 => ret(proc::prctl(p, &a)),
        169 => ret(time::gettimeofday(k, p, &a)),
        172 | 178 => ret(Ok(i64::from(p.pid))),
        173 => ret(Ok(i64::from(p.ppid))),
        174..=177 => ret(Ok(0)), // getuid, geteuid, getgid, getegid: root
        179 => ret(proc::sysinfo(k, p, &a)),
        214 => ret(mm::brk(p, &a)),
        215 => ret(mm::munmap(p, &a)),
        216 => ret(mm::mremap(p, &a)),
        220 => proc::clone(k, p, &a),
        221 => proc::execve(k, p, &a),
        222 => ret(mm::mmap(p, &a)),
        226 => ret(mm::mprotect(p, &a)),
        227 => ret(Ok(0)), // msync: there is no file to write back to
        228 => ret(mm::mlock(p, &a, true)),
        229 => ret(mm::mlock(p, &a, false)),
        230 => ret(mm::mlockall(p, &a)),
        231 => ret(mm::munlockall(p)),
        233 => ret(mm::madvise(p, &a)),
        258 => ret(Err(Errno::ENOSYS)), // riscv_hwprobe: callers fall back to AT_HWCAP
        259 => {
            crate::arch::cpu::fence_i();
            ret(Ok(0))
        }
        260 => proc::wait4(k, p, &a),
        261 => ret(proc::getrlimit(p, a.u(1), a.u(2), a.u(3))),
        278 => ret(proc::getrandom(k, p, &a)),
        291 => ret(fs::statx(k, p, &a)),
        _ => {
            report_unsupported(p, number);
            ret(Err(Errno::ENOSYS))
        }
    }
}

/// Logs an unsupported call the first time its number is seen.
fn report_unsupported(p: &Process, number: u64) {
    let first = REPORTED.with(|seen| {
        let i = (number as usize).min(511);
        let bit = 1u64 << (i % 64);
        let new = seen[i / 64] & bit == 0;
        seen[i / 64] |= bit;
        new
    });
    if first {
        crate::klog!(
            "{}[{}]: system call {number} ({}) is not supported: ENOSYS",
            p.comm,
            p.pid,
            name(number)
        );
    }
}

/// The name of a system call number, for the log.
fn name(number: u64) -> &'static str {
    match number {
        19 => "eventfd2",
        20 => "epoll_create1",
        26 => "inotify_init1",
        43 => "statfs",
        44 => "fstatfs",
        46 => "ftruncate",
        47 => "fallocate",
        53 => "fchmodat",
        54 => "fchownat",
        71 => "sendfile",
        72 => "pselect6",
        73 => "ppoll",
        88 => "utimensat",
        95 => "waitid",
        198 => "socket",
        203 => "connect",
        212 => "recvmsg",
        216 => "mremap",
        232 => "mincore",
        242 => "accept4",
        276 => "renameat2",
        279 => "memfd_create",
        283 => "membarrier",
        293 => "rseq",
        435 => "clone3",
        _ => "unknown",
    }
}
