//! Helpers shared by the integration tests: build the bare-metal programs in
//! `tests/programs/` with the RISC-V cross compiler, run them under `sv39`
//! and under QEMU with a deadline, and compare with the golden transcripts in
//! `tests/expected/` (regenerated from QEMU when `SV39_BLESS=1`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cross compiler used for every test program.
pub const CC: &str = "riscv64-unknown-elf-gcc";
/// The Debian package that provides [`CC`].
pub const CC_PACKAGE: &str = "gcc-riscv64-unknown-elf";
/// The reference emulator.
pub const QEMU: &str = "qemu-system-riscv64";

/// Flags for every program (see tests/README.md).
const CFLAGS: &[&str] = &[
    "-march=rv64gc",
    "-mabi=lp64d",
    "-mcmodel=medany",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-Wall",
    "-Wl,--no-warn-rwx-segments",
];

/// `tests/` at the top of the workspace.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests")
}

/// `tests/programs/`: the sources.
pub fn programs_dir() -> PathBuf {
    tests_dir().join("programs")
}

/// `tests/expected/`: the golden transcripts.
pub fn expected_dir() -> PathBuf {
    tests_dir().join("expected")
}

/// Where the ELF files go (per test binary, under the cargo target dir).
pub fn build_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tests-programs");
    std::fs::create_dir_all(&dir).expect("create the test program build directory");
    dir
}

/// Deadline for one emulator run; `SV39_TEST_TIMEOUT` (seconds) overrides it.
pub fn run_timeout() -> Duration {
    let secs = std::env::var("SV39_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// True when `SV39_BLESS=1`: regenerate the golden files from QEMU.
pub fn blessing() -> bool {
    std::env::var("SV39_BLESS").is_ok_and(|v| v == "1")
}

/// Whether a program is on the PATH (checked once per name).
pub fn have_tool(name: &str) -> bool {
    static FOUND: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let map = FOUND.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap();
    *map.entry(name.to_string()).or_insert_with(|| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

fn require_compiler() {
    if !have_tool(CC) {
        panic!(
            "{CC} not found: the test programs need the RISC-V bare-metal cross compiler \
             (Debian package {CC_PACKAGE}: `apt-get install {CC_PACKAGE}`)"
        );
    }
}

/// Compiles `sources` (relative to `tests/programs/`; entries starting with
/// `-` are passed as they are) into `<build_dir>/<out>` with the standard
/// flags plus `extra`, once per test binary.
pub fn compile(out: &str, sources: &[&str], extra: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    // The lock is held while compiling: tests run in parallel, and two of them asking for
    // the same program must not rebuild it while the other is already running it.
    let mut built = BUILT
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap();
    if let Some(path) = built.get(out) {
        return path.clone();
    }
    require_compiler();
    let dir = programs_dir();
    let path = build_dir().join(out);
    // Written under a temporary name and renamed, so no reader ever sees half a file.
    let partial = build_dir().join(format!("{out}.partial.{}", std::process::id()));
    let mut cmd = Command::new(CC);
    cmd.args(CFLAGS).args(extra).arg("-o").arg(&partial);
    for src in sources {
        if src.starts_with('-') {
            cmd.arg(src); // a library such as -lgcc, after the objects
        } else {
            cmd.arg(dir.join(src));
        }
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("run {CC}: {e}"));
    assert!(
        output.status.success(),
        "building {out} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &path).unwrap_or_else(|e| panic!("rename {out}: {e}"));
    built.insert(out.to_string(), path.clone());
    path
}

/// Builds `tests/programs/<name>.c` or `<name>.S` with the common start-up
/// code, runtime and linker script; returns the ELF path.
pub fn build_program(name: &str) -> PathBuf {
    let dir = programs_dir();
    let src = ["c", "S"]
        .iter()
        .map(|ext| format!("{name}.{ext}"))
        .find(|file| dir.join(file).exists())
        .unwrap_or_else(|| panic!("no source for test program {name} in {}", dir.display()));
    let include = format!("-I{}", dir.join("common").display());
    let script = dir.join("common/link.ld");
    let script = script.to_str().expect("UTF-8 path");
    compile(
        &format!("{name}.elf"),
        &["common/crt.S", "common/runtime.c", &src, "-lgcc"],
        &[&include, "-T", script],
    )
}

/// What a finished (or killed) child process did.
#[derive(Debug)]
pub struct Outcome {
    /// Everything the child wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the child wrote to stderr.
    pub stderr: Vec<u8>,
    /// Exit code; `None` if killed by a signal or by the deadline.
    pub status: Option<i32>,
    /// True if the deadline expired and the child was killed.
    pub timed_out: bool,
}

impl Outcome {
    /// stderr as text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `cmd` with stdin closed, collecting stdout and stderr, and kills it
/// if it is still running after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Outcome {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for child") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for killed child");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Outcome {
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        status: if timed_out { None } else { status.code() },
        timed_out,
    }
}

/// The `sv39` binary under test.
pub fn sv39() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sv39"))
}

/// `sv39 run --bios none --kernel ELF [extra...]`.
pub fn run_sv39(elf: &Path, extra: &[&str]) -> Outcome {
    let mut cmd = sv39();
    cmd.args(["run", "--bios", "none", "--kernel"])
        .arg(elf)
        .args(extra);
    run_with_timeout(cmd, run_timeout())
}

/// The QEMU machine a program runs on: HTIF exists only on `spike`.
pub fn qemu_machine(name: &str) -> &'static str {
    if name.starts_with("htif_") {
        "spike"
    } else {
        "virt"
    }
}

/// `qemu-system-riscv64 -M virt -m 128M -nographic -bios none -kernel ELF`.
pub fn run_qemu(elf: &Path, machine: &str) -> Outcome {
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-M",
        machine,
        "-m",
        "128M",
        "-nographic",
        "-bios",
        "none",
        "-kernel",
    ])
    .arg(elf);
    run_with_timeout(cmd, Duration::from_secs(120))
}

