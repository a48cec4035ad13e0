//! Per-fault accounting and the cost model, end to end: `tests/linux/faults.c` (built at test
//! time like the Linux corpus) and the built-in `fault-tour` example run under `sv39 run
//! --fault-log`, and the log is held to what the program did.
//!
//! - `touch N` fresh pages: exactly N demand-zero faults in the region;
//! - fork, then M writes in the child: exactly M COW copies for the child and M reuses for
//!   the parent when it writes the same pages after the child exits;
//! - MADV_PAGEOUT then reads: one major swap-in per page, each with a disk request, waiting,
//!   and lasting at least the disk's latency;
//! - the kernel's own `getrusage` counters equal the log's counts per process, and under
//!   memory pressure only swap-ins are major and the kernel's `pgfault`/`pgmajfault` equal
//!   the log's;
//! - a fetch fault whose retry faults again keeps the retry's walk, and the next fault
//!   starts where it ends;
//! - `rdcycle; store; rdcycle` around a faulting store measures the first `rdcycle`, the
//!   fault's cycles and the store, exactly, under the default model and under another one;
//! - a timing file that raises one cost raises each fault's cycles by exactly that cost times
//!   the events the fault had;
//! - the same run twice gives byte-identical logs and plots;
//! - `fault-tour --faults --fault-plot` shows every kind, in the table and in the plot;
//! - bad report names (a wrong format, a missing directory, a directory, one file for two
//!   reports) and timing files are refused before the run; an unwritable stderr loses the
//!   reports, not the program's status.

mod common;
#[path = "common/linux.rs"]
mod linux_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use linux_common::{build, run_with_timeout, stage_dir, sv39_timeout};

/// One row of a `--fault-log` CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fault {
    n: u64,
    pid: u32,
    kind: String,
    major: bool,
    va: u64,
    access: String,
    start_cycle: u64,
    cycles: u64,
    instructions: u64,
    pte_reads: u64,
    tlb_misses: u64,
    disk_requests: u64,
    wait_cycles: u64,
    nested_traps: u64,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("a hex number")
}

fn parse_log(text: &str) -> Vec<Fault> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let (n, pid, kind, major, va, access) = (
        col("n"),
        col("pid"),
        col("kind"),
        col("major"),
        col("va"),
        col("access"),
    );
    let start_cycle = col("start_cycle");
    let (cycles, instructions, pte_reads, tlb_misses, disk_requests, wait, nested) = (
        col("cycles"),
        col("instructions"),
        col("pte_reads"),
        col("tlb_misses"),
        col("disk_requests"),
        col("wait_cycles"),
        col("nested_traps"),
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| -> u64 { f[i].parse().expect("a number") };
            Fault {
                n: num(n),
                pid: num(pid) as u32,
                kind: f[kind].to_string(),
                major: f[major] == "1",
                va: hex(f[va]),
                access: f[access].to_string(),
                start_cycle: num(start_cycle),
                cycles: num(cycles),
                instructions: num(instructions),
                pte_reads: num(pte_reads),
                tlb_misses: num(tlb_misses),
                disk_requests: num(disk_requests),
                wait_cycles: num(wait),
                nested_traps: num(nested),
            }
        })
        .collect()
}

/// What one run gave.
struct Run {
    stdout: String,
    stderr: String,
    faults: Vec<Fault>,
}

impl Run {
    /// `region PID START PAGES` lines: the program's regions.
    fn region(&self, pid: u32) -> (u64, u64) {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("region "))
            .map(|l| l.split(' ').collect::<Vec<_>>())
            .find(|w| w[0].parse::<u32>().unwrap() == pid)
            .map(|w| {
                let start = hex(w[1]);
                (start, start + w[2].parse::<u64>().unwrap() * 4096)
            })
            .unwrap_or_else(|| panic!("no region of pid {pid} in:\n{}", self.stdout))
    }

    /// The value after `word ` on the first line that starts with it.
    fn number_after(&self, word: &str) -> u32 {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(word))
            .and_then(|rest| rest.trim().split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no `{word}` line in:\n{}", self.stdout))
    }

    /// The rest of the first line that starts with `word `.
    fn text_after(&self, word: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(word))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_else(|| panic!("no `{word}` line in:\n{}", self.stdout))
    }

    /// Faults of `pid` in `[start, end)`, by kind.
    fn in_region(&self, pid: u32, (start, end): (u64, u64)) -> Vec<&Fault> {
        self.faults
            .iter()
            .filter(|f| f.pid == pid && (start..end).contains(&f.va))
            .collect()
    }
}

