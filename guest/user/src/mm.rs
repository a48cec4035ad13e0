//! Memory mappings: anonymous and file mmap, mprotect, madvise, munmap.

use crate::fs::File;
use crate::syscall::{self, Errno, nr};

/// Page may be read.
pub const PROT_READ: usize = 1;
/// Page may be written.
pub const PROT_WRITE: usize = 2;
/// Page may be executed.
pub const PROT_EXEC: usize = 4;
/// Changes are private to the process (copy on write).
pub const MAP_PRIVATE: usize = 0x02;
/// Not backed by a file; zero-filled.
pub const MAP_ANONYMOUS: usize = 0x20;
/// `madvise` advice: the pages will not be needed soon (a hint; Linux 5.4).
pub const MADV_COLD: usize = 20;
/// `madvise` advice: reclaim the pages now, writing them to swap if need be (Linux 5.4).
pub const MADV_PAGEOUT: usize = 21;

/// A private mapping, anonymous or of a file, unmapped when dropped.
pub struct Mapping {
    address: usize,
    length: usize,
}

impl Mapping {
    /// `mmap(NULL, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)`.
    pub fn anonymous(length: usize, prot: usize) -> Result<Mapping, Errno> {
        // SAFETY: a new mapping at an address the kernel picks cannot overlap memory the
        // program uses.
        let raw = unsafe {
            syscall::syscall6(
                nr::MMAP,
                [0, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, usize::MAX, 0],
            )
        };
        Ok(Mapping {
            address: syscall::result(raw)?,
            length,
        })
    }

    /// `mmap(NULL, length, prot, MAP_PRIVATE, file, 0)`: the start of `file`, copy on write.
    pub fn file(file: &File, length: usize, prot: usize) -> Result<Mapping, Errno> {
        // SAFETY: a new mapping at an address the kernel picks cannot overlap memory the
        // program uses.
        let raw =
            unsafe { syscall::syscall6(nr::MMAP, [0, length, prot, MAP_PRIVATE, file.fd(), 0]) };
        Ok(Mapping {
            address: syscall::result(raw)?,
            length,
        })
    }

    /// The first address of the mapping.
    pub fn address(&self) -> usize {
        self.address
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.length
    }

    /// True for a mapping of no bytes (which mmap refuses, so never).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Changes the protection of `length` bytes at `offset` into the mapping to `prot`.
    ///
    /// # Safety
    /// No reference into that range may be used in a way `prot` forbids afterwards.
    pub unsafe fn protect(&self, offset: usize, length: usize, prot: usize) -> Result<(), Errno> {
        assert!(offset + length <= self.length, "mprotect past the mapping");
        // SAFETY: the range lies inside our own mapping; the caller vouches for later use.
        let raw = unsafe { syscall::syscall3(nr::MPROTECT, self.address + offset, length, prot) };
        syscall::result(raw).map(drop)
    }

    /// Gives the kernel `advice` about `length` bytes at `offset` (page aligned):
    /// `madvise(address + offset, length, advice)`.
    pub fn advise(&self, offset: usize, length: usize, advice: usize) -> Result<(), Errno> {
        assert!(offset + length <= self.length, "madvise past the mapping");
        // SAFETY: the range lies inside our own mapping; the advice this crate names
        // (MADV_COLD, MADV_PAGEOUT) keeps its contents.
        let raw = unsafe { syscall::syscall3(nr::MADVISE, self.address + offset, length, advice) };
        syscall::result(raw).map(drop)
    }

    /// Writes `value` at `offset` (a volatile store, so it reaches the page).
    ///
    /// # Safety
    /// The page holding `offset` must be writable, or the process dies of `SIGSEGV`.
    pub unsafe fn write_byte(&self, offset: usize, value: u8) {
        assert!(offset < self.length, "write past the mapping");
        // SAFETY: the address is inside the mapping, which nothing else references; the
        // caller vouches that it is writable.
        unsafe { core::ptr::write_volatile((self.address + offset) as *mut u8, value) }
    }

    /// Writes the 8-byte word `value` at `offset` (8-byte aligned; a volatile store).
    ///
    /// # Safety
    /// The page holding `offset` must be writable, or the process dies of `SIGSEGV`.
    pub unsafe fn write_u64(&self, offset: usize, value: u64) {
        assert!(
            offset + 8 <= self.length && offset.is_multiple_of(8),
            "bad word offset"
        );
        // SAFETY: an aligned word inside the mapping, which nothing else references; the
        // caller vouches that it is writable.
        unsafe { core::ptr::write_volatile((self.address + offset) as *mut u64, value) }
    }

    /// Reads the 8-byte word at `offset` (8-byte aligned; a volatile load).
    pub fn read_u64(&self, offset: usize) -> u64 {
        assert!(
            offset + 8 <= self.length && offset.is_multiple_of(8),
            "bad word offset"
        );
        // SAFETY: an aligned word inside the mapping, which is readable while it lives.
        unsafe { core::ptr::read_volatile((self.address + offset) as *const u64) }
    }

    /// Reads the byte at `offset` (a volatile load, so it touches the page).
    pub fn read_byte(&self, offset: usize) -> u8 {
        assert!(offset < self.length, "read past the mapping");
        // SAFETY: the address is inside the mapping, which is readable while it lives.
        unsafe { core::ptr::read_volatile((self.address + offset) as *const u8) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no reference into it outlives `self`.
        unsafe {
            syscall::syscall3(nr::MUNMAP, self.address, self.length, 0);
        }
    }
}

/// Stores `value` at `address` with a plain `sb`, out of the compiler's sight: the way to
/// make a deliberate bad access (a null pointer, a read-only page) without asking Rust to
/// reason about it.
///
/// # Safety
/// If `address` is mapped and writable, the store changes whatever lives there.
pub unsafe fn store_byte(address: usize, value: u8) {
    // SAFETY: the caller accepts the store; `sb` touches one byte and no register but its
    // operands.
    unsafe {
        core::arch::asm!("sb {value}, 0({address})", address = in(reg) address,
            value = in(reg) value, options(nostack));
    }
}
