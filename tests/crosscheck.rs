//! `sv39 crosscheck`: the same workload on sv39 and on QEMU.
//!
//! Program level: programs of the Linux corpus (`tests/linux/`, built as `tests/linux.rs`
//! builds them) agree with `qemu-riscv64`, with arguments, environment, `--file`s and stdin;
//! the summary's byte counts and status are checked against the corpus's expected files
//! (which come from qemu-riscv64). A probe program whose output legitimately differs (the
//! kernel release, the first /proc/self/maps address) is reported with a diff.
//!
//! System level: the embedded firmware and kernel boot the same on `qemu-system-riscv64`;
//! Debian's OpenSBI prints a banner that differs (sv39 is not QEMU 7.2's hart: no H
//! extension, no Sstc, no MHPM counters, other delegation) unless `--ignore` drops those
//! lines.
//!
//! Clean-up: QEMU never outlives a check, whether it finished, left a forked child behind,
//! hit its deadline, or sv39 was interrupted; the temporary directories go too.

mod common;
#[path = "common/linux.rs"]
mod linux_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use linux_common::{CC, Outcome, build, read_expected, run_with_timeout, stage_dir, stage_file};

/// Deadline for one `sv39 crosscheck` run.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Where Debian's opensbi package puts the generic platform's firmware.
const OPENSBI: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

/// The banner lines of OpenSBI that differ between sv39 and QEMU 7.2.
const OPENSBI_DIFFERING: &str =
    "^Boot HART (Base ISA|ISA Extensions|MHPM Count|MIDELEG|MEDELEG) *:";

/// A program whose output differs on purpose: the kernel's release (sv39's own, the host's
/// under qemu-riscv64) and where its first mapping starts, as /proc/self/maps prints it.
/// With `orphan`, it forks a child that never exits and returns at once.
const PROBE_SOURCE: &str = r#"
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "orphan") == 0) {
        if (fork() == 0)
            for (;;)
                sleep(100);
        printf("parent: forked a child that never exits\n");
        return 0;
    }
    struct utsname u;
    if (uname(&u) != 0)
        return 2;
    printf("release %s\n", u.release);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    if (maps && fgets(line, sizeof line, maps))
        printf("first mapping starts at %.*s\n", (int)strcspn(line, "-"), line);
    return 0;
}
"#;

/// The probe, built once into the staging directory as `crosscheck_probe`.
fn probe() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let source = stage_file("crosscheck_probe.c", PROBE_SOURCE.as_bytes());
        let partial = stage_dir().join(format!("crosscheck_probe.partial.{}", std::process::id()));
        let out = Command::new(CC)
            .args(["-static", "-O2", "-Wall", "-o"])
            .arg(&partial)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| panic!("run {CC}: {e}"));
        assert!(
            out.status.success(),
            "building the probe failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, stage_dir().join("crosscheck_probe")).unwrap();
    });
    "crosscheck_probe"
}

/// `sv39 crosscheck ARGS...` from the staging directory, with `stdin`.
fn crosscheck_with(args: &[&str], stdin: &[u8], env: &[(&str, &Path)]) -> Outcome {
    let mut cmd = common::sv39();
    cmd.arg("crosscheck")
        .args(args)
        .current_dir(stage_dir())
        .env_remove("RUST_LOG");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let outcome = run_with_timeout(cmd, stdin, TIMEOUT);
    assert!(!outcome.timed_out, "sv39 crosscheck {args:?} hung");
    outcome
}

fn crosscheck(args: &[&str]) -> Outcome {
    crosscheck_with(args, b"", &[])
}

/// What `sv39 crosscheck` prints when the two sides agree on `case` of the Linux corpus.
fn agreement_on(case: &str) -> String {
    let expected = read_expected(case);
    let stderr = expected.stderr.map_or(0, |e| e.len());
    format!(
        "crosscheck: agree (stdout {} bytes, stderr {stderr} bytes, status {})\n",
        expected.stdout.len(),
        expected.status
    )
}

fn assert_agrees(outcome: &Outcome, summary: &str) {
    assert_eq!(
        (outcome.status, outcome.stdout_text().as_str()),
        (0, summary),
        "stderr: {}",
        outcome.stderr_text()
    );
}

