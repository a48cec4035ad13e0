//! The console: a 16550-compatible UART (`ns16550a` in the device tree), polled.
//!
//! The firmware does not program the UART (baud rate, line format): QEMU's and sv39's models
//! work from reset. As OpenSBI does, every `\n` written goes out as `\r\n`, so a terminal in
//! raw mode shows lines correctly, for the firmware's messages and the SBI console alike.

use core::fmt;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Receive buffer (read) and transmit holding register (write).
const RBR_THR: usize = 0;
/// Line status register.
const LSR: usize = 5;
/// LSR: a received byte is waiting.
const LSR_DATA_READY: u8 = 1 << 0;
/// LSR: the transmit holding register can take a byte.
const LSR_THR_EMPTY: u8 = 1 << 5;

/// The UART's base address; 0 until the device tree names one (output is then dropped).
static BASE: AtomicUsize = AtomicUsize::new(0);
/// log2 of the register stride (`reg-shift`, 0 on QEMU's virt).
static REG_SHIFT: AtomicUsize = AtomicUsize::new(0);

/// Uses the UART at `base` (a physical MMIO address) with registers `1 << reg_shift` apart.
pub fn init(base: usize, reg_shift: usize) {
    REG_SHIFT.store(reg_shift, Ordering::Relaxed);
    BASE.store(base, Ordering::Relaxed);
}

/// The address of register `index`, or `None` before `init`.
fn register(index: usize) -> Option<*mut u8> {
    let base = BASE.load(Ordering::Relaxed);
    (base != 0).then(|| (base + (index << REG_SHIFT.load(Ordering::Relaxed))) as *mut u8)
}

fn read_register(index: usize) -> Option<u8> {
    let reg = register(index)?;
    // SAFETY: `reg` is a register of the UART the device tree describes, mapped as MMIO.
    Some(unsafe { read_volatile(reg) })
}

fn write_register(index: usize, value: u8) {
    if let Some(reg) = register(index) {
        // SAFETY: `reg` is a register of the UART the device tree describes, mapped as MMIO.
        unsafe { write_volatile(reg, value) };
    }
}

/// Sends one byte as it is, waiting until the transmitter takes it.
fn put_raw(byte: u8) {
    if register(RBR_THR).is_none() {
        return;
    }
    while read_register(LSR).is_some_and(|lsr| lsr & LSR_THR_EMPTY == 0) {}
    write_register(RBR_THR, byte);
}

/// Sends one byte, `\n` as `\r\n`.
pub fn put_byte(byte: u8) {
    if byte == b'\n' {
        put_raw(b'\r');
    }
    put_raw(byte);
}

/// Takes one received byte, if one is waiting.
pub fn get_byte() -> Option<u8> {
    let lsr = read_register(LSR)?;
    (lsr & LSR_DATA_READY != 0)
        .then(|| read_register(RBR_THR))
        .flatten()
}

/// `core::fmt` sink for the firmware's own messages.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(put_byte);
        Ok(())
    }
}

/// Prints to the console, like `print!`.
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Prints a line to the console, like `println!`.
macro_rules! println {
    () => { $crate::console::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::console::print!($($arg)*);
        $crate::console::print!("\n");
    }};
}

pub(crate) use {print, println};
