//! Guest DRAM: one anonymous host mapping, committed by the host kernel only as the guest
//! touches it, plus one flag byte per 4 KiB page for the store slow path.
//!
//! The flag bytes make the store fast path a single extra load: a page that holds decoded
//! instructions (so a store must invalidate them) or a watched word (HTIF `tohost`) has a
//! non-zero flag, and only then does a store take the slow path.

use memmap2::MmapMut;

/// Page-flag bit: decoded instructions were cached from this page.
pub const PAGE_CODE: u8 = 1;
/// Page-flag bit: a device watches a word in this page (HTIF `tohost`).
pub const PAGE_WATCHED: u8 = 2;

/// Guest RAM at a physical base address.
pub struct Ram {
    base: u64,
    bytes: MmapMut,
    page_flags: Vec<u8>,
}

/// RAM could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RamError {
    /// The host refused the mapping.
    #[error("cannot reserve {size} bytes of guest RAM: {io}")]
    Map {
        /// Requested size in bytes.
        size: u64,
        /// The host's error.
        io: std::io::Error,
    },
}

impl Ram {
    /// Reserves `size` bytes of zeroed guest RAM at physical address `base`.
    pub fn new(base: u64, size: u64) -> Result<Self, RamError> {
        let len = usize::try_from(size).map_err(|_| RamError::Map {
            size,
            io: std::io::Error::other("size does not fit the host's address space"),
        })?;
        let bytes = MmapMut::map_anon(len).map_err(|io| RamError::Map { size, io })?;
        let pages = len.div_ceil(4096);
        Ok(Self {
            base,
            bytes,
            page_flags: vec![0; pages],
        })
    }

    /// Physical base address.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Offset of `[paddr, paddr + len)` inside RAM, if the whole range is RAM.
    #[inline(always)]
    pub fn offset(&self, paddr: u64, len: u64) -> Option<usize> {
        let off = paddr.wrapping_sub(self.base);
        if off < self.bytes.len() as u64 && len <= self.bytes.len() as u64 - off {
            Some(off as usize)
        } else {
            None
        }
    }

    /// Whether `paddr` lies in RAM.
    pub fn contains(&self, paddr: u64) -> bool {
        self.offset(paddr, 1).is_some()
    }

    /// Reads `N` little-endian bytes at RAM offset `off` (caller checked the range).
    #[inline(always)]
    pub fn read<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[off..off + N]);
        out
    }

    /// Writes `N` bytes at RAM offset `off` (caller checked the range).
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, off: usize, data: [u8; N]) {
        self.bytes[off..off + N].copy_from_slice(&data);
    }

    /// The flag byte of the page holding RAM offset `off`.
    #[inline(always)]
    pub fn page_flags(&self, off: usize) -> u8 {
        self.page_flags[off >> 12]
    }

    /// Sets flag bits on the page holding RAM offset `off`.
    pub fn set_page_flags(&mut self, off: usize, flags: u8) {
        self.page_flags[off >> 12] |= flags;
    }

    /// Clears `flags` on every page.
    pub fn clear_page_flags(&mut self, flags: u8) {
        for f in &mut self.page_flags {
            *f &= !flags;
        }
    }

    /// The bytes of RAM from offset `off` to the end.
    pub fn slice_from(&self, off: usize) -> &[u8] {
        &self.bytes[off..]
    }

    /// Copies `data` into RAM at physical address `paddr`; `false` if it does not fit.
    pub fn load(&mut self, paddr: u64, data: &[u8]) -> bool {
        match self.offset(paddr, data.len() as u64) {
            Some(off) => {
                self.bytes[off..off + data.len()].copy_from_slice(data);
                true
            }
            None => data.is_empty() && self.contains(paddr),
        }
    }

    /// Copies RAM at `paddr` into `out`; `false` if the range is not RAM.
    pub fn dump(&self, paddr: u64, out: &mut [u8]) -> bool {
        match self.offset(paddr, out.len() as u64) {
            Some(off) => {
                out.copy_from_slice(&self.bytes[off..off + out.len()]);
                true
            }
            None => false,
        }
    }
}