/// A directory of its own under target/tmp for one test, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("crosscheck")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The live (not zombie) processes whose command line mentions every one of `needles`.
fn processes_mentioning(needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if needles.iter().all(|needle| cmdline.contains(needle)) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

fn assert_nothing_left(tmpdir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let needle = [tmpdir.to_str().unwrap()];
    // A process killed with SIGKILL may take a moment to disappear from /proc.
    while !processes_mentioning(&needle).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(processes_mentioning(&needle), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(tmpdir).unwrap().flatten().collect();
    assert!(left.is_empty(), "left in {}: {left:?}", tmpdir.display());
}

#[test]
fn hello_agrees() {
    build("hello");
    assert_agrees(&crosscheck(&["hello"]), &agreement_on("hello"));
}

/// Arguments (options among them, after PROGRAM), `--env` and argv[0] as typed.
#[test]
fn arguments_and_environment_agree() {
    build("args");
    let outcome = crosscheck(&[
        "--env",
        "FOO=bar",
        "--env",
        "EMPTY=",
        "--env",
        "SPACED=a b  c",
        "args",
        "one",
        "two words",
        "",
        "--flag",
        "-x",
        "ünïcode",
        "tab\there",
        "exit=0",
    ]);
    assert_agrees(&outcome, &agreement_on("args"));
    let outcome = crosscheck(&["./args", "exit=7"]);
    assert_agrees(&outcome, &agreement_on("args_exit_status"));
}

/// argv[0] is the path as typed on both sides, also when that path is absolute or climbs out
/// of the working directory (QEMU then gets the workspace's copy and `-0 ARGV0`).
#[test]
fn absolute_and_climbing_program_paths_agree() {
    let args = build("args");
    let expected = read_expected("args_exit_status");
    let dir_name = stage_dir()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    for typed in [
        args.to_str().unwrap().to_string(),
        format!("../{dir_name}/args"),
    ] {
        // The expected files were made with argv[0] = "./args", printed once.
        let stdout_len = expected.stdout.len() - "./args".len() + typed.len();
        let stderr_len = expected.stderr.as_ref().map_or(0, Vec::len);
        assert_agrees(
            &crosscheck(&[&typed, "exit=7"]),
            &format!(
                "crosscheck: agree (stdout {stdout_len} bytes, stderr {stderr_len} bytes, \
                 status 7)\n"
            ),
        );
    }
}

#[test]
fn fork_pipes_and_memory_agree() {
    for case in ["fork_wait", "pipe", "malloc", "cow"] {
        build(case);
        assert_agrees(&crosscheck(&[case]), &agreement_on(case));
    }
}

/// Both sides read the same stdin, which the check reads once.
#[test]
fn stdin_is_fed_to_both() {
    build("stdin");
    let input: Vec<u8> = (0..50_000u32)
        .map(|i| b"crosscheck\n"[i as usize % 11])
        .collect();
    let outcome = crosscheck_with(&["stdin"], &input, &[]);
    // "stdin: 50000 bytes, 4545 lines, checksum <16 hex digits>" between the two "ok:" lines.
    let stdout_len = "ok: read returns 0 at EOF\n".len()
        + "stdin: 50000 bytes, 4545 lines, checksum ".len()
        + 17
        + "ok: read after EOF returns 0 again\n".len();
    assert_agrees(
        &outcome,
        &format!("crosscheck: agree (stdout {stdout_len} bytes, stderr 0 bytes, status 0)\n"),
    );
}

/// `--file` puts the same files at the same guest paths on both sides.
#[test]
fn files_agree() {
    build("files");
    let data: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(7) + i / 256) as u8)
        .collect();
    stage_file("data/input.bin", &data);
    stage_file("files-src/a.txt", b"first line\nsecond line\nlast line\n");
    stage_file("files-src/b.txt", b"b1\nb2\n");
    stage_file("files-src/c.txt", b"third\n");
    let outcome = crosscheck(&[
        "--file",
        "./data/input.bin",
        "--file",
        "files-src/a.txt:/dir/a.txt",
        "--file",
        "files-src/b.txt:/dir/b.txt",
        "--file",
        "files-src/c.txt:/dir/sub/c.txt",
        "files",
    ]);
    assert_agrees(&outcome, &agreement_on("files"));
}

/// The examples built into sv39 need no cross compiler.
#[test]
fn a_built_in_example_agrees() {
    let outcome = crosscheck(&["--example", "hello"]);
    assert_eq!(outcome.status, 0, "{}", outcome.stdout_text());
    assert!(
        outcome
            .stdout_text()
            .starts_with("crosscheck: agree (stdout "),
        "{}",
        outcome.stdout_text()
    );
}

