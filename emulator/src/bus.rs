//! The physical address space: RAM, the boot ROM and memory-mapped devices.
//!
//! RAM is checked first (it is the hot path); everything else is dispatched by address to
//! the device that owns it. An address with nothing behind it is an access fault, reported
//! to the hart as [`BusFault`].

use crate::devices::{
    BootRom, Clint, FaultTrace, Finisher, HostIo, Htif, HtifEvent, Plic, Uart, VirtioBlk,
};
use crate::layout::*;
use crate::ram::{PAGE_CODE, PAGE_WATCHED, Ram};

/// A memory-mapped device: registers at offsets from its base address.
///
/// Sizes are 1, 2, 4 or 8 bytes. A device answers `Err` for an offset or size it does not
/// implement, which the hart turns into an access fault.
pub trait Device {
    /// Reads `size` bytes at `offset` from the device's base.
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError>;
    /// Writes the low `size` bytes of `value` at `offset` from the device's base.
    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError>;
}

/// Why a device refused an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No register at this offset.
    #[error("no register at offset {0:#x}")]
    Unmapped(u64),
    /// The register exists but not with this access size.
    #[error("access of {size} bytes at offset {offset:#x} is not supported")]
    BadSize {
        /// Offset of the access.
        offset: u64,
        /// Size of the access in bytes.
        size: u8,
    },
}

/// An access reached no RAM and no device, or a device refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusFault;

/// What the machine was asked to do by a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitRequest {
    /// Power off with this exit status (0 = pass).
    Exit(u32),
    /// Reset the machine.
    Reset,
}

/// The physical address space of the machine.
pub struct Bus {
    /// Guest DRAM.
    pub ram: Ram,
    /// The reset-vector ROM.
    pub rom: BootRom,
    /// Core-local interruptor (software and timer interrupts).
    pub clint: Clint,
    /// Platform-level interrupt controller.
    pub plic: Plic,
    /// 16550A UART.
    pub uart: Uart,
    /// `sifive_test` finisher.
    pub finisher: Finisher,
    /// sv39's host I/O device (the guest's stdin, stdout, stderr and log).
    pub hostio: HostIo,
    /// sv39's fault-trace channel (the kernel's report of each fault's kind).
    pub fault_trace: FaultTrace,
    /// Whether sv39's own devices (host I/O, fault trace) are mapped; without them the bus
    /// has exactly the devices of QEMU's `virt` (for a lockstep comparison).
    pub sv39_devices: bool,
    /// HTIF `tohost`/`fromhost`, when the loaded ELF defines them.
    pub htif: Option<Htif>,
    /// The virtio-blk disk on the first virtio-mmio transport; without it the transport's
    /// page is unmapped.
    pub disk: Option<VirtioBlk>,
    /// Set when a device asks the machine to stop or reset.
    pub exit: Option<ExitRequest>,
    /// The current cycle, as devices see it (the machine updates it before MMIO).
    pub cycle: u64,
    /// Set when RAM holding decoded instructions was written: the block cache must drop them.
    pub code_written: bool,
}

impl Bus {
    /// Builds the bus around `ram` with freshly reset devices.
    pub fn new(ram: Ram, rom: BootRom, uart: Uart) -> Self {
        Self {
            ram,
            rom,
            clint: Clint::new(),
            plic: Plic::new(),
            uart,
            finisher: Finisher::new(),
            hostio: HostIo::default(),
            fault_trace: FaultTrace::new(),
            sv39_devices: true,
            htif: None,
            disk: None,
            exit: None,
            cycle: 0,
            code_written: false,
        }
    }

    /// Reads `N` bytes at `paddr`, from RAM or a device.
    #[inline(always)]
    pub fn read<const N: usize>(&mut self, paddr: u64) -> Result<[u8; N], BusFault> {
        if let Some(off) = self.ram.offset(paddr, N as u64) {
            return Ok(self.ram.read::<N>(off));
        }
        self.read_slow::<N>(paddr)
    }

