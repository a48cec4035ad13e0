//! `sv39 crosscheck`: the same workload on sv39 and on QEMU, and where the two part ways.
//!
//! QEMU is the reference everyone already trusts, so sv39 drives it itself and compares:
//!
//! - **program level** ([`program`]): a static riscv64 Linux program under sv39 (embedded
//!   firmware and kernel, exactly as `sv39 run PROGRAM` runs it) and under `qemu-riscv64`,
//!   with the same arguments, environment, files and stdin; stdout, stderr and the exit
//!   status are compared;
//! - **system level** ([`system`]): firmware, kernel and initrd booted on sv39 and on
//!   `qemu-system-riscv64 -M virt -icount shift=0`; the console transcripts are compared line
//!   by line (less the lines the user chooses to ignore), and so are the exit statuses;
//! - **instruction level** ([`lockstep`]): the same images, or the embedded firmware and
//!   kernel running a program, on sv39 and on `qemu-system-riscv64 -singlestep -d cpu,fpu`,
//!   their whole architectural state compared after every instruction ([`qemu_log`] reads
//!   QEMU's side).
//!
//! sv39 runs in this process, its output captured in memory; QEMU runs as a child in a process
//! group of its own, in a temporary directory, with no network, and never outlives the check
//! ([`qemu`] kills the whole group on every way out: normal exit, error, deadline, panic,
//! Ctrl-C). The reports render themselves ([`std::fmt::Display`]): one summary line when the
//! two agree, otherwise the differing parts and a unified diff ([`diff`]) with QEMU's side as
//! the old text (`---`) and sv39's as the new (`+++`).

pub mod diff;
pub mod lockstep;
mod lockstep_report;
mod lockstep_rules;
pub mod program;
pub mod qemu;
pub mod qemu_log;
pub mod system;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::machine::RunOutcome;

pub use lockstep::{LockstepCheck, LockstepReport, check_lockstep};
pub use program::{ProgramCheck, ProgramReport, check_program};
pub use system::{SystemCheck, SystemReport, check_system};

/// The default deadline for QEMU.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a cross-check could not be carried out (as opposed to finding a difference, which is
/// a report).
#[derive(Debug, thiserror::Error)]
pub enum CrosscheckError {
    /// The QEMU binary for this level is not on the `PATH`.
    #[error(
        "{program} not found on the PATH: install the Debian package {package} (apt-get install {package})"
    )]
    QemuMissing {
        /// The binary looked for.
        program: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// Another program the check needs is not on the `PATH`.
    #[error("{program} not found on the PATH (needed to start QEMU with a clean environment)")]
    ToolMissing {
        /// The binary looked for.
        program: &'static str,
    },
    /// The program, a `--file` or an `--env` is unusable (the same checks as `sv39 run`).
    #[error(transparent)]
    Program(#[from] crate::program::ProgramError),
    /// sv39's machine could not be built from the images.
    #[error(transparent)]
    Boot(#[from] crate::boot::BootError),
    /// An `--ignore` pattern is not a regular expression.
    #[error("--ignore {pattern:?}: {}", regex_error_line(error))]
    BadIgnore {
        /// The pattern as given.
        pattern: String,
        /// What the regex crate says is wrong with it.
        error: regex::Error,
    },
    /// The options contradict each other.
    #[error("{0}")]
    Usage(String),
    /// A host path given for QEMU cannot be made absolute.
    #[error("{path}: {io}")]
    Path {
        /// The path as given.
        path: PathBuf,
        /// The host's error.
        io: std::io::Error,
    },
    /// The temporary directory QEMU runs in could not be made or filled.
    #[error("preparing QEMU's temporary directory ({what}): {io}")]
    Workspace {
        /// What was being done.
        what: String,
        /// The host's error.
        io: std::io::Error,
    },
    /// QEMU (or the shell that starts it) could not be started.
    #[error("cannot start {program}: {io}")]
    Spawn {
        /// The program.
        program: String,
        /// The host's error.
        io: std::io::Error,
    },
    /// QEMU ran but gave nothing to compare (no CPU state, or a log that is not QEMU
    /// 7.2's).
    #[error("{0}")]
    Qemu(String),
    /// Waiting for QEMU failed.
    #[error("waiting for {program}: {error}")]
    Wait {
        /// The program.
        program: String,
        /// The host's error.
        error: std::io::Error,
    },
}

/// The regex crate's message, which draws the pattern over several lines, as one line: what
/// is wrong (`unclosed group`).
fn regex_error_line(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

/// How one side's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It exited with this status, as a shell reports it: a program killed by a signal is
    /// 128 + the signal, on both sides.
    Exited(i32),
    /// sv39 stopped without the guest powering off (the instruction budget ran out, or the
    /// hart can never make progress): what happened.
    Hung(String),
    /// QEMU was still running at the deadline and was killed.
    TimedOut(Duration),
}

impl Status {
    /// sv39's status for how its machine stopped, as `sv39 run` reports it.
    pub fn from_outcome(outcome: &RunOutcome, instret: u64, pc: u64) -> Status {
        match *outcome {
            // A failure code that is a multiple of 256 must not read as success.
            RunOutcome::Exit(code) if code != 0 && code.is_multiple_of(256) => Status::Exited(1),
            RunOutcome::Exit(code) => Status::Exited(i32::from(code as u8)),
            RunOutcome::InstructionLimit => Status::Hung(format!(
                "stopped after {instret} instructions (--max-instructions) at pc {pc:#x}"
            )),
            RunOutcome::Deadlock => Status::Hung(format!(
                "waits (wfi at pc {pc:#x}) for an interrupt that can never arrive"
            )),
            RunOutcome::TrapLoop { cause, tval, pc } => Status::Hung(format!(
                "stuck in a trap loop: cause {cause} at pc {pc:#x}, tval {tval:#x}"
            )),
        }
    }

    /// Whether both sides exited, with the same status. A hang or a timeout never agrees
    /// with anything: there is no status to compare.
    pub fn agrees_with(&self, other: &Status) -> bool {
        matches!((self, other), (Status::Exited(a), Status::Exited(b)) if a == b)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "{code}"),
            Status::Hung(why) => write!(f, "no exit ({why})"),
            Status::TimedOut(after) => {
                write!(f, "no exit (killed at the {} s deadline)", after.as_secs())
            }
        }
    }
}

pub use crate::capture::Capture;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_sv39_run() {
        let status = |o: RunOutcome| Status::from_outcome(&o, 10, 0x8000_0000);
        assert_eq!(status(RunOutcome::Exit(0)), Status::Exited(0));
        assert_eq!(status(RunOutcome::Exit(139)), Status::Exited(139));
        assert_eq!(status(RunOutcome::Exit(256)), Status::Exited(1));
        assert_eq!(status(RunOutcome::Exit(300)), Status::Exited(44));
        let hung = status(RunOutcome::InstructionLimit);
        assert_eq!(
            hung.to_string(),
            "no exit (stopped after 10 instructions (--max-instructions) at pc 0x80000000)"
        );
        assert!(!hung.agrees_with(&hung));
        let timed_out = Status::TimedOut(Duration::from_secs(60));
        assert_eq!(
            timed_out.to_string(),
            "no exit (killed at the 60 s deadline)"
        );
        assert!(!timed_out.agrees_with(&Status::TimedOut(Duration::from_secs(60))));
        assert!(Status::Exited(3).agrees_with(&Status::Exited(3)));
        assert!(!Status::Exited(3).agrees_with(&Status::Exited(0)));
    }
}
