//! `sv39 crosscheck --lockstep` against the real `qemu-system-riscv64`.
//!
//! Every bare-metal test program of `tests/programs/` (except the two HTIF ones, which need
//! QEMU's `spike` machine) runs in lockstep over its whole length, and so does the boot of
//! the embedded firmware and kernel up to the first user instruction of `hello`: about
//! 17 million instructions compared (15.4 million in the programs, 1.7 million in the boot). Each test checks the exit status both machines
//! reached, the synchronisations the program must need (interrupts for priv_interrupts) and
//! the known differences its `.deviations` file documents, recognised at their
//! instructions (and nothing else adopted).
//!
//! Two tests make the machines differ on purpose and check where the report says they part:
//! `--ad trap` (sv39 raises a page fault where QEMU sets the A or D bit) at the instruction
//! where sv39 alone first behaves differently under `--ad trap`, and a different memory
//! size at the boot ROM's load of the device tree's address.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Outcome, build_program, expected_dir, run_with_timeout, sv39};

/// Deadline for one lockstep run: the longest (rv64d, 3.8 million instructions) takes about
/// 100 s alone on a 2-core machine, twice that next to another.
const TIMEOUT: Duration = Duration::from_secs(900);

fn lockstep(args: &[&str]) -> Outcome {
    let mut cmd = sv39();
    cmd.arg("crosscheck").arg("--lockstep").args(args);
    run_with_timeout(cmd, TIMEOUT)
}

/// `sv39 crosscheck --lockstep --bios none --kernel ELF [extra...]`.
fn lockstep_bare(elf: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec!["--bios", "none", "--kernel", elf.to_str().unwrap()];
    args.extend_from_slice(extra);
    lockstep(&args)
}

fn stdout(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The number of instructions in the summary line `crosscheck: agree (lockstep: N ...`.
fn compared(summary: &str) -> u64 {
    summary
        .split("lockstep: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in {summary:?}"))
}

/// `sv39 run`'s instruction count for the bare-metal program `elf` (with `extra` options).
fn instructions_alone(elf: &Path) -> u64 {
    let outcome = common::run_sv39(elf, &["--stats"]);
    let text = outcome.stderr_text();
    text.split("instructions ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in {text}"))
}

/// Runs the bare-metal program `name` in lockstep and checks that the two machines agree
/// over its whole length and power off with its expected status. Returns the report.
fn program_agrees(name: &str) -> String {
    let elf = build_program(name);
    let outcome = lockstep_bare(&elf, &[]);
    let text = stdout(&outcome);
    assert_eq!(
        outcome.status,
        Some(0),
        "{name}: lockstep did not agree:\n{text}{}",
        outcome.stderr_text()
    );
    let status = std::fs::read_to_string(expected_dir().join(format!("{name}.status")))
        .unwrap()
        .trim()
        .to_string();
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("crosscheck: agree (lockstep: ")
            && first.contains(" per second; ")
            && first.ends_with(&format!("both powered off, status {status})")),
        "{name}: {first}"
    );
    // Where QEMU's state is adopted, the program takes QEMU's path (a misaligned SC that
    // does not trap skips the handler): then only most of sv39's own run is compared.
    let alone = instructions_alone(&elf);
    let floor = if text.contains("\nknown differences: none\n") {
        alone
    } else {
        alone * 9 / 10
    };
    assert!(
        compared(first) >= floor,
        "{name}: {} steps compared, but sv39 alone retires {alone} instructions",
        compared(first)
    );
    text
}

/// The count of known difference `name` in a report (0 when absent).
fn known(text: &str, name: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.trim().split_once(" x "))
        .find(|(_, rest)| rest.starts_with(&format!("{name}:")))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

fn assert_no_known_differences(name: &str, text: &str) {
    assert!(
        text.contains("\nknown differences: none\n"),
        "{name}: QEMU's state was adopted somewhere:\n{text}"
    );
}

macro_rules! agree_without_known_differences {
    ($($test:ident: $name:literal,)*) => {$(
        #[test]
        fn $test() {
            let text = program_agrees($name);
            assert_no_known_differences($name, &text);
        }
    )*};
}

agree_without_known_differences! {
    exit_code_agrees: "exit_code",
    hello_agrees: "hello",
    smc_agrees: "smc",
    fcvt_agrees: "fcvt",
    rv64a_agrees: "rv64a",
    rv64c_agrees: "rv64c",
    rv64d_agrees: "rv64d",
    rv64f_agrees: "rv64f",
    rv64i_agrees: "rv64i",
    rv64m_agrees: "rv64m",
    sv39_ad_agrees: "sv39_ad",
    sv39_walk_agrees: "sv39_walk",
}

