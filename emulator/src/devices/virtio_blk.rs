//! A virtio block device on the virtio-mmio transport at `0x1000_1000`, PLIC source 1: the
//! first of QEMU `virt`'s eight transports, holding a `virtio-blk-device` backed by a host
//! file. Virtio 1.2: 4.2 "Virtio Over MMIO" (and 4.2.4 "Legacy interface"), 5.2 "Block
//! Device", 2.7 "Split Virtqueues" (and 2.7.2 "Legacy Interfaces: A Note on Virtqueue
//! Layout"); QEMU's `hw/virtio/virtio-mmio.c` and `hw/block/virtio-blk.c` where the
//! specification leaves a choice. Unlike the other devices, QEMU's behaviour here was taken
//! from its source, not probed from a guest. One deliberate difference: QueueNumMax is 256,
//! the queue size QEMU gives virtio-blk, where QEMU's transport reports 1024
//! (`VIRTQUEUE_MAX_SIZE`) whatever the device's queue size.
//!
//! # Registers (32-bit, little-endian)
//!
//! ```text
//! off    name                    legacy (Version 1)            modern (Version 2)
//! 0x000  MagicValue        R     0x7472_6976 "virt"            same
//! 0x004  Version           R     1                             2
//! 0x008  DeviceID          R     2 (block)                     same
//! 0x00c  VendorID          R     0x554d_4551 "QEMU"            same
//! 0x010  DeviceFeatures    R     bank 0 only (HostFeatures)    bank DeviceFeaturesSel (0, 1)
//! 0x014  DeviceFeaturesSel W
//! 0x020  DriverFeatures    W     bank 0 only (GuestFeatures)   bank DriverFeaturesSel (0, 1)
//! 0x024  DriverFeaturesSel W
//! 0x028  GuestPageSize     W     page size for QueuePFN        -
//! 0x030  QueueSel          W     0 is the only queue           same
//! 0x034  QueueNumMax       R     256 (0 for other queues)      same
//! 0x038  QueueNum          W     1..=256, default 256          same (applied at QueueReady)
//! 0x03c  QueueAlign        W     used-ring alignment (4096)    -
//! 0x040  QueuePFN          RW    ring address / page size;     -
//!                                0 resets the device
//! 0x044  QueueReady        RW    -                             1 latches the ring addresses
//! 0x050  QueueNotify       W     0: process the avail ring     same
//! 0x060  InterruptStatus   R     bit 0 used buffer, bit 1 configuration change
//! 0x064  InterruptACK      W     clears the bits written
//! 0x070  Status            RW    0 resets the device           same, FEATURES_OK handshake
//! 0x080  QueueDescLow/High W     -                             descriptor table
//! 0x090  QueueDriverLow/High W   -                             avail ring
//! 0x0a0  QueueDeviceLow/High W   -                             used ring
//! 0x0fc  ConfigGeneration  R     -                             bumped on a config interrupt
//! 0x100  config space      R     struct virtio_blk_config: capacity (u64, sectors) at 0x100,
//!                                blk_size (u32) = 512 at 0x114, the rest 0; 0x3c bytes
//! ```
//!
//! Access rules are QEMU's: the device decodes 0x200 bytes (beyond that, an access fault);
//! a register takes 4-byte accesses, 1- and 2-byte ones read 0 and are ignored; an 8-byte
//! access is two 4-byte ones, low word first; the config space takes 1, 2 and 4 bytes, and
//! reads past its end are all ones; config writes are ignored; misaligned accesses fault.
//! A register of the other layout reads 0 and ignores writes.
//!
//! # Features
//!
//! Offered: `VIRTIO_BLK_F_BLK_SIZE` (6) and `VIRTIO_BLK_F_FLUSH` (9), and in modern mode
//! `VIRTIO_F_VERSION_1` (32). Not offered: indirect descriptors, event index, anything else.
//! Modern mode: when the driver sets FEATURES_OK, the device keeps the bit only if the
//! driver's features are a subset of those offered and include VERSION_1 (3.1.1: the driver
//! re-reads Status to learn the answer). Legacy mode: GuestFeatures (bank 0) is masked with
//! the offer, as QEMU does. FLUSH and GET_ID requests are served whatever was negotiated.
//!
//! # Requests (5.2.6)
//!
//! A chain: the device-readable part starts with the 16-byte header (type u32, reserved
//! u32, sector u64), the device-writable part ends with the status byte; data is whatever
//! lies between, in any number of descriptors (no assumption about framing, 2.6.4).
//! `VIRTIO_BLK_T_IN` (0) reads, `T_OUT` (1) writes, `T_FLUSH` (4) syncs the file,
//! `T_GET_ID` (8) answers "sv39-disk" NUL-padded to 20 bytes (cut to the buffer); other
//! types answer `VIRTIO_BLK_S_UNSUPP` (2). The legacy barrier flag (bit 31) is ignored, as
//! QEMU does. A transfer that is not a whole number of sectors, or that reaches past the
//! end of the disk, or whose host I/O fails, answers `VIRTIO_BLK_S_IOERR` (1). The used
//! element's `len` is the size of the whole writable part, as QEMU reports it.
//!
//! A chain the device cannot follow (a head or next index outside the queue, a loop or a
//! chain longer than the queue, an indirect descriptor, a zero-length descriptor, a buffer
//! outside RAM, a readable descriptor after a writable one, a header shorter than 16 bytes,
//! no writable byte for the status, or an avail index more than the queue size ahead) puts
//! the device in DEVICE_NEEDS_RESET (Status bit 64; the requests already accepted still
//! complete) and, once DRIVER_OK was set, raises a configuration-change interrupt (2.1.2);
//! the device then ignores notifications until it is reset. QEMU marks the device broken
//! in the same cases. Nothing the guest does panics the emulator.
//!
//! # Time
//!
//! The data moves when the driver notifies, but a request completes (its used element is
//! published and InterruptStatus bit 0 set, unless the driver set
//! `VIRTQ_AVAIL_F_NO_INTERRUPT`) only when the machine's cycle count reaches its due
//! cycle. The disk serves one request at a time, in order: a request starts when it is
//! notified or when the previous one finishes, whichever is later, and takes
//! [`DiskTiming::request_cycles`] plus [`DiskTiming::sector_cycles`] per sector moved. The
//! bus asks [`VirtioBlk::next_completion_cycle`] when the next event is, so a hart waiting
//! in `wfi` is woken at exactly that cycle, on every run.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::check_access;
use crate::bus::{Device, DeviceError};
use crate::ram::{PAGE_CODE, Ram};

/// MagicValue: "virt" in little-endian.
pub const MAGIC: u32 = 0x7472_6976;
/// DeviceID of a block device.
pub const DEVICE_ID_BLOCK: u32 = 2;
/// VendorID: "QEMU" in little-endian, as QEMU reports it.
pub const VENDOR_ID: u32 = 0x554d_4551;
/// Bytes per sector: `capacity` and the request header count these.
pub const SECTOR_SIZE: u64 = 512;
/// QueueNumMax of queue 0 (QEMU's default `queue-size` for virtio-blk).
pub const QUEUE_NUM_MAX: u32 = 256;
/// The serial number GET_ID returns (NUL-padded to [`ID_BYTES`]).
pub const DISK_ID: &[u8] = b"sv39-disk";
/// Length of the GET_ID answer (`VIRTIO_BLK_ID_BYTES`).
pub const ID_BYTES: usize = 20;

/// The part of the 0x1000 window the transport decodes (QEMU's region size).
const DECODED: u64 = 0x200;
/// Length of the config space (`struct virtio_blk_config` through its write-zeroes fields).
const CONFIG_LEN: u64 = 0x3c;
/// QueueSel values QEMU accepts (`VIRTIO_QUEUE_MAX`); only queue 0 exists.
const QUEUE_SEL_LIMIT: u32 = 1024;
/// The used-ring alignment of a legacy queue until the driver writes QueueAlign.
const DEFAULT_QUEUE_ALIGN: u64 = 4096;
/// Host transfers go through a buffer of at most this size.
const CHUNK: usize = 64 << 10;

/// Register offsets.
pub mod reg {
    /// MagicValue (R).
    pub const MAGIC: u64 = 0x000;
    /// Version (R): 1 legacy, 2 modern.
    pub const VERSION: u64 = 0x004;
    /// DeviceID (R).
    pub const DEVICE_ID: u64 = 0x008;
    /// VendorID (R).
    pub const VENDOR_ID: u64 = 0x00c;
    /// DeviceFeatures / legacy HostFeatures (R).
    pub const DEVICE_FEATURES: u64 = 0x010;
    /// DeviceFeaturesSel / legacy HostFeaturesSel (W).
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    /// DriverFeatures / legacy GuestFeatures (W).
    pub const DRIVER_FEATURES: u64 = 0x020;
    /// DriverFeaturesSel / legacy GuestFeaturesSel (W).
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    /// GuestPageSize (W, legacy).
    pub const GUEST_PAGE_SIZE: u64 = 0x028;
    /// QueueSel (W).
    pub const QUEUE_SEL: u64 = 0x030;
    /// QueueNumMax (R).
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    /// QueueNum (W).
    pub const QUEUE_NUM: u64 = 0x038;
    /// QueueAlign (W, legacy).
    pub const QUEUE_ALIGN: u64 = 0x03c;
    /// QueuePFN (RW, legacy).
    pub const QUEUE_PFN: u64 = 0x040;
    /// QueueReady (RW, modern).
    pub const QUEUE_READY: u64 = 0x044;
    /// QueueNotify (W).
    pub const QUEUE_NOTIFY: u64 = 0x050;
    /// InterruptStatus (R).
    pub const INTERRUPT_STATUS: u64 = 0x060;
    /// InterruptACK (W).
    pub const INTERRUPT_ACK: u64 = 0x064;
    /// Status (RW).
    pub const STATUS: u64 = 0x070;
    /// QueueDescLow (W, modern); QueueDescHigh is at +4.
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    /// QueueDescHigh (W, modern).
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    /// QueueDriverLow (W, modern): the avail ring.
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    /// QueueDriverHigh (W, modern).
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    /// QueueDeviceLow (W, modern): the used ring.
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    /// QueueDeviceHigh (W, modern).
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    /// ConfigGeneration (R, modern).
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    /// Start of the device configuration space.
    pub const CONFIG: u64 = 0x100;
}