#[test]
fn a_legitimate_difference_is_reported_with_a_diff() {
    let outcome = crosscheck(&[probe()]);
    let text = outcome.stdout_text();
    assert_eq!(outcome.status, 1, "{text}{}", outcome.stderr_text());
    let host_release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: sv39 and qemu-riscv64 differ in stdout"
    );
    assert!(
        lines[1].starts_with("  stdout: sv39 ") && lines[1].ends_with("first difference on line 1"),
        "{text}"
    );
    assert_eq!(lines[2], "  stderr: same, 0 bytes");
    assert_eq!(lines[3], "  status: same, 0");
    assert_eq!(lines[4], "--- qemu-riscv64 stdout");
    assert_eq!(lines[5], "+++ sv39 stdout");
    assert!(lines[6].starts_with("@@ "), "{text}");
    assert!(
        lines.contains(&format!("-release {}", host_release.trim()).as_str()),
        "{text}"
    );
    assert!(lines.contains(&"+release 6.1.0-sv39"), "{text}");
}

/// A program killed by a signal is 128 + the signal on both sides; sv39's kernel reports the
/// fault on stderr, which qemu-riscv64 does not.
#[test]
fn a_segfault_agrees_on_status_and_differs_on_stderr() {
    build("segv");
    let outcome = crosscheck(&["segv"]);
    let text = outcome.stdout_text();
    assert_eq!(outcome.status, 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: sv39 and qemu-riscv64 differ in stderr"
    );
    assert!(lines[1].starts_with("  stdout: same, "), "{text}");
    assert_eq!(lines[3], "  status: same, 139");
    assert_eq!(lines[4], "--- qemu-riscv64 stderr");
    assert_eq!(lines[5], "+++ sv39 stderr");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("+segv[1]: segfault at 0 ip ")),
        "{text}"
    );
}

/// A guest's child that outlives its parent under qemu-riscv64 is killed with the group.
#[test]
fn forked_children_do_not_outlive_the_check() {
    let tmpdir = scratch("orphan");
    let outcome = crosscheck_with(&[probe(), "orphan"], b"", &[("TMPDIR", &tmpdir)]);
    assert_agrees(
        &outcome,
        "crosscheck: agree (stdout 40 bytes, stderr 0 bytes, status 0)\n",
    );
    assert_nothing_left(&tmpdir);
}

/// One line on stderr, status 2, nothing on stdout.
fn assert_one_line_error(outcome: &Outcome, wanted: &[&str]) {
    let err = outcome.stderr_text();
    assert_eq!(outcome.status, 2, "stderr: {err}");
    assert!(outcome.stdout.is_empty(), "{}", outcome.stdout_text());
    assert_eq!(err.lines().count(), 1, "{err}");
    for word in wanted {
        assert!(err.contains(word), "{word:?} not in {err:?}");
    }
}

#[test]
fn a_missing_program_is_one_line_and_status_2() {
    let outcome = crosscheck(&["no-such-program"]);
    assert_one_line_error(
        &outcome,
        &["sv39 crosscheck: ", "no-such-program", "No such file"],
    );
}

#[test]
fn missing_qemu_names_the_debian_package() {
    build("hello");
    let empty = scratch("empty-path");
    let outcome = crosscheck_with(&["hello"], b"", &[("PATH", &empty)]);
    assert_one_line_error(
        &outcome,
        &["qemu-riscv64 not found", "Debian package qemu-user"],
    );
    let outcome = crosscheck_with(&["--system"], b"", &[("PATH", &empty)]);
    assert_one_line_error(
        &outcome,
        &[
            "qemu-system-riscv64 not found",
            "Debian package qemu-system-misc",
        ],
    );
}

/// The number of lines `sv39 run ARGS` prints, less those matching `ignore`.
fn sv39_run_lines(args: &[&str], ignore: Option<&str>) -> usize {
    let mut cmd = common::sv39();
    cmd.arg("run").args(args);
    let outcome = common::run_with_timeout(cmd, TIMEOUT);
    let ignore = ignore.map(|p| regex::Regex::new(p).unwrap());
    String::from_utf8_lossy(&outcome.stdout)
        .lines()
        .filter(|l| !ignore.as_ref().is_some_and(|re| re.is_match(l)))
        .count()
}

#[test]
fn the_embedded_boot_agrees_with_qemu() {
    let lines = sv39_run_lines(&[], None);
    assert!(lines >= 5, "the boot transcript has {lines} lines");
    assert_agrees(
        &crosscheck(&["--system"]),
        &format!("crosscheck: agree (console {lines} lines, status 0)\n"),
    );
}

#[test]
fn exit_statuses_are_compared() {
    let lines = sv39_run_lines(&["--append", "exit=3"], None);
    assert_agrees(
        &crosscheck(&["--system", "--append", "exit=3"]),
        &format!("crosscheck: agree (console {lines} lines, status 3)\n"),
    );
}