fn count(faults: &[&Fault], kind: &str) -> usize {
    faults.iter().filter(|f| f.kind == kind).count()
}

/// A scratch directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = stage_dir().join("fault-runs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `sv39 run [options] --fault-log DIR/log.csv PROGRAM ARGS` (or an example), which must
/// exit 0.
fn run(dir: &Path, options: &[&str], program: &[&str]) -> Run {
    let log = dir.join("log.csv");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sv39"));
    cmd.arg("run")
        .args(options)
        .arg("--fault-log")
        .arg(&log)
        .args(program)
        .current_dir(dir)
        .env_remove("RUST_LOG");
    let out = run_with_timeout(cmd, b"", sv39_timeout());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status, 0,
        "sv39 run {options:?} {program:?} failed:\n{stdout}\n{stderr}"
    );
    let text = std::fs::read_to_string(&log).expect("the fault log");
    Run {
        stdout,
        stderr,
        faults: parse_log(&text),
    }
}

fn faults_program() -> String {
    build("faults").display().to_string()
}

#[test]
fn touching_n_fresh_pages_takes_n_demand_zero_faults() {
    let prog = faults_program();
    let r = run(&scratch("touch"), &[], &[&prog, "touch", "24"]);
    let pid = r.number_after("pid ");
    let faults = r.in_region(pid, r.region(pid));
    assert_eq!(count(&faults, "demand-zero"), 24, "{faults:#?}");
    assert_eq!(
        faults.len(),
        24,
        "nothing but demand-zero faults: {faults:#?}"
    );
    let mut pages: Vec<u64> = faults.iter().map(|f| f.va >> 12).collect();
    pages.dedup();
    assert_eq!(pages.len(), 24, "one fault per page");
    let full_walks = faults.iter().filter(|f| f.pte_reads == 6).count();
    assert!(full_walks >= 22, "{faults:#?}");
    for f in &faults {
        assert_eq!(f.access, "store");
        assert!(
            !f.major && f.disk_requests == 0 && f.wait_cycles == 0,
            "{f:?}"
        );
        // The faulting walk (three levels, or two when the region's first page also needs
        // a new table) and the retry's walk (three).
        assert!(f.pte_reads == 6 || f.pte_reads == 5, "{f:?}");
        assert_eq!(f.tlb_misses, 2, "{f:?}");
        assert!(f.instructions > 100 && f.cycles > f.instructions, "{f:?}");
    }
}

#[test]
fn fork_writes_copy_in_the_child_and_reuse_in_the_parent() {
    let prog = faults_program();
    let r = run(&scratch("cow"), &[], &[&prog, "cow", "12"]);
    let parent = r.number_after("pid ");
    let child = r.number_after("child ");
    let region = r.region(parent);
    let child_faults = r.in_region(child, region);
    assert_eq!(count(&child_faults, "cow-copy"), 12, "{child_faults:#?}");
    assert_eq!(child_faults.len(), 12, "{child_faults:#?}");
    let parent_faults = r.in_region(parent, region);
    assert_eq!(count(&parent_faults, "demand-zero"), 64);
    assert_eq!(count(&parent_faults, "cow-reuse"), 12, "{parent_faults:#?}");
    assert_eq!(count(&parent_faults, "cow-copy"), 0, "{parent_faults:#?}");
    // A copy moves a page; a reuse only makes the entry writable again.
    let min_copy = child_faults.iter().map(|f| f.cycles).min().unwrap();
    let max_reuse = parent_faults
        .iter()
        .filter(|f| f.kind == "cow-reuse")
        .map(|f| f.cycles)
        .max()
        .unwrap();
    assert!(max_reuse < min_copy, "reuse {max_reuse} vs copy {min_copy}");
}

/// A fetch fault whose retry takes a store fault: the retry's fetch walk is the first fault's,
/// and the second fault starts the cycle the first one ends.
#[test]
fn a_retry_that_faults_again_keeps_its_walk_in_the_first_fault() {
    let prog = faults_program();
    let r = run(&scratch("chain"), &[], &[&prog, "chain", "0"]);
    let pid = r.number_after("pid ");
    let text = hex(&r.text_after("chain "));
    let (data, _) = r.region(pid);
    let fetch = r
        .faults
        .iter()
        .find(|f| f.access == "fetch" && f.va >> 12 == text >> 12)
        .unwrap_or_else(|| panic!("no fetch fault on {text:#x}: {:#?}", r.faults));
    let store = r
        .faults
        .iter()
        .find(|f| f.n == fetch.n + 1)
        .expect("the store fault after it");
    assert_eq!((store.va, store.kind.as_str()), (data, "demand-zero"));
    // The walk that faulted and the retry's walk, three levels each.
    assert_eq!((fetch.pte_reads, fetch.tlb_misses), (6, 2), "{fetch:?}");
    assert_eq!(store.start_cycle, fetch.start_cycle + fetch.cycles);
}

