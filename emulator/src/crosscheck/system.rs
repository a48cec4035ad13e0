//! System level: the same firmware, kernel and initrd booted on sv39 and on
//! `qemu-system-riscv64 -M virt`, console transcripts compared line by line.
//!
//! QEMU runs as `qemu-system-riscv64 -M virt -m SIZE -nographic -icount shift=0 -nic none`
//! with `-bios`, `-kernel`, `-initrd` and `-append` mapped from the options; `-icount
//! shift=0` makes its clock advance one nanosecond per instruction, which is sv39's timing
//! (1 GHz, `mtime` at 10 MHz), so timer-driven output lines up. Without `--bios` or
//! `--kernel` the embedded images are used on both sides (written into QEMU's workspace).
//! Neither side gets console input.
//!
//! The transcript is the console output (sv39's UART, and its host I/O device's stdout, as
//! `sv39 run` prints them) split into lines, without line endings; lines matching any
//! `--ignore` pattern are dropped from both before the comparison.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use regex::RegexSet;

use super::qemu::{self, QEMU_SYSTEM, Running, Workspace};
use super::{Capture, CrosscheckError, Status, diff};
use crate::boot::{
    BootConfig, DiskConfig, DiskSource, HostConsole, ImageSource, Initrd, build_machine_with_disk,
    human_size, open_disk,
};
use crate::devices::virtio_blk::Transport;
use crate::devices::{HostInput, HostIo, UartInput};
use crate::images;

/// What to boot on both machines.
#[derive(Debug, Clone)]
pub struct SystemCheck {
    /// Firmware: `None` for the embedded one, `Some("none")` for none (the hart starts at
    /// the kernel), or a path.
    pub bios: Option<String>,
    /// Kernel: `None` for the embedded one.
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk.
    pub initrd: Option<PathBuf>,
    /// Kernel command line.
    pub append: Option<String>,
    /// RAM size in bytes.
    pub ram_size: u64,
    /// Regular expressions for lines to leave out of the comparison.
    pub ignore: Vec<String>,
    /// QEMU's deadline.
    pub timeout: Duration,
    /// sv39's instruction budget (unlimited when `None`).
    pub max_instructions: Option<u64>,
    /// A disk image for the virtio-blk device of both machines. QEMU gets a copy, so the two
    /// never see each other's writes (`-drive ...,format=raw -device virtio-blk-device`).
    pub disk: Option<PathBuf>,
}

/// One side's console.
#[derive(Debug, Clone)]
pub struct Console {
    /// The lines compared (those no `--ignore` pattern matched).
    pub lines: Vec<String>,
    /// How many lines were ignored.
    pub ignored: usize,
    /// How the machine stopped.
    pub status: Status,
    /// What the emulator itself said on stderr (QEMU's warnings; the guest's stderr through
    /// sv39's host I/O device), shown when the two differ.
    pub stderr: Vec<u8>,
}

impl Console {
    /// Splits `output` into lines and drops those `ignore` matches.
    pub fn new(output: &[u8], ignore: &RegexSet, status: Status, stderr: Vec<u8>) -> Console {
        let text = String::from_utf8_lossy(output);
        let all: Vec<&str> = text.lines().collect();
        let lines: Vec<String> = all
            .iter()
            .filter(|line| !ignore.is_match(line))
            .map(|line| line.to_string())
            .collect();
        Console {
            ignored: all.len() - lines.len(),
            lines,
            status,
            stderr,
        }
    }

    fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// The two consoles. Its [`Display`](fmt::Display) is what `sv39 crosscheck --system` prints.
#[derive(Debug, Clone)]
pub struct SystemReport {
    /// sv39's.
    pub sv39: Console,
    /// qemu-system-riscv64's.
    pub qemu: Console,
    /// Whether any `--ignore` pattern was given.
    pub ignoring: bool,
}

impl SystemReport {
    /// Whether the transcripts are the same line for line.
    pub fn console_agrees(&self) -> bool {
        self.sv39.lines == self.qemu.lines
    }

    /// Whether the statuses agree.
    pub fn status_agrees(&self) -> bool {
        self.sv39.status.agrees_with(&self.qemu.status)
    }

