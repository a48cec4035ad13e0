//! The platform-level interrupt controller (RISC-V PLIC spec 1.0.0), as the kernel uses it:
//! one hart, its supervisor context, every source at priority 1 and threshold 0.
//!
//! Context numbering follows QEMU's `virt` (and sv39): context 2·hart is the hart's M-mode,
//! 2·hart + 1 its S-mode; the kernel runs on hart 0, so it claims in context 1.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm;

/// The supervisor context of hart 0.
const CONTEXT: u64 = 1;
const PRIORITY: u64 = 0x0;
const ENABLE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const THRESHOLD: u64 = 0x20_0000;
const CLAIM: u64 = 0x20_0004;
const CONTEXT_STRIDE: u64 = 0x1000;

/// The controller's virtual address in the device window, 0 when absent.
static BASE: AtomicU64 = AtomicU64::new(0);

fn write(offset: u64, value: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: a register of the controller the device tree names, mapped by the device
    // window; 32-bit accesses are what the PLIC requires.
    unsafe { core::ptr::write_volatile((base + offset) as *mut u32, value) };
}

fn read(offset: u64) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: as in `write`; reading the claim register claims, which its caller intends.
    unsafe { core::ptr::read_volatile((base + offset) as *const u32) }
}

/// Uses the controller at physical `pa`, with every source masked by its threshold of 0
/// until [`enable`]d.
pub fn init(pa: u64) {
    BASE.store(mm::mmio(pa), Ordering::Relaxed);
    write(THRESHOLD + CONTEXT * CONTEXT_STRIDE, 0);
}

/// Whether there is a controller.
pub fn present() -> bool {
    BASE.load(Ordering::Relaxed) != 0
}

/// Lets source `irq` interrupt the kernel.
pub fn enable(irq: u32) {
    if !present() {
        return;
    }
    write(PRIORITY + 4 * u64::from(irq), 1);
    let word = ENABLE + CONTEXT * ENABLE_STRIDE + 4 * u64::from(irq / 32);
    write(word, read(word) | 1 << (irq % 32));
}

/// Claims the highest-priority pending source (0: none).
pub fn claim() -> u32 {
    if !present() {
        return 0;
    }
    read(CLAIM + CONTEXT * CONTEXT_STRIDE)
}

/// Signals that source `irq` has been served.
pub fn complete(irq: u32) {
    write(CLAIM + CONTEXT * CONTEXT_STRIDE, irq);
}
