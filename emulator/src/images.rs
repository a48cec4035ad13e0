//! The firmware, kernel and example user programs built into the `sv39` binary.
//!
//! `build.rs` compiles `firmware/`, `guest/kernel/` and `guest/user/` for
//! `riscv64gc-unknown-none-elf` with a nested cargo. The firmware's and kernel's ELF paths
//! come through `SV39_FIRMWARE_ELF` and `SV39_KERNEL_ELF`; the examples' names and
//! `include_bytes!` come through two files it generates in `OUT_DIR`, so adding an example
//! touches only `guest/user` and `build.rs`. `sv39 run` boots the firmware and kernel when no
//! image is named, `sv39 run --example NAME` hands the kernel an example, and `sv39 images`
//! writes them all out for QEMU or gdb.

use std::path::{Path, PathBuf};

/// The M-mode SBI firmware (ELF, linked at 0x8000_0000).
pub const FIRMWARE: &[u8] = include_bytes!(env!("SV39_FIRMWARE_ELF"));
/// The S-mode kernel (ELF, linked at 0x8020_0000).
pub const KERNEL: &[u8] = include_bytes!(env!("SV39_KERNEL_ELF"));
/// File name of the firmware when written out.
pub const FIRMWARE_NAME: &str = "sv39-firmware.elf";
/// File name of the kernel when written out.
pub const KERNEL_NAME: &str = "sv39-kernel.elf";
/// Directory, inside the one `write_all` is given, that receives the example programs.
pub const EXAMPLES_DIR: &str = "examples";

/// Names of the example user programs (`guest/user/src/bin`), in a fixed order: `hello`
/// first. Each is a `no_std` RISC-V ELF for the Linux riscv64 syscall ABI that also runs
/// under `qemu-riscv64`; [`example`] gives its bytes.
pub const EXAMPLE_NAMES: &[&str] = &include!(concat!(env!("OUT_DIR"), "/example_names.rs"));

/// The examples' ELF bytes, index for index with [`EXAMPLE_NAMES`].
const EXAMPLE_IMAGES: &[&[u8]] = &include!(concat!(env!("OUT_DIR"), "/example_images.rs"));

/// The ELF image of the example user program `name` (one of [`EXAMPLE_NAMES`]), or `None`
/// if there is no such example.
pub fn example(name: &str) -> Option<&'static [u8]> {
    EXAMPLE_NAMES
        .iter()
        .position(|&known| known == name)
        .map(|index| EXAMPLE_IMAGES[index])
}

/// Writes the embedded images into `dir` (created if missing), the examples into
/// `dir/examples/NAME` (executable, so `qemu-riscv64 DIR/examples/hello` runs them); returns
/// the paths written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in [(FIRMWARE_NAME, FIRMWARE), (KERNEL_NAME, KERNEL)] {
        let path = dir.join(name);
        write_atomically(&path, bytes, false)?;
        written.push(path);
    }
    let examples = dir.join(EXAMPLES_DIR);
    std::fs::create_dir_all(&examples)?;
    for (&name, &bytes) in EXAMPLE_NAMES.iter().zip(EXAMPLE_IMAGES) {
        let path = examples.join(name);
        write_atomically(&path, bytes, true)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
/// (another `sv39 images` or a QEMU started meanwhile) never sees a half-written image.
fn write_atomically(path: &Path, bytes: &[u8], executable: bool) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)?;
    if executable {
        make_executable(&temporary)?;
    }
    std::fs::rename(&temporary, path)
}

/// Sets the execute bits that `std::fs::write` leaves clear (a no-op off Unix).
fn make_executable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = std::fs::metadata(path)?.permissions();
        permissions.set_mode(permissions.mode() | 0o111);
        std::fs::set_permissions(path, permissions)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblin::elf::Elf;
    use goblin::elf::header::{EM_RISCV, ET_DYN};
    use goblin::elf::program_header::{PF_W, PT_INTERP, PT_LOAD};
    use goblin::elf::reloc::R_RISCV_RELATIVE;

    fn parse(name: &str) -> Elf<'static> {
        let bytes = example(name).unwrap_or_else(|| panic!("{name} does not resolve"));
        Elf::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn every_example_is_a_static_riscv64_elf() {
        assert_eq!(EXAMPLE_NAMES.len(), EXAMPLE_IMAGES.len());
        for &name in EXAMPLE_NAMES {
            let elf = parse(name);
            assert!(elf.is_64, "{name} is not ELF64");
            assert_eq!(elf.header.e_machine, EM_RISCV, "{name} is not RISC-V");
            assert!(
                elf.program_headers.iter().all(|ph| ph.p_type != PT_INTERP),
                "{name} asks for a dynamic loader"
            );
        }
    }

    #[test]
    fn hello_is_position_independent() {
        assert_eq!(parse("hello").header.e_type, ET_DYN);
    }

    /// `_start` of a static PIE applies R_RISCV_RELATIVE only, and writes only to writable
    /// segments: anything else would kill the program before `main`.
    #[test]
    fn pie_relocations_are_relative_and_land_in_writable_segments() {
        for &name in EXAMPLE_NAMES {
            let elf = parse(name);
            if elf.header.e_type != ET_DYN {
                continue;
            }
            assert!(elf.dynamic.is_some(), "{name} has no .dynamic");
            for reloc in elf.dynrelas.iter() {
                assert_eq!(reloc.r_type, R_RISCV_RELATIVE, "{name}: {reloc:?}");
                let writable = elf.program_headers.iter().any(|ph| {
                    ph.p_type == PT_LOAD
                        && ph.p_flags & PF_W != 0
                        && ph.vm_range().contains(&(reloc.r_offset as usize))
                });
                assert!(
                    writable,
                    "{name}: relocation at {:#x} is read-only",
                    reloc.r_offset
                );
            }
        }
    }

    #[test]
    fn unknown_example_is_none() {
        assert!(example("no-such-example").is_none());
    }

    #[test]
    fn write_all_writes_the_examples() {
        let dir = std::env::temp_dir().join(format!("sv39-images-test-{}", std::process::id()));
        let written = write_all(&dir).unwrap();
        for &name in EXAMPLE_NAMES {
            let path = dir.join(EXAMPLES_DIR).join(name);
            assert!(written.contains(&path));
            assert_eq!(std::fs::read(&path).unwrap(), example(name).unwrap());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o111, 0o111, "{name} is not executable");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
