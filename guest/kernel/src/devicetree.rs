//! What the kernel learns from the device tree the firmware hands over: RAM, the command
//! line, the initramfs, the first program, the timebase, and sv39's host I/O and fault-trace
//! channels. The tree is the one source of truth for the machine's layout (ARCHITECTURE.md).

use alloc::vec::Vec;

use fdt::Fdt;

/// A contiguous range of physical memory.
#[derive(Debug, Clone, Copy)]
pub struct MemoryRegion {
    /// Physical address of the first byte.
    pub base: usize,
    /// Length in bytes.
    pub size: usize,
}

/// The facts the kernel reads from the device tree.
#[derive(Debug, Clone)]
pub struct BootInfo<'dt> {
    /// `/chosen/bootargs`, absent when missing or empty.
    pub bootargs: Option<&'dt str>,
    /// `/chosen/sv39,init-argv`: the first program and its arguments.
    pub init_argv: Vec<&'dt [u8]>,
    /// `/chosen/sv39,init-envp`: its environment.
    pub init_envp: Vec<&'dt [u8]>,
    /// `/cpus/timebase-frequency` (10 MHz if absent, as on QEMU's virt).
    pub timebase: u64,
    /// The physical address of the `sv39,hostio` device, when there is one.
    pub hostio: Option<u64>,
    /// The physical address of the `sv39,fault-trace` device, when there is one.
    pub fault_trace: Option<u64>,
    /// The PLIC's physical address.
    pub plic: Option<u64>,
    /// Every virtio-mmio transport: physical address and interrupt source.
    pub virtio_mmio: Vec<(u64, u32)>,
}

/// Opens the flattened device tree at physical address `address`.
///
/// # Safety
///
/// `address` must point to a valid device tree blob that stays readable and unmodified for
/// the rest of the kernel's life, at an identity-mapped physical address.
pub unsafe fn open(address: usize) -> Result<Fdt<'static>, fdt::FdtError> {
    // SAFETY: the caller vouches that a device tree lives at `address` for 'static; `from_ptr`
    // reads its header for the total size and checks the magic before building the slice.
    unsafe { Fdt::from_ptr(address as *const u8) }
}

/// Splits a device-tree string list into its strings.
fn string_list(bytes: &[u8]) -> Vec<&[u8]> {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split(|&b| b == 0).collect()
}

/// The raw value of property `name` of `/chosen`.
fn chosen_property<'dt>(tree: &Fdt<'dt>, name: &str) -> Option<&'dt [u8]> {
    tree.find_node("/chosen")?.property(name).map(|p| p.value)
}

/// Reads a 32- or 64-bit big-endian cell value.
fn cell_value(bytes: &[u8]) -> Option<u64> {
    match bytes.len() {
        4 => Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
        _ => None,
    }
}

/// The first `/memory` region and the initramfs range: what memory setup needs, read
/// without allocating (the heap does not exist yet).
pub fn memory_and_initrd(tree: &Fdt<'_>) -> (Option<MemoryRegion>, Option<(u64, u64)>) {
    let memory = tree
        .find_node("/memory")
        .and_then(|node| node.reg())
        .and_then(|mut regions| regions.next())
        .map(|region| MemoryRegion {
            base: region.starting_address as usize,
            size: region.size.unwrap_or(0),
        });
    let prop = |name: &str| chosen_property(tree, name);
    let initrd = match (
        prop("linux,initrd-start").and_then(cell_value),
        prop("linux,initrd-end").and_then(cell_value),
    ) {
        (Some(start), Some(end)) if end > start => Some((start, end)),
        _ => None,
    };
    (memory, initrd)
}

/// Reads the boot facts from `tree` (allocates: call after the heap is up).
///
/// Uses `find_node` rather than the crate's `memory()` / `chosen()`, which panic when the
/// node is missing, and reads properties raw so an empty value is not an error.
pub fn boot_info<'dt>(tree: &Fdt<'dt>) -> BootInfo<'dt> {
    let prop = |name: &str| chosen_property(tree, name);
    let bootargs = prop("bootargs")
        .and_then(|value| core::str::from_utf8(value).ok())
        .map(|text| text.trim_end_matches('\0'))
        .filter(|text| !text.is_empty());
    let timebase = tree
        .find_node("/cpus")
        .and_then(|c| c.property("timebase-frequency"))
        .and_then(|p| cell_value(p.value))
        .unwrap_or(10_000_000);
    let compatible = |name: &'static str| {
        tree.all_nodes()
            .filter(move |n| n.compatible().is_some_and(|c| c.all().any(|s| s == name)))
    };
    let address = |n: &fdt::node::FdtNode<'_, '_>| {
        n.reg()
            .and_then(|mut r| r.next())
            .map(|r| r.starting_address as u64)
    };
    let hostio = compatible("sv39,hostio").find_map(|n| address(&n));
    let fault_trace = compatible("sv39,fault-trace").find_map(|n| address(&n));
    let plic = compatible("riscv,plic0")
        .chain(compatible("sifive,plic-1.0.0"))
        .find_map(|n| address(&n));
    let mut virtio_mmio: Vec<(u64, u32)> = compatible("virtio,mmio")
        .filter_map(|n| {
            let irq = n
                .property("interrupts")
                .and_then(|p| cell_value(p.value.get(..4)?))?;
            Some((address(&n)?, irq as u32))
        })
        .collect();
    virtio_mmio.sort_unstable();
    BootInfo {
        bootargs,
        init_argv: prop("sv39,init-argv").map(string_list).unwrap_or_default(),
        init_envp: prop("sv39,init-envp").map(string_list).unwrap_or_default(),
        timebase,
        hostio,
        fault_trace,
        plic,
        virtio_mmio,
    }
}
