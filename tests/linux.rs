//! The Linux-ABI corpus: static riscv64 Linux programs (`tests/linux/*.c`, built at test
//! time with `riscv64-linux-gnu-gcc -static -O2`) run under `sv39 run PROGRAM ARGS` and
//! under `qemu-riscv64` with the same arguments, environment (`env -i` with the guest's
//! `PATH`, `HOME` and `TERM`, plus the `--env` pairs), files and stdin.
//!
//! Each test first checks the reference: qemu-riscv64's transcript must equal the expected
//! files in `tests/expected/linux/` (`SV39_BLESS=1` rewrites them from qemu-riscv64). Then
//! sv39 must match them, by one of the rules of [`Rule`]. `SV39_LINUX_REFERENCE_ONLY=1`
//! stops after the reference half (for work on the corpus itself).
//!
//! The bad-input tests run sv39 only: a dynamically linked program, an x86-64 program, a
//! truncated ELF file and a missing file must each fail with one line on stderr.

mod common;
#[path = "common/linux.rs"]
mod linux_common;

use linux_common::{
    Expected, FileArg, Outcome, QEMU, QEMU_PACKAGE, Run, SIGSEGV_STATUS, blessing, build,
    build_dynamic, build_host, expected_dir, first_difference, guest_env, have_tool,
    parse_segfault_line, read_expected, reference_only, report, run_qemu, run_qemu_with, run_sv39,
    source_dir, stage_file, write_expected,
};

/// How sv39's transcript of a case is compared with the expected one.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// stdout, stderr and exit status all equal qemu-riscv64's.
    Exact,
    /// Killed by SIGSEGV: status 139 and stdout equal qemu-riscv64's; sv39's stderr is the
    /// single line `NAME[PID]: segfault at ADDR ip PC cause 15` (a store page fault, at
    /// `addr` when given), where qemu-riscv64 prints nothing of the kind.
    Segfault { addr: Option<u64> },
    /// `/proc/self/maps`: the lines starting with `map ` (one per mapping) only have to be
    /// well formed, as kernels lay out and name regions differently; every other line, stderr
    /// and the status equal qemu-riscv64's.
    MapStructure,
    /// qemu-riscv64 cannot follow an execve into another RISC-V program, so the expected
    /// files are written by hand (`SV39_BLESS` leaves them alone) and sv39 must equal them
    /// exactly. qemu-riscv64 is held to them up to and including the line `agree_through`.
    Committed { agree_through: &'static str },
}

/// The RISC-V cause of a store page fault: what a write to an unmapped or read-only page
/// raises (privileged spec, scause table).
const STORE_PAGE_FAULT: u64 = 15;

/// Builds `program` and checks the case `case` (the stem of its expected files).
fn check(case: &str, program: &str, run: &Run, rule: Rule) {
    build(program);
    match rule {
        Rule::Committed { agree_through } => check_committed_reference(case, run, agree_through),
        _ => check_reference(case, run, rule),
    }
    if reference_only() {
        eprintln!("note: SV39_LINUX_REFERENCE_ONLY=1: {case} not run under sv39");
        return;
    }
    let expected = read_expected(case);
    let ours = run_sv39(run);
    match rule {
        Rule::Exact | Rule::Committed { .. } => {
            if Expected::from_outcome(&ours, true) != expected {
                panic!(
                    "{}{}",
                    report(case, "sv39", "the expected files", &expected, &ours),
                    sv39_command(run)
                );
            }
        }
        Rule::Segfault { addr } => check_segfault(case, run, &expected, &ours, addr),
        Rule::MapStructure => check_map_structure(case, run, &expected, &ours),
    }
}

/// How to repeat a run by hand, for failure messages.
fn sv39_command(run: &Run) -> String {
    let quoted: Vec<String> = run.sv39_args().iter().map(|a| format!("{a:?}")).collect();
    format!(
        "  command: cd target/tmp/linux-programs && sv39 {}\n",
        quoted.join(" ")
    )
}

