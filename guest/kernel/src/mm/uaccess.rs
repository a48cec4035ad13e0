//! Copying between the kernel and user memory.
//!
//! The kernel never dereferences a user address: it translates each page through the
//! process's page table (faulting it in as the program's own access would, so demand paging
//! and copy-on-write apply to system-call buffers too) and reaches the frame through the
//! identity map. A bad address is `EFAULT`, never a kernel trap.

use alloc::vec::Vec;

use sv39_policy::errno::Errno;
use sv39_policy::fault::Access;

use super::frame;
use super::phys::{self, PAGE_SIZE};
use super::space::{AddressSpace, EWAIT_DISK};

/// The longest path or string argument accepted (Linux's PATH_MAX).
pub const MAX_STRING: usize = 4096;

/// Makes every page of `[va, va + len)` present for `access` and holds each frame (one
/// reference), returning the page-bounded pieces `(pa, offset_in_buffer, len)`.
///
/// A page that must first come back from swap makes the call wait ([`EWAIT_DISK`]) and
/// restart; the frames already held stay held across the wait (in the space's `pinned`),
/// so the restarted call finds them present and makes progress even when memory, or the
/// `vm.frames` budget, cannot hold the program and the whole buffer at once. Any other
/// outcome releases those older holds.
fn hold(
    space: &mut AddressSpace,
    va: u64,
    len: u64,
    access: Access,
) -> Result<Vec<(u64, usize, usize)>, Errno> {
    let end = va.checked_add(len).ok_or(Errno::EFAULT)?;
    let mut pieces: Vec<(u64, usize, usize)> = Vec::new();
    let mut at = va;
    let mut result = Ok(());
    while at < end {
        let page_end = (at & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let n = page_end.min(end) - at;
        match space.user_physical(at, access) {
            Ok(pa) => {
                frame::retain(pa & !(PAGE_SIZE - 1));
                pieces.push((pa, (at - va) as usize, n as usize));
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        at += n;
    }
    match result {
        Err(e) if e == EWAIT_DISK => {
            // This attempt held again everything the last one held (the call restarts from
            // its beginning), and more: keep its holds instead.
            let held = pieces
                .iter()
                .map(|&(pa, _, _)| pa & !(PAGE_SIZE - 1))
                .collect();
            for pa in core::mem::replace(&mut space.pinned, held) {
                frame::release(pa);
            }
            Err(e)
        }
        other => {
            for pa in core::mem::take(&mut space.pinned) {
                frame::release(pa);
            }
            match other {
                Ok(()) => Ok(pieces),
                Err(e) => {
                    release(&pieces);
                    Err(e)
                }
            }
        }
    }
}

/// Drops the holds [`hold`] took.
fn release(pieces: &[(u64, usize, usize)]) {
    for &(pa, _, _) in pieces {
        frame::release(pa & !(PAGE_SIZE - 1));
    }
}

/// Calls `chunk(pa, offset_in_buffer, len)` for each page-bounded piece of `[va, va + len)`.
///
/// Every page is made present (and held) before the first call, so a system call whose
/// chunks have effects (console output, a pipe) either does all of them or none.
pub fn for_each_chunk(
    space: &mut AddressSpace,
    va: u64,
    len: u64,
    access: Access,
    mut chunk: impl FnMut(u64, usize, usize),
) -> Result<(), Errno> {
    let pieces = hold(space, va, len, access)?;
    for &(pa, off, n) in &pieces {
        chunk(pa, off, n);
    }
    release(&pieces);
    Ok(())
}

/// Makes the pages of `[va, va + len)` present for `access` before a system call does
/// something it cannot undo (reap a child, create a pipe, consume input), so that the copy
/// that follows cannot make it wait for the disk and run again from the start. Nothing is
/// evicted between the two: eviction happens only when a frame is allocated.
pub fn prefault(space: &mut AddressSpace, va: u64, len: u64, access: Access) -> Result<(), Errno> {
    let pieces = hold(space, va, len, access)?;
    release(&pieces);
    Ok(())
}

/// Copies `buf.len()` bytes from user `va` into `buf`.
pub fn copy_in(space: &mut AddressSpace, va: u64, buf: &mut [u8]) -> Result<(), Errno> {
    for_each_chunk(space, va, buf.len() as u64, Access::Read, |pa, off, n| {
        // SAFETY: a user frame, only read while the copy runs.
        buf[off..off + n].copy_from_slice(unsafe { phys::bytes(pa, n) });
    })
}

/// Copies `data` to user `va`.
pub fn copy_out(space: &mut AddressSpace, va: u64, data: &[u8]) -> Result<(), Errno> {
    for_each_chunk(space, va, data.len() as u64, Access::Write, |pa, off, n| {
        // SAFETY: a user frame mapped writable for this process; the kernel is its only
        // accessor while the program is stopped in the kernel.
        unsafe { phys::bytes_mut(pa, n) }.copy_from_slice(&data[off..off + n]);
    })
}

/// Reads a u64 at user `va`.
pub fn read_u64(space: &mut AddressSpace, va: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    copy_in(space, va, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// Writes a u64 at user `va`.
pub fn write_u64(space: &mut AddressSpace, va: u64, value: u64) -> Result<(), Errno> {
    copy_out(space, va, &value.to_le_bytes())
}

/// Writes a u32 at user `va`.
pub fn write_u32(space: &mut AddressSpace, va: u64, value: u32) -> Result<(), Errno> {
    copy_out(space, va, &value.to_le_bytes())
}

/// Reads a NUL-terminated string at user `va` (without the NUL); `ENAMETOOLONG` past
/// [`MAX_STRING`].
pub fn read_string(space: &mut AddressSpace, va: u64) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = va;
    loop {
        let page_end = (at & !(PAGE_SIZE - 1)) + PAGE_SIZE;
        let pa = space.user_physical(at, Access::Read)?;
        // SAFETY: a user frame, only read.
        let bytes = unsafe { phys::bytes(pa, (page_end - at) as usize) };
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            out.extend_from_slice(&bytes[..nul]);
            return Ok(out);
        }
        out.extend_from_slice(bytes);
        if out.len() > MAX_STRING {
            return Err(Errno::ENAMETOOLONG);
        }
        at = page_end;
    }
}

/// Reads a NULL-terminated array of string pointers (argv, envp) at user `va`.
pub fn read_string_array(space: &mut AddressSpace, va: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if va == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    for i in 0.. {
        let ptr = read_u64(space, va + 8 * i)?;
        if ptr == 0 {
            break;
        }
        let s = read_string(space, ptr)?;
        total += s.len() + 1;
        // Linux's limit on argument + environment strings (a quarter of an 8 MiB stack).
        if total > 2 << 20 {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}