#[test]
fn pageout_brings_major_swap_ins_that_wait_for_the_disk() {
    let prog = faults_program();
    let r = run(&scratch("pageout"), &[], &[&prog, "pageout", "8"]);
    let pid = r.number_after("pid ");
    let faults = r.in_region(pid, r.region(pid));
    let swap_ins: Vec<&&Fault> = faults.iter().filter(|f| f.kind == "swap-in").collect();
    assert_eq!(swap_ins.len(), 8, "{faults:#?}");
    // The disk's latency for one page (8 sectors) under the default model.
    let latency = 20_000 + 8 * 100;
    for f in swap_ins {
        assert!(f.major, "{f:?}");
        assert!(f.disk_requests >= 1, "{f:?}");
        assert!(f.wait_cycles > 0 && f.cycles >= latency, "{f:?}");
        assert_eq!(f.access, "load");
    }
}

#[test]
fn the_kernels_counters_equal_the_log_per_process() {
    let prog = faults_program();
    for (name, args) in [
        ("touch", ["touch", "16"]),
        ("cow", ["cow", "8"]),
        ("pageout", ["pageout", "6"]),
    ] {
        let r = run(
            &scratch(&format!("rusage-{name}")),
            &[],
            &[&prog, args[0], args[1]],
        );
        let rusage: Vec<(u32, usize, usize)> = r
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("rusage "))
            .map(|l| {
                let w: Vec<usize> = l.split(' ').map(|x| x.parse().unwrap()).collect();
                (w[0] as u32, w[1], w[2])
            })
            .collect();
        assert!(!rusage.is_empty(), "{}", r.stdout);
        for (pid, minflt, majflt) in rusage {
            let mine: Vec<&Fault> = r.faults.iter().filter(|f| f.pid == pid).collect();
            let resolved = mine
                .iter()
                .filter(|f| {
                    [
                        "demand-zero",
                        "file-backed",
                        "cow-copy",
                        "cow-reuse",
                        "swap-in",
                        "upgrade",
                        "spurious",
                    ]
                    .contains(&f.kind.as_str())
                })
                .count();
            let major = mine.iter().filter(|f| f.major).count();
            assert_eq!(
                (resolved, major),
                (minflt + majflt, majflt),
                "{name}: pid {pid}: the log has {resolved} faults ({major} major), \
                 getrusage says {minflt} minor + {majflt} major"
            );
        }
        assert!(
            r.faults.iter().all(|f| f.kind != "unreported"),
            "{name}: every fault is classified"
        );
    }
}

/// Under memory pressure the retried instruction may fault first on its own text page,
/// evicted while it waited: that fault is a fault of its own (file-backed, minor), and only
/// the fault that brings the page back from swap is major. The kernel's system-wide
/// counters equal the log's.
#[test]
fn under_pressure_only_swap_ins_are_major() {
    let prog = faults_program();
    let r = run(
        &scratch("pressure"),
        &["--policy", "fifo", "--frames", "8", "--stats"],
        &[&prog, "touch", "32"],
    );
    let majors: Vec<&Fault> = r.faults.iter().filter(|f| f.major).collect();
    assert!(
        majors.len() > 32,
        "pages went out and came back: {}",
        majors.len()
    );
    for f in &majors {
        assert_eq!(f.kind, "swap-in", "{f:?}");
    }
    let counter = |name: &str| -> usize {
        r.stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in --stats:\n{}", r.stderr))
    };
    let resolved = r
        .faults
        .iter()
        .filter(|f| !["sigsegv", "sigbus", "oom-kill", "unreported"].contains(&f.kind.as_str()))
        .count();
    assert_eq!(counter("pgmajfault "), majors.len());
    assert_eq!(counter("pgfault "), resolved);
}

/// The costs of `rdcycle` (a CSR read) and of `sd` under the default model.
const DEFAULT_CSR: u64 = 3;
const DEFAULT_STORE: u64 = 1;

