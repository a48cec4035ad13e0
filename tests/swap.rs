//! Swap, end to end: static riscv64 Linux programs (`tests/linux/swap_*.c`, built at test
//! time like the rest of the Linux corpus) that use more anonymous memory than a small RAM
//! holds, run under `sv39 run -m 64M` with the kernel's page replacement policies, and
//! under `qemu-riscv64`, where the host kernel runs them.
//!
//! Each program checks its own memory word by word and prints checksums and results, never
//! addresses or timing, so its transcript is the same whatever the kernel does with its
//! pages. The reference half of a test holds qemu-riscv64 to the expected files in
//! `tests/expected/swap/` (`SV39_BLESS=1` rewrites those that come from qemu-riscv64); the
//! sv39 half holds sv39 to them. A few lines depend on the kernel and are left out of the
//! qemu-riscv64 comparison (see [`Case::kernel_lines`]): whether the process had major
//! faults, whether mlockall succeeded, and a fault count. `SV39_LINUX_REFERENCE_ONLY=1` stops
//! after the reference half, as for `tests/linux.rs`.
//!
//! The tests, with the options after `sv39 run`:
//!
//! - `swap_cow` (`-m 64M`): fork over 8 MiB; child and parent each see only their own
//!   writes. Exact.
//! - `swap_cow_48m` (`-m 64M`): the same over 48 MiB, which with the child's copies does
//!   not fit. Exact.
//! - `swap_big` (`-m 64M --stats`): 96 MiB written, then read back in stride order. Exact,
//!   `majflt>0: yes` included, and the `guest kernel:` block of the report has nonzero
//!   `pswpout` and `pswpin` counts.
//! - `swap_forktree_{fifo,clock,lru}` (`-m 64M --policy P`): a fork tree and a memory hog.
//!   Exact.
//! - `swap_belady_fifo_{3,4,5}_frames` (`--policy fifo --frames N`): `faults: 9`, `10` and
//!   `5`, `data: ok` (hand-written expected files).
//! - `swap_belady_{clock,lru}` (`--policy P --frames 3`): `data: ok` and between 7 (the
//!   optimum) and 12 faults.
//! - `swap_meminfo` (`-m 64M`): MemTotal between 32 and 64 MiB, SwapTotal > 0, the free
//!   counts within their totals.
//! - `swap_pageout` (`--stats`): madvise(MADV_PAGEOUT) of 16 written pages, then every byte
//!   read back: `majflt: +16` (each page read back from the disk) and the kernel's `pswpout`
//!   and `pswpin` at least 16; EINVAL for a misaligned start, ENOMEM for a range with a hole.
//!   `swap_pageout_without_disk` (`--no-disk`): the same, but the pages stay (`majflt: +0`).
//! - `fault_tour_example` (`--stats fault-tour`, the built-in example): its transcript is
//!   `tests/expected/swap/fault_tour.out` (from sv39 itself: `SV39_BLESS=1` rewrites it), and
//!   the kernel's counters show each kind; `fault_tour_boots_the_same_on_qemu_system`: the
//!   same lines on `qemu-system-riscv64`, which has no fault-trace channel.

mod common;
#[path = "common/linux.rs"]
mod linux_common;

use linux_common::{
    Outcome, QEMU, QEMU_PACKAGE, Run, blessing, build, first_difference, have_tool, reference_only,
    run_qemu, run_with_timeout, source_dir, stage_dir, sv39_timeout, tests_dir, write_if_changed,
};
use std::path::PathBuf;
use std::process::Command;

/// The RAM of every run that is meant to swap: less than the programs use.
const RAM: &str = "64M";

/// `tests/expected/swap/`.
fn expected_dir() -> PathBuf {
    tests_dir().join("expected/swap")
}

/// One program run with its expected transcript.
struct Case {
    /// The stem of the expected files, `tests/expected/swap/NAME.out` and `.status`.
    name: &'static str,
    /// The program, `tests/linux/PROGRAM.c`.
    program: &'static str,
    /// Its arguments.
    args: &'static [&'static str],
    /// Lines that depend on the kernel, by prefix, with what sv39 must print there: they are
    /// left out of the comparison with qemu-riscv64, and blessing writes sv39's line in place
    /// of qemu-riscv64's.
    kernel_lines: &'static [(&'static str, &'static str)],
    /// The expected files are written by hand (`SV39_BLESS=1` leaves them alone).
    hand_written: bool,
}

impl Case {
    fn run(&self) -> Run {
        build(self.program);
        Run::new(self.program).args(self.args)
    }

