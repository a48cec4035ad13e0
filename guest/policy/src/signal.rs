//! Signal numbers and wait statuses, as Linux riscv64 defines them.
//!
//! Follows signal(7) (the generic numbering of `include/uapi/asm-generic/signal.h`) and
//! wait(2)'s status encoding (`WIFEXITED`, `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`,
//! `WCOREDUMP`), and the shell convention of reporting death by signal N as status 128 + N.

/// Hangup.
pub const SIGHUP: u32 = 1;
/// Interrupt from the keyboard.
pub const SIGINT: u32 = 2;
/// Quit from the keyboard.
pub const SIGQUIT: u32 = 3;
/// Illegal instruction.
pub const SIGILL: u32 = 4;
/// Breakpoint trap.
pub const SIGTRAP: u32 = 5;
/// Abort.
pub const SIGABRT: u32 = 6;
/// Bus error (bad memory access).
pub const SIGBUS: u32 = 7;
/// Floating-point exception.
pub const SIGFPE: u32 = 8;
/// Kill (cannot be caught).
pub const SIGKILL: u32 = 9;
/// User-defined signal 1.
pub const SIGUSR1: u32 = 10;
/// Invalid memory reference.
pub const SIGSEGV: u32 = 11;
/// User-defined signal 2.
pub const SIGUSR2: u32 = 12;
/// Write to a pipe with no reader.
pub const SIGPIPE: u32 = 13;
/// Timer signal from alarm(2).
pub const SIGALRM: u32 = 14;
/// Termination.
pub const SIGTERM: u32 = 15;
/// Child stopped or terminated.
pub const SIGCHLD: u32 = 17;
/// Continue if stopped.
pub const SIGCONT: u32 = 18;
/// Stop (cannot be caught).
pub const SIGSTOP: u32 = 19;
/// Bad system call.
pub const SIGSYS: u32 = 31;
/// The number of signals (`_NSIG`, real-time signals included).
pub const NSIG: u32 = 64;

/// The signals whose default action dumps core (the `0x80` bit of a wait status).
pub fn dumps_core(sig: u32) -> bool {
    matches!(
        sig,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGSYS
    )
}

/// The wait(2) status of a process that called `exit(code)`: `(code & 0xff) << 8`.
pub fn wait_status_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The wait(2) status of a process killed by `sig`; `core_dumped` sets the `0x80` bit
/// (`WCOREDUMP`).
pub fn wait_status_signaled(sig: u32, core_dumped: bool) -> i32 {
    (sig & 0x7f) as i32 | if core_dumped { 0x80 } else { 0 }
}

/// The status a shell reports for a process killed by `sig`: 128 + `sig`.
pub fn shell_status_for_signal(sig: u32) -> i32 {
    128 + sig as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(wait_status_exited(0), 0);
        assert_eq!(wait_status_exited(3), 0x300);
        assert_eq!(wait_status_exited(-1), 0xff00);
        assert_eq!(wait_status_exited(256), 0);
        assert_eq!(wait_status_signaled(SIGKILL, false), 9);
        assert_eq!(wait_status_signaled(SIGSEGV, true), 0x8b);
        assert_eq!(shell_status_for_signal(SIGSEGV), 139);
        assert!(dumps_core(SIGSEGV));
        assert!(!dumps_core(SIGKILL));
        assert_eq!(SIGCHLD, 17);
    }
}
