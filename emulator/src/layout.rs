//! The physical memory map, at QEMU `virt` addresses so that the same images boot on both.
//!
//! ```text
//! 0x0000_1000  boot ROM            a0 = hart id, a1 = device tree, jump to the start address
//! 0x0010_0000  sifive_test         poweroff / reboot / fail with an exit code
//! 0x0200_0000  CLINT (ACLINT)      msip, mtimecmp, mtime (10 MHz timebase)
//! 0x0c00_0000  PLIC                96 sources, context 0 = hart 0 M-mode, 1 = hart 0 S-mode
//! 0x1000_0000  UART 16550A         IRQ 10
//! 0x1000_1000  virtio-mmio #0      virtio-blk, IRQ 1 (only with a disk; unmapped otherwise)
//! 0x1002_0000  sv39 hostio         the guest's stdin, stdout, stderr and log (sv39 only)
//! 0x1003_0000  sv39 fault trace    the kernel's report of each fault's kind (sv39 only)
//! 0x8000_0000  DRAM                firmware (M-mode), or a bare-metal program with `--bios none`
//! 0x8020_0000                      kernel (S-mode) when a firmware is loaded
//! ```
//!
//! The device tree built in [`crate::fdt`] is generated from these constants.

/// Boot ROM base (QEMU `virt` `VIRT_MROM`).
pub const BOOTROM_BASE: u64 = 0x1000;
/// Boot ROM size.
pub const BOOTROM_SIZE: u64 = 0xf000;
/// `sifive_test` finisher base.
pub const FINISHER_BASE: u64 = 0x10_0000;
/// `sifive_test` finisher size.
pub const FINISHER_SIZE: u64 = 0x1000;
/// CLINT base.
pub const CLINT_BASE: u64 = 0x200_0000;
/// CLINT size.
pub const CLINT_SIZE: u64 = 0x1_0000;
/// PLIC base.
pub const PLIC_BASE: u64 = 0xc00_0000;
/// PLIC size (QEMU `virt`: 0x60_0000 for one hart... rounded to cover two contexts).
pub const PLIC_SIZE: u64 = 0x60_0000;
/// UART 16550A base.
pub const UART_BASE: u64 = 0x1000_0000;
/// UART register window size.
pub const UART_SIZE: u64 = 0x100;
/// PLIC interrupt source of the UART.
pub const UART_IRQ: u32 = 10;
/// The first virtio-mmio transport (QEMU `virt` `VIRT_VIRTIO`), holding the virtio-blk
/// disk when one is attached.
pub const VIRTIO0_BASE: u64 = 0x1000_1000;
/// Its register window (QEMU spaces the transports 0x1000 apart).
pub const VIRTIO0_SIZE: u64 = 0x1000;
/// PLIC interrupt source of the first virtio-mmio transport (QEMU `VIRTIO_IRQ`).
pub const VIRTIO0_IRQ: u32 = 1;
/// The sv39 host I/O device (see [`crate::devices::hostio`]). The page is free in QEMU
/// `virt`'s map: above its eight virtio-mmio slots (which end at 0x1000_9000) and below
/// fw-cfg (0x1010_0000), so the same kernel probes it on both and finds it only on sv39.
pub const HOSTIO_BASE: u64 = 0x1002_0000;
/// Host I/O register window size.
pub const HOSTIO_SIZE: u64 = 0x1000;
/// The sv39 fault-trace channel (see [`crate::devices::fault_trace`]), free in QEMU `virt`'s
/// map like the host I/O page.
pub const FAULT_TRACE_BASE: u64 = 0x1003_0000;
/// Fault-trace register window size.
pub const FAULT_TRACE_SIZE: u64 = 0x1000;
/// DRAM base.
pub const DRAM_BASE: u64 = 0x8000_0000;
/// Where a kernel goes when a firmware occupies the start of DRAM (QEMU's 2 MiB alignment).
pub const KERNEL_BASE: u64 = 0x8020_0000;
/// The timebase: `mtime` ticks at 10 MHz.
pub const TIMEBASE_HZ: u64 = 10_000_000;
/// Modelled core clock: 1 GHz, i.e. 100 cycles per `mtime` tick (QEMU `-icount shift=0`
/// runs one instruction per nanosecond, so the two agree while one instruction costs one cycle).
pub const CPU_HZ: u64 = 1_000_000_000;
/// Cycles per `mtime` tick.
pub const CYCLES_PER_TICK: u64 = CPU_HZ / TIMEBASE_HZ;
/// Smallest accepted DRAM size.
pub const MIN_RAM: u64 = 1 << 20;
/// Largest accepted DRAM size (16 GiB; host memory is committed lazily).
pub const MAX_RAM: u64 = 16 << 30;
/// Default DRAM size, as QEMU's `virt`.
pub const DEFAULT_RAM: u64 = 128 << 20;