#[test]
fn priv_interrupts_agrees_with_interrupts_injected_where_qemu_took_them() {
    let text = program_agrees("priv_interrupts");
    assert_no_known_differences("priv_interrupts", &text);
    let injected: u64 = text
        .split(" interrupts injected")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(injected >= 4, "{text}");
    assert!(text.contains(" counter reads ("), "{text}");
}

#[test]
fn priv_traps_agrees_with_its_deviations_recognised() {
    // tests/expected/priv_traps.deviations: MPRV after mret, medeleg's writable bits, the
    // misaligned SCs and AMOs; and mideleg's, which the program masks out of what it prints.
    let text = program_agrees("priv_traps");
    assert_eq!(
        known(&text, "mstatus.MPRV after mret to S or U"),
        1,
        "{text}"
    );
    assert!(
        known(&text, "medeleg bits 10, 11 and 20 to 23") >= 1,
        "{text}"
    );
    assert!(known(&text, "mideleg bits 2, 6, 10 and 13") >= 1, "{text}");
    assert_eq!(known(&text, "a misaligned SC"), 2, "{text}");
    assert_eq!(known(&text, "a misaligned AMO's cause"), 2, "{text}");
    assert_eq!(
        known(&text, "a TLB hit on a PTE changed without sfence.vma"),
        0
    );
}

#[test]
fn sv39_priv_agrees_with_the_satp_modes_recognised() {
    // tests/expected/sv39_priv.deviations: Sv48 and Sv57 writes to satp.
    let text = program_agrees("sv39_priv");
    assert_eq!(known(&text, "satp written with Sv48 or Sv57"), 2, "{text}");
    assert!(
        text.contains("known differences (QEMU's state adopted):\n  2 x satp"),
        "{text}"
    );
}

#[test]
fn sv39_tlb_agrees_with_its_stale_reads_recognised() {
    // tests/expected/sv39_tlb.deviations: seven loads through a stale TLB entry.
    let text = program_agrees("sv39_tlb");
    assert_eq!(
        known(&text, "a TLB hit on a PTE changed without sfence.vma"),
        7,
        "{text}"
    );
}

#[test]
fn the_embedded_boot_agrees_up_to_the_first_user_instruction_of_hello() {
    let outcome = lockstep(&["--until-user", "--example", "hello"]);
    let text = stdout(&outcome);
    assert_eq!(outcome.status, Some(0), "{text}{}", outcome.stderr_text());
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("; stopped at the first user-mode instruction, pc 0x"),
        "{first}"
    );
    // Firmware, kernel boot, the first process's set-up: over a million instructions.
    assert!(compared(first) > 1_000_000, "{first}");
    assert_no_known_differences("hello boot", &text);
    // The kernel reads the time and the UART: synchronised, and counted.
    assert!(!text.contains(" 0 MMIO reads"), "{text}");
}

#[test]
fn max_instructions_stops_the_comparison_agreeing() {
    let elf = build_program("rv64i");
    let outcome = lockstep_bare(&elf, &["--max-instructions", "5000"]);
    let text = stdout(&outcome);
    assert_eq!(outcome.status, Some(0), "{text}");
    assert!(
        text.starts_with("crosscheck: agree (lockstep: 5000 instructions compared in "),
        "{text}"
    );
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("stopped at --max-instructions)")
    );
}