    fn is_kernel_line(&self, line: &str) -> bool {
        self.kernel_lines
            .iter()
            .any(|(prefix, _)| line.starts_with(prefix))
    }

    /// `stdout` without the kernel-dependent lines.
    fn portable(&self, stdout: &[u8]) -> Vec<u8> {
        String::from_utf8_lossy(stdout)
            .split_inclusive('\n')
            .filter(|l| !self.is_kernel_line(l))
            .collect::<String>()
            .into_bytes()
    }

    /// qemu-riscv64's `stdout` with sv39's versions of the kernel-dependent lines.
    fn as_on_sv39(&self, stdout: &[u8]) -> Vec<u8> {
        String::from_utf8_lossy(stdout)
            .split_inclusive('\n')
            .map(|l| {
                match self
                    .kernel_lines
                    .iter()
                    .find(|(prefix, _)| l.starts_with(prefix))
                {
                    Some((_, line)) => format!("{line}\n"),
                    None => l.to_string(),
                }
            })
            .collect::<String>()
            .into_bytes()
    }
}

/// An expected transcript: stdout and the exit status (stderr must be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    stdout: Vec<u8>,
    status: i32,
}

fn read_expected(name: &str) -> Expected {
    let out = expected_dir().join(format!("{name}.out"));
    let status = expected_dir().join(format!("{name}.status"));
    let stdout = std::fs::read(&out).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (regenerate from qemu-riscv64 with SV39_BLESS=1 cargo test -p sv39 \
             --test swap)",
            out.display()
        )
    });
    let status = std::fs::read_to_string(&status)
        .unwrap_or_else(|e| panic!("read {}: {e}", status.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: not a number: {e}", status.display()));
    Expected { stdout, status }
}

fn write_expected(name: &str, e: &Expected) {
    // Through a temporary name: the forktree tests bless one case from three threads.
    write_if_changed(&expected_dir().join(format!("{name}.out")), &e.stdout);
    write_if_changed(
        &expected_dir().join(format!("{name}.status")),
        format!("{}\n", e.status).as_bytes(),
    );
}

/// `sv39 run OPTIONS PROGRAM ARGS` from the staging directory.
fn run_sv39(options: &[&str], run: &Run) -> Outcome {
    let mut args = run.sv39_args();
    args.splice(1..1, options.iter().map(|o| o.to_string()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sv39"));
    cmd.args(&args)
        .current_dir(stage_dir())
        .env_remove("RUST_LOG");
    run_with_timeout(cmd, &run.stdin, sv39_timeout())
}

/// How to repeat an sv39 run by hand, for failure messages.
fn sv39_command(options: &[&str], run: &Run) -> String {
    let mut args = run.sv39_args();
    args.splice(1..1, options.iter().map(|o| o.to_string()));
    format!(
        "  command: cd target/tmp/linux-programs && sv39 {}\n",
        args.join(" ")
    )
}

/// How to repeat a qemu-riscv64 run by hand (the harness also clears the environment).
fn qemu_command(run: &Run) -> String {
    format!(
        "  command: cd target/tmp/linux-programs && {QEMU} -L . {} {}\n",
        run.typed,
        run.args.join(" ")
    )
}

/// Both transcripts, for failure messages.
fn transcript(who: &str, o: &Outcome) -> String {
    format!(
        "  {who}: status {}{}\n  {who} stdout:\n{}  {who} stderr:\n{}",
        o.status,
        if o.timed_out {
            " (killed at the deadline)"
        } else {
            ""
        },
        indent(&o.stdout_text()),
        indent(&o.stderr_text())
    )
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "      <empty>\n".into();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out: String = lines
        .iter()
        .take(60)
        .map(|l| format!("      | {l}\n"))
        .collect();
    if lines.len() > 60 {
        out += &format!("      ... {} more lines\n", lines.len() - 60);
    }
    out
}

/// The reference half: qemu-riscv64's transcript, kernel-dependent lines left out, must be
/// the expected one (written from it first when blessing, unless hand-written).
fn check_reference(case: &Case) {
    if !have_tool(QEMU) {
        assert!(
            !blessing() || case.hand_written,
            "SV39_BLESS=1 needs {QEMU} (Debian package {QEMU_PACKAGE})"
        );
        eprintln!(
            "note: {QEMU} not found; {} is checked against the expected files only",
            case.name
        );
        return;
    }
    let run = case.run();
    let qemu = run_qemu(&run);
    let context = || format!("{}{}", transcript(QEMU, &qemu), qemu_command(&run));
    assert!(
        !qemu.timed_out,
        "{}: {QEMU} did not finish within the deadline\n{}",
        case.name,
        context()
    );
    assert!(
        qemu.stderr.is_empty(),
        "{}: {QEMU} wrote to stderr\n{}",
        case.name,
        context()
    );
    if blessing() {
        if case.hand_written {
            eprintln!(
                "note: tests/expected/swap/{}.* are written by hand; SV39_BLESS leaves them alone",
                case.name
            );
        } else {
            let e = Expected {
                stdout: case.as_on_sv39(&qemu.stdout),
                status: qemu.status,
            };
            write_expected(case.name, &e);
        }
    }
    let expected = read_expected(case.name);
    let (want, got) = (case.portable(&expected.stdout), case.portable(&qemu.stdout));
    if let Some(diff) = first_difference(&want, &got) {
        panic!(
            "{}: {QEMU} differs from tests/expected/swap/{}.out (lines starting with {:?} \
             left out)\n  stdout {diff}{}(the program or {QEMU} changed; if intended, \
             regenerate with SV39_BLESS=1 cargo test -p sv39 --test swap)",
            case.name,
            case.name,
            case.kernel_lines
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>(),
            context()
        );
    }
    assert_eq!(
        qemu.status,
        expected.status,
        "{}: {QEMU}'s exit status differs from tests/expected/swap/{}.status\n{}",
        case.name,
        case.name,
        context()
    );
    for (prefix, _) in case.kernel_lines {
        assert!(
            qemu.stdout_text().lines().any(|l| l.starts_with(prefix)),
            "{}: {QEMU} printed no line starting with {prefix:?}\n{}",
            case.name,
            context()
        );
    }
}

/// The sv39 half: `sv39 run OPTIONS` must print exactly the expected stdout, with the
/// expected status, within the deadline. stderr must be empty unless `--stats` asks for the
/// report; it is returned. `None` under `SV39_LINUX_REFERENCE_ONLY=1`.
fn check_sv39(case: &Case, options: &[&str]) -> Option<String> {
    if reference_only() {
        eprintln!(
            "note: SV39_LINUX_REFERENCE_ONLY=1: {} not run under sv39",
            case.name
        );
        return None;
    }
    let run = case.run();
    let ours = run_sv39(options, &run);
    let expected = read_expected(case.name);
    let context = || {
        format!(
            "{}{}",
            transcript("sv39", &ours),
            sv39_command(options, &run)
        )
    };
    assert!(
        !ours.timed_out,
        "{}: sv39 did not finish within the deadline\n{}",
        case.name,
        context()
    );
    if let Some(diff) = first_difference(&expected.stdout, &ours.stdout) {
        panic!(
            "{}: sv39 differs from tests/expected/swap/{}.out\n  stdout {diff}{}",
            case.name,
            case.name,
            context()
        );
    }
    assert_eq!(
        ours.status,
        expected.status,
        "{}: sv39's exit status differs from tests/expected/swap/{}.status\n{}",
        case.name,
        case.name,
        context()
    );
    if !options.contains(&"--stats") {
        assert!(
            ours.stderr.is_empty(),
            "{}: sv39 wrote to stderr\n{}",
            case.name,
            context()
        );
    }
    Some(ours.stderr_text())
}

/// The number after the first whole-word `name` in `text` (separated from it by spaces,
/// tabs, `:` or `=`), e.g. 12 in `pswpin 12`, `pswpin: 12` or `swap: pswpin=12 pswpout=3`.
fn counter_after(text: &str, name: &str) -> Option<u64> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = text[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        from = end;
        let before_ok = !text[..start].chars().next_back().is_some_and(is_word);
        let rest = &text[end..];
        if !before_ok || rest.chars().next().is_some_and(is_word) {
            continue;
        }
        let digits: String = rest
            .trim_start_matches([' ', '\t', ':', '='])
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Ok(n) = digits.parse() {
            return Some(n);
        }
    }
    None
}

/// The guest kernel's block of the `--stats` report: everything from the `guest kernel:`
/// line on.
fn guest_kernel_block(stats: &str) -> Option<&str> {
    stats.find("guest kernel:").map(|at| &stats[at..])
}

const COW: Case = Case {
    name: "cow",
    program: "swap_cow",
    args: &[],
    kernel_lines: &[],
    hand_written: false,
};

const COW_48M: Case = Case {
    name: "cow_48m",
    program: "swap_cow",
    args: &["12288"],
    kernel_lines: &[],
    hand_written: false,
};

const BIG: Case = Case {
    name: "big",
    program: "swap_big",
    args: &["96"],
    kernel_lines: &[("majflt", "majflt>0: yes")],
    hand_written: false,
};

const FORKTREE: Case = Case {
    name: "forktree",
    program: "swap_forktree",
    args: &[],
    kernel_lines: &[],
    hand_written: false,
};

/// madvise(MADV_PAGEOUT) with a swap disk: the 16 pages go out and each comes back with a
/// major fault. qemu-riscv64 ignores the advice (`+0`) and does not look for holes (`0`).
const PAGEOUT: Case = Case {
    name: "pageout",
    program: "swap_pageout",
    args: &[],
    kernel_lines: &[
        ("hole in the range:", "hole in the range: ENOMEM"),
        ("majflt:", "majflt: +16"),
    ],
    hand_written: false,
};

/// The same without a disk: anonymous pages have nowhere to go and stay.
const PAGEOUT_WITHOUT_DISK: Case = Case {
    name: "pageout_without_disk",
    program: "swap_pageout",
    args: &[],
    kernel_lines: &[
        ("hole in the range:", "hole in the range: ENOMEM"),
        ("majflt:", "majflt: +0"),
    ],
    hand_written: false,
};

/// The Belady runs' lines that depend on the kernel: qemu-riscv64's mlockall is the host's
/// (it may fail without CAP_IPC_LOCK) and so is its fault count (qemu's own process's).
const BELADY_KERNEL_LINES: &[(&str, &str)] = &[("mlockall:", ""), ("faults:", "")];

const fn belady(name: &'static str) -> Case {
    Case {
        name,
        program: "swap_belady",
        args: &[],
        kernel_lines: BELADY_KERNEL_LINES,
        hand_written: true,
    }
}

const BELADY_FIFO_3: Case = belady("belady_fifo3");
const BELADY_FIFO_4: Case = belady("belady_fifo4");
const BELADY_FIFO_5: Case = belady("belady_fifo5");

#[test]
fn swap_cow() {
    check_reference(&COW);
    check_sv39(&COW, &["-m", RAM]);
}

/// 48 MiB and the child's 24 MiB of copies do not fit in 64 MiB: pages that parent and
/// child share go to swap and come back.
#[test]
fn swap_cow_48m() {
    check_reference(&COW_48M);
    check_sv39(&COW_48M, &["-m", RAM]);
}

#[test]
fn swap_big() {
    check_reference(&BIG);
    let Some(stats) = check_sv39(&BIG, &["-m", RAM, "--stats"]) else {
        return;
    };
    let block = guest_kernel_block(&stats).unwrap_or_else(|| {
        panic!("swap_big: no `guest kernel:` block in sv39's --stats report:\n{stats}")
    });
    for counter in ["pswpout", "pswpin"] {
        let n = counter_after(block, counter).unwrap_or_else(|| {
            panic!("swap_big: no {counter} counter in the guest kernel's --stats block:\n{block}")
        });
        assert!(
            n > 0,
            "swap_big: {counter} is 0 after 96 MiB in 64 MiB of RAM:\n{block}"
        );
    }
}

fn forktree(policy: &str) {
    check_reference(&FORKTREE);
    check_sv39(&FORKTREE, &["-m", RAM, "--policy", policy]);
}

#[test]
fn swap_forktree_fifo() {
    forktree("fifo");
}

#[test]
fn swap_forktree_clock() {
    forktree("clock");
}

#[test]
fn swap_forktree_lru() {
    forktree("lru");
}

/// madvise(MADV_PAGEOUT) writes 16 pages to swap now, and touching them again reads each
/// back (a major fault), contents intact.
#[test]
fn swap_pageout() {
    check_reference(&PAGEOUT);
    // A pageout that did nothing would leave the pages resident: `majflt: +0`, and no page
    // written or read; the expected transcript and the counters below rule that out.
    let expected = String::from_utf8(read_expected(PAGEOUT.name).stdout).unwrap();
    assert!(
        expected.lines().any(|l| l == "majflt: +16"),
        "tests/expected/swap/pageout.out must say `majflt: +16`:\n{expected}"
    );
    let Some(stats) = check_sv39(&PAGEOUT, &["--stats"]) else {
        return;
    };
    let block = guest_kernel_block(&stats).unwrap_or_else(|| {
        panic!("swap_pageout: no `guest kernel:` block in sv39's --stats report:\n{stats}")
    });
    for counter in ["pswpout", "pswpin", "pgmajfault"] {
        let n = counter_after(block, counter).unwrap_or_else(|| {
            panic!(
                "swap_pageout: no {counter} counter in the guest kernel's --stats block:\n{block}"
            )
        });
        assert!(
            n >= 16,
            "swap_pageout: {counter} is {n}, fewer than the 16 pages paged out:\n{block}"
        );
    }
}

/// Without a swap disk MADV_PAGEOUT succeeds, but anonymous pages stay where they are.
#[test]
fn swap_pageout_without_disk() {
    check_reference(&PAGEOUT_WITHOUT_DISK);
    check_sv39(&PAGEOUT_WITHOUT_DISK, &["--no-disk"]);
}

/// FIFO with 3 frames: 9 faults on 1 2 3 4 1 2 5 1 2 3 4 5.
#[test]
fn swap_belady_fifo_3_frames() {
    check_reference(&BELADY_FIFO_3);
    check_sv39(&BELADY_FIFO_3, &["--policy", "fifo", "--frames", "3"]);
}

/// FIFO with 4 frames: 10 faults, one more than with 3 (Belady's anomaly).
#[test]
fn swap_belady_fifo_4_frames() {
    check_reference(&BELADY_FIFO_4);
    check_sv39(&BELADY_FIFO_4, &["--policy", "fifo", "--frames", "4"]);
}

/// Enough frames for all five pages: only the five first references fault, so nothing
/// else in the measured loop does.
#[test]
fn swap_belady_fifo_5_frames() {
    check_reference(&BELADY_FIFO_5);
    check_sv39(&BELADY_FIFO_5, &["--policy", "fifo", "--frames", "5"]);
}

/// Policies whose count is not pinned down (clock's hand and lru's aging depend on when
/// accessed bits are sampled): the data must survive, and the count must lie between the
/// optimum for 3 frames (7) and one fault per reference (12).
fn belady_loose(policy: &str) {
    if reference_only() {
        eprintln!("note: SV39_LINUX_REFERENCE_ONLY=1: swap_belady --policy {policy} not run");
        return;
    }
    build("swap_belady");
    let run = Run::new("swap_belady");
    let options = ["--policy", policy, "--frames", "3"];
    let ours = run_sv39(&options, &run);
    let context = || {
        format!(
            "{}{}",
            transcript("sv39", &ours),
            sv39_command(&options, &run)
        )
    };
    assert!(
        !ours.timed_out && ours.status == 0 && ours.stderr.is_empty(),
        "swap_belady --policy {policy}: expected status 0 and nothing on stderr\n{}",
        context()
    );
    let text = ours.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    let header = String::from_utf8_lossy(&read_expected(BELADY_FIFO_3.name).stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        lines.len(),
        4,
        "swap_belady --policy {policy}: four lines expected\n{}",
        context()
    );
    assert_eq!(lines[0], header, "{}", context());
    assert_eq!(lines[1], "mlockall: ok", "{}", context());
    let faults: u32 = lines[2]
        .strip_prefix("faults: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a `faults: N` line: {:?}\n{}", lines[2], context()));
    assert!(
        (7..=12).contains(&faults),
        "swap_belady --policy {policy} --frames 3: {faults} faults, outside 7 (optimal) to \
         12 (every reference)\n{}",
        context()
    );
    assert_eq!(lines[3], "data: ok", "{}", context());
    eprintln!("swap_belady --policy {policy} --frames 3: {faults} faults");
}

#[test]
fn swap_belady_clock() {
    belady_loose("clock");
}

#[test]
fn swap_belady_lru() {
    belady_loose("lru");
}

/// The kB value of the `/proc/meminfo` line `name:` in `text`.
fn meminfo_kb(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(&format!("{name}:")))?;
    let rest = line[name.len() + 1..].trim();
    let number = rest.strip_suffix(" kB")?.trim();
    number.parse().ok()
}