/// The qemu-riscv64 command line of `run`, for failure messages.
fn qemu_command(run: &Run) -> String {
    let mut words: Vec<String> = vec!["env".into(), "-i".into()];
    words.extend(guest_env(run).iter().map(|(k, v)| format!("{k}={v}")));
    words.extend([QEMU.to_string(), "-L".into(), ".".into(), run.typed.clone()]);
    words.extend(run.args.iter().cloned());
    let quoted: Vec<String> = words.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "  command: cd target/tmp/linux-programs && {}\n",
        quoted.join(" ")
    )
}

/// qemu-riscv64 must produce the expected files (after writing them from it when blessing).
fn check_reference(case: &str, run: &Run, rule: Rule) {
    if !have_tool(QEMU) {
        assert!(
            !blessing(),
            "SV39_BLESS=1 needs {QEMU} (Debian package {QEMU_PACKAGE})"
        );
        eprintln!("note: {QEMU} not found; {case} is checked against the expected files only");
        return;
    }
    let qemu = run_qemu(run);
    assert!(
        !qemu.timed_out,
        "{case}: {QEMU} did not finish within the deadline"
    );
    // Under a segfault qemu-riscv64's stderr is its own business, not the expected file's.
    let with_stderr = !matches!(rule, Rule::Segfault { .. });
    let transcript = Expected::from_outcome(&qemu, with_stderr);
    if blessing() {
        write_expected(case, &transcript);
    }
    let expected = read_expected(case);
    if transcript != expected {
        panic!(
            "{}{}(the programs or {QEMU} changed; if that is intended, regenerate with \
             SV39_BLESS=1 cargo test -p sv39 --test linux {case})",
            report(case, QEMU, "the expected files", &expected, &qemu),
            qemu_command(run)
        );
    }
    if let Rule::Segfault { .. } = rule {
        assert_eq!(
            qemu.status, SIGSEGV_STATUS,
            "{case}: {QEMU} was not killed by SIGSEGV"
        );
    }
}

/// The hand-written expected files of a [`Rule::Committed`] case against qemu-riscv64: both
/// must agree up to and including the line `agree_through` (after it the program execs, which
/// qemu-riscv64 cannot follow).
fn check_committed_reference(case: &str, run: &Run, agree_through: &str) {
    if blessing() {
        eprintln!(
            "note: tests/expected/linux/{case}.* are written by hand; SV39_BLESS leaves them alone"
        );
    }
    let expected = read_expected(case);
    let prefix = |bytes: &[u8]| -> Option<String> {
        let text = String::from_utf8_lossy(bytes);
        let end = text.lines().position(|l| l == agree_through)?;
        Some(
            text.lines()
                .take(end + 1)
                .map(|l| format!("{l}\n"))
                .collect(),
        )
    };
    let expected_prefix = prefix(&expected.stdout)
        .unwrap_or_else(|| panic!("tests/expected/linux/{case}.out has no line {agree_through:?}"));
    if !have_tool(QEMU) {
        eprintln!("note: {QEMU} not found; {case} is checked against the expected files only");
        return;
    }
    let qemu = run_qemu(run);
    let qemu_prefix = prefix(&qemu.stdout).unwrap_or_default();
    if let Some(diff) = first_difference(expected_prefix.as_bytes(), qemu_prefix.as_bytes()) {
        panic!(
            "{case}: {QEMU} and tests/expected/linux/{case}.out disagree before the line \
             {agree_through:?}\n  stdout {diff}{}{}",
            report(case, QEMU, "the expected files", &expected, &qemu),
            qemu_command(run)
        );
    }
}

