//! A byte sink that turns guest console text into log records, one per line.
//!
//! When `sv39 run` runs a Linux program, the program's own output must reach the host's
//! stdout and stderr untouched, so everything else the guest prints (the firmware banner,
//! kernel messages on the UART, the host I/O device's log channel) goes through `log` with
//! target [`GUEST_TARGET`] at info level: `-v` or `RUST_LOG=guest=info` shows it on stderr.

use std::io::Write;

/// The `log` target of guest console lines.
pub const GUEST_TARGET: &str = "guest";

/// A line longer than this is emitted in pieces, so a guest that never prints a newline
/// cannot make the host buffer grow without bound.
const MAX_LINE: usize = 4096;

/// Collects bytes and emits each complete line as a `log::info!` record with target
/// [`GUEST_TARGET`]. A partial last line is emitted when the sink is dropped (the machine
/// stopped); [`Write::flush`] does not cut a line in two.
#[derive(Debug, Default)]
pub struct GuestLog {
    line: Vec<u8>,
}

impl GuestLog {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `bytes`, emitting every line they complete.
    pub fn push(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.emit();
            } else {
                self.line.push(byte);
                if self.line.len() >= MAX_LINE {
                    self.emit();
                }
            }
        }
    }

    /// Emits the partial line, if any.
    pub fn finish(&mut self) {
        if !self.line.is_empty() {
            self.emit();
        }
    }

    fn emit(&mut self) {
        let text = String::from_utf8_lossy(&self.line);
        // Consoles end lines with "\r\n"; the carriage return means nothing in a log.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        log::info!(target: GUEST_TARGET, "{text}");
        self.line.clear();
    }
}

impl Write for GuestLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for GuestLog {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_partial_lines_until_complete() {
        let mut log = GuestLog::new();
        log.write_all(b"hello ").unwrap();
        log.flush().unwrap();
        assert_eq!(log.line, b"hello ");
        log.write_all(b"world\r\nnext").unwrap();
        assert_eq!(log.line, b"next");
        log.finish();
        assert!(log.line.is_empty());
    }

    #[test]
    fn long_lines_are_cut() {
        let mut log = GuestLog::new();
        log.push(&vec![b'x'; MAX_LINE * 2 + 10]);
        assert_eq!(log.line.len(), 10);
    }
}
