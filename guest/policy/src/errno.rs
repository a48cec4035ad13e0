//! Linux error numbers, as the riscv64 system-call ABI returns them.
//!
//! Follows `include/uapi/asm-generic/errno-base.h` and `errno.h` (riscv64 uses the generic
//! numbering) and errno(3). A system call that fails returns `-errno` in `a0`; use
//! [`Errno::to_return_value`] for that.

use core::fmt;

/// A Linux error number (a positive value; the system call returns its negation).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(pub u16);

/// Defines the associated constants and the name table in one place so they cannot drift.
macro_rules! errnos {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($value);
            )*

            /// The symbolic name (`"ENOENT"`), or `None` for a number this crate does not list.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The short description strerror(3) gives (`"No such file or directory"`), or
            /// `None` for a number this crate does not list.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTSUP = 95, "Operation not supported";
    ETIMEDOUT = 110, "Connection timed out";
}

impl Errno {
    /// `EWOULDBLOCK` is the same number as [`Errno::EAGAIN`] on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// `EOPNOTSUPP` is the same number as [`Errno::ENOTSUP`] on Linux.
    pub const EOPNOTSUPP: Errno = Errno::ENOTSUP;

    /// The value a failing system call leaves in `a0`: `-errno` as a 64-bit register.
    pub fn to_return_value(self) -> u64 {
        (-i64::from(self.0)) as u64
    }

    /// The errno a system call return value carries, if it is one: Linux reserves
    /// `-4095..=-1` for errors (`IS_ERR_VALUE`).
    pub fn from_return_value(a0: u64) -> Option<Errno> {
        let signed = a0 as i64;
        if (-4095..=-1).contains(&signed) {
            Some(Errno((-signed) as u16))
        } else {
            None
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(text)) => write!(f, "{name} ({text})"),
            _ => write!(f, "errno {}", self.0),
        }
    }
}

/// The result type of kernel operations that fail with an errno.
pub type KResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn values_match_linux() {
        assert_eq!(Errno::EPERM.0, 1);
        assert_eq!(Errno::E2BIG.0, 7);
        assert_eq!(Errno::ENOEXEC.0, 8);
        assert_eq!(Errno::ENOMEM.0, 12);
        assert_eq!(Errno::EINVAL.0, 22);
        assert_eq!(Errno::ESPIPE.0, 29);
        assert_eq!(Errno::ENAMETOOLONG.0, 36);
        assert_eq!(Errno::ENOSYS.0, 38);
        assert_eq!(Errno::ELOOP.0, 40);
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(Errno::ENOENT.name(), Some("ENOENT"));
        assert_eq!(Errno::ENOTEMPTY.name(), Some("ENOTEMPTY"));
        assert_eq!(Errno(999).name(), None);
        assert_eq!(format!("{:?}", Errno::EBADF), "EBADF");
        assert_eq!(format!("{:?}", Errno(999)), "Errno(999)");
        assert_eq!(
            format!("{}", Errno::ENOENT),
            "ENOENT (No such file or directory)"
        );
    }

    #[test]
    fn return_value_round_trip() {
        assert_eq!(Errno::ENOENT.to_return_value(), (-2i64) as u64);
        assert_eq!(
            Errno::from_return_value((-22i64) as u64),
            Some(Errno::EINVAL)
        );
        assert_eq!(Errno::from_return_value(0), None);
        assert_eq!(Errno::from_return_value((-4096i64) as u64), None);
        assert_eq!(Errno::from_return_value(0x1000), None);
    }
}