fn check_segfault(case: &str, run: &Run, expected: &Expected, ours: &Outcome, addr: Option<u64>) {
    let fail = |why: String| -> ! {
        panic!(
            "{case}: {why}\n{}{}",
            report(case, "sv39", "the expected files", expected, ours),
            sv39_command(run)
        )
    };
    if ours.status != SIGSEGV_STATUS {
        fail(format!(
            "status {} where a SIGSEGV gives {SIGSEGV_STATUS}",
            ours.status
        ));
    }
    if ours.stdout != expected.stdout {
        fail("stdout differs".into());
    }
    let err = ours.stderr_text();
    let lines: Vec<&str> = err.lines().collect();
    if lines.len() != 1 || !err.ends_with('\n') {
        fail(format!(
            "stderr should be exactly one line, got {}",
            lines.len()
        ));
    }
    let line = parse_segfault_line(lines[0]).unwrap_or_else(|| {
        fail(format!(
            "stderr is not `NAME[PID]: segfault at ADDR ip PC cause CAUSE` \
             (hex ADDR and PC without 0x, decimal PID and CAUSE): {:?}",
            lines[0]
        ))
    });
    let name = run.program_name();
    if line.name != name {
        fail(format!(
            "the segfault line names {:?}, not the program {name:?}",
            line.name
        ));
    }
    if line.pid == 0 || line.ip == 0 {
        fail(format!("pid {} or ip {:#x} is 0", line.pid, line.ip));
    }
    if line.cause != STORE_PAGE_FAULT {
        fail(format!(
            "cause {} for a store, not {STORE_PAGE_FAULT} (store page fault)",
            line.cause
        ));
    }
    if let Some(want) = addr
        && line.addr != want
    {
        fail(format!(
            "fault address {:#x}, the program wrote to {want:#x}",
            line.addr
        ));
    }
}

/// Whether `line` is `map PERMS` or `map PERMS NAME`, with PERMS as in /proc/self/maps.
fn is_map_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("map ") else {
        return false;
    };
    let perms: Vec<char> = rest.chars().take(4).collect();
    let well_formed = perms.len() == 4
        && matches!(perms[0], 'r' | '-')
        && matches!(perms[1], 'w' | '-')
        && matches!(perms[2], 'x' | '-')
        && matches!(perms[3], 'p' | 's');
    let name = &rest[perms.len().min(rest.len())..];
    well_formed && (name.is_empty() || (name.starts_with(' ') && name.len() > 1))
}

fn check_map_structure(case: &str, run: &Run, expected: &Expected, ours: &Outcome) {
    let without_maps = |bytes: &[u8]| -> Vec<u8> {
        String::from_utf8_lossy(bytes)
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("map "))
            .collect::<String>()
            .into_bytes()
    };
    let filtered_expected = Expected {
        stdout: without_maps(&expected.stdout),
        ..expected.clone()
    };
    let filtered_ours = Outcome {
        stdout: without_maps(&ours.stdout),
        ..ours.clone()
    };
    if Expected::from_outcome(&filtered_ours, true) != filtered_expected {
        panic!(
            "{}(lines starting with `map ` left out of the comparison)\n{}",
            report(
                case,
                "sv39",
                "the expected files",
                &filtered_expected,
                &filtered_ours
            ),
            sv39_command(run)
        );
    }
    let text = ours.stdout_text();
    let maps: Vec<&str> = text.lines().filter(|l| l.starts_with("map ")).collect();
    assert!(
        !maps.is_empty(),
        "{case}: sv39's /proc/self/maps listed no mapping:\n{text}"
    );
    for line in maps {
        assert!(
            is_map_line(line),
            "{case}: malformed structure line {line:?} in sv39's output:\n{text}"
        );
    }
}