/// /proc/meminfo's lines in Linux's format, and sv39's numbers plausible for `-m 64M` with
/// a swap disk.
#[test]
fn swap_meminfo() {
    build("swap_meminfo");
    let run = Run::new("swap_meminfo");
    let names = ["MemTotal", "MemFree", "SwapTotal", "SwapFree"];
    if have_tool(QEMU) {
        // The host's numbers: only the format and the program are checked.
        let qemu = run_qemu(&run);
        let text = qemu.stdout_text();
        assert!(
            qemu.status == 0 && names.iter().all(|n| meminfo_kb(&text, n).is_some()),
            "swap_meminfo under {QEMU}: expected status 0 and four `Name: N kB` lines\n{}",
            transcript(QEMU, &qemu)
        );
    } else {
        eprintln!("note: {QEMU} not found; swap_meminfo runs under sv39 only");
    }
    if reference_only() {
        eprintln!("note: SV39_LINUX_REFERENCE_ONLY=1: swap_meminfo not run under sv39");
        return;
    }
    let options = ["-m", RAM];
    let ours = run_sv39(&options, &run);
    let text = ours.stdout_text();
    let context = || {
        format!(
            "{}{}",
            transcript("sv39", &ours),
            sv39_command(&options, &run)
        )
    };
    assert!(
        !ours.timed_out && ours.status == 0 && ours.stderr.is_empty(),
        "swap_meminfo: expected status 0 and nothing on stderr\n{}",
        context()
    );
    let kb = |name: &str| {
        meminfo_kb(&text, name).unwrap_or_else(|| {
            panic!(
                "swap_meminfo: no `{name}: N kB` line in sv39's /proc/meminfo\n{}",
                context()
            )
        })
    };
    let (total, free, swap_total, swap_free) = (
        kb("MemTotal"),
        kb("MemFree"),
        kb("SwapTotal"),
        kb("SwapFree"),
    );
    assert!(
        (32 * 1024..=64 * 1024).contains(&total),
        "swap_meminfo: MemTotal {total} kB is not between 32 and 64 MiB for -m 64M\n{}",
        context()
    );
    assert!(
        free <= total,
        "swap_meminfo: MemFree {free} kB exceeds MemTotal\n{}",
        context()
    );
    assert!(
        swap_total > 0,
        "swap_meminfo: SwapTotal is 0: no swap disk\n{}",
        context()
    );
    assert!(
        swap_free <= swap_total,
        "swap_meminfo: SwapFree {swap_free} kB exceeds SwapTotal\n{}",
        context()
    );
}

