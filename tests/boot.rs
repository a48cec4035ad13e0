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
