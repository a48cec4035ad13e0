//! The console as user programs see it (file descriptors 0, 1, 2): the host I/O channel
//! when the machine has one (sv39), else the SBI console (QEMU).

use super::hostio::{self, Command};
use crate::{console, sbi};

/// Writes kernel bytes (at identity-mapped, physical = virtual addresses) to `stream`.
pub fn write_kernel(stream: Command, bytes: &[u8]) {
    if hostio::present() {
        hostio::transfer(stream, bytes.as_ptr() as u64, bytes.len() as u64);
    } else {
        console::write_bytes(bytes);
    }
}

/// Writes the physical range `[pa, pa + len)` (a piece of a user buffer) to `stream`.
pub fn write_physical(stream: Command, pa: u64, len: u64) {
    if hostio::present() {
        hostio::transfer(stream, pa, len);
    } else {
        // SAFETY: the caller passes a mapped user frame it holds; it is only read.
        let bytes = unsafe { crate::mm::phys::bytes(pa, len as usize) };
        console::write_bytes(bytes);
    }
}

/// Reads up to `len` bytes of standard input into physical `[pa, pa + len)`: the count,
/// 0 at end of input, or `None` when nothing is available yet (try again later).
pub fn read_physical(pa: u64, len: u64) -> Option<u64> {
    if hostio::present() {
        let n = hostio::transfer(Command::Stdin, pa, len);
        return Some(n.max(0) as u64);
    }
    // QEMU: the SBI legacy getchar, one byte at a time, -1 when the UART is empty.
    let byte = sbi::legacy_console_getchar()?;
    // SAFETY: as above, a frame of the caller's; one byte is written.
    let target = unsafe { crate::mm::phys::bytes_mut(pa, 1) };
    target[0] = byte;
    Some(1)
}