/// A transcript: the guest's UART output and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The guest's output.
    pub stdout: Vec<u8>,
    /// The exit status.
    pub status: i32,
}

impl Transcript {
    fn from_outcome(who: &str, name: &str, o: Outcome) -> Transcript {
        assert!(
            !o.timed_out,
            "{who} did not finish {name} within the deadline; output so far:\n{}\nstderr:\n{}",
            tail(&o.stdout, 20),
            o.stderr_text()
        );
        let status = o.status.unwrap_or_else(|| {
            panic!(
                "{who} running {name} was killed by a signal; stderr:\n{}",
                o.stderr_text()
            )
        });
        Transcript {
            stdout: o.stdout,
            status,
        }
    }
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn golden_paths(name: &str) -> (PathBuf, PathBuf) {
    let dir = expected_dir();
    (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.status")),
    )
}

/// Reads `tests/expected/<name>.out` and `.status`.
pub fn read_golden(name: &str) -> Transcript {
    let (out, status) = golden_paths(name);
    let stdout = std::fs::read(&out).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (regenerate with SV39_BLESS=1 cargo test)",
            out.display()
        )
    });
    let status = std::fs::read_to_string(&status)
        .unwrap_or_else(|e| panic!("read {}: {e}", status.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: not a number: {e}", status.display()));
    Transcript { stdout, status }
}

/// Writes the golden files for `name`.
pub fn write_golden(name: &str, t: &Transcript) {
    let (out, status) = golden_paths(name);
    std::fs::create_dir_all(expected_dir()).unwrap();
    std::fs::write(&out, &t.stdout).unwrap();
    std::fs::write(&status, format!("{}\n", t.status)).unwrap();
}

/// Applies `tests/expected/<name>.deviations` to a QEMU transcript, giving what sv39 must
/// print. The file lists the lines where sv39 deliberately differs from QEMU 7.2 (where the
/// RISC-V specification and QEMU disagree, sv39 follows the specification): `#` lines give
/// the reason, then `- <QEMU's line>` and `+ <sv39's line>`. Each `-` line must occur exactly
/// once, so a deviation that no longer applies is reported instead of silently ignored.
pub fn apply_deviations(name: &str, qemu: &Transcript) -> Transcript {
    let path = expected_dir().join(format!("{name}.deviations"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return qemu.clone();
    };
    let mut lines: Vec<String> = String::from_utf8_lossy(&qemu.stdout)
        .split_inclusive('\n')
        .map(String::from)
        .collect();
    let mut pending: Option<&str> = None;
    for entry in text.lines() {
        if let Some(old) = entry.strip_prefix("- ") {
            pending = Some(old);
        } else if let Some(new) = entry.strip_prefix("+ ") {
            let old = pending.take().unwrap_or_else(|| {
                panic!("{}: '+ {new}' without a '-' line before it", path.display())
            });
            let hits: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].trim_end_matches('\n') == old)
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "{}: '- {old}' should match exactly one line of QEMU's output",
                path.display()
            );
            lines[hits[0]] = format!("{new}\n");
        }
    }
    Transcript {
        stdout: lines.concat().into_bytes(),
        status: qemu.status,
    }
}