/// Every `tests/linux/swap_*.c` is run here, every expected file belongs to a case, and
/// every case has its files.
#[test]
fn every_swap_program_has_a_test() {
    let programs = [
        "swap_cow",
        "swap_big",
        "swap_forktree",
        "swap_belady",
        "swap_meminfo",
        "swap_pageout",
    ];
    let cases = [
        &COW,
        &COW_48M,
        &BIG,
        &FORKTREE,
        &BELADY_FIFO_3,
        &BELADY_FIFO_4,
        &BELADY_FIFO_5,
        &PAGEOUT,
        &PAGEOUT_WITHOUT_DISK,
    ];
    // Expected files of tests that run a built-in example rather than a case.
    let examples = [FAULT_TOUR_EXPECTED];
    for entry in std::fs::read_dir(source_dir()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if stem.starts_with("swap_") && path.extension().is_some_and(|e| e == "c") {
            assert!(
                programs.contains(&stem.as_str()),
                "tests/linux/{stem}.c is not run by any test in tests/swap.rs"
            );
        }
    }
    for entry in std::fs::read_dir(expected_dir()).unwrap() {
        let name = entry.unwrap().file_name();
        let name = name.to_str().unwrap();
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        assert!(
            cases.iter().any(|c| c.name == stem) || examples.contains(&stem),
            "tests/expected/swap/{name} belongs to no case of tests/swap.rs"
        );
    }
    for case in cases {
        for ext in ["out", "status"] {
            assert!(
                expected_dir().join(format!("{}.{ext}", case.name)).exists(),
                "tests/expected/swap/{}.{ext} is missing",
                case.name
            );
        }
    }
}