    /// Writes `N` bytes at `paddr`. Returns `true` when the write had a side effect the run
    /// loop must see at once (code modified, a device asked to exit, MMIO that may change
    /// interrupt state).
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, paddr: u64, data: [u8; N]) -> Result<bool, BusFault> {
        if let Some(off) = self.ram.offset(paddr, N as u64) {
            return Ok(self.write_ram::<N>(paddr, off, data));
        }
        self.write_slow::<N>(paddr, data)
    }

    /// Writes `N` bytes of RAM at `paddr`, whose RAM offset is `off` (from
    /// [`Ram::offset`]). Returns `true` when the write had a side effect (code modified, HTIF).
    #[inline(always)]
    pub fn write_ram<const N: usize>(&mut self, paddr: u64, off: usize, data: [u8; N]) -> bool {
        self.ram.write::<N>(off, data);
        if self.ram.page_flags(off) == 0 {
            return false;
        }
        self.ram_write_hook(paddr, off, N)
    }

    #[cold]
    fn read_slow<const N: usize>(&mut self, paddr: u64) -> Result<[u8; N], BusFault> {
        if self.ram.contains(paddr) || self.ram.contains(paddr.wrapping_add(N as u64 - 1)) {
            // A misaligned access that runs off the end of RAM.
            return Err(BusFault);
        }
        if let Some(off) = in_range(paddr, N, BOOTROM_BASE, BOOTROM_SIZE) {
            let v = self.rom.read(off, N as u8).map_err(|_| BusFault)?;
            return Ok(le_bytes::<N>(v));
        }
        let value = self.mmio_read(paddr, N as u8)?;
        Ok(le_bytes::<N>(value))
    }

    #[cold]
    fn write_slow<const N: usize>(&mut self, paddr: u64, data: [u8; N]) -> Result<bool, BusFault> {
        let mut buf = [0u8; 8];
        buf[..N].copy_from_slice(&data);
        self.mmio_write(paddr, N as u8, u64::from_le_bytes(buf))?;
        Ok(true)
    }

    /// A RAM store hit a flagged page.
    #[cold]
    fn ram_write_hook(&mut self, paddr: u64, off: usize, len: usize) -> bool {
        let flags = self.ram.page_flags(off) | self.ram.page_flags(off + len - 1);
        let mut sync = false;
        if flags & PAGE_CODE != 0 {
            self.code_written = true;
            sync = true;
        }
        if flags & PAGE_WATCHED != 0
            && let Some(htif) = &mut self.htif
            && htif.watches(paddr, len as u64)
        {
            match htif.on_tohost_write(&mut self.ram) {
                Some(HtifEvent::Exit(code)) => self.exit = Some(ExitRequest::Exit(code)),
                Some(HtifEvent::Output(bytes)) => self.uart.write_host(&bytes),
                None => {}
            }
            sync = true;
        }
        sync
    }

    /// Marks the RAM page holding `paddr` as containing decoded instructions.
    pub fn mark_code(&mut self, paddr: u64) {
        if let Some(off) = self.ram.offset(paddr, 1) {
            self.ram.set_page_flags(off, PAGE_CODE);
        }
    }

    /// Forgets all code marks (after the block cache was flushed).
    pub fn clear_code_marks(&mut self) {
        self.ram.clear_page_flags(PAGE_CODE);
        self.code_written = false;
    }

    /// Installs the HTIF device and marks its page watched.
    pub fn attach_htif(&mut self, htif: Htif) {
        if let Some(off) = self.ram.offset(htif.tohost(), 8) {
            self.ram.set_page_flags(off, PAGE_WATCHED);
        }
        self.htif = Some(htif);
    }

    /// The instruction bytes available for fetch at `paddr` (RAM or boot ROM), if any.
    pub fn fetch_window(&self, paddr: u64) -> Option<&[u8]> {
        if let Some(off) = self.ram.offset(paddr, 2) {
            return Some(self.ram.slice_from(off));
        }
        let off = in_range(paddr, 2, BOOTROM_BASE, BOOTROM_SIZE)?;
        self.rom.bytes().get(off as usize..)
    }

    fn mmio_read(&mut self, paddr: u64, size: u8) -> Result<u64, BusFault> {
        let n = size as usize;
        let r = if let Some(off) = in_range(paddr, n, CLINT_BASE, CLINT_SIZE) {
            self.clint.set_cycle(self.cycle);
            self.clint.read(off, size)
        } else if let Some(off) = in_range(paddr, n, PLIC_BASE, PLIC_SIZE) {
            self.sync_plic_sources();
            self.plic.read(off, size)
        } else if let Some(off) = in_range(paddr, n, UART_BASE, UART_SIZE) {
            self.uart.read(off, size)
        } else if let Some(off) = in_range(paddr, n, FINISHER_BASE, FINISHER_SIZE) {
            self.finisher.read(off, size)
        } else if let Some(off) = in_range(paddr, n, HOSTIO_BASE, HOSTIO_SIZE)
            && self.sv39_devices
        {
            self.hostio.read(off, size)
        } else if let Some(off) = in_range(paddr, n, FAULT_TRACE_BASE, FAULT_TRACE_SIZE)
            && self.sv39_devices
        {
            self.fault_trace.read(off, size)
        } else if let Some(off) = in_range(paddr, n, VIRTIO0_BASE, VIRTIO0_SIZE)
            && let Some(disk) = &mut self.disk
        {
            disk.read(off, size)
        } else {
            return Err(BusFault);
        };
        r.map_err(|e| {
            log::debug!("MMIO read of {size} bytes at {paddr:#x} refused: {e}");
            BusFault
        })
    }

    fn mmio_write(&mut self, paddr: u64, size: u8, value: u64) -> Result<(), BusFault> {
        let n = size as usize;
        let r = if let Some(off) = in_range(paddr, n, CLINT_BASE, CLINT_SIZE) {
            self.clint.set_cycle(self.cycle);
            self.clint.write(off, size, value)
        } else if let Some(off) = in_range(paddr, n, PLIC_BASE, PLIC_SIZE) {
            self.sync_plic_sources();
            self.plic.write(off, size, value)
        } else if let Some(off) = in_range(paddr, n, UART_BASE, UART_SIZE) {
            self.uart.write(off, size, value)
        } else if let Some(off) = in_range(paddr, n, FINISHER_BASE, FINISHER_SIZE) {
            let r = self.finisher.write(off, size, value);
            if let Some(req) = self.finisher.take_request() {
                self.exit = Some(req);
            }
            r
        } else if let Some(off) = in_range(paddr, n, HOSTIO_BASE, HOSTIO_SIZE)
            && self.sv39_devices
        {
            let r = self.hostio.write(off, size, value);
            if self.hostio.command_pending() {
                self.run_hostio_command();
            }
            r
        } else if let Some(off) = in_range(paddr, n, FAULT_TRACE_BASE, FAULT_TRACE_SIZE)
            && self.sv39_devices
        {
            if off == crate::devices::fault_trace::reg::EVENT && size == 8 {
                self.fault_trace.write_event(self.cycle, value);
                Ok(())
            } else {
                self.fault_trace.write(off, size, value)
            }
        } else if let Some(off) = in_range(paddr, n, VIRTIO0_BASE, VIRTIO0_SIZE)
            && let Some(disk) = &mut self.disk
        {
            let r = disk.write(off, size, value);
            if disk.notify_pending() {
                // The data moves now; the completion is published when it is due.
                disk.notify(&mut self.ram, self.cycle);
                self.code_written |= disk.take_code_written();
            }
            r
        } else {
            return Err(BusFault);
        };
        r.map_err(|e| {
            log::debug!("MMIO write of {size} bytes at {paddr:#x} refused: {e}");
            BusFault
        })
    }

    /// Runs the host I/O command just written: the device needs RAM for its buffer. Input
    /// written over decoded instructions drops them, as a store there would.
    fn run_hostio_command(&mut self) {
        if let Some((off, len)) = self.hostio.execute(&mut self.ram) {
            let last_page = (off + len - 1) >> 12;
            let code = ((off >> 12)..=last_page)
                .any(|page| self.ram.page_flags(page << 12) & PAGE_CODE != 0);
            if code {
                self.code_written = true;
            }
        }
    }

    fn sync_plic_sources(&mut self) {
        self.plic.set_source(UART_IRQ, self.uart.irq());
        if let Some(disk) = &self.disk {
            self.plic.set_source(VIRTIO0_IRQ, disk.irq());
        }
    }

    /// The interrupt-pending bits driven by devices (MSIP, MTIP, MEIP, SEIP) at `cycle`.
    pub fn hardware_mip(&mut self, cycle: u64) -> u64 {
        use crate::hart::csr::{MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP};
        self.cycle = cycle;
        self.clint.set_cycle(cycle);
        self.uart.poll_input();
        if let Some(disk) = &mut self.disk {
            disk.complete_due(&mut self.ram, cycle);
            self.code_written |= disk.take_code_written();
        }
        self.sync_plic_sources();
        let mut mip = 0;
        if self.clint.msip() {
            mip |= MIP_MSIP;
        }
        if self.clint.mtip() {
            mip |= MIP_MTIP;
        }
        if self.plic.context_pending(0) {
            mip |= MIP_MEIP;
        }
        if self.plic.context_pending(1) {
            mip |= MIP_SEIP;
        }
        mip
    }

    /// The next cycle at which a device may change interrupt state on its own
    /// (the timer reaching `mtimecmp`, the next poll of interactive input, or the disk's
    /// next completion).
    pub fn next_event_cycle(&self) -> u64 {
        let disk = self
            .disk
            .as_ref()
            .map_or(u64::MAX, VirtioBlk::next_completion_cycle);
        self.clint
            .next_timer_cycle()
            .min(self.uart.next_poll_cycle(self.cycle))
            .min(disk)
    }
}