/// Runs exec_target alone under qemu-riscv64 the way fork_exec's child execs it (the same
/// arguments and environment, the pipe's read end as fd 3 holding "inherited\n", fd 5
/// closed), and checks that the exec_target lines of the hand-written expected file are
/// exactly what it prints. `shell_args` are shell words giving the pid arguments.
fn check_exec_target_lines(case: &str, label: &str, shell_args: &str) {
    if !have_tool(QEMU) {
        return;
    }
    build("exec_target");
    stage_file("inherited.txt", b"inherited\n");
    let env = vec![
        ("FROM".to_string(), "fork_exec".to_string()),
        ("PATH".to_string(), "/bin".to_string()),
    ];
    let run = Run::new("exec_target").args(&[label]);
    let tail = format!("{shell_args} inherit-fd=3 cloexec-fd=5 3<inherited.txt");
    let qemu = run_qemu_with(&run, &env, &tail);
    assert_eq!(
        qemu.status,
        42,
        "exec_target under {QEMU} failed its own checks:\n{}{}",
        qemu.stdout_text(),
        qemu.stderr_text()
    );
    let expected = read_expected(case);
    let target_lines: String = String::from_utf8_lossy(&expected.stdout)
        .split_inclusive('\n')
        .filter(|l| l.contains("exec_target: "))
        .collect();
    if let Some(diff) = first_difference(target_lines.as_bytes(), &qemu.stdout) {
        panic!(
            "{case}: the exec_target lines of tests/expected/linux/{case}.out are not what \
             exec_target prints under {QEMU}\n  stdout {diff}"
        );
    }
}

/// `--file` for a program of the corpus, at `/NAME` in the guest.
fn program_file(name: &'static str) -> FileArg {
    build(name);
    FileArg {
        host: name,
        guest: None,
        contents: None,
    }
}

fn text_file(host: &'static str, guest: &'static str, text: &str) -> FileArg {
    FileArg {
        host,
        guest: Some(guest),
        contents: Some(text.as_bytes().to_vec()),
    }
}

#[test]
fn hello() {
    check("hello", "hello", &Run::new("hello"), Rule::Exact);
}

#[test]
fn args() {
    let run = Run::new("args")
        .args(&[
            "one",
            "two words",
            "",
            "--flag",
            "-x",
            "ünïcode",
            "tab\there",
            "exit=0",
        ])
        .env("FOO", "bar")
        .env("EMPTY", "")
        .env("SPACED", "a b  c");
    check("args", "args", &run, Rule::Exact);
}

/// argv[0] is the path as typed (`./args`, at `/args` in the guest); the status is the low
/// 8 bits of exit's argument.
#[test]
fn args_exit_status() {
    let run = Run::new("./args").args(&["exit=7"]);
    check("args_exit_status", "args", &run, Rule::Exact);
}

#[test]
fn args_exit_status_wraps() {
    let run = Run::new("args").args(&["exit=300"]);
    check("args_exit_status_wraps", "args", &run, Rule::Exact);
}

#[test]
fn malloc() {
    check("malloc", "malloc", &Run::new("malloc"), Rule::Exact);
}

#[test]
fn fork_wait() {
    check(
        "fork_wait",
        "fork_wait",
        &Run::new("fork_wait"),
        Rule::Exact,
    );
}

#[test]
fn fork_exec() {
    let run = Run::new("fork_exec").file(program_file("exec_target"));
    check_exec_target_lines("fork_exec", "forked", "pid=$$ ppid=$PPID");
    check(
        "fork_exec",
        "fork_exec",
        &run,
        Rule::Committed {
            agree_through: "child: execve /exec_target",
        },
    );
}

#[test]
fn fork_exec_spawn() {
    let run = Run::new("fork_exec")
        .args(&["spawn"])
        .file(program_file("exec_target"));
    check_exec_target_lines("fork_exec_spawn", "spawned", "ppid=$PPID");
    check(
        "fork_exec_spawn",
        "fork_exec",
        &run,
        Rule::Committed {
            agree_through: "parent: descriptors 3 4 5 6",
        },
    );
}

#[test]
fn cow() {
    check("cow", "cow", &Run::new("cow"), Rule::Exact);
}

#[test]
fn preempt() {
    check("preempt", "preempt", &Run::new("preempt"), Rule::Exact);
}

#[test]
fn pipe() {
    check("pipe", "pipe", &Run::new("pipe"), Rule::Exact);
}

#[test]
fn maps() {
    check("maps", "maps", &Run::new("maps"), Rule::MapStructure);
}