/// The expected Belady counts are the textbook ones, and the `--stats` parsing is loose in
/// the documented ways only.
#[test]
fn swap_helpers() {
    // FIFO replacement, simulated: 9 faults with 3 frames, 10 with 4, 5 with 5.
    let refs = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
    let fifo = |frames: usize| {
        let mut resident: std::collections::VecDeque<i32> = Default::default();
        let mut faults = 0;
        for r in refs {
            if !resident.contains(&r) {
                faults += 1;
                if resident.len() == frames {
                    resident.pop_front();
                }
                resident.push_back(r);
            }
        }
        faults
    };
    for (case, frames) in [
        (&BELADY_FIFO_3, 3),
        (&BELADY_FIFO_4, 4),
        (&BELADY_FIFO_5, 5),
    ] {
        let text = String::from_utf8(read_expected(case.name).stdout).unwrap();
        let line = format!("faults: {}", fifo(frames));
        assert!(
            text.lines().any(|l| l == line),
            "tests/expected/swap/{}.out should say {line:?}",
            case.name
        );
    }

    assert_eq!(counter_after("  pswpin 12\n", "pswpin"), Some(12));
    assert_eq!(counter_after("pswpin: 7", "pswpin"), Some(7));
    assert_eq!(
        counter_after("swap: pswpin=3 pswpout=40", "pswpout"),
        Some(40)
    );
    assert_eq!(counter_after("pswpins 5 pswpin 6", "pswpin"), Some(6));
    assert_eq!(counter_after("xpswpin 5", "pswpin"), None);
    assert_eq!(counter_after("pswpin none", "pswpin"), None);
    let report = "MMU: ...\n  pswpin 99\nguest kernel:\n  pswpin 0\n";
    assert_eq!(
        guest_kernel_block(report).and_then(|b| counter_after(b, "pswpin")),
        Some(0)
    );
    assert_eq!(guest_kernel_block("no block\n"), None);

    assert_eq!(
        meminfo_kb(
            "MemTotal:          65536 kB\nSwapTotal:  0 kB\n",
            "MemTotal"
        ),
        Some(65536)
    );
    assert_eq!(
        meminfo_kb(
            "MemTotal:          65536 kB\nSwapTotal:  0 kB\n",
            "SwapTotal"
        ),
        Some(0)
    );
    assert_eq!(meminfo_kb("MemTotal: 12\n", "MemTotal"), None);

    let big = BIG.as_on_sv39(b"a\nmajflt>0: no\n");
    assert_eq!(big, b"a\nmajflt>0: yes\n");
    assert_eq!(BIG.portable(&big), b"a\n");
}

