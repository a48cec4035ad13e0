//! An in-memory output sink: the devices write into it while the machine runs (a UART or
//! the host I/O channel given a `Capture` as its output), and the caller reads it afterwards.
//! `sv39 crosscheck` captures sv39's side with it; unit tests capture device output.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// An in-memory sink that sv39's devices write into while the machine runs, and the check
/// reads afterwards.
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, leaving the sink empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_collect_writes_from_clones() {
        let capture = Capture::default();
        let mut writer = capture.clone();
        writer.write_all(b"one ").unwrap();
        write!(writer, "two").unwrap();
        assert_eq!(capture.contents(), b"one two");
        assert_eq!(capture.take(), b"one two");
        assert!(capture.take().is_empty());
    }
}