/// Device status bits (2.1).
pub mod status {
    /// The guest found the device.
    pub const ACKNOWLEDGE: u32 = 1;
    /// The guest has a driver for it.
    pub const DRIVER: u32 = 2;
    /// The driver is ready.
    pub const DRIVER_OK: u32 = 4;
    /// Feature negotiation is complete (modern).
    pub const FEATURES_OK: u32 = 8;
    /// The device hit an error it cannot recover from without a reset.
    pub const DEVICE_NEEDS_RESET: u32 = 64;
    /// The driver gave up on the device.
    pub const FAILED: u32 = 128;
}

/// Feature bits (5.2.3, 6).
pub mod feature {
    /// `VIRTIO_BLK_F_BLK_SIZE`: `blk_size` in the config space is valid.
    pub const BLK_SIZE: u64 = 1 << 6;
    /// `VIRTIO_BLK_F_FLUSH`: the FLUSH command.
    pub const FLUSH: u64 = 1 << 9;
    /// `VIRTIO_F_INDIRECT_DESC` (not offered).
    pub const INDIRECT_DESC: u64 = 1 << 28;
    /// `VIRTIO_F_VERSION_1`: the modern interface (offered and required in modern mode).
    pub const VERSION_1: u64 = 1 << 32;
}

/// Request types and status values (5.2.6).
pub mod request {
    /// Read sectors into the data buffers.
    pub const T_IN: u32 = 0;
    /// Write the data buffers to sectors.
    pub const T_OUT: u32 = 1;
    /// Make earlier writes durable.
    pub const T_FLUSH: u32 = 4;
    /// Return the device's serial number.
    pub const T_GET_ID: u32 = 8;
    /// The legacy barrier flag, ignored.
    pub const T_BARRIER: u32 = 0x8000_0000;
    /// Success.
    pub const S_OK: u8 = 0;
    /// The request failed.
    pub const S_IOERR: u8 = 1;
    /// Unknown request type.
    pub const S_UNSUPP: u8 = 2;
}

/// InterruptStatus bits.
pub mod interrupt {
    /// A used buffer was published.
    pub const USED_BUFFER: u32 = 1;
    /// The configuration changed (here: the device needs a reset).
    pub const CONFIG_CHANGE: u32 = 2;
}

/// Descriptor flags (2.7.5).
mod desc_flags {
    pub const NEXT: u16 = 1;
    pub const WRITE: u16 = 2;
    pub const INDIRECT: u16 = 4;
}

/// `VIRTQ_AVAIL_F_NO_INTERRUPT`.
const AVAIL_F_NO_INTERRUPT: u16 = 1;

/// Which register layout the transport presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Version 1, QEMU's default for virtio-mmio (`virtio-mmio.force-legacy=true`).
    Legacy,
    /// Version 2 (QEMU's `-global virtio-mmio.force-legacy=false`).
    Modern,
}

/// How long requests take, in machine cycles (the units of `mcycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskTiming {
    /// Fixed cost of every request.
    pub request_cycles: u64,
    /// Cost of each 512-byte sector read or written.
    pub sector_cycles: u64,
}

impl Default for DiskTiming {
    /// 20,000 cycles per request (20 µs at the modelled 1 GHz) plus 100 per sector.
    fn default() -> Self {
        Self {
            request_cycles: 20_000,
            sector_cycles: 100,
        }
    }
}

impl DiskTiming {
    /// The time a request moving `sectors` sectors takes.
    pub fn latency(&self, sectors: u64) -> u64 {
        self.request_cycles
            .saturating_add(self.sector_cycles.saturating_mul(sectors))
    }
}

/// What the disk did, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskStats {
    /// Requests taken from the avail ring (well-formed chains, whatever their outcome).
    pub requests: u64,
    /// Sectors read into guest memory.
    pub sectors_read: u64,
    /// Sectors written to the backing file.
    pub sectors_written: u64,
    /// FLUSH requests.
    pub flushes: u64,
}

impl std::fmt::Display for DiskStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "disk: {} requests, {} sectors read, {} sectors written, {} flushes",
            self.requests, self.sectors_read, self.sectors_written, self.flushes
        )
    }
}

/// Why a backing file cannot be a disk.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Its size could not be read.
    #[error("cannot read its size: {0}")]
    Metadata(std::io::Error),
    /// It has no sectors.
    #[error("is empty; a disk needs at least one 512-byte sector")]
    Empty,
    /// Its length is not a whole number of sectors.
    #[error("is {0} bytes long, not a multiple of 512-byte sectors")]
    NotSectors(u64),
}

/// Why the device stopped following the driver's queue (logged; the device then needs a
/// reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Malformed {
    #[error("QueueAlign is 0")]
    ZeroAlign,
    #[error("the avail ring at {0:#x} is not in RAM")]
    AvailOutsideRam(u64),
    #[error("the used ring at {0:#x} is not in RAM")]
    UsedOutsideRam(u64),
    #[error("the avail index is {ahead} entries ahead, more than the queue size {size}")]
    TooManyAvailable { ahead: u16, size: u16 },
    #[error("descriptor index {index} is outside the queue of {size}")]
    IndexOutOfRange { index: u16, size: u16 },
    #[error("the descriptor table at {0:#x} is not in RAM")]
    DescOutsideRam(u64),
    #[error("a chain is longer than the queue (a loop?)")]
    Loop,
    #[error("descriptor {0} is indirect, which was not offered")]
    Indirect(u16),
    #[error("descriptor {0} has length 0")]
    ZeroLength(u16),
    #[error("descriptor {index}'s buffer {addr:#x}+{len:#x} is not in RAM")]
    BufferOutsideRam { index: u16, addr: u64, len: u32 },
    #[error("descriptor {0} is device-readable after a device-writable one")]
    ReadableAfterWritable(u16),
    #[error("the request header is {0} bytes, not 16")]
    ShortHeader(u64),
    #[error("the chain has no device-writable byte for the status")]
    NoStatus,
}

/// A run of guest physical memory (checked to be RAM).
#[derive(Debug, Clone, Copy)]
struct Segment {
    addr: u64,
    len: u64,
}

/// A descriptor chain: what the device reads, then what it writes.
struct Chain {
    readable: Vec<Segment>,
    writable: Vec<Segment>,
}

/// A queue's rings in guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ring {
    size: u16,
    desc: u64,
    avail: u64,
    used: u64,
}

/// The transport's view of queue 0.
#[derive(Debug, Clone)]
struct Queue {
    /// QueueNum.
    num: u16,
    /// Legacy: QueueAlign and the descriptor table's address (QueuePFN × page size).
    align: u64,
    legacy_desc: u64,
    /// Modern: the addresses written, and the rings latched by QueueReady.
    desc: u64,
    driver: u64,
    device: u64,
    ready: Option<Ring>,
    /// The next avail entry to take, and the device's used index.
    last_avail: u16,
    used_idx: u16,
}

impl Queue {
    fn new(align: u64) -> Self {
        Self {
            num: QUEUE_NUM_MAX as u16,
            align,
            legacy_desc: 0,
            desc: 0,
            driver: 0,
            device: 0,
            ready: None,
            last_avail: 0,
            used_idx: 0,
        }
    }
}

/// A request whose data has moved and whose completion is due at `due`.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    head: u16,
    written: u32,
    due: u64,
}

/// The virtio-mmio transport with its block device.
pub struct VirtioBlk {
    transport: Transport,
    file: File,
    sectors: u64,
    timing: DiskTiming,
    device_features_sel: u32,
    driver_features_sel: u32,
    /// Features as the driver wrote them.
    driver_features: u64,
    /// Features in force (legacy: as written, masked; modern: accepted at FEATURES_OK).
    negotiated: u64,
    /// log2 of GuestPageSize (legacy).
    page_shift: u32,
    queue_sel: u32,
    queue: Queue,
    interrupt_status: u32,
    status: u32,
    config_generation: u32,
    notified: bool,
    in_flight: VecDeque<InFlight>,
    /// When the disk finishes the last request it accepted.
    busy_until: u64,
    stats: DiskStats,
    io_error_reported: bool,
    code_written: bool,
}

impl VirtioBlk {
    /// Changes the latency model for requests submitted from now on.
    pub fn set_timing(&mut self, timing: DiskTiming) {
        self.timing = timing;
    }