    /// Whether the two agree on everything.
    pub fn agrees(&self) -> bool {
        self.console_agrees() && self.status_agrees()
    }
}

impl fmt::Display for SystemReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let qemu_name = QEMU_SYSTEM.program;
        let ignored = if self.ignoring {
            format!(
                "; ignored lines: sv39 {}, {qemu_name} {}",
                self.sv39.ignored, self.qemu.ignored
            )
        } else {
            String::new()
        };
        if self.agrees() {
            return writeln!(
                f,
                "crosscheck: agree (console {} lines, status {}{ignored})",
                self.sv39.lines.len(),
                self.sv39.status
            );
        }
        let parts: Vec<&str> = [
            (!self.console_agrees()).then_some("console"),
            (!self.status_agrees()).then_some("status"),
        ]
        .into_iter()
        .flatten()
        .collect();
        writeln!(
            f,
            "crosscheck: sv39 and {qemu_name} differ in {}",
            parts.join(", ")
        )?;
        let (ours, theirs) = (self.sv39.text(), self.qemu.text());
        match diff::first_differing_line(theirs.as_bytes(), ours.as_bytes()) {
            None => writeln!(
                f,
                "  console: same, {} lines{ignored}",
                self.sv39.lines.len()
            )?,
            Some(line) => writeln!(
                f,
                "  console: sv39 {} lines, {qemu_name} {} lines; first difference on line {line}{}{ignored}",
                self.sv39.lines.len(),
                self.qemu.lines.len(),
                if self.ignoring {
                    " (of the lines compared)"
                } else {
                    ""
                }
            )?,
        }
        if self.status_agrees() {
            writeln!(f, "  status: same, {}", self.sv39.status)?;
        } else {
            writeln!(
                f,
                "  status: sv39 {}, {qemu_name} {}",
                self.sv39.status, self.qemu.status
            )?;
        }
        for (who, stderr) in [("sv39", &self.sv39.stderr), (qemu_name, &self.qemu.stderr)] {
            let text = String::from_utf8_lossy(stderr);
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            writeln!(f, "  {who} stderr:")?;
            for line in lines.iter().take(10) {
                writeln!(f, "    {line}")?;
            }
            if lines.len() > 10 {
                writeln!(f, "    ... {} more lines", lines.len() - 10)?;
            }
        }
        f.write_str(&diff::unified(
            &format!("{qemu_name} console"),
            "sv39 console",
            theirs.as_bytes(),
            ours.as_bytes(),
        ))
    }
}

/// The `--ignore` patterns, compiled (each one checked on its own, so an error names it).
pub fn ignore_set(patterns: &[String]) -> Result<RegexSet, CrosscheckError> {
    for pattern in patterns {
        regex::Regex::new(pattern).map_err(|error| CrosscheckError::BadIgnore {
            pattern: pattern.clone(),
            error,
        })?;
    }
    RegexSet::new(patterns).map_err(|error| CrosscheckError::BadIgnore {
        pattern: patterns.join(" "),
        error,
    })
}

/// The images resolved to host paths for QEMU, and to sources for sv39.
pub(super) struct Images {
    pub(super) bios: Option<ImageSource>,
    pub(super) kernel: Option<ImageSource>,
    pub(super) qemu_args: Vec<String>,
}

fn absolute(path: &Path) -> Result<String, CrosscheckError> {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .map_err(|io| CrosscheckError::Path {
            path: path.to_path_buf(),
            io,
        })
}

