//! Signals with their default actions (signal(7)): a fatal signal terminates the process
//! with the signal as its wait status; handlers may be registered (rt_sigaction records
//! them) but are not run: sv39 delivers default actions only, and says so in its log.

use super::Process;
use crate::drivers::hostio::Command;
use crate::drivers::stdio;

/// SIGILL.
pub const SIGILL: u32 = 4;
/// SIGTRAP.
pub const SIGTRAP: u32 = 5;
/// SIGBUS.
pub const SIGBUS: u32 = 7;
/// SIGKILL.
pub const SIGKILL: u32 = 9;
/// SIGSEGV.
pub const SIGSEGV: u32 = 11;
/// SIGPIPE.
pub const SIGPIPE: u32 = 13;
/// SIGCHLD.
pub const SIGCHLD: u32 = 17;
/// SIGCONT.
pub const SIGCONT: u32 = 18;
/// SIGSTOP.
pub const SIGSTOP: u32 = 19;
/// SIGTSTP.
pub const SIGTSTP: u32 = 20;
/// SIGURG.
pub const SIGURG: u32 = 23;
/// SIGWINCH.
pub const SIGWINCH: u32 = 28;

/// The highest signal number.
pub const NSIG: u32 = 64;

/// What the default action of `sig` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    /// Nothing happens.
    Ignore,
    /// The process ends, killed by the signal.
    Terminate,
}

/// The default action of `sig` (stop and continue are treated as ignore: there is no job
/// control).
pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH | SIGSTOP | SIGTSTP | 21 | 22 => {
            DefaultAction::Ignore
        }
        _ => DefaultAction::Terminate,
    }
}

/// What happens when `sig` is sent to `p`: whether it terminates the process.
pub fn is_fatal(p: &Process, sig: u32) -> bool {
    if sig == SIGKILL {
        return true;
    }
    let action = p.sigactions.get(sig as usize).copied().unwrap_or_default();
    match action.handler {
        1 => false, // SIG_IGN
        0 => default_action(sig) == DefaultAction::Terminate,
        _ => {
            crate::klog!(
                "{}[{}]: signal {sig} has a handler, which sv39 does not run: default action",
                p.comm,
                p.pid
            );
            default_action(sig) == DefaultAction::Terminate
        }
    }
}

/// Prints the Linux-like line for a fatal fault on the program's error stream:
/// `prog[pid]: segfault at ADDR ip PC cause CAUSE`.
pub fn report_fault(p: &Process, what: &str, addr: u64, cause: u64) {
    let line = alloc::format!(
        "{}[{}]: {what} at {addr:x} ip {:016x} cause {cause}\n",
        p.comm,
        p.pid,
        p.frame.sepc
    );
    stdio::write_kernel(Command::Stderr, line.as_bytes());
}
