//! Output to file descriptors without allocation: formatted text is gathered in a buffer on
//! the stack and written with `write(2)` when it fills up and when the print is done, so a
//! line normally reaches the kernel in one call.

use core::fmt::{self, Write};

use crate::syscall::{self, Errno, nr};

/// Standard output.
pub const STDOUT: usize = 1;
/// Standard error.
pub const STDERR: usize = 2;

/// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`.
pub fn write_all(fd: usize, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length, which is all write(2) reads.
        let raw = unsafe { syscall::syscall3(nr::WRITE, fd, bytes.as_ptr() as usize, bytes.len()) };
        match syscall::result(raw) {
            Ok(0) => return Err(Errno(5)), // EIO: the kernel took nothing and said nothing.
            Ok(n) => bytes = &bytes[n.min(bytes.len())..],
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

/// A `fmt::Write` sink that buffers up to 256 bytes before writing them to its descriptor.
pub struct FdWriter {
    fd: usize,
    buffer: [u8; 256],
    len: usize,
}

impl FdWriter {
    /// A writer to `fd` with an empty buffer.
    pub const fn new(fd: usize) -> Self {
        FdWriter {
            fd,
            buffer: [0; 256],
            len: 0,
        }
    }

    /// Writes out what the buffer holds.
    pub fn flush(&mut self) -> Result<(), Errno> {
        let result = write_all(self.fd, &self.buffer[..self.len]);
        self.len = 0;
        result
    }
}

impl Write for FdWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let bytes = text.as_bytes();
        if self.len + bytes.len() > self.buffer.len() {
            self.flush().map_err(|_| fmt::Error)?;
        }
        if bytes.len() > self.buffer.len() {
            return write_all(self.fd, bytes).map_err(|_| fmt::Error);
        }
        self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

/// Formats `args` to `fd`: the implementation of the print macros. Errors are dropped, as
/// there is nowhere left to report them.
pub fn print_to(fd: usize, args: fmt::Arguments<'_>) {
    let mut writer = FdWriter::new(fd);
    if writer.write_fmt(args).is_ok() {
        let _ = writer.flush();
    }
}

/// Prints to standard output, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::print_to($crate::io::STDOUT, format_args!($($arg)*)) };
}

/// Prints a line to standard output, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {
        $crate::io::print_to($crate::io::STDOUT, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard error, like `std::eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::print_to($crate::io::STDERR, format_args!($($arg)*)) };
}

/// Prints a line to standard error, like `std::eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => {
        $crate::io::print_to($crate::io::STDERR, format_args!("{}\n", format_args!($($arg)*)))
    };
}
