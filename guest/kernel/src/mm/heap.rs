//! The kernel heap: a first-fit allocator (`linked_list_allocator`) over a range of RAM
//! right after the kernel image.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Kernel memory kept in reserve: calls that would allocate kernel memory (open, pipe, fork,
/// mmap, pipe writes) fail with ENOMEM or EAGAIN below it, instead of the allocator failing.
const RESERVE: usize = 2 << 20;

/// Whether the heap is down to its reserve.
pub fn low() -> bool {
    HEAP.lock().free() < RESERVE
}

/// Hands `[start, start + size)` to the allocator.
///
/// # Safety
///
/// The range must be RAM that nothing else uses, for the rest of the kernel's life; call
/// once.
pub unsafe fn init(start: u64, size: u64) {
    // SAFETY: the caller vouches for the range.
    unsafe { HEAP.lock().init(start as *mut u8, size as usize) };
}
