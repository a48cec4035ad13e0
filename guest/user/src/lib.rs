//! A small runtime for the sv39 example programs: `no_std` user programs for
//! `riscv64gc-unknown-none-elf` that speak the Linux riscv64 system-call ABI, so the same
//! binaries run on the sv39 kernel and under `qemu-riscv64`.
//!
//! - [`start`]: `_start`, the self-relocator of the static-PIE image, and [`Args`] (argc,
//!   argv, envp, auxv as the kernel laid them out on the stack); [`entry!`] names `main`;
//! - [`syscall`]: the raw `ecall`s and the asm-generic numbers;
//! - [`io`]: [`print!`], [`println!`], [`eprint!`], [`eprintln!`] to fd 1 and 2, without
//!   allocation;
//! - [`fs`], [`mm`], [`process`]: typed wrappers over the calls the examples use.
//!
//! A panic prints `panicked at FILE:LINE:COL: MESSAGE` on stderr and exits with status 101,
//! as Rust's standard runtime does.

#![no_std]

pub mod fs;
pub mod io;
pub mod mm;
pub mod process;
pub mod start;
pub mod syscall;

pub use start::Args;

/// Prints the panic message on stderr and exits with status 101.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(location) => eprintln!("panicked at {location}: {}", info.message()),
        None => eprintln!("panicked: {}", info.message()),
    }
    process::exit(101)
}