/// Checks `rdcycle; sd; rdcycle` against the log: the difference is the first `rdcycle`, the
/// fault and the store.
fn check_rdcycle(r: &Run, csr: u64, store: u64) {
    let pid = r.number_after("pid ");
    let mut checked = 0;
    for line in r.stdout.lines().filter_map(|l| l.strip_prefix("rdcycle ")) {
        let (va, delta) = line.split_once(' ').unwrap();
        let (va, delta): (u64, u64) = (hex(va), delta.parse().unwrap());
        let fault = r
            .faults
            .iter()
            .find(|f| f.pid == pid && f.va == va)
            .unwrap_or_else(|| panic!("no fault at {va:#x} in the log"));
        assert_eq!(fault.kind, "demand-zero");
        assert_eq!(
            delta,
            csr + fault.cycles + store,
            "rdcycle difference around the store to {va:#x}: {fault:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6, "{}", r.stdout);
}

#[test]
fn rdcycle_around_a_fault_measures_the_fault_and_the_two_instructions() {
    let prog = faults_program();
    let r = run(&scratch("rdcycle"), &[], &[&prog, "rdcycle", "6"]);
    check_rdcycle(&r, DEFAULT_CSR, DEFAULT_STORE);
    // Another model: the guest and the log still agree, with its costs.
    let dir = scratch("rdcycle-model");
    let timing = dir.join("slow.toml");
    std::fs::write(
        &timing,
        "[instruction]\ncsr = 11\nstore = 4\n[mmu]\npte_read = 90\n[trap]\ntrap_entry = 37\n",
    )
    .unwrap();
    let slow = run(
        &dir,
        &["--timing", timing.to_str().unwrap()],
        &[&prog, "rdcycle", "6"],
    );
    check_rdcycle(&slow, 11, 4);
}

#[test]
fn a_higher_cost_raises_each_fault_by_that_cost_times_its_events() {
    let prog = faults_program();
    let base = run(&scratch("cost-base"), &[], &[&prog, "touch", "16"]);
    let dir = scratch("cost-pte");
    let timing = dir.join("pte.toml");
    // The default PTE read costs 20 cycles: 100 more each.
    std::fs::write(&timing, "[mmu]\npte_read = 120\n").unwrap();
    let dearer = run(
        &dir,
        &["--timing", timing.to_str().unwrap()],
        &[&prog, "touch", "16"],
    );
    assert_eq!(base.faults.len(), dearer.faults.len());
    let mut compared = 0;
    for (a, b) in base.faults.iter().zip(&dearer.faults) {
        assert_eq!(
            (a.n, a.va, &a.kind),
            (b.n, b.va, &b.kind),
            "the same faults"
        );
        assert_eq!(a.pte_reads, b.pte_reads);
        // A timer interrupt inside the handler comes at another moment under another model.
        if a.nested_traps == 0 && b.nested_traps == 0 {
            assert_eq!(b.cycles - a.cycles, 100 * a.pte_reads, "{a:?}\n{b:?}");
            compared += 1;
        }
    }
    assert!(
        compared >= 16,
        "only {compared} faults without nested traps"
    );

    // The disk's fixed latency: every swap-in waits for one read more or less.
    let base = run(&scratch("disk-base"), &[], &[&prog, "pageout", "4"]);
    let dir = scratch("disk-slow");
    let timing = dir.join("disk.toml");
    std::fs::write(&timing, "[device]\ndisk_request = 50000\n").unwrap();
    let slow = run(
        &dir,
        &["--timing", timing.to_str().unwrap()],
        &[&prog, "pageout", "4"],
    );
    let swap_ins = |r: &Run| -> Vec<Fault> {
        r.faults
            .iter()
            .filter(|f| f.kind == "swap-in")
            .cloned()
            .collect()
    };
    let (a, b) = (swap_ins(&base), swap_ins(&slow));
    assert_eq!(a.len(), 4);
    assert_eq!(b.len(), 4);
    for (a, b) in a.iter().zip(&b) {
        assert!(
            b.wait_cycles >= a.wait_cycles + 30_000,
            "a request 30000 cycles slower: {a:?}\n{b:?}"
        );
    }
}

#[test]
fn the_same_run_gives_the_same_log_and_plot() {
    let mut outputs = Vec::new();
    for attempt in ["one", "two"] {
        let dir = scratch(&format!("determinism-{attempt}"));
        let r = run(
            &dir,
            &["--fault-plot", "plot.svg"],
            &["--example", "fault-tour"],
        );
        let svg = std::fs::read(dir.join("plot.svg")).unwrap();
        let log = std::fs::read(dir.join("log.csv")).unwrap();
        outputs.push((r.stdout, log, svg));
    }
    assert!(outputs[0] == outputs[1], "two runs differ");
}

#[test]
fn fault_tour_shows_every_kind() {
    let dir = scratch("tour");
    let r = run(
        &dir,
        &["--faults", "--fault-plot", "tour.svg"],
        &["--example", "fault-tour"],
    );
    let svg = std::fs::read_to_string(dir.join("tour.svg")).unwrap();
    for kind in [
        "demand-zero",
        "file-backed",
        "cow-copy",
        "cow-reuse",
        "swap-in",
        "sigsegv",
    ] {
        let row = r
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("{kind} ")))
            .unwrap_or_else(|| panic!("no {kind} row in the table:\n{}", r.stderr));
        let logged = r.faults.iter().filter(|f| f.kind == kind).count();
        let shown: usize = row.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(shown, logged, "{row}");
        assert!(
            svg.contains(&format!("{kind} ({logged})")),
            "{kind} in the legend"
        );
    }
    assert_eq!(r.faults.iter().filter(|f| f.major).count(), 16);
    assert!(r.stderr.contains("kernel functions"), "{}", r.stderr);
    assert!(
        r.stderr.contains("::handle_fault"),
        "the handler among the top functions:\n{}",
        r.stderr
    );
}

