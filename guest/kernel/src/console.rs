//! Kernel console output through the SBI firmware, and the `print!` / `println!` macros.
//!
//! The Debug Console extension (DBCN, SBI 2.0) writes a whole string per call; firmware that
//! lacks it (OpenSBI 1.1) gets the legacy one-byte `console_putchar`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::sbi;

/// Whether the firmware has DBCN, probed once by [`init`]; until then output is legacy.
static HAS_DEBUG_CONSOLE: AtomicBool = AtomicBool::new(false);

/// Chooses the output path: DBCN when the firmware has it, else the legacy call.
pub fn init() {
    HAS_DEBUG_CONSOLE.store(sbi::probe_extension(sbi::EID_DBCN), Ordering::Relaxed);
}

/// Writes `bytes` to the console, all of them if the firmware allows.
pub fn write_bytes(mut bytes: &[u8]) {
    if HAS_DEBUG_CONSOLE.load(Ordering::Relaxed) {
        while !bytes.is_empty() {
            match sbi::debug_console_write(bytes) {
                // The call may write fewer bytes than asked (SBI 12.1).
                Ok(written) if written > 0 => bytes = &bytes[written.min(bytes.len())..],
                // An error or no progress: the legacy call still gets the text out.
                _ => break,
            }
        }
    }
    bytes.iter().copied().for_each(sbi::legacy_console_putchar);
}

/// The console as a [`fmt::Write`] sink, for the formatting macros.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_bytes(text.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console; the back end of [`print!`] and [`println!`].
pub fn print(args: fmt::Arguments<'_>) {
    // Console::write_str never fails, so neither does formatting into it.
    let _ = Console.write_fmt(args);
}

/// Prints to the SBI console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints to the SBI console, with a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
