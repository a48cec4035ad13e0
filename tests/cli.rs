//! The `sv39 run` command line: bad inputs fail with status 2 and one line
//! on stderr naming the culprit; instruction budgets end with status 124;
//! traces are deterministic.

mod common;

use common::{Outcome, compile, run_sv39, run_with_timeout, sv39};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Status for bad command lines and unusable input files.
const USAGE_ERROR: i32 = 2;
/// Status when `--max-instructions` runs out (as timeout(1)).
const BUDGET_EXHAUSTED: i32 = 124;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-scratch");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run_args(args: &[&str]) -> Outcome {
    let mut cmd = sv39();
    cmd.args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Non-zero status `want`, and exactly one non-empty stderr line that
/// contains one of `needles`.
fn assert_one_line_error(o: &Outcome, want: i32, needles: &[&str]) {
    let err = o.stderr_text();
    assert!(!o.timed_out, "sv39 hung; stderr: {err}");
    assert_eq!(o.status, Some(want), "exit status; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected a single-line error on stderr, got:\n{err}"
    );
    assert!(
        needles.iter().any(|n| lines[0].contains(n)),
        "the error should name one of {needles:?}: {}",
        lines[0]
    );
    assert!(
        o.stdout.is_empty(),
        "nothing on stdout expected, got {:?}",
        String::from_utf8_lossy(&o.stdout)
    );
}

fn kernel_error(path: &Path) {
    let o = run_sv39(path, &[]);
    assert_one_line_error(&o, USAGE_ERROR, &[path.to_str().unwrap()]);
}

#[test]
fn missing_kernel_file() {
    kernel_error(&scratch("does-not-exist.elf"));
}

#[test]
fn kernel_is_a_text_file() {
    let path = scratch("not-an-elf.txt");
    std::fs::write(&path, "this is not an ELF file\n").unwrap();
    kernel_error(&path);
}

#[test]
fn kernel_is_a_32bit_riscv_elf() {
    let elf = compile(
        "bare-rv32.elf",
        &["cli/bare.S"],
        &["-march=rv32gc", "-mabi=ilp32d", "-Wl,-Ttext=0x80000000"],
    );
    kernel_error(&elf);
}

#[test]
fn kernel_is_an_x86_64_elf() {
    let path = Path::new("/bin/true");
    if !path.exists() {
        eprintln!("note: /bin/true not found; skipping");
        return;
    }
    kernel_error(path);
}

#[test]
fn kernel_segment_outside_ram() {
    // The -march/-mabi from the standard flags apply: a valid RV64 ELF whose
    // only segment is at 0x4000_0000, far below DRAM.
    let elf = compile("bare-low.elf", &["cli/bare.S"], &["-Wl,-Ttext=0x40000000"]);
    let o = run_sv39(&elf, &[]);
    assert_one_line_error(
        &o,
        USAGE_ERROR,
        &[elf.to_str().unwrap(), "0x40000000", "40000000"],
    );
}

fn memory_size_error(size: &str) {
    let elf = common::build_program("hello");
    let o = run_args(&[
        "run",
        "--bios",
        "none",
        "--kernel",
        elf.to_str().unwrap(),
        "-m",
        size,
    ]);
    assert_one_line_error(&o, USAGE_ERROR, &["-m", "memory", "--memory", size]);
}

#[test]
fn memory_size_zero() {
    memory_size_error("0");
}

#[test]
fn memory_size_too_large() {
    memory_size_error("99T");
}

#[test]
fn memory_size_not_a_number() {
    memory_size_error("abc");
}

#[test]
fn instruction_budget_exhausted() {
    let elf = compile(
        "spin.elf",
        &["common/crt.S", "common/runtime.c", "cli/spin.S", "-lgcc"],
        &[
            &format!("-I{}", common::programs_dir().join("common").display()),
            "-T",
            common::programs_dir()
                .join("common/link.ld")
                .to_str()
                .unwrap(),
        ],
    );
    let o = run_sv39(&elf, &["--max-instructions", "100000"]);
    assert!(!o.timed_out, "sv39 ignored --max-instructions");
    assert_eq!(
        o.status,
        Some(BUDGET_EXHAUSTED),
        "stderr: {}",
        o.stderr_text()
    );
    assert!(
        !o.stderr_text().trim().is_empty(),
        "expected a message on stderr"
    );
}

