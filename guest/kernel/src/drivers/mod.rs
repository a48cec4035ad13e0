//! Device drivers: sv39's host I/O channel (with the SBI console as the fallback), its
//! fault-trace channel, the interrupt controller, and the virtio disk that holds swap.

pub mod fault_trace;
pub mod hostio;
pub mod plic;
pub mod stdio;
pub mod virtio_blk;

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