/// The same embedded firmware and kernel, with the same initramfs and an empty disk, boot
/// on sv39 and on `qemu-system-riscv64 -M virt` (the disk as `-drive ... -device
/// virtio-blk-device`, which QEMU puts on its last virtio-mmio transport, at 0x10008000, and
/// in the legacy layout): COW fork over 48 MiB in 64 MiB of RAM swaps on both, and the
/// console transcripts agree (the kernel's log lines aside: sv39 sends them to its log, and
/// they name where each machine put the disk).
#[test]
fn swap_cow_boots_the_same_on_qemu_system() {
    if !have_tool("qemu-system-riscv64") || !have_tool("riscv64-linux-gnu-gcc") {
        eprintln!("skipped: needs qemu-system-riscv64 and riscv64-linux-gnu-gcc");
        return;
    }
    let program = std::fs::read(build("swap_cow")).unwrap();
    crosscheck_system("swap_cow", &program, RAM, &["12288"], &[]);
}

/// Boots the embedded firmware and kernel with `/NAME` (the bytes `program`) as init,
/// `args` its arguments, and an empty 256 MiB disk, under `sv39 crosscheck --system -m RAM`,
/// and requires agreement. The kernel's log lines are left out on both sides (sv39 sends
/// them to its log, QEMU shows them on the console), and so are lines matching `ignore`.
fn crosscheck_system(name: &str, program: &[u8], ram: &str, args: &[&str], ignore: &[&str]) {
    let mut initramfs = sv39::initramfs::Initramfs::new();
    initramfs
        .add_file(&format!("/{name}"), program.to_vec(), 0o755)
        .unwrap();
    let dir = stage_dir().join(format!("{name}-system"));
    std::fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join("root.cpio");
    std::fs::write(&initrd, initramfs.to_bytes()).unwrap();
    let disk = dir.join("disk.img");
    let file = std::fs::File::create(&disk).unwrap();
    file.set_len(256 << 20).unwrap();
    drop(file);
    let mut append = format!("init=/{name}");
    if !args.is_empty() {
        append = format!("{append} -- {}", args.join(" "));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sv39"));
    cmd.args(["crosscheck", "--system", "-m", ram, "--timeout", "300"])
        .arg("--initrd")
        .arg(&initrd)
        .arg("--disk")
        .arg(&disk)
        .args(["--append", &append])
        .args(["--ignore", "^sv39 kernel: "]);
    for pattern in ignore {
        cmd.args(["--ignore", pattern]);
    }
    cmd.env_remove("RUST_LOG");
    let out = run_with_timeout(cmd, &[], std::time::Duration::from_secs(600));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status,
        0,
        "crosscheck disagrees:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("crosscheck: agree"), "{text}");
}

/// `sv39 run -m 64M --stats swap-demo` (the built-in example, found by name): the checksums
/// agree, and both the program's counters and the kernel's report show pages going out to
/// swap and coming back.
#[test]
fn swap_demo_example_swaps() {
    let out = Command::new(env!("CARGO_BIN_EXE_sv39"))
        .args(["run", "-m", RAM, "--stats", "swap-demo"])
        .current_dir(stage_dir())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("swap-demo: 70 MiB (17920 pages)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok: every page holds what was written"),
        "{stdout}"
    );
    let number = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert!(number(&stdout, "pswpout") > 0 && number(&stdout, "pswpin") > 0);
    // The kernel's report at power-off says the same as the program read from /proc/vmstat.
    assert!(stderr.contains("guest kernel:"), "{stderr}");
    assert_eq!(number(&stderr, "pswpout"), number(&stdout, "pswpout"));
    assert!(number(&stderr, "pgmajfault") > 0);
}

