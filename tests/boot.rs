//! Booting other people's firmware: Debian's OpenSBI (`fw_jump.elf`, generic platform) runs
//! on sv39 to its full banner and hands over to an S-mode stage at 0x8020_0000, which prints
//! through the SBI and powers off through SRST. The S-mode stage's transcript must match
//! QEMU's for the same images.

mod common;

use common::{Outcome, QEMU, compile, have_tool, run_timeout, run_with_timeout, sv39};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const OPENSBI: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

fn opensbi() -> &'static Path {
    let path = Path::new(OPENSBI);
    assert!(
        path.exists(),
        "{OPENSBI} is missing: install the Debian package opensbi"
    );
    path
}

fn smode_stage() -> std::path::PathBuf {
    compile(
        "sbi_hello.elf",
        &["smode/sbi_hello.S"],
        &["-Wl,-Ttext=0x80200000"],
    )
}

/// `sv39 run --bios <OpenSBI> --kernel <stage> [extra...]`.
fn run_under_opensbi(stage: &Path, extra: &[&str]) -> Outcome {
    let mut cmd = sv39();
    cmd.arg("run")
        .arg("--bios")
        .arg(opensbi())
        .arg("--kernel")
        .arg(stage)
        .args(extra);
    run_with_timeout(cmd, run_timeout())
}

/// The lines the S-mode stage printed.
fn stage_lines(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.starts_with("S-mode stage:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn opensbi_boots_to_its_banner_and_into_the_smode_stage() {
    let stage = smode_stage();
    let o = run_under_opensbi(&stage, &["--max-instructions", "100000000"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status,
        Some(0),
        "exit status; stderr: {}\nstdout:\n{out}",
        o.stderr_text()
    );
    for expected in [
        "OpenSBI v",
        "Platform Name             : riscv-virtio,qemu",
        "Platform Console Device   : uart8250",
        "Platform Timer Device     : aclint-mtimer @ 10000000Hz",
        "Platform Shutdown Device  : sifive_test",
        "Domain0 Next Address      : 0x0000000080200000",
        "Domain0 Next Mode         : S-mode",
        "Boot HART Base ISA        : rv64imafdc",
        "Boot HART PMP Count       : 16",
    ] {
        assert!(
            out.contains(expected),
            "OpenSBI's banner lacks '{expected}':\n{out}"
        );
    }
    assert_eq!(
        stage_lines(&o.stdout),
        [
            "S-mode stage: hello through the SBI",
            "S-mode stage: device tree magic ok",
            "S-mode stage: SBI spec version read",
        ]
    );
}

#[test]
fn the_smode_stage_under_opensbi_matches_qemu() {
    if !have_tool(QEMU) {
        eprintln!("note: {QEMU} not found; skipping the QEMU comparison");
        return;
    }
    let stage = smode_stage();
    let ours = run_under_opensbi(&stage, &[]);
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-M",
        "virt",
        "-m",
        "128M",
        "-nographic",
        "-bios",
        OPENSBI,
        "-kernel",
    ])
    .arg(&stage);
    let qemu = run_with_timeout(cmd, Duration::from_secs(120));
    assert_eq!(qemu.status, Some(0), "QEMU's exit status");
    assert_eq!(ours.status, qemu.status, "exit status");
    assert_eq!(stage_lines(&ours.stdout), stage_lines(&qemu.stdout));
}

/// `sv39 run [extra...]` with the embedded firmware and kernel.
fn run_embedded(extra: &[&str]) -> Outcome {
    let mut cmd = sv39();
    cmd.arg("run").args(extra);
    run_with_timeout(cmd, run_timeout())
}

/// The embedded images, written out once with `sv39 images`.
fn embedded_images() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded-images");
    let mut cmd = sv39();
    cmd.args(["images", "--out"]).arg(&dir);
    let o = run_with_timeout(cmd, Duration::from_secs(60));
    assert_eq!(o.status, Some(0), "sv39 images: {}", o.stderr_text());
    let listed = String::from_utf8_lossy(&o.stdout).into_owned();
    let firmware = dir.join("sv39-firmware.elf");
    let kernel = dir.join("sv39-kernel.elf");
    for f in [&firmware, &kernel] {
        assert!(
            listed.contains(f.to_str().unwrap()),
            "sv39 images should list {}",
            f.display()
        );
        let bytes = std::fs::read(f).unwrap();
        assert!(
            bytes.starts_with(b"\x7fELF"),
            "{} is not an ELF file",
            f.display()
        );
    }
    (firmware, kernel)
}

fn qemu_boot(firmware: &Path, kernel: &Path, append: Option<&str>) -> Outcome {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", "virt", "-m", "128M", "-nographic", "-bios"])
        .arg(firmware)
        .arg("-kernel")
        .arg(kernel);
    if let Some(a) = append {
        cmd.args(["-append", a]);
    }
    run_with_timeout(cmd, Duration::from_secs(120))
}

#[test]
fn sv39_run_boots_the_embedded_firmware_and_kernel() {
    let o = run_embedded(&[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status,
        Some(0),
        "exit status; stderr: {}\nstdout:\n{out}",
        o.stderr_text()
    );
    for expected in [
        "sv39-firmware ",
        "memory: 128 MiB at 0x80000000",
        "timebase: 10000000 Hz",
        "next stage: 0x80200000 (S-mode)",
        "sv39 kernel: S-mode stage",
        "hart 0",
        "bootargs: (none)",
    ] {
        assert!(
            out.contains(expected),
            "the boot transcript lacks '{expected}':\n{out}"
        );
    }
}

#[test]
fn the_exit_code_travels_from_the_kernel_to_the_host() {
    let o = run_embedded(&["--append", "exit=42"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status, Some(42), "stdout:\n{out}");
    assert!(out.contains("exit: 42"), "{out}");
}

#[test]
fn the_embedded_images_boot_the_same_on_qemu() {
    if !have_tool(QEMU) {
        eprintln!("note: {QEMU} not found; skipping the QEMU comparison");
        return;
    }
    let (firmware, kernel) = embedded_images();
    for append in [None, Some("exit=42 hello")] {
        let extra: Vec<&str> = append.map(|a| vec!["--append", a]).unwrap_or_default();
        let ours = run_embedded(&extra);
        let qemu = qemu_boot(&firmware, &kernel, append);
        assert_eq!(
            ours.status, qemu.status,
            "exit status with --append {append:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&qemu.stdout),
            "transcript with --append {append:?}"
        );
    }
}

#[test]
fn the_embedded_kernel_boots_under_opensbi() {
    let (_, kernel) = embedded_images();
    let o = run_under_opensbi(&kernel, &["--max-instructions", "100000000"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status, Some(0), "exit status; stdout:\n{out}");
    assert!(out.contains("OpenSBI v"), "{out}");
    assert!(out.contains("sv39 kernel: S-mode stage"), "{out}");
}

#[test]
fn a_firmware_fault_is_reported_not_hung_on() {
    let stage = compile(
        "firmware_fault.elf",
        &["smode/firmware_fault.S"],
        &["-Wl,-Ttext=0x80200000"],
    );
    let mut cmd = sv39();
    cmd.args(["run", "--max-instructions", "10000000", "--kernel"])
        .arg(&stage);
    let o = run_with_timeout(cmd, run_timeout());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status,
        Some(3),
        "the firmware powers off with status 3; stdout:\n{out}"
    );
    assert!(
        out.contains("sv39-firmware: fatal trap: mcause=0x5"),
        "{out}"
    );
}