/// Maps the options onto both machines, writing the embedded images into `workspace` when
/// QEMU needs them.
pub(super) fn resolve_images(
    check: &SystemCheck,
    workspace: &Workspace,
) -> Result<Images, CrosscheckError> {
    let mut embedded_dir: Option<PathBuf> = None;
    let mut embedded = |name: &str| -> Result<String, CrosscheckError> {
        if embedded_dir.is_none() {
            let dir = workspace.path().join("images");
            images::write_all(&dir).map_err(|io| CrosscheckError::Workspace {
                what: "writing the embedded images".into(),
                io,
            })?;
            embedded_dir = Some(dir);
        }
        Ok(embedded_dir
            .as_ref()
            .map(|d| d.join(name).display().to_string())
            .unwrap_or_default())
    };
    let mut qemu_args = vec![
        "-M".to_string(),
        "virt".into(),
        "-m".into(),
        human_size(check.ram_size),
        "-nographic".into(),
        "-icount".into(),
        "shift=0".into(),
        "-nic".into(),
        "none".into(),
        "-bios".into(),
    ];
    let bios = match check.bios.as_deref() {
        Some("none") => {
            qemu_args.push("none".into());
            None
        }
        Some(path) => {
            qemu_args.push(absolute(Path::new(path))?);
            Some(ImageSource::File(PathBuf::from(path)))
        }
        None => {
            qemu_args.push(embedded(images::FIRMWARE_NAME)?);
            Some(ImageSource::Embedded(
                images::FIRMWARE_NAME,
                images::FIRMWARE,
            ))
        }
    };
    let kernel = match (&check.kernel, &bios) {
        (Some(path), _) => {
            qemu_args.extend(["-kernel".into(), absolute(path)?]);
            Some(ImageSource::File(path.clone()))
        }
        (None, None) => {
            return Err(CrosscheckError::Usage(
                "nothing to run: with --bios none, give a program with --kernel".into(),
            ));
        }
        (None, Some(_)) => {
            qemu_args.extend(["-kernel".into(), embedded(images::KERNEL_NAME)?]);
            Some(ImageSource::Embedded(images::KERNEL_NAME, images::KERNEL))
        }
    };
    if let Some(initrd) = &check.initrd {
        qemu_args.extend(["-initrd".into(), absolute(initrd)?]);
    }
    if let Some(append) = &check.append {
        qemu_args.extend(["-append".into(), append.clone()]);
    }
    if let Some(disk) = &check.disk {
        let copy = workspace.path().join("disk.img");
        std::fs::copy(disk, &copy).map_err(|io| CrosscheckError::Path {
            path: disk.clone(),
            io,
        })?;
        qemu_args.extend([
            "-drive".into(),
            format!("file={},if=none,format=raw,id=d0", copy.display()),
            "-device".into(),
            "virtio-blk-device,drive=d0".into(),
        ]);
    }
    Ok(Images {
        bios,
        kernel,
        qemu_args,
    })
}

