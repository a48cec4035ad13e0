//! Device drivers: sv39's host I/O channel (with the SBI console as the fallback), its
//! fault-trace channel, the interrupt controller, and the virtio disk that holds swap.

pub mod fault_trace;
pub mod hostio;
pub mod plic;
pub mod stdio;
pub mod virtio_blk;

/// MAGIC, the first register of sv39's own devices: the bytes "SV39".
const SV39_MAGIC: u32 = 0x3933_5653;

/// The virtual address of the sv39 device (host I/O, fault trace) at physical `pa`, if it
/// answers with sv39's magic number.
fn probe_sv39_device(pa: u64) -> Option<u64> {
    let va = crate::mm::mmio(pa);
    // SAFETY: the device tree names a device at `pa`, which the device window maps; a 32-bit
    // read of its first register (MAGIC) has no side effect.
    let magic = unsafe { core::ptr::read_volatile(va as *const u32) };
    (magic == SV39_MAGIC).then_some(va)
}

/// Serves pending external interrupts (the disk's); whether the disk finished anything.
pub fn external_interrupts() -> bool {
    let disk_irq = virtio_blk::describe().map(|(irq, _, _)| irq);
    let mut disk_done = false;
    loop {
        let irq = plic::claim();
        if irq == 0 {
            break;
        }
        if Some(irq) == disk_irq {
            disk_done |= crate::mm::swap::complete();
        }
        plic::complete(irq);
    }
    disk_done
}
