//! Hands the linker script to the linker for the kernel binary only.
//!
//! Through `build.rs` rather than `.cargo/config.toml`, so the build does not depend on the
//! directory cargo is started from (ARCHITECTURE.md, pitfall 4).

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let script = dir.join("link.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