/// Boots both machines and compares their consoles.
pub fn check_system(check: &SystemCheck) -> Result<SystemReport, CrosscheckError> {
    let ignore = ignore_set(&check.ignore)?;
    let qemu_path = qemu::locate(QEMU_SYSTEM)?;
    let workspace = Workspace::new()?;
    let images = resolve_images(check, &workspace)?;

    // sv39's machine first: bad images are reported before QEMU starts.
    let (console_out, stderr) = (Capture::default(), Capture::default());
    let console = HostConsole {
        uart_input: UartInput::None,
        uart_output: Box::new(console_out.clone()),
        hostio: HostIo::new(
            HostInput::Empty,
            Box::new(console_out.clone()),
            Box::new(stderr.clone()),
        ),
    };
    let disk = match &check.disk {
        Some(path) => Some(
            open_disk(
                &DiskConfig {
                    source: DiskSource::File {
                        path: path.clone(),
                        size: None,
                    },
                    transport: Transport::Legacy,
                },
                check.ram_size,
            )
            .map_err(|e| CrosscheckError::Usage(format!("--disk: {e}")))?,
        ),
        None => None,
    };
    let mut machine = build_machine_with_disk(
        BootConfig {
            bios: images.bios,
            kernel: images.kernel,
            initrd: check.initrd.clone().map(Initrd::File),
            append: check.append.clone(),
            init: None,
            ram_size: check.ram_size,
            console,
            mmu: crate::mmu::MmuConfig::default(),
            // QEMU runs with -icount shift=0: one instruction per nanosecond, and so does the
            // unit model, so timer interrupts come at the same instructions on both sides.
            timing: crate::timing::Timing::unit(),
            sv39_devices: true,
        },
        disk,
    )?;

    let mut cmd = Command::new(&qemu_path);
    cmd.args(&images.qemu_args).current_dir(workspace.path());
    let running = Running::spawn(cmd, &[], QEMU_SYSTEM.program)?;

    let outcome = machine.run(check.max_instructions.unwrap_or(u64::MAX));
    let status = Status::from_outcome(&outcome, machine.hart.instret(), machine.hart.pc);
    drop(machine);
    let sv39 = Console::new(&console_out.take(), &ignore, status, stderr.take());

    let finished = running.wait(check.timeout)?;
    let qemu = Console::new(&finished.stdout, &ignore, finished.status, finished.stderr);
    Ok(SystemReport {
        sv39,
        qemu,
        ignoring: !check.ignore.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(text: &str, ignore: &[&str], status: i32) -> Console {
        let patterns: Vec<String> = ignore.iter().map(|s| s.to_string()).collect();
        Console::new(
            text.as_bytes(),
            &ignore_set(&patterns).unwrap(),
            Status::Exited(status),
            Vec::new(),
        )
    }

    #[test]
    fn ignored_lines_are_dropped_and_counted() {
        let c = console("a\r\nISA: rv64gc\r\nb\n", &["^ISA:"], 0);
        assert_eq!(c.lines, ["a", "b"]);
        assert_eq!(c.ignored, 1);
    }

    #[test]
    fn agreement_is_one_line() {
        let report = SystemReport {
            sv39: console("a\nx1\nb\n", &["^x"], 3),
            qemu: console("a\nx2\nb\n", &["^x"], 3),
            ignoring: true,
        };
        assert_eq!(
            report.to_string(),
            "crosscheck: agree (console 2 lines, status 3; ignored lines: sv39 1, \
             qemu-system-riscv64 1)\n"
        );
    }

    #[test]
    fn differences_show_status_and_a_diff() {
        let mut qemu = console("banner\nISA rv64imafdch\nbye\n", &[], 0);
        qemu.stderr = b"qemu-system-riscv64: warning\n".to_vec();
        let report = SystemReport {
            sv39: console("banner\nISA rv64imafdc\nbye\n", &[], 3),
            qemu,
            ignoring: false,
        };
        assert!(!report.agrees());
        assert_eq!(
            report.to_string(),
            "crosscheck: sv39 and qemu-system-riscv64 differ in console, status\n\
             \x20 console: sv39 3 lines, qemu-system-riscv64 3 lines; first difference on line 2\n\
             \x20 status: sv39 3, qemu-system-riscv64 0\n\
             \x20 qemu-system-riscv64 stderr:\n\
             \x20   qemu-system-riscv64: warning\n\
             --- qemu-system-riscv64 console\n\
             +++ sv39 console\n\
             @@ -1,3 +1,3 @@\n \
             banner\n\
             -ISA rv64imafdch\n\
             +ISA rv64imafdc\n \
             bye\n"
        );
    }

    #[test]
    fn bad_patterns_are_named() {
        let err = ignore_set(&["ok".into(), "(unclosed".into()]).unwrap_err();
        assert_eq!(err.to_string(), "--ignore \"(unclosed\": unclosed group");
    }

    #[test]
    fn options_map_onto_qemu() {
        let workspace = Workspace::new().unwrap();
        let check = SystemCheck {
            bios: None,
            kernel: None,
            initrd: Some(PathBuf::from("/tmp/root.cpio")),
            append: Some("exit=3 quiet".into()),
            ram_size: 64 << 20,
            ignore: vec![],
            timeout: Duration::from_secs(1),
            max_instructions: None,
            disk: None,
        };
        let images = resolve_images(&check, &workspace).unwrap();
        let dir = workspace.path().join("images");
        let firmware = dir.join(images::FIRMWARE_NAME).display().to_string();
        let kernel = dir.join(images::KERNEL_NAME).display().to_string();
        assert_eq!(
            images.qemu_args,
            [
                "-M",
                "virt",
                "-m",
                "64M",
                "-nographic",
                "-icount",
                "shift=0",
                "-nic",
                "none",
                "-bios",
                &firmware,
                "-kernel",
                &kernel,
                "-initrd",
                "/tmp/root.cpio",
                "-append",
                "exit=3 quiet"
            ]
        );
        assert!(std::fs::read(&firmware).unwrap().starts_with(b"\x7fELF"));

        let bare = SystemCheck {
            bios: Some("none".into()),
            kernel: None,
            ..check
        };
        assert!(matches!(
            resolve_images(&bare, &workspace),
            Err(CrosscheckError::Usage(_))
        ));
    }
}