#[test]
fn segv() {
    check(
        "segv",
        "segv",
        &Run::new("segv"),
        Rule::Segfault { addr: Some(0) },
    );
}

#[test]
fn mprotect() {
    check(
        "mprotect",
        "mprotect",
        &Run::new("mprotect"),
        Rule::Segfault { addr: None },
    );
}

#[test]
fn stack() {
    check("stack", "stack", &Run::new("stack"), Rule::Exact);
}

/// 300,000 bytes: every byte value, newlines every 61 bytes.
fn stdin_bytes() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| {
            if i % 61 == 60 {
                b'\n'
            } else {
                (i.wrapping_mul(13) % 256) as u8
            }
        })
        .collect()
}

#[test]
fn stdin() {
    let run = Run::new("stdin").stdin(stdin_bytes());
    check("stdin", "stdin", &run, Rule::Exact);
}

#[test]
fn stdin_empty() {
    check("stdin_empty", "stdin", &Run::new("stdin"), Rule::Exact);
}

/// The bytes of files.c's data file: byte i is (i * 7 + i / 256) & 0xff.
fn data_file() -> Vec<u8> {
    (0..10_000u32)
        .map(|i| (i.wrapping_mul(7) + i / 256) as u8)
        .collect()
}

#[test]
fn files() {
    let run = Run::new("files")
        .file(FileArg {
            host: "./data/input.bin",
            guest: None,
            contents: Some(data_file()),
        })
        .file(text_file(
            "files-src/a.txt",
            "/dir/a.txt",
            "first line\nsecond line\nlast line\n",
        ))
        .file(text_file("files-src/b.txt", "/dir/b.txt", "b1\nb2\n"))
        .file(text_file("files-src/c.txt", "/dir/sub/c.txt", "third\n"));
    check("files", "files", &run, Rule::Exact);
}

#[test]
fn sysinfo() {
    check("sysinfo", "sysinfo", &Run::new("sysinfo"), Rule::Exact);
}

/// sv39 must refuse `typed` with a non-zero status, nothing on stdout, and exactly one line
/// on stderr that names the file and, besides the name, contains one of `reasons` (any case).
fn assert_refused(typed: &str, reasons: &[&str]) {
    if reference_only() {
        eprintln!("note: SV39_LINUX_REFERENCE_ONLY=1: sv39 not run on {typed}");
        return;
    }
    let run = Run::new(typed);
    let o = run_sv39(&run);
    let err = o.stderr_text();
    let context = format!(
        "sv39 {}\n  status {}\n  stdout: {:?}\n  stderr: {err:?}",
        run.sv39_args().join(" "),
        o.status,
        o.stdout_text()
    );
    assert!(!o.timed_out, "sv39 hung on a bad program: {context}");
    assert!(
        !err.contains("panicked at") && !o.stdout_text().contains("panicked at"),
        "sv39 panicked: {context}"
    );
    assert!(
        o.status != 0 && o.status != 101 && !(129..160).contains(&o.status),
        "expected a non-zero exit status (not a panic's 101 nor 128 + a signal): {context}"
    );
    assert!(o.stdout.is_empty(), "nothing on stdout expected: {context}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stderr expected: {context}"
    );
    assert!(
        lines[0].contains(typed),
        "the error should name the program {typed:?}: {context}"
    );
    // The file names contain words such as "dynamic"; the reason must be said besides.
    let lower = lines[0].replace(typed, "").to_lowercase();
    assert!(
        reasons.iter().any(|r| lower.contains(r)),
        "the error should say what is wrong (one of {reasons:?}): {context}"
    );
}

#[test]
fn dynamic_program_is_refused() {
    let path = build_dynamic("hello", "hello-dynamic");
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes
            .windows(b"ld-linux-riscv64".len())
            .any(|w| w == b"ld-linux-riscv64"),
        "hello-dynamic has no dynamic loader path: not the input this test needs"
    );
    assert_refused("hello-dynamic", &["dynamic", "interpreter", "static"]);
}

