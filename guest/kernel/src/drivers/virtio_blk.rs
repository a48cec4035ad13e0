//! A virtio block device on the MMIO transport (virtio 1.2: 4.2 "Virtio Over MMIO", 5.2
//! "Block Device", 2.7 "Split Virtqueues"), the swap disk.
//!
//! Written here rather than taken from the `virtio-drivers` crate because the kernel's
//! design needs requests that complete later, by interrupt, while other processes run (its
//! system calls and faults restart instead of sleeping on a kernel stack), and because both
//! register layouts QEMU offers are wanted: legacy (version 1, QEMU's default for
//! virtio-mmio, with the queue given as a page frame number) and modern (version 2, with
//! the three ring addresses and the FEATURES_OK handshake).
//!
//! One queue; each request is a chain of three descriptors (header, data, status byte).
//! Buffers are physical addresses: the heap and every frame sit at VA = PA.

use alloc::alloc::{Layout, alloc_zeroed};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{Ordering, fence};

use crate::mm;
use crate::sync::KernelCell;

const MAGIC: u32 = 0x7472_6976;
const DEVICE_BLOCK: u32 = 2;

mod reg {
    pub const MAGIC: u64 = 0x000;
    pub const VERSION: u64 = 0x004;
    pub const DEVICE_ID: u64 = 0x008;
    pub const DEVICE_FEATURES: u64 = 0x010;
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    pub const DRIVER_FEATURES: u64 = 0x020;
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    pub const GUEST_PAGE_SIZE: u64 = 0x028;
    pub const QUEUE_SEL: u64 = 0x030;
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    pub const QUEUE_NUM: u64 = 0x038;
    pub const QUEUE_ALIGN: u64 = 0x03c;
    pub const QUEUE_PFN: u64 = 0x040;
    pub const QUEUE_READY: u64 = 0x044;
    pub const QUEUE_NOTIFY: u64 = 0x050;
    pub const INTERRUPT_STATUS: u64 = 0x060;
    pub const INTERRUPT_ACK: u64 = 0x064;
    pub const STATUS: u64 = 0x070;
    pub const QUEUE_DESC: u64 = 0x080;
    pub const QUEUE_DRIVER: u64 = 0x090;
    pub const QUEUE_DEVICE: u64 = 0x0a0;
    pub const CAPACITY: u64 = 0x100;
}

mod status {
    pub const ACKNOWLEDGE: u32 = 1;
    pub const DRIVER: u32 = 2;
    pub const DRIVER_OK: u32 = 4;
    pub const FEATURES_OK: u32 = 8;
    pub const FAILED: u32 = 128;
}

/// VIRTIO_F_VERSION_1 (word 1, bit 0).
const FEATURE_VERSION_1: u32 = 1;

const DESC_NEXT: u16 = 1;
const DESC_WRITE: u16 = 2;

const T_IN: u32 = 0;
const T_OUT: u32 = 1;

/// The queue size the driver asks for (at most the device's maximum).
const QUEUE_SIZE: u16 = 64;
/// The legacy layout's alignment and page size.
const LEGACY_PAGE: u64 = 4096;

/// A sector is 512 bytes whatever the device's block size.
pub const SECTOR: u64 = 512;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Disk to memory.
    Read,
    /// Memory to disk.
    Write,
}

/// A split-ring descriptor.
#[repr(C)]
#[derive(Clone, Copy)]
struct Desc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

/// The request header the device reads.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Header {
    kind: u32,
    reserved: u32,
    sector: u64,
}

/// A request in flight.
#[derive(Clone, Copy)]
struct Pending {
    token: u64,
    head: u16,
}

struct Disk {
    /// Register base in the device window.
    base: u64,
    irq: u32,
    legacy: bool,
    capacity: u64,
    size: u16,
    desc: *mut Desc,
    /// Offsets of the avail and used rings from `desc`.
    avail: *mut u16,
    used: *mut u8,
    /// Free descriptor indices.
    free: Vec<u16>,
    /// One header and one status byte per descriptor head.
    headers: Box<[Header]>,
    statuses: Box<[u8]>,
    /// In flight, by descriptor head.
    pending: Vec<Option<Pending>>,
    avail_idx: u16,
    used_seen: u16,
}

static DISK: KernelCell<Option<Disk>> = KernelCell::new(None);

fn reg_read(base: u64, offset: u64) -> u32 {
    // SAFETY: a register of a probed virtio-mmio device in the device window.
    unsafe { core::ptr::read_volatile((base + offset) as *const u32) }
}

fn reg_write(base: u64, offset: u64, value: u32) {
    // SAFETY: as above; writes only configure the device or notify it.
    unsafe { core::ptr::write_volatile((base + offset) as *mut u32, value) };
}

/// Why a device was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeError {
    /// Not a virtio device, or not a block device (an empty transport has ID 0).
    NotBlock,
    /// The device refused the features or the queue.
    Refused(&'static str),
}

