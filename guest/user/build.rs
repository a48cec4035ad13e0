//! Links the example programs as static position-independent executables.
//!
//! Through `build.rs` rather than `.cargo/config.toml`, so the build does not depend on the
//! directory cargo is started from (ARCHITECTURE.md, pitfall 4). The flags:
//! - `-pie`: an ET_DYN image with a `.dynamic` section and `.rela.dyn`;
//! - `--no-dynamic-linker`: no PT_INTERP, the program relocates itself (`src/start.rs`);
//! - `-z notext`: `core` is precompiled for the static relocation model, so some of its
//!   read-only input sections hold absolute addresses; `link.ld` places them in the
//!   writable segment, where `_start` can relocate them;
//! - `-z max-page-size=4096`: segments aligned to the Sv39 base page, not lld's default;
//! - `-T link.ld`: the segment layout, linked at 0.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let script = dir.join("link.ld");
    for arg in [
        "-pie",
        "--no-dynamic-linker",
        "-znotext",
        "-zmax-page-size=4096",
        "--hash-style=gnu",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
