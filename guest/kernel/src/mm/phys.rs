//! Physical memory, reached through the kernel's identity map of RAM.
//!
//! The only module of `mm/` that turns physical addresses into pointers. RAM is mapped at
//! VA = PA in every address space (kernel-only, global), so a physical address in RAM is
//! directly usable once [`init`] has recorded where RAM is; callers pass frames they own.

use core::sync::atomic::{AtomicU64, Ordering};

/// The size of a page and of a frame.
pub const PAGE_SIZE: u64 = 4096;

static RAM_START: AtomicU64 = AtomicU64::new(0);
static RAM_END: AtomicU64 = AtomicU64::new(0);

/// Records the RAM range: every function here checks its addresses against it.
pub fn init(start: u64, end: u64) {
    RAM_START.store(start, Ordering::Relaxed);
    RAM_END.store(end, Ordering::Relaxed);
}

/// Whether `[pa, pa + len)` lies in RAM.
pub fn in_ram(pa: u64, len: u64) -> bool {
    let (start, end) = (
        RAM_START.load(Ordering::Relaxed),
        RAM_END.load(Ordering::Relaxed),
    );
    pa >= start && pa.checked_add(len).is_some_and(|last| last <= end)
}

fn check(pa: u64, len: u64) {
    assert!(
        in_ram(pa, len),
        "physical range {pa:#x}+{len:#x} is outside RAM"
    );
}

/// The bytes of physical memory `[pa, pa + len)`.
///
/// # Safety
///
/// Nothing may write the range while the slice lives (e.g. the initramfs, the device tree,
/// or a frame the caller owns and does not write meanwhile).
pub unsafe fn bytes(pa: u64, len: usize) -> &'static [u8] {
    check(pa, len as u64);
    // SAFETY: RAM is identity-mapped and the range is in RAM; the caller rules out writers.
    unsafe { core::slice::from_raw_parts(pa as *const u8, len) }
}

/// The bytes of physical memory `[pa, pa + len)`, writable.
///
/// # Safety
///
/// The range must belong to the caller (a frame it allocated, or kernel memory) and not be
/// reached through any other reference while the slice lives.
pub unsafe fn bytes_mut(pa: u64, len: usize) -> &'static mut [u8] {
    check(pa, len as u64);
    // SAFETY: RAM is identity-mapped and the range is in RAM; the caller guarantees
    // exclusive access.
    unsafe { core::slice::from_raw_parts_mut(pa as *mut u8, len) }
}

/// Reads the doubleword at physical `pa` (8-byte aligned), e.g. a page-table entry.
pub fn read_u64(pa: u64) -> u64 {
    check(pa, 8);
    assert!(pa.is_multiple_of(8));
    // SAFETY: aligned, in identity-mapped RAM; page tables are only touched by this kernel's
    // single hart, with volatile accesses so the walker's view is never cached in registers.
    unsafe { core::ptr::read_volatile(pa as *const u64) }
}

/// Writes the doubleword at physical `pa` (8-byte aligned).
pub fn write_u64(pa: u64, value: u64) {
    check(pa, 8);
    assert!(pa.is_multiple_of(8));
    // SAFETY: as in `read_u64`; the frame holding `pa` belongs to the page-table code.
    unsafe { core::ptr::write_volatile(pa as *mut u64, value) }
}

/// Fills the frame at `pa` with zeros.
pub fn zero_frame(pa: u64) {
    // SAFETY: frames handed out by the allocator belong to the caller until freed.
    unsafe { bytes_mut(pa, PAGE_SIZE as usize) }.fill(0);
}

/// Copies the frame at `src` into the frame at `dst`.
pub fn copy_frame(dst: u64, src: u64) {
    assert_ne!(dst, src);
    // SAFETY: two distinct frames; `dst` belongs to the caller, `src` is only read.
    let (d, s) = unsafe {
        (
            bytes_mut(dst, PAGE_SIZE as usize),
            bytes(src, PAGE_SIZE as usize),
        )
    };
    d.copy_from_slice(s);
}