#[test]
fn x86_64_program_is_refused() {
    let path = build_host("hello", "hello-x86_64");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        u16::from_le_bytes([bytes[18], bytes[19]]),
        62,
        "hello-x86_64 is not an x86-64 ELF file"
    );
    assert_refused(
        "hello-x86_64",
        &["x86", "machine", "architecture", "risc-v", "riscv"],
    );
}

#[test]
fn truncated_program_is_refused() {
    let hello = std::fs::read(build("hello")).unwrap();
    stage_file("hello-truncated", &hello[..100]);
    assert_refused(
        "hello-truncated",
        &[
            "truncated",
            "too short",
            "short",
            "incomplete",
            "end of file",
            "elf",
        ],
    );
}

#[test]
fn missing_program_is_refused() {
    assert_refused(
        "no-such-program",
        &[
            "no such file",
            "not found",
            "does not exist",
            "cannot open",
            "can't open",
            "missing",
        ],
    );
}

/// The cases above: the stems of the files in tests/expected/linux/.
const CASES: [&str; 19] = [
    "hello",
    "cow",
    "preempt",
    "args",
    "args_exit_status",
    "args_exit_status_wraps",
    "malloc",
    "fork_wait",
    "fork_exec",
    "fork_exec_spawn",
    "pipe",
    "maps",
    "segv",
    "mprotect",
    "stack",
    "stdin",
    "stdin_empty",
    "files",
    "sysinfo",
];

/// Every program in tests/linux/ is run by a test above, and every expected file belongs
/// to one of the cases.
#[test]
fn every_program_has_a_test() {
    let used = [
        "hello",
        "cow",
        "preempt",
        "args",
        "malloc",
        "fork_wait",
        "fork_exec",
        "exec_target",
        "pipe",
        "maps",
        "segv",
        "mprotect",
        "stack",
        "stdin",
        "files",
        "sysinfo",
    ];
    for entry in std::fs::read_dir(source_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "c") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            if stem.starts_with("swap_") || stem == "faults" {
                continue; // tests/swap.rs and tests/faults.rs run these
            }
            assert!(
                used.contains(&stem),
                "tests/linux/{stem}.c is not run by any test in tests/linux.rs"
            );
        }
    }
    for entry in std::fs::read_dir(expected_dir()).unwrap() {
        let name = entry.unwrap().file_name();
        let name = name.to_str().unwrap();
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        assert!(
            CASES.contains(&stem),
            "tests/expected/linux/{name} belongs to no case of tests/linux.rs"
        );
    }
    for case in CASES {
        assert!(
            expected_dir().join(format!("{case}.out")).exists(),
            "tests/expected/linux/{case}.out is missing"
        );
    }
}

/// The segfault line parser accepts the documented form and nothing looser.
#[test]
fn segfault_line_format() {
    let line = parse_segfault_line("segv[7]: segfault at 0 ip 10a2c cause 15").unwrap();
    assert_eq!(
        (line.name.as_str(), line.pid, line.addr, line.ip, line.cause),
        ("segv", 7, 0, 0x10a2c, 15)
    );
    for bad in [
        "segv[7]: segfault at 0x0 ip 10a2c cause 15",
        "segv[]: segfault at 0 ip 10a2c cause 15",
        "segv[7]: segfault at 0 ip 10A2C cause 15",
        "segv[7]: segfault at 0 ip 10a2c cause 0xf",
        "segv[7]: segfault at 0 ip 10a2c",
        "qemu: uncaught target signal 11 (Segmentation fault) - core dumped",
    ] {
        assert!(parse_segfault_line(bad).is_none(), "accepted {bad:?}");
    }
    assert!(is_map_line("map r-xp /hello"));
    assert!(is_map_line("map rw-p"));
    assert!(!is_map_line("map rw-p "));
    assert!(!is_map_line("map rwxq [heap]"));
}
