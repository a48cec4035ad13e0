//! The firmware and kernel built into the `sv39` binary.
//!
//! `build.rs` compiles `firmware/` and `guest/kernel/` for `riscv64gc-unknown-none-elf` with
//! a nested cargo and hands their ELF paths over through `SV39_FIRMWARE_ELF` and
//! `SV39_KERNEL_ELF`; `sv39 run` boots them when no image is named, and `sv39 images` writes
//! them out for QEMU or gdb.

use std::path::{Path, PathBuf};

/// The M-mode SBI firmware (ELF, linked at 0x8000_0000).
pub const FIRMWARE: &[u8] = include_bytes!(env!("SV39_FIRMWARE_ELF"));
/// The S-mode kernel (ELF, linked at 0x8020_0000).
pub const KERNEL: &[u8] = include_bytes!(env!("SV39_KERNEL_ELF"));
/// File name of the firmware when written out.
pub const FIRMWARE_NAME: &str = "sv39-firmware.elf";
/// File name of the kernel when written out.
pub const KERNEL_NAME: &str = "sv39-kernel.elf";

/// Writes the embedded images into `dir` (created if missing); returns the paths written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in [(FIRMWARE_NAME, FIRMWARE), (KERNEL_NAME, KERNEL)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        written.push(path);
    }
    Ok(written)
}
