//! The kernel log: messages for developers, kept apart from the programs' output. On sv39
//! they go to the host I/O channel's log stream (shown by `sv39 run -v` or `RUST_LOG`); on
//! QEMU, to the console.

use alloc::string::String;
use core::fmt::Write;

use crate::drivers::hostio::{self, Command};

/// Writes one log line (the back end of [`klog!`]).
pub fn log(args: core::fmt::Arguments<'_>) {
    let mut line = String::from("sv39 kernel: ");
    let _ = line.write_fmt(args);
    line.push('\n');
    if hostio::present() {
        hostio::transfer(Command::Log, line.as_ptr() as u64, line.len() as u64);
    } else {
        crate::console::write_bytes(line.as_bytes());
    }
}

/// Logs a line to the kernel log.
#[macro_export]
macro_rules! klog {
    ($($arg:tt)*) => { $crate::klog::log(format_args!($($arg)*)) };
}
