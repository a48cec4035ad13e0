//! What the kernel learns from the device tree the firmware hands over: RAM and the command
//! line. The tree is the one source of truth for the machine's layout (ARCHITECTURE.md).

use fdt::Fdt;

/// A contiguous range of physical memory.
#[derive(Debug, Clone, Copy)]
pub struct MemoryRegion {
    /// Physical address of the first byte.
    pub base: usize,
    /// Length in bytes.
    pub size: usize,
}

/// The facts this stage reads from the device tree.
#[derive(Debug, Clone, Copy)]
pub struct BootInfo<'dt> {
    /// The first region of the `/memory` node's `reg`, if there is one.
    pub memory: Option<MemoryRegion>,
    /// `/chosen/bootargs`, absent when missing or empty.
    pub bootargs: Option<&'dt str>,
}

/// Opens the flattened device tree at physical address `address`.
///
/// # Safety
///
/// `address` must point to a valid device tree blob that stays readable and unmodified for
/// the rest of the kernel's life, at an identity-mapped physical address (paging off).
pub unsafe fn open(address: usize) -> Result<Fdt<'static>, fdt::FdtError> {
    // SAFETY: the caller vouches that a device tree lives at `address` for 'static; `from_ptr`
    // reads its header for the total size and checks the magic before building the slice.
    unsafe { Fdt::from_ptr(address as *const u8) }
}

/// Reads RAM and the command line from `tree`.
///
/// Uses `find_node` rather than the crate's `memory()` / `chosen()`, which panic when the
/// node is missing, and reads `bootargs` as a property so an empty value is not an error.
pub fn boot_info<'dt>(tree: &Fdt<'dt>) -> BootInfo<'dt> {
    let memory = tree
        .find_node("/memory")
        .and_then(|node| node.reg())
        .and_then(|mut regions| regions.next())
        .map(|region| MemoryRegion {
            base: region.starting_address as usize,
            size: region.size.unwrap_or(0),
        });
    let bootargs = tree
        .find_node("/chosen")
        .and_then(|node| node.property("bootargs"))
        .and_then(|property| property.as_str())
        .filter(|text| !text.is_empty());
    BootInfo { memory, bootargs }
}
