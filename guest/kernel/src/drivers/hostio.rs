//! sv39's host I/O channel (`compatible = "sv39,hostio"`): the program's stdin, stdout and
//! stderr, and the kernel log, as separate streams to the host.
//!
//! Registers (little-endian): MAGIC (0x00, "SV39"), VERSION (0x04), ADDR (0x08, a physical
//! buffer address), LEN (0x10), COMMAND (0x18: 1 stdout, 2 stderr, 3 log, 4 read stdin, 5 kernel statistics),
//! RESULT (0x20: bytes moved, 0 = end of input, or a negative errno). A command runs
//! synchronously when COMMAND is written. QEMU has no such device; there the kernel uses the
//! SBI console for everything.

use core::sync::atomic::{AtomicU64, Ordering};

const REG_ADDR: u64 = 0x08;
const REG_LEN: u64 = 0x10;
const REG_COMMAND: u64 = 0x18;
const REG_RESULT: u64 = 0x20;

/// A stream of the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The host's standard output.
    Stdout = 1,
    /// The host's standard error.
    Stderr = 2,
    /// The emulator's log.
    Log = 3,
    /// The host's standard input (read).
    Stdin = 4,
    /// The kernel's counters at power-off (`name value` lines), for `sv39 run --stats`.
    Stats = 5,
}

/// The device's virtual address in the device window, 0 when absent.
static BASE: AtomicU64 = AtomicU64::new(0);

/// Uses the device at physical `pa` if it answers with the right magic number.
pub fn probe(pa: u64) -> bool {
    let Some(va) = super::probe_sv39_device(pa) else {
        return false;
    };
    BASE.store(va, Ordering::Relaxed);
    true
}

/// Whether the channel is there.
pub fn present() -> bool {
    BASE.load(Ordering::Relaxed) != 0
}

/// Runs `command` on the physical buffer `[pa, pa + len)`; returns RESULT.
pub fn transfer(command: Command, pa: u64, len: u64) -> i64 {
    let base = BASE.load(Ordering::Relaxed);
    assert!(base != 0, "hostio used without the device");
    // SAFETY: registers of the probed device; the buffer is RAM that the caller owns (or a
    // user page it has pinned by holding the address space), which the device only reads
    // or writes for the duration of this synchronous command.
    unsafe {
        core::ptr::write_volatile((base + REG_ADDR) as *mut u64, pa);
        core::ptr::write_volatile((base + REG_LEN) as *mut u64, len);
        core::ptr::write_volatile((base + REG_COMMAND) as *mut u32, command as u32);
        core::ptr::read_volatile((base + REG_RESULT) as *const u64) as i64
    }
}
