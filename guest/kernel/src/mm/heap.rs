//! The kernel heap: a first-fit allocator (`linked_list_allocator`) over a range of RAM
//! right after the kernel image.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

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
