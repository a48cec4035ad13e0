//! What the firmware reads from the device tree the boot ROM hands it (the one source of truth
//! for addresses): memory, the timebase, the UART, the CLINT and the finisher.

use fdt::Fdt;
#[cfg(test)]
use fdt::FdtError;

/// The platform, as the device tree describes it. Absent devices are `None`.
#[derive(Debug, PartialEq, Eq)]
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
    #[cfg(target_arch = "riscv64")]
    pub unsafe fn read(address: usize) -> Option<Self> {
        // SAFETY: the caller guarantees a device tree at `address`; `from_ptr` checks its
        // header and reads no further than the size the header gives.
        let fdt = unsafe { Fdt::from_ptr(address as *const u8) }.ok()?;
        Some(Self::from_fdt(&fdt))
    }

    /// Reads the platform from the flattened device tree in `blob`; an error if its header is
    /// not a device tree's or `blob` is shorter than the header says.
    #[cfg(test)]
    pub fn from_bytes(blob: &[u8]) -> Result<Self, FdtError> {
        Fdt::new(blob).map(|fdt| Self::from_fdt(&fdt))
    }

    fn from_fdt(fdt: &Fdt) -> Self {
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
        Self {
            memory,
            timebase_hz,
            uart,
            clint: first_reg(&["riscv,clint0", "sifive,clint0"]),
            finisher: first_reg(&["sifive,test0"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU 7.2's `virt` machine with 128 MiB and one hart, made by
    /// `qemu-system-riscv64 -M virt,dumpdtb=virt.dtb -m 128M -nographic` and compacted (QEMU pads
    /// the dump to 1 MiB) by `dtc -I dtb -O dtb -o qemu-virt-128M.dtb virt.dtb`.
    const QEMU_VIRT: &[u8] = include_bytes!("../tests/data/qemu-virt-128M.dtb");

    #[test]
    fn reads_qemu_virt() {
        let platform = Platform::from_bytes(QEMU_VIRT).expect("a valid device tree");
        assert_eq!(
            platform,
            Platform {
                memory: Some((0x8000_0000, 128 << 20)),
                timebase_hz: Some(10_000_000),
                uart: Some((0x1000_0000, 0)),
                clint: Some(0x200_0000),
                finisher: Some(0x10_0000),
            }
        );
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(Platform::from_bytes(&[]).is_err());
        assert!(Platform::from_bytes(&[0; 64]).is_err());
        assert!(Platform::from_bytes(b"not a device tree, just some bytes of text").is_err());
        // Cut short of the size its header gives.
        assert!(Platform::from_bytes(&QEMU_VIRT[..QEMU_VIRT.len() / 2]).is_err());
        assert!(Platform::from_bytes(&QEMU_VIRT[..8]).is_err());
        // The right size, the wrong magic.
        let mut bad_magic = QEMU_VIRT.to_vec();
        bad_magic[0] ^= 0xff;
        assert!(Platform::from_bytes(&bad_magic).is_err());
    }
}
