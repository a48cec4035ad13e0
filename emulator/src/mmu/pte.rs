//! Sv39 page-table entries (privileged spec 4.4.1, "Addressing and Memory Protection").
//!
//! ```text
//!  63  62:61  60:54     53:28    27:19    18:10   9:8  7 6 5 4 3 2 1 0
//!  N   PBMT   reserved  PPN[2]   PPN[1]   PPN[0]  RSW  D A G U X W R V
//! ```
//! sv39 implements neither Svnapot nor Svpbmt, so bits 63:54 must be zero.

/// Valid.
pub const V: u64 = 1 << 0;
/// Readable.
pub const R: u64 = 1 << 1;
/// Writable.
pub const W: u64 = 1 << 2;
/// Executable.
pub const X: u64 = 1 << 3;
/// Accessible to U-mode.
pub const U: u64 = 1 << 4;
/// Global mapping (present in every address space).
pub const G: u64 = 1 << 5;
/// Accessed.
pub const A: u64 = 1 << 6;
/// Dirty.
pub const D: u64 = 1 << 7;
/// The two bits reserved for supervisor software.
pub const RSW: u64 = 3 << 8;
/// Bits 63:54: N, PBMT and reserved; must be zero here.
pub const RESERVED_HIGH: u64 = 0x3ff << 54;
/// Page size in bytes.
pub const PAGE_SIZE: u64 = 4096;
/// Number of page-table levels.
pub const LEVELS: u8 = 3;

/// The physical page number of a PTE.
#[inline(always)]
pub fn ppn(pte: u64) -> u64 {
    (pte >> 10) & ((1 << 44) - 1)
}

/// Whether a valid PTE is a leaf (R or X set); a non-leaf points to the next level.
#[inline(always)]
pub fn is_leaf(pte: u64) -> bool {
    pte & (R | X) != 0
}

/// log2 of the size of a page mapped at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB).
#[inline(always)]
pub fn page_shift(level: u8) -> u32 {
    12 + 9 * level as u32
}

/// The VPN field `level` of a virtual address.
#[inline(always)]
pub fn vpn(vaddr: u64, level: u8) -> u64 {
    (vaddr >> page_shift(level)) & 0x1ff
}

/// Whether `vaddr` is canonical for Sv39: bits 63:39 all equal bit 38.
#[inline(always)]
pub fn is_canonical(vaddr: u64) -> bool {
    ((vaddr as i64) << 25 >> 25) as u64 == vaddr
}

/// A PTE in the compact notation used by reports: `0x...[DAGUXWRV]`.
pub fn describe(pte: u64) -> String {
    let flags: String = ["V", "R", "W", "X", "U", "G", "A", "D"]
        .iter()
        .enumerate()
        .filter(|(i, _)| pte & (1 << i) != 0)
        .map(|(_, f)| *f)
        .collect();
    format!("{pte:#018x} ppn={:#x} {flags}", ppn(pte))
}
