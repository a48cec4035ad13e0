//! Program level: one static riscv64 Linux program under sv39 and under `qemu-riscv64`.
//!
//! sv39's side is `sv39 run PROGRAM` exactly ([`crate::program::prepare`], the embedded
//! firmware and kernel, 128 MiB), run in this process with the program's stdin, stdout and
//! stderr in memory. QEMU's side is made to see the same file system paths: a workspace
//! holds the program at its guest path (`/` + the path as typed) and each `--file` at its
//! guest path; `qemu-riscv64 -L WORKSPACE` looks absolute paths up there first, and it runs
//! from the workspace, as sv39's guest runs from `/`. `argv[0]` is the path as typed on both
//! sides; when that path would not lead to the same file from the workspace (it is absolute,
//! or climbs with `..`), QEMU is given the workspace's copy and `-0 ARGV0`. The environment
//! is exactly sv39's (`PATH`, `HOME`, `TERM` and the `--env`s, through `env -i`).
//!
//! Legitimate differences are reported like any other: a guest opening a host path that is
//! not in the workspace finds the host's file under QEMU and nothing under sv39; `uname`
//! gives the host's release under QEMU; a program killed by a signal gets QEMU's
//! `qemu: uncaught target signal` line on stderr where sv39's kernel prints its own.

use std::ffi::OsString;
use std::fmt;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Duration;

use super::qemu::{self, QEMU_USER, Running, Workspace};
use super::{Capture, CrosscheckError, Status, diff};
use crate::boot::{
    BootConfig, DiskConfig, DiskSource, HostConsole, ImageSource, Initrd, build_machine_with_disk,
    default_disk_size, open_disk,
};
use crate::devices::virtio_blk::Transport;
use crate::devices::{GuestLog, HostInput, HostIo, UartInput};
use crate::images;
use crate::program::{EXAMPLES_GUEST_DIR, ProgramSource, ProgramSpec, guest_path};

/// What to cross-check.
#[derive(Debug, Clone)]
pub struct ProgramCheck {
    /// The program, its arguments, `--file`s and `--env`s, as for `sv39 run`.
    pub spec: ProgramSpec,
    /// The bytes both sides read from stdin (then end of file).
    pub stdin: Vec<u8>,
    /// QEMU's deadline.
    pub timeout: Duration,
    /// sv39's instruction budget (unlimited when `None`).
    pub max_instructions: Option<u64>,
}

/// One side's transcript.
#[derive(Debug, Clone)]
pub struct ProgramRun {
    /// Everything the program wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// How it ended.
    pub status: Status,
}

/// The two transcripts. Its [`Display`](fmt::Display) is what `sv39 crosscheck` prints.
#[derive(Debug, Clone)]
pub struct ProgramReport {
    /// sv39's.
    pub sv39: ProgramRun,
    /// qemu-riscv64's.
    pub qemu: ProgramRun,
}

/// One of the things compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// The exit status.
    Status,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Stdout => "stdout",
            Part::Stderr => "stderr",
            Part::Status => "status",
        })
    }
}

impl ProgramReport {
    /// The parts that differ, in the order stdout, stderr, status.
    pub fn differences(&self) -> Vec<Part> {
        let mut parts = Vec::new();
        if self.sv39.stdout != self.qemu.stdout {
            parts.push(Part::Stdout);
        }
        if self.sv39.stderr != self.qemu.stderr {
            parts.push(Part::Stderr);
        }
        if !self.sv39.status.agrees_with(&self.qemu.status) {
            parts.push(Part::Status);
        }
        parts
    }

    /// Whether the two agree on everything.
    pub fn agrees(&self) -> bool {
        self.differences().is_empty()
    }
}

