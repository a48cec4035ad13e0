//! Memory management: frames, page tables, the kernel's own mappings, the heap, and (in
//! [`space`]) each process's address space with its VMAs and page faults.
//!
//! ```text
//! virtual address                         maps                         who
//! 0x0000_0000_0000 .. 0x0040_0000_0000    user space (minus the next)  U, per process
//! RAM (0x8000_0000 .. RAM end)            RAM at VA = PA, 1 GiB pages  kernel, global
//! 0xFFFF_FFC0_0000_0000 + PA              devices (PA 0 .. 1 GiB)      kernel, global
//! ```
//! The kernel runs where the firmware put it, so its image, heap, the frames it manages, the
//! device tree and the initramfs are all reached at their physical addresses; user programs
//! can map anything in the lower half except the 1 GiB windows that hold RAM.

pub mod frame;
pub mod heap;
pub mod pagetable;
pub mod phys;
pub mod space;
pub mod swap;
pub mod uaccess;

use crate::arch::cpu;
use crate::sync::KernelCell;
use pagetable::{PTE_A, PTE_D, PTE_G, PTE_R, PTE_V, PTE_W, PTE_X, PageTable, make_pte};
use phys::PAGE_SIZE;

/// Where the device window starts in every address space.
pub const MMIO_BASE: u64 = 0xFFFF_FFC0_0000_0000;
/// The root-table index of the device window.
const MMIO_ROOT_INDEX: usize = 256;

/// The kernel's page table and the facts every address space copies from it.
struct KernelSpace {
    table: PageTable,
    /// Root indices (1 GiB regions) holding RAM: user space must avoid them.
    ram_roots: core::ops::Range<usize>,
    asid_bits: u32,
}

static KERNEL: KernelCell<Option<KernelSpace>> = KernelCell::new(None);

unsafe extern "C" {
    static __kernel_end: u8;
}

/// The kernel heap's size, bytes: room for process tables, VMAs and pipe buffers.
const HEAP_SIZE: u64 = 16 << 20;

/// Sets up the heap, the frame allocator and the kernel page table, then turns paging on.
///
/// The heap comes first because the rest allocates; it sits right after the kernel image.
pub fn init(ram_start: u64, ram_end: u64, reserved: &[(u64, u64)]) {
    phys::init(ram_start, ram_end);
    // Only the symbol's address is taken.
    let kernel_end = &raw const __kernel_end as u64;
    // The frame allocator's tables (counts, flags, reverse map, the replacement policy's
    // lists) live on the heap too.
    let tables = (ram_end - ram_start) / PAGE_SIZE * frame::HEAP_BYTES_PER_FRAME;
    let heap_size = (HEAP_SIZE + tables).min((ram_end - kernel_end) / 4) & !(PAGE_SIZE - 1);
    // SAFETY: [kernel_end, kernel_end + heap_size) is RAM that nothing else uses: frames are
    // handed out only above it, and the firmware reserved only memory below the kernel.
    unsafe { heap::init(kernel_end, heap_size) };
    frame::init(kernel_end + heap_size, ram_end & !(PAGE_SIZE - 1), reserved);

    let table = PageTable::new().expect("no frame for the kernel page table");
    let gig = 1u64 << 30;
    let first = (ram_start / gig) as usize;
    let last = ram_end.div_ceil(gig) as usize;
    for index in first..last {
        let pa = index as u64 * gig;
        table.set_root_entry(
            index,
            make_pte(pa, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D),
        );
    }
    table.set_root_entry(
        MMIO_ROOT_INDEX,
        make_pte(0, PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D),
    );
    // SAFETY: the new table maps all of RAM (the kernel included) at VA = PA, so execution
    // continues; the fence drops whatever the firmware's use of the TLB left behind.
    unsafe { cpu::write_satp(table.root, 0) };
    cpu::fence_all();
    // SAFETY: paging is on with `table`, whose kernel mappings are global.
    let asid_bits = unsafe { cpu::probe_asid_bits(table.root) };
    KERNEL.with(|k| {
        *k = Some(KernelSpace {
            table,
            ram_roots: first..last,
            asid_bits,
        })
    });
}

/// Copies the kernel's global mappings into a new process root table.
pub fn install_kernel_mappings(table: &PageTable) {
    KERNEL.with(|k| {
        let k = k.as_ref().expect("mm::init first");
        for index in k.ram_roots.clone().chain([MMIO_ROOT_INDEX]) {
            table.set_root_entry(index, k.table.root_entry(index));
        }
    });
}

/// The root indices user mappings may use (the lower half minus RAM's windows).
pub fn user_root_indices() -> alloc::vec::Vec<usize> {
    KERNEL.with(|k| {
        let k = k.as_ref().expect("mm::init first");
        (0..256).filter(|i| !k.ram_roots.contains(i)).collect()
    })
}

/// How many ASID bits the hart has (0: none, every switch flushes).
pub fn asid_bits() -> u32 {
    KERNEL.with(|k| k.as_ref().map_or(0, |k| k.asid_bits))
}

/// Switches to the kernel's own table (when the current process's is about to be freed).
pub fn switch_to_kernel() {
    let root = KERNEL.with(|k| k.as_ref().expect("mm::init first").table.root);
    // SAFETY: the kernel table maps the kernel.
    unsafe { cpu::write_satp(root, 0) };
}

/// The virtual address of device register `pa` in the device window.
pub fn mmio(pa: u64) -> u64 {
    MMIO_BASE + pa
}