    /// A device at reset backed by `file`, which must be a whole, non-zero number of
    /// sectors long.
    pub fn new(file: File, transport: Transport, timing: DiskTiming) -> Result<Self, ImageError> {
        let len = file.metadata().map_err(ImageError::Metadata)?.len();
        if len == 0 {
            return Err(ImageError::Empty);
        }
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(ImageError::NotSectors(len));
        }
        Ok(Self {
            transport,
            file,
            sectors: len / SECTOR_SIZE,
            timing,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            negotiated: 0,
            page_shift: 0,
            queue_sel: 0,
            queue: Queue::new(DEFAULT_QUEUE_ALIGN),
            interrupt_status: 0,
            status: 0,
            config_generation: 0,
            notified: false,
            in_flight: VecDeque::new(),
            busy_until: 0,
            stats: DiskStats::default(),
            io_error_reported: false,
            code_written: false,
        })
    }

    /// The register layout.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Size in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.sectors
    }

    /// The features the device offers.
    pub fn offered_features(&self) -> u64 {
        let base = feature::BLK_SIZE | feature::FLUSH;
        match self.transport {
            Transport::Legacy => base,
            Transport::Modern => base | feature::VERSION_1,
        }
    }

    /// The features in force.
    pub fn negotiated_features(&self) -> u64 {
        self.negotiated
    }

    /// The Status register.
    pub fn status(&self) -> u32 {
        self.status
    }

    /// Counters so far.
    pub fn stats(&self) -> DiskStats {
        self.stats
    }

    /// The interrupt line: high while InterruptStatus is not zero.
    pub fn irq(&self) -> bool {
        self.interrupt_status != 0
    }

    /// The cycle at which the next request completes, or `u64::MAX`.
    pub fn next_completion_cycle(&self) -> u64 {
        self.in_flight.front().map_or(u64::MAX, |r| r.due)
    }

    /// Whether a QueueNotify write waits for [`VirtioBlk::notify`].
    pub fn notify_pending(&self) -> bool {
        self.notified
    }

    /// Whether RAM holding decoded instructions was written since the last call.
    pub fn take_code_written(&mut self) -> bool {
        std::mem::take(&mut self.code_written)
    }

    /// A system reset (QEMU `virtio_mmio_reset`): the device reset, and GuestPageSize
    /// forgotten too.
    pub fn reset(&mut self) {
        self.device_reset();
        self.page_shift = 0;
    }

    /// Status = 0 or legacy QueuePFN = 0: everything the driver set up is forgotten and
    /// requests in flight are dropped (their data has moved, but they never complete).
    fn device_reset(&mut self) {
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.negotiated = 0;
        self.queue_sel = 0;
        self.queue = Queue::new(self.queue.align);
        self.interrupt_status = 0;
        self.status = 0;
        self.notified = false;
        self.in_flight.clear();
    }

    /// Runs the pending QueueNotify: takes every new avail entry, moves its data, and
    /// schedules its completion from `cycle` on.
    pub fn notify(&mut self, ram: &mut Ram, cycle: u64) {
        if !std::mem::take(&mut self.notified) {
            return;
        }
        if self.status & status::DEVICE_NEEDS_RESET != 0 {
            log::debug!("virtio-blk: notify ignored: the device needs a reset");
            return;
        }
        if let Err(e) = self.take_requests(ram, cycle) {
            self.needs_reset(e);
        }
    }

    /// Publishes every completion due by `cycle`, raising the interrupt.
    pub fn complete_due(&mut self, ram: &mut Ram, cycle: u64) {
        while let Some(&done) = self.in_flight.front() {
            if done.due > cycle {
                break;
            }
            self.in_flight.pop_front();
            if let Err(e) = self.publish(ram, done) {
                self.needs_reset(e);
            }
        }
    }

    /// The rings in force, if the queue is live.
    fn ring(&self) -> Result<Option<Ring>, Malformed> {
        match self.transport {
            Transport::Modern => Ok(self.queue.ready),
            Transport::Legacy => {
                let q = &self.queue;
                if q.legacy_desc == 0 {
                    return Ok(None);
                }
                if q.align == 0 {
                    return Err(Malformed::ZeroAlign);
                }
                let n = u64::from(q.num);
                let avail = q.legacy_desc.wrapping_add(16 * n);
                // 2.7.2: descriptors, the avail ring (flags, idx, ring, used_event), then
                // the used ring at the next QueueAlign boundary.
                let avail_end = avail.wrapping_add(2 * (3 + n));
                let used = avail_end.div_ceil(q.align).wrapping_mul(q.align);
                Ok(Some(Ring {
                    size: q.num,
                    desc: q.legacy_desc,
                    avail,
                    used,
                }))
            }
        }
    }

    fn take_requests(&mut self, ram: &mut Ram, cycle: u64) -> Result<(), Malformed> {
        let Some(ring) = self.ring()? else {
            log::debug!("virtio-blk: notify with no live queue ignored");
            return Ok(());
        };
        let avail_idx = read_u16(ram, ring.avail.wrapping_add(2))
            .ok_or(Malformed::AvailOutsideRam(ring.avail))?;
        let ahead = avail_idx.wrapping_sub(self.queue.last_avail);
        if ahead > ring.size {
            return Err(Malformed::TooManyAvailable {
                ahead,
                size: ring.size,
            });
        }
        while self.queue.last_avail != avail_idx {
            let slot = u64::from(self.queue.last_avail % ring.size);
            let head = read_u16(ram, ring.avail.wrapping_add(4 + 2 * slot))
                .ok_or(Malformed::AvailOutsideRam(ring.avail))?;
            self.queue.last_avail = self.queue.last_avail.wrapping_add(1);
            let chain = walk_chain(ram, ring, head)?;
            let (written, sectors) = self.execute(ram, &chain)?;
            self.stats.requests += 1;
            let start = cycle.max(self.busy_until);
            let due = start.saturating_add(self.timing.latency(sectors));
            self.busy_until = due;
            log::trace!("virtio-blk: request {head} notified at {cycle}, due at {due}");
            self.in_flight.push_back(InFlight { head, written, due });
        }
        Ok(())
    }

    /// Carries out one request; returns the writable length (for the used element) and the
    /// sectors moved.
    fn execute(&mut self, ram: &mut Ram, chain: &Chain) -> Result<(u32, u64), Malformed> {
        let readable: u64 = chain.readable.iter().map(|s| s.len).sum();
        let writable: u64 = chain.writable.iter().map(|s| s.len).sum();
        if readable < 16 {
            return Err(Malformed::ShortHeader(readable));
        }
        if writable == 0 {
            return Err(Malformed::NoStatus);
        }
        let mut header = [0u8; 16];
        gather(ram, &chain.readable, &mut header);
        let kind = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default());
        let sector = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
        let mut sectors = 0;
        let status = match kind & !request::T_BARRIER {
            request::T_IN => {
                let data = sub_range(&chain.writable, 0, writable - 1);
                match self.transfer_range(sector, writable - 1) {
                    Some(n) => {
                        sectors = n;
                        self.read_sectors(ram, sector, &data, n)
                    }
                    None => request::S_IOERR,
                }
            }
            request::T_OUT => {
                let data = sub_range(&chain.readable, 16, readable);
                match self.transfer_range(sector, readable - 16) {
                    Some(n) => {
                        sectors = n;
                        self.write_sectors(ram, sector, &data, n)
                    }
                    None => request::S_IOERR,
                }
            }
            request::T_FLUSH => {
                self.stats.flushes += 1;
                match self.file.sync_data() {
                    Ok(()) => request::S_OK,
                    Err(e) => self.host_error("flush", e),
                }
            }
            request::T_GET_ID => {
                let mut id = [0u8; ID_BYTES];
                id[..DISK_ID.len()].copy_from_slice(DISK_ID);
                let n = (writable - 1).min(ID_BYTES as u64) as usize;
                self.scatter(ram, &sub_range(&chain.writable, 0, n as u64), &id[..n]);
                request::S_OK
            }
            other => {
                log::debug!("virtio-blk: request type {other:#x} unsupported");
                request::S_UNSUPP
            }
        };
        let status_at = sub_range(&chain.writable, writable - 1, writable);
        self.scatter(ram, &status_at, &[status]);
        // A chain is at most 256 descriptors of at most 4 GiB each; the used element's
        // length is a u32, so a larger writable part is reported saturated.
        Ok((u32::try_from(writable).unwrap_or(u32::MAX), sectors))
    }

    /// The number of sectors in a transfer of `bytes` at `sector`, if it is whole sectors
    /// inside the disk.
    fn transfer_range(&self, sector: u64, bytes: u64) -> Option<u64> {
        if !bytes.is_multiple_of(SECTOR_SIZE) {
            log::debug!("virtio-blk: a transfer of {bytes} bytes is not whole sectors");
            return None;
        }
        let n = bytes / SECTOR_SIZE;
        if sector.checked_add(n).is_none_or(|end| end > self.sectors) {
            log::debug!(
                "virtio-blk: sectors {sector}+{n} are past the end of the disk ({} sectors)",
                self.sectors
            );
            return None;
        }
        Some(n)
    }

    fn read_sectors(&mut self, ram: &mut Ram, sector: u64, data: &[Segment], n: u64) -> u8 {
        let mut pos = sector * SECTOR_SIZE;
        let mut buf = vec![0u8; CHUNK.min((n * SECTOR_SIZE) as usize)];
        for seg in data {
            let mut done = 0;
            while done < seg.len {
                let len = (seg.len - done).min(buf.len() as u64) as usize;
                if let Err(e) = self.file.read_exact_at(&mut buf[..len], pos) {
                    return self.host_error("read", e);
                }
                let addr = seg.addr + done;
                ram.load(addr, &buf[..len]);
                self.code_written |= touches_code(ram, addr, len as u64);
                pos += len as u64;
                done += len as u64;
            }
        }
        self.stats.sectors_read += n;
        request::S_OK
    }

    fn write_sectors(&mut self, ram: &Ram, sector: u64, data: &[Segment], n: u64) -> u8 {
        let mut pos = sector * SECTOR_SIZE;
        for seg in data {
            // Segments were checked to be RAM when the chain was walked.
            let Some(off) = ram.offset(seg.addr, seg.len) else {
                return request::S_IOERR;
            };
            let bytes = &ram.slice_from(off)[..seg.len as usize];
            if let Err(e) = self.file.write_all_at(bytes, pos) {
                return self.host_error("write", e);
            }
            pos += seg.len;
        }
        self.stats.sectors_written += n;
        request::S_OK
    }

    /// A host I/O error: IOERR for the guest, a warning for the user (once).
    fn host_error(&mut self, what: &str, e: std::io::Error) -> u8 {
        if !std::mem::replace(&mut self.io_error_reported, true) {
            log::warn!("virtio-blk: host {what} failed: {e} (the guest sees an I/O error)");
        } else {
            log::debug!("virtio-blk: host {what} failed: {e}");
        }
        request::S_IOERR
    }

    /// Copies `bytes` into the segments, in order (they hold at least that many bytes).
    fn scatter(&mut self, ram: &mut Ram, segs: &[Segment], mut bytes: &[u8]) {
        for seg in segs {
            let n = (seg.len as usize).min(bytes.len());
            ram.load(seg.addr, &bytes[..n]);
            self.code_written |= touches_code(ram, seg.addr, n as u64);
            bytes = &bytes[n..];
        }
    }

    /// Writes the used element of a finished request and raises the interrupt.
    fn publish(&mut self, ram: &mut Ram, done: InFlight) -> Result<(), Malformed> {
        let Some(ring) = self.ring()? else {
            return Ok(());
        };
        let slot = u64::from(self.queue.used_idx % ring.size);
        let elem = ring.used.wrapping_add(4 + 8 * slot);
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&u32::from(done.head).to_le_bytes());
        bytes[4..].copy_from_slice(&done.written.to_le_bytes());
        let idx_at = ring.used.wrapping_add(2);
        if ram.offset(elem, 8).is_none() || ram.offset(idx_at, 2).is_none() {
            return Err(Malformed::UsedOutsideRam(ring.used));
        }
        self.queue.used_idx = self.queue.used_idx.wrapping_add(1);
        self.scatter(ram, &[Segment { addr: elem, len: 8 }], &bytes);
        let idx = self.queue.used_idx.to_le_bytes();
        self.scatter(
            ram,
            &[Segment {
                addr: idx_at,
                len: 2,
            }],
            &idx,
        );
        let flags = read_u16(ram, ring.avail).ok_or(Malformed::AvailOutsideRam(ring.avail))?;
        if flags & AVAIL_F_NO_INTERRUPT == 0 {
            self.interrupt_status |= interrupt::USED_BUFFER;
        }
        log::trace!(
            "virtio-blk: request {} completed (used index {})",
            done.head,
            self.queue.used_idx
        );
        Ok(())
    }

    /// The device gives up on the queue until it is reset (2.1.2).
    fn needs_reset(&mut self, why: Malformed) {
        log::debug!("virtio-blk: {why}; the device needs a reset");
        if self.status & status::DEVICE_NEEDS_RESET != 0 {
            return;
        }
        self.status |= status::DEVICE_NEEDS_RESET;
        if self.status & status::DRIVER_OK != 0 {
            self.interrupt_status |= interrupt::CONFIG_CHANGE;
            self.config_generation = self.config_generation.wrapping_add(1);
        }
    }

    /// A 4-byte register read.
    fn read_register(&self, offset: u64) -> u32 {
        let modern = self.transport == Transport::Modern;
        let queue0 = self.queue_sel == 0;
        match offset {
            reg::MAGIC => MAGIC,
            reg::VERSION => {
                if modern {
                    2
                } else {
                    1
                }
            }
            reg::DEVICE_ID => DEVICE_ID_BLOCK,
            reg::VENDOR_ID => VENDOR_ID,
            reg::DEVICE_FEATURES => match (self.device_features_sel, modern) {
                (0, _) => self.offered_features() as u32,
                (1, true) => (self.offered_features() >> 32) as u32,
                _ => 0,
            },
            reg::QUEUE_NUM_MAX if queue0 => QUEUE_NUM_MAX,
            reg::QUEUE_PFN if !modern && queue0 => {
                (self.queue.legacy_desc >> self.page_shift) as u32
            }
            reg::QUEUE_READY if modern && queue0 => u32::from(self.queue.ready.is_some()),
            reg::INTERRUPT_STATUS => self.interrupt_status,
            reg::STATUS => self.status,
            reg::CONFIG_GENERATION if modern => self.config_generation,
            _ => {
                log::debug!("virtio-blk: read of register {offset:#x} gives 0");
                0
            }
        }
    }

    /// A 4-byte register write.
    fn write_register(&mut self, offset: u64, value: u32) {
        let modern = self.transport == Transport::Modern;
        let queue0 = self.queue_sel == 0;
        let v = u64::from(value);
        match offset {
            reg::DEVICE_FEATURES_SEL => self.device_features_sel = value,
            reg::DRIVER_FEATURES_SEL => self.driver_features_sel = value,
            reg::DRIVER_FEATURES => match (self.driver_features_sel, modern) {
                (0, false) => {
                    self.driver_features = v;
                    self.negotiated = v & self.offered_features();
                }
                (0, true) => self.driver_features = (self.driver_features & !0xffff_ffff) | v,
                (1, true) => self.driver_features = (self.driver_features & 0xffff_ffff) | v << 32,
                _ => log::debug!("virtio-blk: driver features bank ignored"),
            },
            reg::GUEST_PAGE_SIZE if !modern => {
                // QEMU keeps log2 of the lowest set bit; 0 means a page of one byte.
                self.page_shift = value.trailing_zeros();
                if self.page_shift > 31 {
                    self.page_shift = 0;
                }
            }
            reg::QUEUE_SEL if value < QUEUE_SEL_LIMIT => self.queue_sel = value,
            reg::QUEUE_NUM if queue0 => {
                if (1..=QUEUE_NUM_MAX).contains(&value) {
                    self.queue.num = value as u16;
                } else {
                    log::debug!("virtio-blk: QueueNum {value} ignored (1 to {QUEUE_NUM_MAX})");
                }
            }
            reg::QUEUE_ALIGN if !modern && queue0 => self.queue.align = v,
            reg::QUEUE_PFN if !modern => {
                if value == 0 {
                    self.device_reset();
                } else if queue0 {
                    self.queue.legacy_desc = v << self.page_shift;
                }
            }
            reg::QUEUE_READY if modern && queue0 => {
                let q = &mut self.queue;
                q.ready = (value != 0).then_some(Ring {
                    size: q.num,
                    desc: q.desc,
                    avail: q.driver,
                    used: q.device,
                });
            }
            reg::QUEUE_NOTIFY => {
                if value == 0 {
                    self.notified = true;
                } else {
                    log::debug!("virtio-blk: notify of queue {value}, which does not exist");
                }
            }
            reg::INTERRUPT_ACK => self.interrupt_status &= !value,
            reg::STATUS => self.write_status(value),
            reg::QUEUE_DESC_LOW if modern && queue0 => set_low(&mut self.queue.desc, value),
            reg::QUEUE_DESC_HIGH if modern && queue0 => set_high(&mut self.queue.desc, value),
            reg::QUEUE_DRIVER_LOW if modern && queue0 => set_low(&mut self.queue.driver, value),
            reg::QUEUE_DRIVER_HIGH if modern && queue0 => set_high(&mut self.queue.driver, value),
            reg::QUEUE_DEVICE_LOW if modern && queue0 => set_low(&mut self.queue.device, value),
            reg::QUEUE_DEVICE_HIGH if modern && queue0 => set_high(&mut self.queue.device, value),
            _ => log::debug!("virtio-blk: write of {value:#x} to register {offset:#x} ignored"),
        }
    }

    fn write_status(&mut self, value: u32) {
        let mut value = value & 0xff;
        if value == 0 {
            self.device_reset();
            return;
        }
        if self.transport == Transport::Modern
            && value & status::FEATURES_OK != 0
            && self.status & status::FEATURES_OK == 0
        {
            let wanted = self.driver_features;
            if wanted & !self.offered_features() != 0 || wanted & feature::VERSION_1 == 0 {
                log::debug!(
                    "virtio-blk: features {wanted:#x} refused (offered {:#x}, VERSION_1 required)",
                    self.offered_features()
                );
                value &= !status::FEATURES_OK;
            } else {
                self.negotiated = wanted;
            }
        }
        // DEVICE_NEEDS_RESET is the device's to set and only a reset clears it.
        self.status =
            (value & !status::DEVICE_NEEDS_RESET) | (self.status & status::DEVICE_NEEDS_RESET);
    }

    /// Reads `size` bytes of the config space at `offset`; past its end, all ones.
    fn read_config(&self, offset: u64, size: u8) -> u64 {
        let end = offset + u64::from(size);
        if end > CONFIG_LEN {
            return u64::MAX >> (64 - 8 * u32::from(size));
        }
        let mut config = [0u8; CONFIG_LEN as usize];
        config[0..8].copy_from_slice(&self.sectors.to_le_bytes());
        config[0x14..0x18].copy_from_slice(&(SECTOR_SIZE as u32).to_le_bytes());
        let mut value = [0u8; 8];
        value[..size as usize].copy_from_slice(&config[offset as usize..end as usize]);
        u64::from_le_bytes(value)
    }

    /// One access of at most 4 bytes.
    fn read_small(&self, offset: u64, size: u8) -> u64 {
        if offset >= reg::CONFIG {
            self.read_config(offset - reg::CONFIG, size)
        } else if size == 4 {
            u64::from(self.read_register(offset))
        } else {
            log::debug!("virtio-blk: {size}-byte read of register {offset:#x} gives 0");
            0
        }
    }

    fn write_small(&mut self, offset: u64, size: u8, value: u64) {
        if offset >= reg::CONFIG {
            log::debug!("virtio-blk: config write at {offset:#x} ignored");
        } else if size == 4 {
            self.write_register(offset, value as u32);
        } else {
            log::debug!("virtio-blk: {size}-byte write of register {offset:#x} ignored");
        }
    }
}