impl fmt::Display for ProgramReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ours, theirs) = (&self.sv39, &self.qemu);
        let differences = self.differences();
        if differences.is_empty() {
            return writeln!(
                f,
                "crosscheck: agree (stdout {} bytes, stderr {} bytes, status {})",
                ours.stdout.len(),
                ours.stderr.len(),
                ours.status
            );
        }
        let names: Vec<String> = differences.iter().map(Part::to_string).collect();
        writeln!(
            f,
            "crosscheck: sv39 and {} differ in {}",
            QEMU_USER.program,
            names.join(", ")
        )?;
        for (part, a, b) in [
            (Part::Stdout, &ours.stdout, &theirs.stdout),
            (Part::Stderr, &ours.stderr, &theirs.stderr),
        ] {
            match diff::first_differing_line(b, a) {
                None => writeln!(f, "  {part}: same, {} bytes", a.len())?,
                Some(line) => writeln!(
                    f,
                    "  {part}: sv39 {} bytes, {} {} bytes; first difference on line {line}",
                    a.len(),
                    QEMU_USER.program,
                    b.len()
                )?,
            }
        }
        if differences.contains(&Part::Status) {
            writeln!(
                f,
                "  status: sv39 {}, {} {}",
                ours.status, QEMU_USER.program, theirs.status
            )?;
        } else {
            writeln!(f, "  status: same, {}", ours.status)?;
        }
        let first_stream = differences
            .iter()
            .find(|p| matches!(p, Part::Stdout | Part::Stderr));
        if let Some(&part) = first_stream {
            let (a, b) = match part {
                Part::Stdout => (&ours.stdout, &theirs.stdout),
                _ => (&ours.stderr, &theirs.stderr),
            };
            let old = format!("{} {part}", QEMU_USER.program);
            let new = format!("sv39 {part}");
            f.write_str(&diff::unified(&old, &new, b, a))?;
        }
        Ok(())
    }
}

/// Runs the program on both sides and compares them.
pub fn check_program(check: &ProgramCheck) -> Result<ProgramReport, CrosscheckError> {
    let prepared = crate::program::prepare(&check.spec)?;
    let qemu_path = qemu::locate(QEMU_USER)?;
    // sv39's machine first: it is cheap, and nothing can be wrong with it after `prepare`.
    let (stdout, stderr) = (Capture::default(), Capture::default());
    let console = HostConsole {
        uart_input: UartInput::None,
        uart_output: Box::new(GuestLog::new()),
        hostio: HostIo::new(
            HostInput::Stream(Box::new(Cursor::new(check.stdin.clone()))),
            Box::new(stdout.clone()),
            Box::new(stderr.clone()),
        ),
    };
    // The same scratch disk `sv39 run` gives the embedded kernel, so a program larger than
    // RAM swaps here too (qemu-riscv64 has the host's memory).
    let disk = open_disk(
        &DiskConfig {
            source: DiskSource::Temporary {
                size: default_disk_size(crate::layout::DEFAULT_RAM),
            },
            transport: Transport::Legacy,
        },
        crate::layout::DEFAULT_RAM,
    )
    .map_err(|e| CrosscheckError::Usage(format!("the scratch disk: {e}")))?;
    let mut machine = build_machine_with_disk(
        BootConfig {
            bios: Some(ImageSource::Embedded(
                images::FIRMWARE_NAME,
                images::FIRMWARE,
            )),
            kernel: Some(ImageSource::Embedded(images::KERNEL_NAME, images::KERNEL)),
            initrd: Some(Initrd::Bytes {
                name: "the program's initramfs".into(),
                data: prepared.initramfs,
            }),
            append: None,
            init: Some(prepared.init.clone()),
            ram_size: crate::layout::DEFAULT_RAM,
            console,
            mmu: crate::mmu::MmuConfig::default(),
            // The same cost model as `sv39 run`: qemu-riscv64's time is the host's anyway.
            timing: crate::timing::Timing::default(),
            sv39_devices: true,
        },
        Some(disk),
    )?;

    let workspace = Workspace::new()?;
    let program_path = lay_out(&workspace, &check.spec)?;
    let argv = &prepared.init.argv;
    let mut qemu_args: Vec<OsString> = vec!["-L".into(), workspace.path().into()];
    let typed = &argv[0];
    if resolves_from_workspace(typed) {
        qemu_args.push(typed.into());
    } else {
        qemu_args.extend(["-0".into(), typed.into(), program_path.into()]);
    }
    qemu_args.extend(argv[1..].iter().map(OsString::from));
    let mut cmd = qemu::clean_environment_command(&qemu_path, &qemu_args, &prepared.init.envp)?;
    cmd.current_dir(workspace.path());
    let running = Running::spawn(cmd, &check.stdin, QEMU_USER.program)?;

    let outcome = machine.run(check.max_instructions.unwrap_or(u64::MAX));
    let status = Status::from_outcome(&outcome, machine.hart.instret(), machine.hart.pc);
    // Dropping the machine flushes its devices into the captures.
    drop(machine);
    let sv39 = ProgramRun {
        stdout: stdout.take(),
        stderr: stderr.take(),
        status,
    };

    let finished = running.wait(check.timeout)?;
    let qemu = ProgramRun {
        stdout: finished.stdout,
        stderr: finished.stderr,
        status: finished.status,
    };
    Ok(ProgramReport { sv39, qemu })
}

