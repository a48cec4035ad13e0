//! Builds the RISC-V firmware (`firmware/`), kernel (`guest/kernel/`) and example user
//! programs (`guest/user/`) with a nested cargo and hands their ELF paths to `src/images.rs`
//! for `include_bytes!`: the firmware and kernel through `cargo:rustc-env`, the examples
//! through two small files generated in `OUT_DIR` (their names, and their `include_bytes!`).
//!
//! The pitfalls, each seen in practice (see ARCHITECTURE.md):
//! 1. the nested build uses its own target directory (`target/riscv`), or the two cargos
//!    deadlock on the same lock;
//! 2. the wrapper and flag variables of the outer build (clippy's driver among them) are
//!    scrubbed from the child's environment;
//! 3. the RISC-V crates are separate workspaces, so `cargo build --workspace` never builds
//!    them for the host;
//! 4. each RISC-V crate passes its own linker script from its own `build.rs`;
//! 5. `rerun-if-changed` covers their sources, so edits there are re-embedded;
//! 6. the child's warnings are hidden on success: CI runs clippy on those crates directly;
//! 7. a missing target is installed with rustup when possible, or reported with the command.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "riscv64gc-unknown-none-elf";

/// The RISC-V crates: directory (relative to the workspace root), binary name, and the
/// environment variable that carries the ELF's path to the library.
const CRATES: [(&str, &str, &str); 2] = [
    ("firmware", "sv39-firmware", "SV39_FIRMWARE_ELF"),
    ("guest/kernel", "sv39-kernel", "SV39_KERNEL_ELF"),
];

/// Crates the kernel depends on by path: a change there must rebuild the kernel too.
const KERNEL_PATH_DEPENDENCIES: [&str; 1] = ["guest/policy"];

/// The crate holding the example user programs.
const USER_CRATE: &str = "guest/user";

/// The example user programs (binaries of `guest/user`), in the order `images::EXAMPLE_NAMES`
/// lists them.
const EXAMPLES: [&str; 6] = ["hello", "fork", "maps", "segv", "swap-demo", "fault-tour"];

/// What a change to a RISC-V crate consists of. Every path must exist: cargo takes a missing
/// one for a change and would rerun this script (and rebuild the library) on every build.
const CRATE_INPUTS: [&str; 5] = ["src", "Cargo.toml", "Cargo.lock", "build.rs", "link.ld"];

/// What a change to a crate the kernel depends on by path consists of (no build script, no
/// linker script of its own). Only the paths that exist are watched: such a crate comes into
/// the build through an edit of the kernel's `Cargo.toml`, which is watched already.
const PATH_DEPENDENCY_INPUTS: [&str; 3] = ["src", "Cargo.toml", "Cargo.lock"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("the emulator crate sits in the workspace")
        .to_owned();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/sv39-<hash>/out; the nested build lives beside the
    // profiles, in <target>/riscv, so it is shared by every profile and never rebuilt twice.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("riscv"))
        .unwrap_or_else(|| out_dir.join("riscv"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    ensure_target_installed();
    for dir in KERNEL_PATH_DEPENDENCIES {
        let crate_dir = root.join(dir);
        let present: Vec<&str> = PATH_DEPENDENCY_INPUTS
            .into_iter()
            .filter(|item| crate_dir.join(item).exists())
            .collect();
        rerun_if_changed(&crate_dir, &present);
    }
    for (dir, bin, env) in CRATES {
        let crate_dir = root.join(dir);
        rerun_if_changed(&crate_dir, &CRATE_INPUTS);
        build(&cargo, &crate_dir, &target_dir);
        let elf = built_elf(&target_dir, dir, bin);
        println!("cargo:rustc-env={env}={}", elf.display());
    }

    let user_dir = root.join(USER_CRATE);
    rerun_if_changed(&user_dir, &CRATE_INPUTS);
    build(&cargo, &user_dir, &target_dir);
    let mut names = String::from("[");
    let mut images = String::from("[");
    for bin in EXAMPLES {
        let elf = built_elf(&target_dir, USER_CRATE, bin);
        names.push_str(&format!("{bin:?}, "));
        images.push_str(&format!(
            "include_bytes!({:?}), ",
            elf.display().to_string()
        ));
    }
    names.push(']');
    images.push(']');
    write_if_changed(&out_dir.join("example_names.rs"), &names);
    write_if_changed(&out_dir.join("example_images.rs"), &images);
}

/// Asks cargo to rerun this script when one of `inputs` (paths relative to `crate_dir`)
/// changes.
fn rerun_if_changed(crate_dir: &Path, inputs: &[&str]) {
    for item in inputs {
        println!("cargo:rerun-if-changed={}", crate_dir.join(item).display());
    }
}

/// The path of the release binary `bin` that the nested build of `dir` produced.
fn built_elf(target_dir: &Path, dir: &str, bin: &str) -> PathBuf {
    let elf = target_dir.join(TARGET).join("release").join(bin);
    assert!(
        elf.exists(),
        "the nested build of {dir} did not produce {}",
        elf.display()
    );
    elf
}

/// Writes `text` to `path` unless it already holds exactly that, so an unchanged file keeps
/// its timestamp.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// `cargo build --release --target riscv64gc-unknown-none-elf` in `crate_dir`.
fn build(cargo: &str, crate_dir: &Path, target_dir: &Path) {
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate_dir)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir);
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTDOCFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo} for {}: {e}", crate_dir.display()));
    if !output.status.success() {
        panic!(
            "building {} for {TARGET} failed:\n{}",
            crate_dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Installs the RISC-V target with rustup if the toolchain lacks it (rust-toolchain.toml
/// lists it, but an already-installed toolchain may predate that file).
fn ensure_target_installed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists());
    if installed {
        return;
    }
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        added,
        "the Rust target {TARGET} is missing and could not be installed: run `rustup target add {TARGET}`"
    );
}