impl Device for VirtioBlk {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        check_access(offset, size, &[1, 2, 4, 8])?;
        if offset >= DECODED {
            return Err(DeviceError::Unmapped(offset));
        }
        if size == 8 {
            // As two 4-byte accesses, low word first (QEMU's memory core splits them).
            let low = self.read_small(offset, 4);
            let high = self.read_small(offset + 4, 4);
            return Ok(low | high << 32);
        }
        Ok(self.read_small(offset, size))
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        check_access(offset, size, &[1, 2, 4, 8])?;
        if offset >= DECODED {
            return Err(DeviceError::Unmapped(offset));
        }
        if size == 8 {
            self.write_small(offset, 4, value & 0xffff_ffff);
            self.write_small(offset + 4, 4, value >> 32);
            return Ok(());
        }
        self.write_small(offset, size, value);
        Ok(())
    }
}

fn set_low(field: &mut u64, value: u32) {
    *field = (*field & !0xffff_ffff) | u64::from(value);
}

fn set_high(field: &mut u64, value: u32) {
    *field = (*field & 0xffff_ffff) | u64::from(value) << 32;
}

fn read_u16(ram: &Ram, addr: u64) -> Option<u16> {
    let off = ram.offset(addr, 2)?;
    Some(u16::from_le_bytes(ram.read::<2>(off)))
}