/// Whether `typed`, as a path from the workspace, names the program's copy there: a relative
/// path that never climbs (`hello`, `./bin/hello`; not `/x/hello` nor `../hello`).
pub fn resolves_from_workspace(typed: &str) -> bool {
    !typed.starts_with('/') && typed.split('/').all(|part| part != "..")
}

/// Copies the program and the `--file`s to their guest paths in the workspace (the spec has
/// been checked by `prepare`); returns the program's path there.
fn lay_out(workspace: &Workspace, spec: &ProgramSpec) -> Result<PathBuf, CrosscheckError> {
    let read = |path: &str| {
        std::fs::read(path).map_err(|io| crate::program::ProgramError::Read {
            path: path.into(),
            io,
        })
    };
    let (bytes, guest) = match &spec.program {
        ProgramSource::Path(typed) => (read(typed)?, guest_path(typed)?),
        ProgramSource::Example(name) => {
            let bytes = images::example(name).unwrap_or_default().to_vec();
            (bytes, format!("{EXAMPLES_GUEST_DIR}/{name}"))
        }
    };
    let program = workspace.write(&guest, &bytes, 0o755)?;
    for file in &spec.files {
        let (host, guest) = match file.split_once(':') {
            Some((host, guest)) => (host, guest_path(guest)?),
            None => (file.as_str(), guest_path(file)?),
        };
        let mode = std::fs::metadata(host).map_or(0o644, |m| {
            use std::os::unix::fs::PermissionsExt;
            m.permissions().mode() & 0o777
        });
        workspace.write(&guest, &read(host)?, mode)?;
    }
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stdout: &str, stderr: &str, status: i32) -> ProgramRun {
        ProgramRun {
            stdout: stdout.into(),
            stderr: stderr.into(),
            status: Status::Exited(status),
        }
    }

    #[test]
    fn agreement_is_one_line() {
        let report = ProgramReport {
            sv39: run("hello\n", "", 7),
            qemu: run("hello\n", "", 7),
        };
        assert!(report.agrees());
        assert_eq!(
            report.to_string(),
            "crosscheck: agree (stdout 6 bytes, stderr 0 bytes, status 7)\n"
        );
    }

    #[test]
    fn a_difference_names_the_parts_and_diffs_the_first_stream() {
        let report = ProgramReport {
            sv39: run("a\nrelease 6.1.0-sv39\n", "warn\n", 0),
            qemu: run("a\nrelease 6.1.0-host\n", "other\n", 1),
        };
        assert_eq!(
            report.differences(),
            [Part::Stdout, Part::Stderr, Part::Status]
        );
        assert_eq!(
            report.to_string(),
            "crosscheck: sv39 and qemu-riscv64 differ in stdout, stderr, status\n\
             \x20 stdout: sv39 21 bytes, qemu-riscv64 21 bytes; first difference on line 2\n\
             \x20 stderr: sv39 5 bytes, qemu-riscv64 6 bytes; first difference on line 1\n\
             \x20 status: sv39 0, qemu-riscv64 1\n\
             --- qemu-riscv64 stdout\n\
             +++ sv39 stdout\n\
             @@ -1,2 +1,2 @@\n \
             a\n\
             -release 6.1.0-host\n\
             +release 6.1.0-sv39\n"
        );
    }

    #[test]
    fn a_status_difference_alone_has_no_diff() {
        let report = ProgramReport {
            sv39: run("x\n", "", 0),
            qemu: ProgramRun {
                status: Status::TimedOut(Duration::from_secs(60)),
                ..run("x\n", "", 0)
            },
        };
        let text = report.to_string();
        assert!(text.starts_with("crosscheck: sv39 and qemu-riscv64 differ in status\n"));
        assert!(text.contains("  stdout: same, 2 bytes\n"), "{text}");
        assert!(
            text.contains("  status: sv39 0, qemu-riscv64 no exit (killed at the 60 s deadline)\n"),
            "{text}"
        );
        assert!(!text.contains("---"), "{text}");
    }

    #[test]
    fn only_plain_relative_paths_resolve_from_the_workspace() {
        assert!(resolves_from_workspace("hello"));
        assert!(resolves_from_workspace("./hello"));
        assert!(resolves_from_workspace("build/./hello"));
        assert!(!resolves_from_workspace("/usr/bin/hello"));
        assert!(!resolves_from_workspace("../hello"));
        assert!(!resolves_from_workspace("a/../../hello"));
    }
}