#[test]
fn a_differing_banner_is_reported_and_ignore_tolerates_it() {
    assert!(
        Path::new(OPENSBI).exists(),
        "{OPENSBI} is missing: install the Debian package opensbi"
    );
    let outcome = crosscheck(&["--system", "--bios", OPENSBI]);
    let text = outcome.stdout_text();
    assert_eq!(outcome.status, 1, "{text}{}", outcome.stderr_text());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: sv39 and qemu-system-riscv64 differ in console"
    );
    assert!(lines[1].starts_with("  console: sv39 "), "{text}");
    assert_eq!(lines[2], "  status: same, 0");
    assert_eq!(lines[3], "--- qemu-system-riscv64 console");
    assert_eq!(lines[4], "+++ sv39 console");
    assert!(
        lines.contains(&"+Boot HART MIDELEG         : 0x0000000000000222"),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("-Boot HART MIDELEG ")),
        "{text}"
    );
    let re = regex::Regex::new(OPENSBI_DIFFERING).unwrap();
    let changed = lines
        .iter()
        .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"));
    for line in changed {
        assert!(
            re.is_match(&line[1..]),
            "a difference --ignore would not cover: {line}\n{text}"
        );
    }

    let kept = sv39_run_lines(&["--bios", OPENSBI], Some(OPENSBI_DIFFERING));
    let outcome = crosscheck(&["--system", "--bios", OPENSBI, "--ignore", OPENSBI_DIFFERING]);
    assert_agrees(
        &outcome,
        &format!(
            "crosscheck: agree (console {kept} lines, status 0; ignored lines: sv39 5, \
             qemu-system-riscv64 5)\n"
        ),
    );
}

#[test]
fn a_machine_that_does_not_exit_is_a_difference() {
    let outcome = crosscheck(&["--system", "--max-instructions", "1000"]);
    let text = outcome.stdout_text();
    assert_eq!(outcome.status, 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: sv39 and qemu-system-riscv64 differ in console, status"
    );
    assert!(
        lines[2].starts_with(
            "  status: sv39 no exit (stopped after 1000 instructions (--max-instructions) at pc "
        ) && lines[2].ends_with(", qemu-system-riscv64 0"),
        "{text}"
    );
}

/// A copy of the bare-metal `spin` program (`tests/programs/cli/spin.S`, an endless loop) at a path of its own, so the
/// test can look for QEMU processes running it.
fn spin_in(dir: &Path) -> PathBuf {
    let path = dir.join("spin.elf");
    let programs = common::programs_dir();
    let elf = common::compile(
        "spin.elf",
        &["common/crt.S", "common/runtime.c", "cli/spin.S", "-lgcc"],
        &[
            &format!("-I{}", programs.join("common").display()),
            "-T",
            programs.join("common/link.ld").to_str().unwrap(),
        ],
    );
    std::fs::copy(elf, &path).unwrap();
    path
}

#[test]
fn qemu_is_killed_at_the_deadline() {
    let dir = scratch("deadline");
    let tmpdir = dir.join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let spin = spin_in(&dir);
    let started = Instant::now();
    let outcome = crosscheck_with(
        &[
            "--system",
            "--bios",
            "none",
            "--kernel",
            spin.to_str().unwrap(),
            "--max-instructions",
            "1000000",
            "--timeout",
            "1",
        ],
        b"",
        &[("TMPDIR", &tmpdir)],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = outcome.stdout_text();
    assert_eq!(outcome.status, 1, "{text}{}", outcome.stderr_text());
    assert!(
        text.contains(", qemu-system-riscv64 no exit (killed at the 1 s deadline)\n"),
        "{text}"
    );
    let qemu = ["qemu-system-riscv64", spin.to_str().unwrap()];
    assert_eq!(processes_mentioning(&qemu), Vec::<String>::new());
    assert_nothing_left(&tmpdir);
}

#[test]
fn ctrl_c_stops_qemu_and_removes_its_files() {
    let dir = scratch("interrupt");
    let tmpdir = dir.join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let spin = spin_in(&dir);
    let spin_path = spin.to_str().unwrap();
    let qemu = ["qemu-system-riscv64", spin_path];
    // No instruction budget: sv39 spins until interrupted, and so does QEMU.
    let mut child = common::sv39()
        .args([
            "crosscheck",
            "--system",
            "--bios",
            "none",
            "--kernel",
            spin_path,
        ])
        .env("TMPDIR", &tmpdir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_mentioning(&qemu).is_empty() {
        assert!(Instant::now() < deadline, "QEMU never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sv39 crosscheck did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_nothing_left(&tmpdir);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning(&qemu).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(processes_mentioning(&qemu), Vec::<String>::new());
}
