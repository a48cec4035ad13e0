//! The devices of the QEMU `virt` machine that sv39 emulates (among them a virtio-blk disk on
//! the first virtio-mmio transport, when one is attached), plus sv39's own host I/O
//! device ([`hostio`]), which QEMU does not have.
//!
//! Each file is one device and names the specification (and the QEMU 7.2 source) it follows.
//! The guest-visible behaviour, including which access sizes fault, was checked against
//! `qemu-system-riscv64` 7.2 by probing each register from a bare-metal program; where
//! sv39 differs on purpose the module documentation says so.
//!
//! Every device implements [`crate::bus::Device`] and answers an offset or size it does not
//! implement with a [`crate::bus::DeviceError`] (an access fault for the hart); nothing the
//! guest does can panic a device.

pub mod bootrom;
pub mod clint;
pub mod fault_trace;
pub mod finisher;
pub mod guest_log;
pub mod hostio;
pub mod htif;
pub mod plic;
pub mod uart;
pub mod virtio_blk;

pub use bootrom::BootRom;
pub use clint::Clint;
pub use fault_trace::{FaultKind, FaultTrace, TraceEvent};
pub use finisher::Finisher;
pub use guest_log::GuestLog;
pub use hostio::{HostInput, HostIo};
pub use htif::{Htif, HtifEvent};
pub use plic::Plic;
pub use uart::{Uart, UartInput};
pub use virtio_blk::{DiskStats, DiskTiming, Transport, VirtioBlk};

use crate::bus::DeviceError;

/// Rejects an access unless `size` is one of `allowed` and the offset is naturally aligned.
///
/// QEMU's memory core refuses sizes outside a region's `valid` range with an access fault,
/// and its TCG slow path never hands a device a misaligned access; a misaligned access that
/// reaches a device here is therefore refused rather than guessed at.
pub(crate) fn check_access(offset: u64, size: u8, allowed: &[u8]) -> Result<(), DeviceError> {
    if !allowed.contains(&size) || !offset.is_multiple_of(u64::from(size)) {
        return Err(DeviceError::BadSize { offset, size });
    }
    Ok(())
}