/// Probes the virtio-mmio transport at physical `pa` (interrupt `irq`) and, if it holds a
/// block device, sets it up as the disk. Returns the capacity in sectors.
pub fn probe(pa: u64, irq: u32) -> Result<u64, ProbeError> {
    let base = mm::mmio(pa);
    if reg_read(base, reg::MAGIC) != MAGIC || reg_read(base, reg::DEVICE_ID) != DEVICE_BLOCK {
        return Err(ProbeError::NotBlock);
    }
    let version = reg_read(base, reg::VERSION);
    let legacy = match version {
        1 => true,
        2 => false,
        _ => return Err(ProbeError::Refused("unknown transport version")),
    };
    // 3.1.1: reset, acknowledge, driver, features.
    reg_write(base, reg::STATUS, 0);
    reg_write(base, reg::STATUS, status::ACKNOWLEDGE);
    reg_write(base, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
    reg_write(base, reg::DEVICE_FEATURES_SEL, 0);
    // Swap needs no feature of word 0 (no flush: swap does not outlive the boot).
    reg_write(base, reg::DRIVER_FEATURES_SEL, 0);
    reg_write(base, reg::DRIVER_FEATURES, 0);
    let mut st = status::ACKNOWLEDGE | status::DRIVER;
    if !legacy {
        reg_write(base, reg::DEVICE_FEATURES_SEL, 1);
        if reg_read(base, reg::DEVICE_FEATURES) & FEATURE_VERSION_1 == 0 {
            reg_write(base, reg::STATUS, status::FAILED);
            return Err(ProbeError::Refused(
                "modern transport without VIRTIO_F_VERSION_1",
            ));
        }
        reg_write(base, reg::DRIVER_FEATURES_SEL, 1);
        reg_write(base, reg::DRIVER_FEATURES, FEATURE_VERSION_1);
        st |= status::FEATURES_OK;
        reg_write(base, reg::STATUS, st);
        if reg_read(base, reg::STATUS) & status::FEATURES_OK == 0 {
            reg_write(base, reg::STATUS, status::FAILED);
            return Err(ProbeError::Refused("features not accepted"));
        }
    } else {
        reg_write(base, reg::GUEST_PAGE_SIZE, LEGACY_PAGE as u32);
    }
    reg_write(base, reg::QUEUE_SEL, 0);
    let max = reg_read(base, reg::QUEUE_NUM_MAX);
    if max == 0 {
        reg_write(base, reg::STATUS, status::FAILED);
        return Err(ProbeError::Refused("no queue 0"));
    }
    let size = QUEUE_SIZE.min(max.min(u32::from(u16::MAX)) as u16);
    let n = u64::from(size);
    // The legacy layout (2.7 "Legacy Interfaces"): descriptors, the avail ring right after,
    // the used ring at the next page; modern queues may use the same placement.
    let avail_off = 16 * n;
    let used_off = (avail_off + 6 + 2 * n).next_multiple_of(LEGACY_PAGE);
    let bytes = used_off + 6 + 8 * n;
    let layout = Layout::from_size_align(bytes as usize, LEGACY_PAGE as usize)
        .map_err(|_| ProbeError::Refused("queue layout"))?;
    // SAFETY: a non-zero size; the memory is never freed (the disk lives as long as the
    // kernel) and only the device and this driver touch it.
    let ring = unsafe { alloc_zeroed(layout) };
    if ring.is_null() {
        return Err(ProbeError::Refused("no memory for the queue"));
    }
    let ring_pa = ring as u64; // the heap is identity-mapped
    reg_write(base, reg::QUEUE_NUM, u32::from(size));
    if legacy {
        reg_write(base, reg::QUEUE_ALIGN, LEGACY_PAGE as u32);
        reg_write(base, reg::QUEUE_PFN, (ring_pa / LEGACY_PAGE) as u32);
    } else {
        for (offset, address) in [
            (reg::QUEUE_DESC, ring_pa),
            (reg::QUEUE_DRIVER, ring_pa + avail_off),
            (reg::QUEUE_DEVICE, ring_pa + used_off),
        ] {
            reg_write(base, offset, address as u32);
            reg_write(base, offset + 4, (address >> 32) as u32);
        }
        reg_write(base, reg::QUEUE_READY, 1);
    }
    reg_write(base, reg::STATUS, st | status::DRIVER_OK);
    let capacity = u64::from(reg_read(base, reg::CAPACITY))
        | u64::from(reg_read(base, reg::CAPACITY + 4)) << 32;
    // SAFETY: both offsets lie inside the allocation made above.
    let (avail, used) = unsafe { (ring.add(avail_off as usize), ring.add(used_off as usize)) };
    let disk = Disk {
        base,
        irq,
        legacy,
        capacity,
        size,
        desc: ring.cast(),
        avail: avail.cast(),
        used,
        free: (0..size).rev().collect(),
        headers: alloc::vec![Header::default(); usize::from(size)].into_boxed_slice(),
        statuses: alloc::vec![0xFF; usize::from(size)].into_boxed_slice(),
        pending: alloc::vec![None; usize::from(size)],
        avail_idx: 0,
        used_seen: 0,
    };
    DISK.with(|d| *d = Some(disk));
    Ok(capacity)
}

/// The disk's interrupt source, transport version and size in sectors.
pub fn describe() -> Option<(u32, bool, u64)> {
    DISK.with(|d| d.as_ref().map(|d| (d.irq, d.legacy, d.capacity)))
}

/// Whether a request could be queued now.
pub fn has_room() -> bool {
    DISK.with(|d| d.as_ref().is_some_and(|d| d.free.len() >= 3))
}

/// Queues a request on `[pa, pa + len)` at `sector`; `token` comes back from
/// [`completions`]. `false` when the queue is full (or there is no disk): try again after a
/// completion.
pub fn submit(op: Op, sector: u64, pa: u64, len: u32, token: u64) -> bool {
    DISK.with(|d| {
        let Some(d) = d.as_mut() else { return false };
        if d.free.len() < 3 {
            return false;
        }
        let ids: Vec<u16> = (0..3).filter_map(|_| d.free.pop()).collect();
        let head = ids[0];
        let h = usize::from(head);
        d.headers[h] = Header {
            kind: match op {
                Op::Read => T_IN,
                Op::Write => T_OUT,
            },
            reserved: 0,
            sector,
        };
        d.statuses[h] = 0xFF;
        let descs = [
            Desc {
                addr: &raw const d.headers[h] as u64,
                len: 16,
                flags: DESC_NEXT,
                next: ids[1],
            },
            Desc {
                addr: pa,
                len,
                flags: DESC_NEXT | if op == Op::Read { DESC_WRITE } else { 0 },
                next: ids[2],
            },
            Desc {
                addr: &raw const d.statuses[h] as u64,
                len: 1,
                flags: DESC_WRITE,
                next: 0,
            },
        ];
        for (id, desc) in ids.iter().zip(descs) {
            // SAFETY: `id` < size: a descriptor slot of the ring this driver owns.
            unsafe { d.desc.add(usize::from(*id)).write_volatile(desc) };
        }
        d.pending[h] = Some(Pending { token, head });
        let n = usize::from(d.size);
        // SAFETY: avail ring = flags, idx, ring[size]: index 2 + slot is inside it.
        unsafe {
            d.avail
                .add(2 + usize::from(d.avail_idx) % n)
                .write_volatile(head)
        };
        // The descriptors and ring entry must be visible before the index (2.7.13).
        fence(Ordering::SeqCst);
        d.avail_idx = d.avail_idx.wrapping_add(1);
        // SAFETY: the avail ring's idx field.
        unsafe { d.avail.add(1).write_volatile(d.avail_idx) };
        fence(Ordering::SeqCst);
        reg_write(d.base, reg::QUEUE_NOTIFY, 0);
        true
    })
}

/// Acknowledges the device's interrupt and returns the requests it finished since the last
/// call, in order: `(token, succeeded)`.
pub fn completions() -> Vec<(u64, bool)> {
    DISK.with(|d| {
        let mut done = Vec::new();
        let Some(d) = d.as_mut() else { return done };
        let isr = reg_read(d.base, reg::INTERRUPT_STATUS);
        if isr != 0 {
            reg_write(d.base, reg::INTERRUPT_ACK, isr);
        }
        fence(Ordering::SeqCst);
        let n = usize::from(d.size);
        loop {
            // SAFETY: the used ring's idx field (offset 2).
            let used_idx = unsafe { d.used.add(2).cast::<u16>().read_volatile() };
            if used_idx == d.used_seen {
                break;
            }
            fence(Ordering::SeqCst);
            let slot = usize::from(d.used_seen) % n;
            // SAFETY: used ring = flags, idx, then 8-byte elements (id u32, len u32).
            let id = unsafe { d.used.add(4 + 8 * slot).cast::<u32>().read_volatile() };
            d.used_seen = d.used_seen.wrapping_add(1);
            let Some(h) = usize::try_from(id).ok().filter(|&h| h < n) else {
                continue;
            };
            let Some(p) = d.pending[h].take() else {
                continue;
            };
            let ok = d.statuses[h] == 0;
            // Give the chain's descriptors back.
            let mut id = p.head;
            loop {
                // SAFETY: a descriptor of a chain this driver built.
                let desc = unsafe { d.desc.add(usize::from(id)).read_volatile() };
                d.free.push(id);
                if desc.flags & DESC_NEXT == 0 {
                    break;
                }
                id = desc.next;
            }
            done.push((p.token, ok));
        }
        done
    })
}