/// The pc of the first instruction where sv39 alone behaves differently under `--ad trap`
/// than under `--ad hardware`: the first line where their commit logs differ is the
/// trap handler's in one and the next instruction in the other, so the line before it is
/// the faulting instruction's predecessor; the faulting pc is the hardware log's line.
fn first_ad_fault_pc(elf: &Path) -> u64 {
    let dir = common::build_dir();
    let logs: Vec<String> = ["hardware", "trap"]
        .iter()
        .map(|ad| {
            let log = dir.join(format!("sv39_ad.{ad}.commits"));
            let outcome = common::run_sv39(elf, &["--ad", ad, "--trace", log.to_str().unwrap()]);
            assert!(!outcome.timed_out);
            std::fs::read_to_string(&log).unwrap()
        })
        .collect();
    let (hw, trap) = (logs[0].lines(), logs[1].lines());
    let (line, _) = hw
        .zip(trap)
        .find(|(a, b)| a != b)
        .expect("the commit logs differ");
    // `core   0: 3 0x0000000080000abc (0x...) ...`
    let pc = line.split_whitespace().nth(3).unwrap();
    u64::from_str_radix(pc.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn ad_trap_diverges_where_sv39_raises_its_first_ad_fault() {
    let elf = build_program("sv39_ad");
    let outcome = lockstep_bare(&elf, &["--ad", "trap"]);
    let text = stdout(&outcome);
    assert_eq!(outcome.status, Some(1), "{text}{}", outcome.stderr_text());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("crosscheck: lockstep divergence at instruction ")
            && lines[0].ends_with(": the states differ"),
        "{text}"
    );
    // The instruction is the access that needs A or D: sv39 traps, QEMU goes on.
    let pc = first_ad_fault_pc(&elf);
    assert!(
        lines[1].starts_with(&format!("the instruction: pc {pc:#x} (")),
        "expected the divergence at pc {pc:#x}:\n{text}"
    );
    assert!(lines[1].ends_with(')'), "an access: {}", lines[1]);
    let state = &text[text.find("differing state:").unwrap()..text.find("QEMU, the last").unwrap()];
    assert!(state.contains("\n  pc "), "{state}");
    assert!(
        state.contains("\n  mcause ") || state.contains("\n  scause "),
        "{state}"
    );
    // Both histories end at that instruction; sv39's shows the trap.
    let sv39_side = &text[text.find("sv39, the last 20 instructions:").unwrap()..];
    let last = sv39_side.lines().nth(20).unwrap();
    assert!(last.contains(&format!("{pc:#012x}")), "{last}");
    assert!(
        last.contains("[trap, cause 0xc]")
            || last.contains("[trap, cause 0xd]")
            || last.contains("[trap, cause 0xf]"),
        "{last}"
    );
    // The same divergence every time.
    let again = stdout(&lockstep_bare(&elf, &["--ad", "trap"]));
    assert_eq!(again.lines().next(), text.lines().next());
}

#[test]
fn a_different_memory_size_diverges_at_the_boot_roms_device_tree_address() {
    // QEMU puts the device tree 2 MiB below the end of its RAM, as sv39 does; with 256M
    // the boot ROM's fourth instruction (ld a1, 32(t0)) loads another address.
    let elf = build_program("hello");
    let outcome = lockstep_bare(&elf, &["--qemu-memory", "256M"]);
    let text = stdout(&outcome);
    assert_eq!(outcome.status, Some(1), "{text}{}", outcome.stderr_text());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: lockstep divergence at instruction 4 (4 retired): the states differ"
    );
    assert_eq!(
        lines[1],
        "the instruction: pc 0x100c (M-mode): 0202b583  ld a1,32(t0)"
    );
    assert_eq!(lines[2], "differing state:    QEMU                 sv39");
    assert_eq!(
        lines[3],
        "  a1                0x000000008fe00000   0x0000000087e00000"
    );
    assert_eq!(lines.get(4), Some(&"QEMU, the last 4 instructions:"));
}

#[test]
fn bad_combinations_are_one_line_errors() {
    let hello = build_program("hello");
    let hello = hello.to_str().unwrap();
    // Linked at 0x80200000: QEMU's boot ROM would jump to 0x80000000 all the same.
    let high = build_program_at_kernel_base();
    let high = high.to_str().unwrap();
    for (args, wanted) in [
        (&["--disk", "x.img"][..], "--lockstep does not take --disk"),
        (
            &["--bios", "none", "--kernel", "/no/such.elf"],
            "/no/such.elf",
        ),
        (
            &["--bios", "none", "--kernel", hello, "--qemu-memory", "0"],
            "--qemu-memory 0 bytes: out of range",
        ),
        (
            &["--bios", "none", "--kernel", hello, "--ignore", "x"],
            "--ignore is for --system",
        ),
        (&["--env", "A=1"], "--file and --env need a PROGRAM"),
        (
            &["--bios", "none", "--kernel", high],
            "QEMU 7.2 starts it at 0x80000000",
        ),
    ] {
        let outcome = lockstep(args);
        let err = outcome.stderr_text();
        assert_eq!(outcome.status, Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(wanted), "{err}");
        assert!(outcome.stdout.is_empty());
    }
    // The lockstep options mean nothing without --lockstep.
    for option in [
        &["--until-user"][..],
        &["--ad", "trap"],
        &["--qemu-memory", "256M"],
    ] {
        let mut cmd = sv39();
        cmd.args(["crosscheck", "--system"]).args(option);
        let outcome = run_with_timeout(cmd, TIMEOUT);
        let err = outcome.stderr_text();
        assert_eq!(outcome.status, Some(2), "{option:?}: {err}");
        assert!(err.contains("need --lockstep"), "{err}");
    }
}