#[test]
fn traces_are_deterministic() {
    let elf = common::build_program("hello");
    let (a, b) = (scratch("trace-a.log"), scratch("trace-b.log"));
    for path in [&a, &b] {
        let _ = std::fs::remove_file(path);
        let o = run_sv39(&elf, &["--trace", path.to_str().unwrap()]);
        assert_eq!(o.status, Some(0), "stderr: {}", o.stderr_text());
    }
    let (ta, tb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(!ta.is_empty(), "--trace wrote nothing");
    assert!(
        ta == tb,
        "two runs of the same program gave different traces ({} vs {} bytes)",
        ta.len(),
        tb.len()
    );
}

// ---------------------------------------------------------------------------------------
// Program mode (`sv39 run PROGRAM [ARGS...]`): the host checks the program before booting.
// ---------------------------------------------------------------------------------------

/// The Debian cross compiler for Linux riscv64 programs (glibc).
const LINUX_CC: &str = "riscv64-linux-gnu-gcc";
/// Its package.
const LINUX_CC_PACKAGE: &str = "gcc-riscv64-linux-gnu";

/// Compiles a one-line C program with `compiler` and `flags` into the scratch directory.
fn compile_c(compiler: &str, package: &str, out: &str, flags: &[&str]) -> PathBuf {
    assert!(
        common::have_tool(compiler),
        "{compiler} not found (Debian package {package}: `apt-get install {package}`)"
    );
    let src = scratch(&format!("{out}.c"));
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let path = scratch(out);
    let status = std::process::Command::new(compiler)
        .args(flags)
        .arg("-o")
        .arg(&path)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(status.success(), "{compiler} {flags:?} failed");
    path
}

/// `sv39 run PROGRAM` fails with status 2 and one line naming the program and each of
/// `facts`.
fn program_error(program: &Path, facts: &[&str]) {
    let typed = program.to_str().unwrap();
    let o = run_args(&["run", typed, "some-argument"]);
    assert_one_line_error(&o, USAGE_ERROR, &[typed]);
    let err = o.stderr_text();
    for fact in facts {
        assert!(err.contains(fact), "the error should say {fact:?}: {err}");
    }
}

#[test]
fn program_missing() {
    program_error(&scratch("no-such-program"), &["No such file"]);
}

#[test]
fn program_is_a_text_file() {
    let path = scratch("program.txt");
    std::fs::write(&path, "#!/bin/sh\necho not an ELF\n").unwrap();
    program_error(&path, &["not an ELF"]);
}

#[test]
fn program_is_for_x86_64() {
    let path = compile_c("cc", "gcc", "program-x86-64", &["-static"]);
    program_error(&path, &["x86-64", "not 64-bit RISC-V"]);
}

#[test]
fn program_is_32bit_riscv() {
    let elf = compile(
        "bare-rv32.elf",
        &["cli/bare.S"],
        &["-march=rv32gc", "-mabi=ilp32d", "-Wl,-Ttext=0x80000000"],
    );
    program_error(&elf, &["32-bit RISC-V"]);
}

#[test]
fn program_is_dynamically_linked() {
    let path = compile_c(LINUX_CC, LINUX_CC_PACKAGE, "program-dynamic", &[]);
    program_error(
        &path,
        &[
            "dynamically linked",
            "/lib/ld-linux-riscv64-lp64d.so.1",
            "build with -static",
        ],
    );
}

#[test]
fn program_is_truncated() {
    let full = compile_c(LINUX_CC, LINUX_CC_PACKAGE, "program-static", &["-static"]);
    let bytes = std::fs::read(&full).unwrap();
    let path = scratch("program-truncated");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    program_error(&path, &["truncated"]);
}

#[test]
fn initrd_with_a_program() {
    let o = run_args(&["run", "--initrd", "some.cpio", "./prog"]);
    assert_one_line_error(&o, USAGE_ERROR, &["--initrd"]);
}

#[test]
fn unknown_example() {
    let o = run_args(&["run", "--example", "no-such-example"]);
    assert_one_line_error(&o, USAGE_ERROR, &["no-such-example"]);
    assert!(
        o.stderr_text().contains("hello"),
        "the error should list the examples: {}",
        o.stderr_text()
    );
}

#[test]
fn env_without_a_value() {
    let o = run_args(&["run", "--env", "JUST_A_NAME", "--example", "hello"]);
    assert_one_line_error(&o, USAGE_ERROR, &["--env JUST_A_NAME"]);
}

#[test]
fn program_mode_console_goes_to_the_log() {
    // The program's output is stdout; the firmware banner and kernel messages are logs,
    // shown with -v.
    let quiet = run_args(&["run", "--example", "hello"]);
    let verbose = run_args(&["run", "-v", "--example", "hello"]);
    for o in [&quiet, &verbose] {
        assert!(!o.timed_out, "sv39 hung; stderr: {}", o.stderr_text());
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("sv39-firmware"), "console on stdout: {out}");
    }
    assert!(
        !quiet.stderr_text().contains("sv39-firmware"),
        "{}",
        quiet.stderr_text()
    );
    assert!(
        verbose.stderr_text().contains("sv39-firmware"),
        "-v should show the console: {}",
        verbose.stderr_text()
    );
}