/// Whether `[addr, addr + len)` (in RAM) overlaps a page holding decoded instructions.
fn touches_code(ram: &Ram, addr: u64, len: u64) -> bool {
    let Some(off) = ram.offset(addr, len.max(1)) else {
        return false;
    };
    let last = off + len.max(1) as usize - 1;
    ((off >> 12)..=(last >> 12)).any(|page| ram.page_flags(page << 12) & PAGE_CODE != 0)
}

/// Follows the chain starting at descriptor `head` and checks every rule the device relies
/// on (2.7.5, 2.7.4.2).
fn walk_chain(ram: &Ram, ring: Ring, head: u16) -> Result<Chain, Malformed> {
    let mut chain = Chain {
        readable: Vec::new(),
        writable: Vec::new(),
    };
    let mut index = head;
    for _ in 0..ring.size {
        if index >= ring.size {
            return Err(Malformed::IndexOutOfRange {
                index,
                size: ring.size,
            });
        }
        let at = ring.desc.wrapping_add(16 * u64::from(index));
        let mut raw = [0u8; 16];
        if !ram.dump(at, &mut raw) {
            return Err(Malformed::DescOutsideRam(ring.desc));
        }
        let addr = u64::from_le_bytes(raw[0..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(raw[8..12].try_into().unwrap_or_default());
        let flags = u16::from_le_bytes([raw[12], raw[13]]);
        let next = u16::from_le_bytes([raw[14], raw[15]]);
        if flags & desc_flags::INDIRECT != 0 {
            return Err(Malformed::Indirect(index));
        }
        if len == 0 {
            return Err(Malformed::ZeroLength(index));
        }
        if ram.offset(addr, u64::from(len)).is_none() {
            return Err(Malformed::BufferOutsideRam { index, addr, len });
        }
        let seg = Segment {
            addr,
            len: u64::from(len),
        };
        if flags & desc_flags::WRITE != 0 {
            chain.writable.push(seg);
        } else if chain.writable.is_empty() {
            chain.readable.push(seg);
        } else {
            return Err(Malformed::ReadableAfterWritable(index));
        }
        if flags & desc_flags::NEXT == 0 {
            return Ok(chain);
        }
        index = next;
    }
    Err(Malformed::Loop)
}

/// Copies the first `out.len()` bytes of the segments into `out` (they hold at least that).
fn gather(ram: &Ram, segs: &[Segment], out: &mut [u8]) {
    let mut done = 0;
    for seg in segs {
        if done == out.len() {
            break;
        }
        let n = (seg.len as usize).min(out.len() - done);
        ram.dump(seg.addr, &mut out[done..done + n]);
        done += n;
    }
}

/// The bytes `[from, to)` of the concatenated segments, as segments.
fn sub_range(segs: &[Segment], from: u64, to: u64) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut start = 0u64;
    for seg in segs {
        let end = start + seg.len;
        let lo = from.max(start);
        let hi = to.min(end);
        if lo < hi {
            out.push(Segment {
                addr: seg.addr + (lo - start),
                len: hi - lo,
            });
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x8000_0000;
    const RAM_SIZE: u64 = 1 << 20;
    /// Where the test driver puts its queue, headers and buffers.
    const QUEUE_AT: u64 = BASE + 0x1_0000;
    const HEADER_AT: u64 = BASE + 0x4_0000;
    const STATUS_AT: u64 = BASE + 0x4_1000;
    const DATA_AT: u64 = BASE + 0x5_0000;
    const DISK_SECTORS: u64 = 64;
    const QSIZE: u16 = 8;

    /// A driver written by hand: the device, RAM, and the queue it set up.
    struct Rig {
        dev: VirtioBlk,
        ram: Ram,
        file: File,
        ring: Ring,
        avail_idx: u16,
        next_desc: u16,
    }

    fn disk_file() -> File {
        let file = tempfile::tempfile().unwrap();
        file.set_len(DISK_SECTORS * SECTOR_SIZE).unwrap();
        file
    }

    fn device(transport: Transport) -> (VirtioBlk, File) {
        let file = disk_file();
        let dev = VirtioBlk::new(file.try_clone().unwrap(), transport, DiskTiming::default());
        (dev.unwrap(), file)
    }

    fn r32(dev: &mut VirtioBlk, offset: u64) -> u32 {
        dev.read(offset, 4).unwrap() as u32
    }

    fn w32(dev: &mut VirtioBlk, offset: u64, value: u32) {
        dev.write(offset, 4, u64::from(value)).unwrap();
    }

    /// Brings a device up as a driver following 3.1.1 and 4.2.3 would; returns its rings.
    fn bring_up(dev: &mut VirtioBlk, transport: Transport) -> Ring {
        w32(dev, reg::STATUS, 0);
        w32(dev, reg::STATUS, status::ACKNOWLEDGE | status::DRIVER);
        let mut st = status::ACKNOWLEDGE | status::DRIVER;
        let n = u64::from(QSIZE);
        let ring = match transport {
            Transport::Legacy => {
                w32(dev, reg::DRIVER_FEATURES_SEL, 0);
                w32(dev, reg::DRIVER_FEATURES, feature::FLUSH as u32);
                w32(dev, reg::GUEST_PAGE_SIZE, 4096);
                w32(dev, reg::QUEUE_SEL, 0);
                w32(dev, reg::QUEUE_NUM, u32::from(QSIZE));
                w32(dev, reg::QUEUE_ALIGN, 4096);
                w32(dev, reg::QUEUE_PFN, (QUEUE_AT >> 12) as u32);
                assert_eq!(r32(dev, reg::QUEUE_PFN), (QUEUE_AT >> 12) as u32);
                Ring {
                    size: QSIZE,
                    desc: QUEUE_AT,
                    avail: QUEUE_AT + 16 * n,
                    used: QUEUE_AT + 4096,
                }
            }
            Transport::Modern => {
                w32(dev, reg::DRIVER_FEATURES_SEL, 1);
                w32(dev, reg::DRIVER_FEATURES, 1);
                w32(dev, reg::DRIVER_FEATURES_SEL, 0);
                w32(dev, reg::DRIVER_FEATURES, feature::FLUSH as u32);
                st |= status::FEATURES_OK;
                w32(dev, reg::STATUS, st);
                assert_ne!(r32(dev, reg::STATUS) & status::FEATURES_OK, 0);
                // Deliberately not the legacy placement: three separate areas.
                let ring = Ring {
                    size: QSIZE,
                    desc: QUEUE_AT + 0x800,
                    avail: QUEUE_AT + 0x100,
                    used: QUEUE_AT + 0x2000,
                };
                w32(dev, reg::QUEUE_SEL, 0);
                w32(dev, reg::QUEUE_NUM, u32::from(QSIZE));
                for (low, addr) in [
                    (reg::QUEUE_DESC_LOW, ring.desc),
                    (reg::QUEUE_DRIVER_LOW, ring.avail),
                    (reg::QUEUE_DEVICE_LOW, ring.used),
                ] {
                    w32(dev, low, addr as u32);
                    w32(dev, low + 4, (addr >> 32) as u32);
                }
                w32(dev, reg::QUEUE_READY, 1);
                assert_eq!(r32(dev, reg::QUEUE_READY), 1);
                ring
            }
        };
        w32(dev, reg::STATUS, st | status::DRIVER_OK);
        ring
    }

    fn rig(transport: Transport) -> Rig {
        let (mut dev, file) = device(transport);
        let ring = bring_up(&mut dev, transport);
        Rig {
            dev,
            ram: Ram::new(BASE, RAM_SIZE).unwrap(),
            file,
            ring,
            avail_idx: 0,
            next_desc: 0,
        }
    }

    impl Rig {
        fn put_desc(&mut self, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
            let mut raw = [0u8; 16];
            raw[0..8].copy_from_slice(&addr.to_le_bytes());
            raw[8..12].copy_from_slice(&len.to_le_bytes());
            raw[12..14].copy_from_slice(&flags.to_le_bytes());
            raw[14..16].copy_from_slice(&next.to_le_bytes());
            assert!(self.ram.load(self.ring.desc + 16 * u64::from(index), &raw));
        }

        /// Makes `head` available (without notifying).
        fn offer(&mut self, head: u16) {
            let slot = u64::from(self.avail_idx % QSIZE);
            assert!(
                self.ram
                    .load(self.ring.avail + 4 + 2 * slot, &head.to_le_bytes())
            );
            self.avail_idx = self.avail_idx.wrapping_add(1);
            assert!(
                self.ram
                    .load(self.ring.avail + 2, &self.avail_idx.to_le_bytes())
            );
        }

        /// Builds a chain from `(addr, len, writable)` in fresh descriptors and offers it.
        fn chain(&mut self, parts: &[(u64, u32, bool)]) -> u16 {
            let head = self.next_desc;
            for (i, &(addr, len, writable)) in parts.iter().enumerate() {
                let index = (self.next_desc + i as u16) % QSIZE;
                let last = i + 1 == parts.len();
                let mut flags = if writable { desc_flags::WRITE } else { 0 };
                if !last {
                    flags |= desc_flags::NEXT;
                }
                self.put_desc(index, addr, len, flags, (index + 1) % QSIZE);
            }
            self.next_desc = (self.next_desc + parts.len() as u16) % QSIZE;
            self.offer(head);
            head
        }

        fn header(&mut self, slot: u64, kind: u32, sector: u64) -> u64 {
            let at = HEADER_AT + 16 * slot;
            let mut h = [0u8; 16];
            h[0..4].copy_from_slice(&kind.to_le_bytes());
            h[8..16].copy_from_slice(&sector.to_le_bytes());
            assert!(self.ram.load(at, &h));
            assert!(self.ram.load(STATUS_AT + slot, &[0xff]));
            at
        }

        fn notify(&mut self, cycle: u64) {
            w32(&mut self.dev, reg::QUEUE_NOTIFY, 0);
            assert!(self.dev.notify_pending());
            self.dev.notify(&mut self.ram, cycle);
        }

        /// Notifies at cycle 0 and completes everything.
        fn run(&mut self) {
            self.notify(0);
            self.dev.complete_due(&mut self.ram, u64::MAX - 1);
        }

        /// A simple three-descriptor request: header, data, status (slot `slot`).
        fn request(&mut self, slot: u64, kind: u32, sector: u64, data: u64, len: u32) -> u16 {
            let write = kind == request::T_IN || kind == request::T_GET_ID;
            let h = self.header(slot, kind, sector);
            self.chain(&[
                (h, 16, false),
                (data, len, write),
                (STATUS_AT + slot, 1, true),
            ])
        }

        fn status_byte(&self, slot: u64) -> u8 {
            self.bytes(STATUS_AT + slot, 1)[0]
        }

        fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
            let mut out = vec![0; len];
            assert!(self.ram.dump(addr, &mut out));
            out
        }

        fn used_idx(&self) -> u16 {
            read_u16(&self.ram, self.ring.used + 2).unwrap()
        }

        /// Used element `i`: (id, len).
        fn used(&self, i: u16) -> (u32, u32) {
            let b = self.bytes(self.ring.used + 4 + 8 * u64::from(i % QSIZE), 8);
            (
                u32::from_le_bytes(b[0..4].try_into().unwrap()),
                u32::from_le_bytes(b[4..8].try_into().unwrap()),
            )
        }

        fn needs_reset(&mut self) -> bool {
            r32(&mut self.dev, reg::STATUS) & status::DEVICE_NEEDS_RESET != 0
        }
    }

    const BOTH: [Transport; 2] = [Transport::Legacy, Transport::Modern];

    #[test]
    fn identifies_itself_as_qemu_does() {
        for (t, version) in [(Transport::Legacy, 1), (Transport::Modern, 2)] {
            let (mut dev, _) = device(t);
            assert_eq!(r32(&mut dev, reg::MAGIC), 0x7472_6976);
            assert_eq!(&MAGIC.to_le_bytes(), b"virt");
            assert_eq!(r32(&mut dev, reg::VERSION), version);
            assert_eq!(r32(&mut dev, reg::DEVICE_ID), 2);
            assert_eq!(r32(&mut dev, reg::VENDOR_ID), 0x554d_4551);
            assert_eq!(&VENDOR_ID.to_le_bytes(), b"QEMU");
            assert_eq!(r32(&mut dev, reg::QUEUE_NUM_MAX), 256);
            assert_eq!(r32(&mut dev, reg::STATUS), 0);
            assert_eq!(r32(&mut dev, reg::INTERRUPT_STATUS), 0);
            // Config space: capacity (u64) and blk_size.
            assert_eq!(r32(&mut dev, reg::CONFIG), DISK_SECTORS as u32);
            assert_eq!(r32(&mut dev, reg::CONFIG + 4), 0);
            assert_eq!(dev.read(reg::CONFIG, 8).unwrap(), DISK_SECTORS);
            assert_eq!(dev.read(reg::CONFIG, 1).unwrap(), DISK_SECTORS);
            assert_eq!(dev.read(reg::CONFIG + 0x14, 2).unwrap(), 512);
            assert_eq!(r32(&mut dev, reg::CONFIG + 0x14), 512);
            // Past the end of the config space: all ones, as QEMU.
            assert_eq!(r32(&mut dev, reg::CONFIG + 0x3c), 0xffff_ffff);
            assert_eq!(dev.read(reg::CONFIG + 0x3e, 2).unwrap(), 0xffff);
            // Read-only registers ignore writes.
            w32(&mut dev, reg::MAGIC, 0);
            w32(&mut dev, reg::CONFIG, 0);
            assert_eq!(r32(&mut dev, reg::MAGIC), MAGIC);
            assert_eq!(r32(&mut dev, reg::CONFIG), DISK_SECTORS as u32);
            // 8 bytes: two registers; 1 and 2 bytes: nothing; misaligned, or past the
            // decoded 0x200 bytes: an access fault.
            assert_eq!(
                dev.read(reg::MAGIC, 8).unwrap(),
                u64::from(MAGIC) | u64::from(version) << 32
            );
            assert_eq!(dev.read(reg::MAGIC, 1).unwrap(), 0);
            assert_eq!(dev.read(reg::MAGIC, 2).unwrap(), 0);
            assert!(dev.read(reg::MAGIC + 2, 4).is_err());
            assert!(dev.read(0x200, 4).is_err());
            assert!(dev.write(0xffc, 4, 0).is_err());
            // Another queue does not exist.
            w32(&mut dev, reg::QUEUE_SEL, 3);
            assert_eq!(r32(&mut dev, reg::QUEUE_NUM_MAX), 0);
        }
    }

    #[test]
    fn legacy_features_are_one_bank() {
        let (mut dev, _) = device(Transport::Legacy);
        let offered = u64::from(r32(&mut dev, reg::DEVICE_FEATURES));
        assert_eq!(offered, feature::BLK_SIZE | feature::FLUSH);
        w32(&mut dev, reg::DEVICE_FEATURES_SEL, 1);
        assert_eq!(r32(&mut dev, reg::DEVICE_FEATURES), 0);
        // GuestFeatures is taken as written, masked by the offer.
        w32(&mut dev, reg::DRIVER_FEATURES, 0xffff_ffff);
        assert_eq!(dev.negotiated_features(), offered);
        // Modern-only registers read 0 and ignore writes.
        w32(&mut dev, reg::QUEUE_READY, 1);
        assert_eq!(r32(&mut dev, reg::QUEUE_READY), 0);
        assert_eq!(r32(&mut dev, reg::CONFIG_GENERATION), 0);
    }

    #[test]
    fn modern_feature_negotiation_requires_version_1() {
        let (mut dev, _) = device(Transport::Modern);
        w32(&mut dev, reg::DEVICE_FEATURES_SEL, 0);
        assert_eq!(
            u64::from(r32(&mut dev, reg::DEVICE_FEATURES)),
            feature::BLK_SIZE | feature::FLUSH
        );
        w32(&mut dev, reg::DEVICE_FEATURES_SEL, 1);
        assert_eq!(r32(&mut dev, reg::DEVICE_FEATURES), 1, "VERSION_1");
        w32(&mut dev, reg::DEVICE_FEATURES_SEL, 2);
        assert_eq!(r32(&mut dev, reg::DEVICE_FEATURES), 0);
        let base = status::ACKNOWLEDGE | status::DRIVER;
        w32(&mut dev, reg::STATUS, base);

        // Without VERSION_1: FEATURES_OK does not stick.
        w32(&mut dev, reg::DRIVER_FEATURES_SEL, 0);
        w32(&mut dev, reg::DRIVER_FEATURES, feature::FLUSH as u32);
        w32(&mut dev, reg::STATUS, base | status::FEATURES_OK);
        assert_eq!(r32(&mut dev, reg::STATUS), base);
        // A feature not offered (indirect descriptors): refused too.
        w32(&mut dev, reg::DRIVER_FEATURES_SEL, 1);
        w32(&mut dev, reg::DRIVER_FEATURES, 1);
        w32(&mut dev, reg::DRIVER_FEATURES_SEL, 0);
        w32(
            &mut dev,
            reg::DRIVER_FEATURES,
            feature::INDIRECT_DESC as u32,
        );
        w32(&mut dev, reg::STATUS, base | status::FEATURES_OK);
        assert_eq!(r32(&mut dev, reg::STATUS), base);
        // VERSION_1 and FLUSH: accepted.
        w32(&mut dev, reg::DRIVER_FEATURES, feature::FLUSH as u32);
        w32(&mut dev, reg::STATUS, base | status::FEATURES_OK);
        assert_eq!(r32(&mut dev, reg::STATUS), base | status::FEATURES_OK);
        assert_eq!(
            dev.negotiated_features(),
            feature::FLUSH | feature::VERSION_1
        );
        // Legacy-only registers do nothing here.
        w32(&mut dev, reg::QUEUE_PFN, 0x1234);
        assert_eq!(r32(&mut dev, reg::QUEUE_PFN), 0);
        assert_eq!(r32(&mut dev, reg::STATUS), base | status::FEATURES_OK);
        // Status 0 resets, features included.
        w32(&mut dev, reg::STATUS, 0);
        assert_eq!(r32(&mut dev, reg::STATUS), 0);
        assert_eq!(dev.negotiated_features(), 0);
    }

    #[test]
    fn write_then_read_round_trip() {
        for t in BOTH {
            let mut r = rig(t);
            let pattern: Vec<u8> = (0..1024u32).map(|i| (i * 7 + 3) as u8).collect();
            assert!(r.ram.load(DATA_AT, &pattern));
            // Sector 5, two sectors, the data in two descriptors of 512 bytes.
            let h = r.header(0, request::T_OUT, 5);
            let head = r.chain(&[
                (h, 16, false),
                (DATA_AT, 512, false),
                (DATA_AT + 512, 512, false),
                (STATUS_AT, 1, true),
            ]);
            r.run();
            assert_eq!(r.status_byte(0), request::S_OK, "{t:?}");
            assert_eq!(r.used_idx(), 1);
            assert_eq!(r.used(0), (u32::from(head), 1));
            let mut on_disk = vec![0; 1024];
            r.file.read_exact_at(&mut on_disk, 5 * 512).unwrap();
            assert_eq!(on_disk, pattern, "{t:?}");

            // Read it back elsewhere, header and status in one buffer each, the data and
            // the status in the same writable descriptor (no framing assumed).
            let back = DATA_AT + 0x1_0000;
            let h = r.header(1, request::T_IN, 5);
            let head = r.chain(&[(h, 8, false), (h + 8, 8, false), (back, 1025, true)]);
            r.run();
            assert_eq!(r.bytes(back, 1024), pattern, "{t:?}");
            assert_eq!(r.bytes(back + 1024, 1), [request::S_OK]);
            assert_eq!(r.used(1), (u32::from(head), 1025));
            let s = r.dev.stats();
            assert_eq!(
                (s.requests, s.sectors_read, s.sectors_written, s.flushes),
                (2, 2, 2, 0)
            );
            assert_eq!(
                s.to_string(),
                "disk: 2 requests, 2 sectors read, 2 sectors written, 0 flushes"
            );
            assert!(!r.needs_reset());
        }
    }

    #[test]
    fn flush_and_get_id() {
        for t in BOTH {
            let mut r = rig(t);
            let h = r.header(0, request::T_FLUSH, 0);
            r.chain(&[(h, 16, false), (STATUS_AT, 1, true)]);
            r.request(1, request::T_GET_ID, 0, DATA_AT, 20);
            assert!(r.ram.load(DATA_AT + 0x100, &[0xee; 8]));
            // A short GET_ID buffer gets the first bytes only.
            r.request(2, request::T_GET_ID, 0, DATA_AT + 0x100, 4);
            r.run();
            assert_eq!(r.status_byte(0), request::S_OK);
            assert_eq!(r.status_byte(1), request::S_OK);
            assert_eq!(r.bytes(DATA_AT, 20), b"sv39-disk\0\0\0\0\0\0\0\0\0\0\0");
            assert_eq!(r.bytes(DATA_AT + 0x100, 8), b"sv39\xee\xee\xee\xee");
            assert_eq!(r.dev.stats().flushes, 1);
            assert_eq!(r.used_idx(), 3);
            assert_eq!(r.used(1).1, 21);
        }
    }

    #[test]
    fn bad_requests_get_a_status_not_a_reset() {
        for t in BOTH {
            let mut r = rig(t);
            // The last sector is fine, one past it is not, nor a huge sector number.
            for (slot, kind, sector, len) in [
                (0, request::T_IN, DISK_SECTORS - 1, 512),
                (1, request::T_IN, DISK_SECTORS, 512),
                (2, request::T_OUT, u64::MAX, 512),
                // Not whole sectors.
                (3, request::T_OUT, 0, 100),
                (4, 0x77, 0, 512),
                (5, 2, 0, 512), // the legacy SCSI command
            ] {
                r.request(slot, kind, sector, DATA_AT, len);
                r.run();
            }
            let got: Vec<u8> = (0..6).map(|s| r.status_byte(s)).collect();
            use request::{S_IOERR, S_OK, S_UNSUPP};
            assert_eq!(got, [S_OK, S_IOERR, S_IOERR, S_IOERR, S_UNSUPP, S_UNSUPP]);
            assert!(!r.needs_reset());
            assert_eq!(r.used_idx(), 6);
            assert_eq!(r.dev.stats().requests, 6);
            assert_eq!(r.dev.stats().sectors_read, 1);
            assert_eq!(r.dev.stats().sectors_written, 0);
        }
    }

    /// Offers a chain built by `build`, notifies, and checks the device then needs a reset,
    /// raised a configuration interrupt, and ignores the queue until it is reset.
    fn assert_malformed(t: Transport, build: impl Fn(&mut Rig) -> u16) {
        let mut r = rig(t);
        let head = build(&mut r);
        r.offer(head);
        r.run();
        assert!(r.needs_reset(), "{t:?}");
        assert_eq!(r.used_idx(), 0);
        assert_eq!(
            r32(&mut r.dev, reg::INTERRUPT_STATUS),
            interrupt::CONFIG_CHANGE
        );
        assert!(r.dev.irq());
        if t == Transport::Modern {
            assert_eq!(r32(&mut r.dev, reg::CONFIG_GENERATION), 1);
        }
        // Ignored until reset, even a good request.
        r.request(3, request::T_FLUSH, 0, DATA_AT, 512);
        r.run();
        assert_eq!(r.used_idx(), 0);
        w32(&mut r.dev, reg::STATUS, 0);
        assert_eq!(r32(&mut r.dev, reg::STATUS), 0);
        assert!(!r.dev.irq());
    }

    #[test]
    fn malformed_chains_need_a_reset() {
        let status_desc = |r: &mut Rig, i: u16| r.put_desc(i, STATUS_AT, 1, desc_flags::WRITE, 0);
        for t in BOTH {
            // A loop: 0 -> 1 -> 0.
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_IN, 0);
                r.put_desc(0, h, 16, desc_flags::NEXT, 1);
                r.put_desc(1, DATA_AT, 512, desc_flags::NEXT | desc_flags::WRITE, 0);
                0
            });
            // A descriptor pointing at itself.
            assert_malformed(t, |r| {
                r.put_desc(2, DATA_AT, 16, desc_flags::NEXT, 2);
                2
            });
            // Buffers outside RAM: below, straddling the end, and wrapping around.
            for (addr, len) in [(0x1000, 16), (BASE + RAM_SIZE - 8, 16), (u64::MAX - 4, 16)] {
                assert_malformed(t, |r| {
                    r.put_desc(0, addr, len, desc_flags::NEXT, 1);
                    status_desc(r, 1);
                    0
                });
            }
            // A next index past the queue; a head index past the queue.
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_IN, 0);
                r.put_desc(0, h, 16, desc_flags::NEXT, QSIZE);
                0
            });
            assert_malformed(t, |_| QSIZE + 5);
            // Wrong direction: readable after writable.
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_OUT, 0);
                r.put_desc(0, STATUS_AT, 1, desc_flags::NEXT | desc_flags::WRITE, 1);
                r.put_desc(1, h, 16, 0, 0);
                0
            });
            // No status byte; a short header; zero length; indirect.
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_OUT, 0);
                r.put_desc(0, h, 16, 0, 0);
                0
            });
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_FLUSH, 0);
                r.put_desc(0, h, 8, desc_flags::NEXT, 1);
                status_desc(r, 1);
                0
            });
            assert_malformed(t, |r| {
                let h = r.header(0, request::T_FLUSH, 0);
                r.put_desc(0, h, 0, desc_flags::NEXT, 1);
                status_desc(r, 1);
                0
            });
            assert_malformed(t, |r| {
                r.put_desc(0, DATA_AT, 32, desc_flags::INDIRECT, 0);
                0
            });
        }
    }

    #[test]
    fn an_avail_index_too_far_ahead_needs_a_reset() {
        for t in BOTH {
            let mut r = rig(t);
            assert!(r.ram.load(r.ring.avail + 2, &(QSIZE + 1).to_le_bytes()));
            r.run();
            assert!(r.needs_reset());
        }
    }

    #[test]
    fn rings_outside_ram_need_a_reset() {
        // Legacy: a PFN past RAM. Modern: rings at address 0.
        let (mut dev, _) = device(Transport::Legacy);
        let mut ram = Ram::new(BASE, RAM_SIZE).unwrap();
        w32(&mut dev, reg::GUEST_PAGE_SIZE, 4096);
        w32(&mut dev, reg::QUEUE_PFN, 0xffff_ffff);
        w32(&mut dev, reg::QUEUE_NOTIFY, 0);
        dev.notify(&mut ram, 0);
        assert_ne!(dev.status() & status::DEVICE_NEEDS_RESET, 0);
        // Before DRIVER_OK, no interrupt.
        assert!(!dev.irq());

        let (mut dev, _) = device(Transport::Modern);
        w32(&mut dev, reg::QUEUE_READY, 1);
        w32(&mut dev, reg::QUEUE_NOTIFY, 0);
        dev.notify(&mut ram, 0);
        assert_ne!(dev.status() & status::DEVICE_NEEDS_RESET, 0);
    }

    #[test]
    fn completion_waits_for_the_latency() {
        for t in BOTH {
            let mut r = rig(t);
            let timing = DiskTiming::default();
            assert_eq!((timing.request_cycles, timing.sector_cycles), (20_000, 100));
            r.request(0, request::T_IN, 0, DATA_AT, 4 * 512);
            r.notify(1_000);
            // The data has moved (the status byte is written), but nothing is published.
            assert_eq!(r.status_byte(0), request::S_OK);
            let due = 1_000 + 20_000 + 4 * 100;
            assert_eq!(r.dev.next_completion_cycle(), due);
            r.dev.complete_due(&mut r.ram, due - 1);
            assert!(!r.dev.irq());
            assert_eq!(r.used_idx(), 0);
            assert_eq!(r32(&mut r.dev, reg::INTERRUPT_STATUS), 0);
            r.dev.complete_due(&mut r.ram, due);
            assert!(r.dev.irq());
            assert_eq!(r.used_idx(), 1);
            assert_eq!(r32(&mut r.dev, reg::INTERRUPT_STATUS), 1);
            assert_eq!(r.dev.next_completion_cycle(), u64::MAX);
            // InterruptACK lowers the line.
            w32(&mut r.dev, reg::INTERRUPT_ACK, 1);
            assert!(!r.dev.irq());

            // Two requests in one notification: served one after the other, in order.
            r.request(1, request::T_FLUSH, 0, DATA_AT, 512);
            r.request(2, request::T_OUT, 8, DATA_AT, 512);
            r.notify(50_000);
            assert_eq!(r.dev.next_completion_cycle(), 70_000);
            r.dev.complete_due(&mut r.ram, 70_000);
            assert_eq!(r.used_idx(), 2);
            assert_eq!(r.dev.next_completion_cycle(), 90_100);
            r.dev.complete_due(&mut r.ram, 90_099);
            assert_eq!(r.used_idx(), 2);
            r.dev.complete_due(&mut r.ram, 90_100);
            assert_eq!(r.used_idx(), 3);
        }
    }

    #[test]
    fn no_interrupt_flag_suppresses_the_interrupt() {
        for t in BOTH {
            let mut r = rig(t);
            assert!(
                r.ram
                    .load(r.ring.avail, &AVAIL_F_NO_INTERRUPT.to_le_bytes())
            );
            r.request(0, request::T_FLUSH, 0, DATA_AT, 512);
            r.run();
            assert_eq!(r.used_idx(), 1);
            assert!(!r.dev.irq());
        }
    }

    #[test]
    fn reset_drops_everything() {
        for t in BOTH {
            let mut r = rig(t);
            r.request(0, request::T_FLUSH, 0, DATA_AT, 512);
            r.notify(0);
            assert_ne!(r.dev.next_completion_cycle(), u64::MAX);
            if t == Transport::Legacy {
                // QueuePFN = 0 resets the whole device, as QEMU does.
                w32(&mut r.dev, reg::QUEUE_PFN, 0);
            } else {
                w32(&mut r.dev, reg::STATUS, 0);
                assert_eq!(r32(&mut r.dev, reg::QUEUE_READY), 0);
            }
            assert_eq!(r32(&mut r.dev, reg::STATUS), 0);
            assert_eq!(r.dev.next_completion_cycle(), u64::MAX);
            r.dev.complete_due(&mut r.ram, u64::MAX);
            assert_eq!(r.used_idx(), 0);
            assert!(!r.dev.irq());
            // Set up again (fresh rings), the device works from index 0.
            assert!(r.ram.load(QUEUE_AT, &[0; 0x3000]));
            r.ring = bring_up(&mut r.dev, t);
            r.avail_idx = 0;
            r.request(0, request::T_FLUSH, 0, DATA_AT, 512);
            r.run();
            assert_eq!(r.used_idx(), 1);
            assert!(r.dev.irq());
        }
    }

    #[test]
    fn code_pages_written_by_the_device_are_reported() {
        let mut r = rig(Transport::Legacy);
        r.ram.set_page_flags((DATA_AT - BASE) as usize, PAGE_CODE);
        r.request(0, request::T_OUT, 0, DATA_AT, 512);
        r.run();
        assert!(!r.dev.take_code_written(), "a write to disk only reads RAM");
        r.request(1, request::T_IN, 0, DATA_AT, 512);
        r.run();
        assert!(r.dev.take_code_written());
        assert!(!r.dev.take_code_written());
    }

    #[test]
    fn bad_backing_files_are_refused() {
        let empty = tempfile::tempfile().unwrap();
        let e = VirtioBlk::new(empty, Transport::Legacy, DiskTiming::default());
        assert!(matches!(e, Err(ImageError::Empty)));
        let odd = tempfile::tempfile().unwrap();
        odd.set_len(1000).unwrap();
        let e = VirtioBlk::new(odd, Transport::Legacy, DiskTiming::default());
        assert!(matches!(e, Err(ImageError::NotSectors(1000))));
    }

    #[test]
    fn host_io_errors_are_ioerr() {
        // A read-only file descriptor: writes fail on the host.
        let path = tempfile::NamedTempFile::new().unwrap();
        path.as_file().set_len(DISK_SECTORS * SECTOR_SIZE).unwrap();
        let ro = File::open(path.path()).unwrap();
        let mut r = rig(Transport::Legacy);
        r.dev.file = ro;
        for (slot, kind) in [(0, request::T_OUT), (1, request::T_OUT), (2, request::T_IN)] {
            r.request(slot, kind, slot, DATA_AT, 512);
            r.run();
        }
        assert_eq!(r.status_byte(0), request::S_IOERR);
        assert_eq!(r.status_byte(1), request::S_IOERR);
        assert_eq!(r.status_byte(2), request::S_OK);
        assert!(!r.needs_reset());
    }

    /// Random register writes and random memory: the device must never panic.
    #[test]
    fn random_guests_do_not_panic() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for t in BOTH {
            for _ in 0..20 {
                let mut r = rig(t);
                // Fill the queue area with noise, with addresses often pointing into RAM.
                for i in 0..0x600u64 {
                    let v = next();
                    let v = if v & 1 == 0 {
                        BASE + (v >> 8) % RAM_SIZE
                    } else {
                        v
                    };
                    r.ram.load(QUEUE_AT + 8 * i, &v.to_le_bytes());
                }
                for step in 0..200u64 {
                    let v = next();
                    let offset = (v % 0x200) & !3;
                    let value = (v >> 32) as u32 & if v & 0x100 != 0 { 0xff } else { !0 };
                    let _ = r.dev.write(offset, 4, u64::from(value));
                    let _ = r.dev.read(((v >> 16) % 0x200) & !3, 4);
                    w32(&mut r.dev, reg::QUEUE_NOTIFY, 0);
                    r.dev.notify(&mut r.ram, step * 1000);
                    r.dev.complete_due(&mut r.ram, step * 1000 + (v >> 40));
                }
            }
        }
    }
}