#[test]
fn bad_report_files_and_timing_files_are_refused_before_the_run() {
    let dir = scratch("refused");
    let bad_model = dir.join("bad.toml");
    std::fs::write(&bad_model, "[mmu]\npte_reads = 3\n").unwrap();
    std::fs::create_dir_all(dir.join("taken.csv")).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--fault-log", "no-such-dir/log.csv"],
            "cannot create no-such-dir/log.csv: no-such-dir: No such file",
        ),
        (&["--fault-log", "taken.csv"], "taken.csv: is a directory"),
        (
            &["--fault-log", "same.csv", "--stats-json", "same.csv"],
            "--fault-log and --stats-json both write",
        ),
        (
            &["--fault-log", "log.txt"],
            "log.txt: unknown fault log format",
        ),
        (
            &["--fault-plot", "plot.png"],
            "plot.png: the fault plot is an SVG file",
        ),
        (
            &["--timing", bad_model.to_str().unwrap()],
            "unknown key 'pte_reads' in [mmu]",
        ),
        (&["--timing", "z80"], "no such file, and no built-in model"),
    ];
    for (options, message) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_sv39"))
            .arg("run")
            .args(options)
            .args(["--example", "hello"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{options:?}: {stderr}");
        assert!(stderr.contains(message), "{options:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "the program did not run: {options:?}"
        );
    }
    assert!(!dir.join("log.txt").exists() && !dir.join("plot.png").exists());
    assert!(!dir.join("same.csv").exists());
}

/// The reports go to stderr after the program's output; a stderr that cannot be written
/// (here /dev/full) loses them, not the program's exit status.
#[test]
fn an_unwritable_stderr_keeps_the_programs_status() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sv39"))
        .args(["run", "--faults", "--stats", "--example", "hello"])
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("hello from sv39"));
}

#[test]
fn the_printed_model_reads_back_as_the_default() {
    let dir = scratch("printed");
    let out = Command::new(env!("CARGO_BIN_EXE_sv39"))
        .args(["timing"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("pte_read = 20") && table.contains("[device]"),
        "{table}"
    );
    let path = dir.join("printed.toml");
    std::fs::write(&path, &table).unwrap();
    let prog = faults_program();
    let printed = run(
        &dir,
        &["--timing", path.to_str().unwrap()],
        &[&prog, "touch", "4"],
    );
    let default = run(&scratch("printed-default"), &[], &[&prog, "touch", "4"]);
    assert_eq!(printed.faults, default.faults);
    let unit = run(
        &scratch("unit"),
        &["--timing", "unit"],
        &[&prog, "touch", "4"],
    );
    // One cycle per instruction and per trap: a fault costs its instructions, the trap and
    // the retried store's class cost is not part of it.
    for f in &unit.faults {
        assert_eq!(f.cycles, f.instructions + 1 + f.nested_traps, "{f:?}");
    }
}