/// The stem of `fault_tour_example`'s expected files in `tests/expected/swap/`.
const FAULT_TOUR_EXPECTED: &str = "fault_tour";

/// `sv39 run --stats fault-tour`: one fault of each kind with the process's own counters.
/// Its stdout is the expected transcript (written from this run under `SV39_BLESS=1`: no
/// other machine runs the example the same way), the child's segfault is the one line on
/// stderr before the report, and the kernel's counters at power-off hold each kind at least
/// as often as the tour causes it (64 demand-zero, 8 file-backed, 16 copies, 16 reuses) and
/// exactly its 16 major faults, each a page read back from the swap disk.
#[test]
fn fault_tour_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_sv39"))
        .args(["run", "--stats", "fault-tour"])
        .current_dir(stage_dir())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = || {
        format!(
            "  stdout:\n{}  stderr:\n{}",
            indent(&stdout),
            indent(&stderr)
        )
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "fault-tour failed\n{}",
        context()
    );
    if blessing() {
        write_expected(
            FAULT_TOUR_EXPECTED,
            &Expected {
                stdout: out.stdout.clone(),
                status: 0,
            },
        );
    }
    let expected = read_expected(FAULT_TOUR_EXPECTED);
    if let Some(diff) = first_difference(&expected.stdout, &out.stdout) {
        panic!(
            "fault-tour differs from tests/expected/swap/{FAULT_TOUR_EXPECTED}.out\n  stdout \
             {diff}{}(if intended, regenerate with SV39_BLESS=1 cargo test -p sv39 --test swap \
             fault_tour_example)",
            context()
        );
    }
    assert!(
        stderr.starts_with("fault-tour[3]: segfault at 0 ip "),
        "fault-tour: the SIGSEGV child's line should open stderr\n{}",
        context()
    );
    let block = guest_kernel_block(&stderr)
        .unwrap_or_else(|| panic!("fault-tour: no `guest kernel:` block\n{}", context()));
    let count = |name: &str| {
        counter_after(block, name).unwrap_or_else(|| {
            panic!("fault-tour: no {name} in the guest kernel's block:\n{block}")
        })
    };
    for (name, least) in [
        ("sv39_demand_zero", 64),
        ("sv39_file_backed", 8),
        ("sv39_cow_copy", 16),
        ("sv39_cow_reuse", 16),
        ("sv39_swap_in", 16),
        ("pswpout", 16),
        ("pswpin", 16),
    ] {
        assert!(
            count(name) >= least,
            "fault-tour: {name} is {}, below the {least} the tour causes:\n{block}",
            count(name)
        );
    }
    assert_eq!(
        count("pgmajfault"),
        16,
        "fault-tour: the 16 pages paged out are the only ones read back:\n{block}"
    );
}

/// The same kernel and the fault-tour example boot on `qemu-system-riscv64 -M virt` with a
/// swap disk and print the same lines: the kernel finds no fault-trace channel there and
/// reports nothing. Left out on both sides: the kernel's log lines (sv39's log, QEMU's
/// console) and the child's segfault line (sv39's stderr, QEMU's console).
#[test]
fn fault_tour_boots_the_same_on_qemu_system() {
    if !have_tool("qemu-system-riscv64") {
        eprintln!("skipped: needs qemu-system-riscv64");
        return;
    }
    let program = sv39::images::example("fault-tour").expect("fault-tour is built in");
    let segfault_line = r"^fault-tour\[[0-9]+\]: segfault at ";
    crosscheck_system("fault-tour", program, "128M", &[], &[segfault_line]);
}