/// Offset of `[paddr, paddr + len)` in the region `[base, base + size)`, if it fits.
#[inline(always)]
fn in_range(paddr: u64, len: usize, base: u64, size: u64) -> Option<u64> {
    let off = paddr.wrapping_sub(base);
    (off < size && len as u64 <= size - off).then_some(off)
}

#[inline(always)]
fn le_bytes<const N: usize>(value: u64) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&value.to_le_bytes()[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;
    use crate::devices::hostio::{MAGIC, command, reg};
    use crate::devices::{HostInput, UartInput};
    use crate::hart::encode::*;
    use crate::machine::{Machine, RunOutcome};

    fn machine(words: &[u32], stdin: &[u8]) -> (Machine, Capture) {
        let mut ram = Ram::new(DRAM_BASE, 1 << 20).unwrap();
        assert!(ram.load(DRAM_BASE, &assemble(words)));
        let uart = Uart::new(UartInput::None, Box::new(std::io::sink()));
        let mut bus = Bus::new(ram, BootRom::new(DRAM_BASE, 0), uart);
        let out = Capture::default();
        let input = HostInput::Stream(Box::new(std::io::Cursor::new(stdin.to_vec())));
        bus.hostio = HostIo::new(input, Box::new(out.clone()), Box::new(std::io::sink()));
        (Machine::new(bus, DRAM_BASE), out)
    }

    /// Powers off through the finisher with status `x8` (x30, x31 clobbered).
    fn exit_with_x8() -> Vec<u32> {
        let mut p = vec![slli(30, 8, 16)];
        p.extend(li32(31, 0x3333));
        p.extend([
            add(30, 30, 31),
            lui(31, FINISHER_BASE as i32),
            sw(30, 31, 0),
        ]);
        p.push(jal(0, 0));
        p
    }

    /// x5 = hostio base; ADDR = `addr` (written as two 32-bit halves); LEN = `len`.
    fn setup(addr: u32, len: i32) -> Vec<u32> {
        let mut p = vec![lui(5, HOSTIO_BASE as i32), lui(6, addr as i32)];
        p.extend(li32(7, (addr & 0xfff) as i32));
        p.extend([
            add(6, 6, 7),
            sw(6, 5, reg::ADDR as i32),
            sw(0, 5, reg::ADDR as i32 + 4),
            addi(7, 0, len),
            sd(7, 5, reg::LEN as i32),
        ]);
        p
    }

    #[test]
    fn guest_writes_stdout_through_mmio() {
        let text_at = DRAM_BASE + 0x800;
        let mut p = setup(text_at as u32, 6);
        p.extend([
            lw(9, 5, reg::MAGIC as i32),
            addi(7, 0, command::STDOUT as i32),
            sw(7, 5, reg::COMMAND as i32),
            ld(8, 5, reg::RESULT as i32),
        ]);
        p.extend(exit_with_x8());
        let (mut m, out) = machine(&p, b"");
        assert!(m.bus.ram.load(text_at, b"hello\n"));
        assert_eq!(m.run(10_000), RunOutcome::Exit(6));
        assert_eq!(out.contents(), b"hello\n");
        assert_eq!(m.hart.x[9] as u32, MAGIC);
    }

    #[test]
    fn stdin_over_decoded_code_drops_it() {
        // The instruction at `target` runs once as `addi x8, x0, 1`; then standard input
        // (the encoding of `addi x8, x0, 42`) is read over it and it runs again.
        let head_len = setup(0, 4).len() + 2; // setup, `addi x7`, `jal`
        let target = DRAM_BASE + 4 * head_len as u64;
        let mut p = setup(target as u32, 4);
        p.push(addi(7, 0, command::STDIN as i32));
        p.push(jal(0, 4));
        assert_eq!(p.len(), head_len);
        p.extend([
            addi(8, 0, 1),                 // target
            bne(20, 0, 16),                // second time: to the exit
            addi(20, 0, 1),                //
            sw(7, 5, reg::COMMAND as i32), // read 4 bytes over `target`
            jal(0, -16),                   // and run it again
        ]);
        p.extend(exit_with_x8());
        let (mut m, _) = machine(&p, &addi(8, 0, 42).to_le_bytes());
        assert_eq!(m.run(10_000), RunOutcome::Exit(42));
    }

    /// A machine whose disk holds one FLUSH request in a legacy queue, ready to be notified;
    /// the program enables PLIC source 1 for M-mode, notifies (or not), waits in `wfi`, and
    /// exits with the source it claims.
    fn disk_machine(notify: bool) -> Machine {
        use crate::devices::virtio_blk::{reg as vreg, request};
        use crate::devices::{DiskTiming, Transport, VirtioBlk};
        let mut p = vec![lui(5, PLIC_BASE as i32), addi(6, 0, 1), sw(6, 5, 4)];
        p.extend([
            lui(7, PLIC_BASE as i32 + 0x2000),
            addi(6, 0, 2),
            sw(6, 7, 0),
        ]);
        p.extend(li32(8, 1 << 11));
        p.push(csrrs(0, 0x304, 8)); // mie.MEIE
        p.push(lui(9, VIRTIO0_BASE as i32));
        if notify {
            p.push(sw(0, 9, vreg::QUEUE_NOTIFY as i32));
        }
        p.extend([WFI, lui(10, PLIC_BASE as i32 + 0x20_0000), lw(8, 10, 4)]);
        p.extend(exit_with_x8());
        let (mut m, _) = machine(&p, b"");
        let file = tempfile::tempfile().unwrap();
        file.set_len(1 << 20).unwrap();
        let mut disk = VirtioBlk::new(file, Transport::Legacy, DiskTiming::default()).unwrap();
        let queue = DRAM_BASE + 0x1_0000;
        for (reg, value) in [
            (vreg::GUEST_PAGE_SIZE, 4096),
            (vreg::QUEUE_NUM, 4),
            (vreg::QUEUE_ALIGN, 4096),
            (vreg::QUEUE_PFN, queue >> 12),
            (vreg::STATUS, 7),
        ] {
            disk.write(reg, 4, value).unwrap();
        }
        let (header, status) = (DRAM_BASE + 0x2_0000, DRAM_BASE + 0x2_0010);
        let mut desc = Vec::new();
        for (addr, len, flags, next) in [(header, 16u32, 1u16, 1u16), (status, 1, 2, 0)] {
            desc.extend(addr.to_le_bytes());
            desc.extend(len.to_le_bytes());
            desc.extend(flags.to_le_bytes());
            desc.extend(next.to_le_bytes());
        }
        let ram = &mut m.bus.ram;
        assert!(ram.load(queue, &desc));
        // Avail ring after the 4 descriptors: flags 0, idx 1, ring[0] = 0.
        assert!(ram.load(queue + 64, &[0, 0, 1, 0, 0, 0]));
        assert!(ram.load(header, &request::T_FLUSH.to_le_bytes()));
        m.bus.disk = Some(disk);
        m
    }

    #[test]
    fn a_disk_completion_wakes_wfi_at_its_due_cycle() {
        let mut cycles = Vec::new();
        for _ in 0..2 {
            let mut m = disk_machine(true);
            assert_eq!(m.run(10_000), RunOutcome::Exit(VIRTIO0_IRQ));
            let disk = m.bus.disk.as_ref().unwrap();
            assert_eq!(disk.stats().flushes, 1);
            // The used ring (at the next page) holds the request.
            let mut used = [0u8; 4];
            assert!(m.bus.ram.dump(DRAM_BASE + 0x1_1000, &mut used));
            assert_eq!(used, [0, 0, 1, 0]);
            cycles.push(m.hart.cycle());
        }
        // The flush is due 20,000 cycles after the notify; the hart slept until then.
        let latency = crate::devices::DiskTiming::default().latency(0);
        assert!(
            cycles[0] > latency && cycles[0] < latency + 100,
            "{cycles:?}"
        );
        assert_eq!(cycles[0], cycles[1], "the same cycle on every run");
    }

    #[test]
    fn wfi_without_a_disk_request_is_a_deadlock() {
        let mut m = disk_machine(false);
        assert_eq!(m.run(10_000), RunOutcome::Deadlock);
    }
}