// ---------------------------------------------------------------------------------------
// The disk (`--disk`, `--disk-size`, `--no-disk`) and the kernel command-line shorthands.
// ---------------------------------------------------------------------------------------

#[test]
fn disk_missing_is_created_sparse() {
    use std::os::unix::fs::MetadataExt;
    let path = scratch("created-disk.img");
    let _ = std::fs::remove_file(&path);
    let typed = path.to_str().unwrap();
    let o = run_args(&[
        "run",
        "--disk",
        typed,
        "--disk-size",
        "64M",
        "--stats",
        "--example",
        "hello",
    ]);
    assert_eq!(o.status, Some(0), "stderr: {}", o.stderr_text());
    let meta = std::fs::metadata(&path).expect("--disk creates a missing file");
    assert_eq!(meta.len(), 64 << 20);
    assert!(
        meta.blocks() * 512 < meta.len() / 2,
        "the disk should be sparse: {} blocks",
        meta.blocks()
    );
    assert!(
        o.stderr_text().lines().any(|l| l.starts_with("disk: ")
            && l.contains(" requests, ")
            && l.ends_with(" flushes")),
        "--stats should show the disk: {}",
        o.stderr_text()
    );
    // Used again, it keeps its size (a different --disk-size only draws a warning).
    let o = run_args(&[
        "run",
        "--disk",
        typed,
        "--disk-size",
        "1M",
        "--example",
        "hello",
    ]);
    assert_eq!(o.status, Some(0), "stderr: {}", o.stderr_text());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 << 20);
}

#[test]
fn disk_size_not_whole_sectors() {
    for size in ["1000", "0", "12X"] {
        let path = scratch("never-created.img");
        let o = run_args(&[
            "run",
            "--disk",
            path.to_str().unwrap(),
            "--disk-size",
            size,
            "--example",
            "hello",
        ]);
        assert_one_line_error(&o, USAGE_ERROR, &["--disk-size"]);
        assert!(!path.exists());
    }
}

#[test]
fn disk_is_a_directory() {
    let dir = scratch("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    let typed = dir.to_str().unwrap();
    let o = run_args(&["run", "--disk", typed, "--example", "hello"]);
    assert_one_line_error(&o, USAGE_ERROR, &[typed]);
}

#[test]
fn disk_options_that_contradict() {
    let o = run_args(&["run", "--no-disk", "--disk", "x.img", "--example", "hello"]);
    assert_one_line_error(&o, USAGE_ERROR, &["--no-disk", "--disk"]);
    let o = run_args(&["run", "--policy", "random", "--example", "hello"]);
    assert_one_line_error(&o, USAGE_ERROR, &["--policy"]);
    let o = run_args(&["run", "--frames", "0", "--example", "hello"]);
    assert_one_line_error(&o, USAGE_ERROR, &["--frames"]);
}

#[test]
fn policy_and_frames_go_to_the_command_line() {
    // The kernel echoes its command line (a log line with -v).
    let o = run_args(&[
        "run",
        "-v",
        "--append",
        "quiet",
        "--policy",
        "fifo",
        "--frames",
        "300",
        "--no-disk",
        "--example",
        "hello",
    ]);
    assert_eq!(o.status, Some(0), "stderr: {}", o.stderr_text());
    assert!(
        o.stderr_text()
            .contains("bootargs: quiet vm.policy=fifo vm.frames=300"),
        "{}",
        o.stderr_text()
    );
}
