//! What the firmware reads from the device tree the boot ROM hands it (the one source of truth
//! for addresses): memory, the timebase, the UART, the CLINT and the finisher.

use fdt::Fdt;

/// The platform, as the device tree describes it. Absent devices are `None`.
pub struct Platform {
    /// First memory region: (base, size in bytes).
    pub memory: Option<(usize, usize)>,
    /// `/cpus/timebase-frequency` (or the first cpu's), in Hz.
    pub timebase_hz: Option<usize>,
    /// The `ns16550a` UART: (base, reg-shift).
    pub uart: Option<(usize, usize)>,
    /// The CLINT (`riscv,clint0` or `sifive,clint0`) base.
    pub clint: Option<usize>,
    /// The `sifive,test0` finisher base.
    pub finisher: Option<usize>,
}

impl Platform {
    /// Reads the platform from the flattened device tree at `address`; `None` if its header is
    /// not a device tree's.
    ///
    /// # Safety
    /// `address` must point at a flattened device tree that stays in place and unchanged for the
    /// duration of the call.
    pub unsafe fn read(address: usize) -> Option<Self> {
        // SAFETY: the caller guarantees a device tree at `address`; `from_ptr` checks its
        // header and reads no further than the size the header gives.
        let fdt = unsafe { Fdt::from_ptr(address as *const u8) }.ok()?;
        let first_reg = |compatible: &[&str]| {
            let node = fdt.find_compatible(compatible)?;
            node.reg()?
                .next()
                .map(|region| region.starting_address as usize)
        };
        let memory = fdt.find_node("/memory").and_then(|node| {
            let region = node.reg()?.next()?;
            Some((region.starting_address as usize, region.size?))
        });
        let timebase_hz = fdt
            .find_node("/cpus")
            .and_then(|cpus| cpus.property("timebase-frequency"))
            .or_else(|| fdt.cpus().next()?.property("timebase-frequency"))
            .and_then(|property| property.as_usize());
        let uart = first_reg(&["ns16550a"]).map(|base| {
            let node = fdt.find_compatible(&["ns16550a"]);
            let shift = node
                .and_then(|node| node.property("reg-shift"))
                .and_then(|property| property.as_usize())
                .unwrap_or(0);
            (base, shift)
        });
        Some(Self {
            memory,
            timebase_hz,
            uart,
            clint: first_reg(&["riscv,clint0", "sifive,clint0"]),
            finisher: first_reg(&["sifive,test0"]),
        })
    }
}
