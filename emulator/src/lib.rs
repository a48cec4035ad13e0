//! sv39: an emulated RISC-V machine (RV64GC, M/S/U, QEMU `virt` devices) for studying
//! virtual memory.
//!
//! The library holds all behaviour; the `sv39` binary is a thin command-line front end.
//! The main pieces:
//! - [`hart`]: one RV64GC hart (decode, execute, CSRs, traps);
//! - [`bus`]: the physical address space (RAM, boot ROM, MMIO dispatch);
//! - [`devices`]: the QEMU `virt` devices (CLINT, PLIC, UART, finisher, HTIF) and sv39's
//!   host I/O device;
//! - [`machine`]: hart + bus + decoded-block cache, and the run loop;
//! - [`program`] and [`initramfs`]: what `sv39 run PROGRAM` gives the kernel.

pub mod bench;
pub mod boot;
pub mod bus;
pub mod capture;
pub mod crosscheck;
pub mod devices;
pub mod fdt;
pub mod hart;
pub mod images;
pub mod initramfs;
pub mod layout;
pub mod loader;
pub mod machine;
pub mod mmu;
pub mod observe;
pub mod program;
pub mod ram;
pub mod timing;
pub mod trace;