/// Panics with the first differing line if `actual` is not `expected`.
pub fn assert_same(name: &str, what: &str, expected: &Transcript, actual: &Transcript) {
    if expected == actual {
        return;
    }
    let exp = String::from_utf8_lossy(&expected.stdout);
    let act = String::from_utf8_lossy(&actual.stdout);
    let mut report = format!(
        "{name}: sv39 differs from {what}\n  exit status: expected {}, sv39 {}\n",
        expected.status, actual.status
    );
    let (el, al): (Vec<&str>, Vec<&str>) = (exp.lines().collect(), act.lines().collect());
    if let Some(i) = (0..el.len().max(al.len())).find(|&i| el.get(i) != al.get(i)) {
        report += &format!("  first difference at line {}:\n", i + 1);
        for line in &el[i.saturating_sub(2)..i.min(el.len())] {
            report += &format!("      {line}\n");
        }
        report += &format!(
            "    - {}\n",
            el.get(i).copied().unwrap_or("<end of output>")
        );
        report += &format!(
            "    + {}\n",
            al.get(i).copied().unwrap_or("<end of output>")
        );
    } else if expected.stdout != actual.stdout {
        report += "  output differs in line endings or trailing bytes\n";
    }
    panic!("{report}");
}

/// The whole check for one program: build it, run it under sv39, compare
/// with the golden transcript and, when QEMU is installed, with a live QEMU
/// run. With `SV39_BLESS=1` the golden files are first rewritten from QEMU.
pub fn check_program(name: &str) {
    let elf = build_program(name);
    let machine = qemu_machine(name);
    let qemu = if have_tool(QEMU) {
        Some(Transcript::from_outcome(
            "QEMU",
            name,
            run_qemu(&elf, machine),
        ))
    } else {
        assert!(
            !blessing(),
            "SV39_BLESS=1 needs {QEMU} (Debian package qemu-system-misc)"
        );
        eprintln!("note: {QEMU} not found; {name} is compared with the golden file only");
        None
    };
    if blessing() {
        write_golden(name, qemu.as_ref().unwrap());
    }
    let golden = read_golden(name);
    let ours = Transcript::from_outcome("sv39", name, run_sv39(&elf, &[]));
    assert_same(
        name,
        "the golden transcript (with its documented deviations)",
        &apply_deviations(name, &golden),
        &ours,
    );
    match &qemu {
        Some(q) if *q == golden => assert_same(
            name,
            &format!("live QEMU (-M {machine}, with the documented deviations)"),
            &apply_deviations(name, q),
            &ours,
        ),
        // The goldens come from QEMU 7.2; another version may differ on
        // implementation-defined corners. The golden file stays the contract.
        Some(_) => eprintln!(
            "note: the installed {QEMU} disagrees with tests/expected/{name}.out \
             (another QEMU version?); compared with the golden file only"
        ),
        None => {}
    }
}