/// Assembles `source` into `<build dir>/lockstep-NAME.elf` with its text at `text`.
fn build_asm(name: &str, source: &str, text: u64) -> std::path::PathBuf {
    let dir = common::build_dir();
    let src = dir.join(format!("lockstep-{name}.S"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(format!("lockstep-{name}.elf"));
    let output = std::process::Command::new(common::CC)
        .args([
            "-march=rv64gc",
            "-mabi=lp64d",
            "-nostdlib",
            "-nostartfiles",
            "-static",
        ])
        .args(["-Wl,-N", "-Wl,--no-warn-rwx-segments"])
        .arg(format!("-Wl,-Ttext={text:#x}"))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// A bare-metal program (a jump to itself) linked at the kernel's base, 0x80200000.
fn build_program_at_kernel_base() -> std::path::PathBuf {
    build_asm(
        "high",
        ".globl _start\n_start:\n    j _start\n",
        0x8020_0000,
    )
}

#[test]
fn a_guest_parked_in_wfi_for_good_ends_the_comparison_agreeing() {
    // Interrupts off in mie: QEMU's hart halts in the wfi and never dumps another state;
    // sv39, with nothing that could wake it, would wait for good too.
    let park = build_asm(
        "park",
        ".globl _start\n_start:\n    csrw mie, zero\n    li t0, 5\n1:  addi t0, t0, -1\n    bnez t0, 1b\n    wfi\n    j _start\n",
        0x8000_0000,
    );
    let outcome = lockstep_bare(&park, &["--timeout", "2"]);
    let text = stdout(&outcome);
    assert_eq!(outcome.status, Some(0), "{text}{}", outcome.stderr_text());
    let first = text.lines().next().unwrap();
    // The boot ROM's 6 instructions, then csrw, li, 5 x (addi, bnez) and the wfi.
    assert!(
        first.starts_with("crosscheck: agree (lockstep: 19 instructions compared in ")
            && first.ends_with(
                "; both wait in wfi at pc 0x8000000c for an interrupt that can never come)"
            ),
        "{first}"
    );
}

#[test]
fn a_closed_stdout_keeps_the_status() {
    let elf = build_program("hello");
    let script = format!(
        "{} crosscheck --lockstep --bios none --kernel {} | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_sv39"),
        elf.display()
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", &script]);
    let outcome = run_with_timeout(cmd, TIMEOUT);
    assert_eq!(stdout(&outcome).trim(), "0", "{}", outcome.stderr_text());
    assert!(!outcome.stderr_text().contains("panicked"));
}

/// The QEMU processes whose command line mentions `dir`.
fn qemus_in(dir: &Path) -> Vec<String> {
    let mine = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("qemu-system-riscv64 ") && c.contains(&mine))
        .collect()
}

#[test]
fn sigint_stops_qemu_and_removes_its_files() {
    let elf = build_program("rv64d");
    let tmp = common::build_dir().join("lockstep-sigint");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = sv39()
        .args(["crosscheck", "--lockstep", "--bios", "none", "--kernel"])
        .arg(&elf)
        .env("TMPDIR", &tmp)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while qemus_in(&tmp).is_empty() {
        assert!(std::time::Instant::now() < deadline, "QEMU never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sv39 did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let gone = std::time::Instant::now() + Duration::from_secs(5);
    while !qemus_in(&tmp).is_empty() && std::time::Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(qemus_in(&tmp).is_empty(), "{:?}", qemus_in(&tmp));
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "workspace left"
    );
}

#[test]
fn missing_qemu_names_the_debian_package() {
    let elf = build_program("hello");
    let empty = common::build_dir().join("lockstep-empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = sv39();
    cmd.args(["crosscheck", "--lockstep", "--bios", "none", "--kernel"])
        .arg(&elf)
        .env("PATH", &empty);
    let outcome = run_with_timeout(cmd, TIMEOUT);
    let err = outcome.stderr_text();
    assert_eq!(outcome.status, Some(2), "{err}");
    assert!(
        err.contains("qemu-system-riscv64 not found")
            && err.contains("Debian package qemu-system-misc"),
        "{err}"
    );
}

#[test]
fn qemu_and_its_files_are_gone_after_a_stop_midway() {
    let elf = build_program("rv64d");
    let tmp = common::build_dir().join("lockstep-tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = sv39();
    cmd.args(["crosscheck", "--lockstep", "--bios", "none", "--kernel"])
        .arg(&elf)
        .args(["--max-instructions", "20000"])
        .env("TMPDIR", &tmp);
    let outcome = run_with_timeout(cmd, TIMEOUT);
    assert_eq!(outcome.status, Some(0), "{}", stdout(&outcome));
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the workspace is removed"
    );
    // No QEMU still running on this workspace.
    assert!(qemus_in(&tmp).is_empty(), "{:?}", qemus_in(&tmp));
}
