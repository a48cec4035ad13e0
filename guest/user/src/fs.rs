//! Files: openat, read, fstat, close.

use core::ffi::CStr;

use crate::syscall::{self, Errno, nr};

/// `AT_FDCWD`: resolve a relative path against the current directory.
pub const AT_FDCWD: isize = -100;
/// `O_RDONLY`
pub const O_RDONLY: usize = 0;
/// `O_CLOEXEC`
pub const O_CLOEXEC: usize = 0o2_000_000;

/// An open file descriptor, closed when dropped.
pub struct File {
    fd: usize,
}

impl File {
    /// Opens `path` for reading: `openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0)`.
    pub fn open(path: &CStr) -> Result<File, Errno> {
        // SAFETY: `path` is NUL-terminated and valid for the call; no buffer is written.
        let raw = unsafe {
            syscall::syscall6(
                nr::OPENAT,
                [
                    AT_FDCWD as usize,
                    path.as_ptr() as usize,
                    O_RDONLY | O_CLOEXEC,
                    0,
                    0,
                    0,
                ],
            )
        };
        Ok(File {
            fd: syscall::result(raw)?,
        })
    }

    /// The descriptor number.
    pub fn fd(&self) -> usize {
        self.fd
    }

    /// The file's size in bytes: `st_size` from `fstat(fd, &stat)`.
    pub fn size(&self) -> Result<u64, Errno> {
        // struct stat of asm-generic (riscv64): 128 bytes, st_size an i64 at offset 48.
        let mut stat = [0u64; 16];
        // SAFETY: `stat` is valid for writes of the 128 bytes fstat writes.
        let raw = unsafe { syscall::syscall3(nr::FSTAT, self.fd, stat.as_mut_ptr() as usize, 0) };
        syscall::result(raw)?;
        Ok(stat[6])
    }

    /// Reads into `buffer`: the number of bytes read, 0 at the end of the file.
    pub fn read(&self, buffer: &mut [u8]) -> Result<usize, Errno> {
        loop {
            // SAFETY: `buffer` is valid for writes of its length, all read(2) writes.
            let raw = unsafe {
                syscall::syscall3(
                    nr::READ,
                    self.fd,
                    buffer.as_mut_ptr() as usize,
                    buffer.len(),
                )
            };
            match syscall::result(raw) {
                Err(Errno::EINTR) => {}
                other => return other,
            }
        }
    }

    /// Copies the rest of the file to descriptor `fd` through `buffer`.
    pub fn copy_to(&self, fd: usize, buffer: &mut [u8]) -> Result<(), Errno> {
        loop {
            match self.read(buffer)? {
                0 => return Ok(()),
                n => crate::io::write_all(fd, &buffer[..n])?,
            }
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: close takes no pointer; the descriptor is ours and used no more.
        unsafe {
            syscall::syscall3(nr::CLOSE, self.fd, 0, 0);
        }
    }
}