/// What a run of a program with extra `sv39` arguments is compared with.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// The program's usual contract: its QEMU golden with its documented deviations. For
    /// options that must not change what the guest prints (`--tlb-check` only adds stderr).
    SameAsDefault,
    /// An sv39-only golden, `tests/expected/<name>.<variant>.out` and `.status`, for
    /// behaviour QEMU cannot produce (`--ad trap`). There is no QEMU run to take it from,
    /// so `SV39_BLESS=1` writes it from sv39's own output: review that diff by hand.
    Sv39Only(&'a str),
}

/// Builds `tests/programs/<name>`, runs it under sv39 with `args` after the usual
/// `run --bios none --kernel NAME.elf`, and compares its output and exit status with
/// `expect`. Returns sv39's transcript and its stderr, for the caller's own checks.
pub fn check_program_with_args(name: &str, args: &[&str], expect: Expect) -> (Transcript, String) {
    let elf = build_program(name);
    let outcome = run_sv39(&elf, args);
    let stderr = outcome.stderr_text();
    let what = format!("{name} with {}", args.join(" "));
    let ours = Transcript::from_outcome("sv39", &what, outcome);
    match expect {
        Expect::SameAsDefault => assert_same(
            &what,
            "the golden transcript of the default run (with its documented deviations)",
            &apply_deviations(name, &read_golden(name)),
            &ours,
        ),
        Expect::Sv39Only(variant) => {
            let golden_name = format!("{name}.{variant}");
            if blessing() {
                write_golden(&golden_name, &ours);
            }
            assert_same(
                &what,
                &format!("its sv39-only golden tests/expected/{golden_name}.out"),
                &read_golden(&golden_name),
                &ours,
            );
        }
    }
    (ours, stderr)
}

/// One line of `sv39 run --tlb-check` on stderr:
/// `sv39: tlb-check: stale dTLB hit pc=0x... va=0x... asid=N cached=0x<pte> now=0x<pte>`
/// (`now=fault` when a walk would now fault), printed when a TLB hit uses a translation
/// whose PTE in memory has changed since it was cached: legal until an sfence.vma covers
/// it, and what the check is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleTlbHit {
    /// `dTLB` (load/store) or `iTLB` (fetch).
    pub tlb: String,
    /// The instruction that made the access.
    pub pc: u64,
    /// The virtual address accessed.
    pub va: u64,
    /// The ASID of the entry that hit.
    pub asid: u64,
    /// The PTE the TLB entry was filled from.
    pub cached: u64,
    /// The leaf PTE a walk finds now; `None` if the walk would fault.
    pub now: Option<u64>,
}

/// Parses a number as sv39 prints it: `0x` hexadecimal, otherwise decimal.
fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The `--tlb-check` lines in `stderr`; panics on a line that starts like one but does not
/// parse, so a change of format is noticed.
pub fn stale_tlb_hits(stderr: &str) -> Vec<StaleTlbHit> {
    const PREFIX: &str = "sv39: tlb-check: stale ";
    let mut hits = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.trim_end().strip_prefix(PREFIX) else {
            continue;
        };
        let parse = || -> Option<StaleTlbHit> {
            let mut words = rest.split_whitespace();
            let tlb = words.next()?.to_string();
            if words.next()? != "hit" {
                return None;
            }
            let fields: HashMap<&str, &str> =
                words.map(|w| w.split_once('=')).collect::<Option<_>>()?;
            let number = |key: &str| fields.get(key).and_then(|v| parse_number(v));
            let now = match *fields.get("now")? {
                "fault" => None,
                text => Some(parse_number(text)?),
            };
            Some(StaleTlbHit {
                tlb,
                pc: number("pc")?,
                va: number("va")?,
                asid: number("asid")?,
                cached: number("cached")?,
                now,
            })
        };
        hits.push(parse().unwrap_or_else(|| panic!("malformed --tlb-check line: {line}")));
    }
    hits
}
