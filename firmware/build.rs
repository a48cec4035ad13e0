//! Hands the linker script to the binary's link step (not through `.cargo/config.toml`, so the
//! build works from any working directory, including the emulator's nested cargo).
//!
//! Only for the RISC-V target: `cargo test` builds the unit tests for the host, where the
//! firmware's memory layout has no place.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("riscv64") {
        return;
    }
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let script = dir.join("link.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
}
