//! The reset-vector ROM at `0x1000`, byte for byte the one QEMU 7.2 `virt` builds in
//! `hw/riscv/boot.c` (`riscv_setup_rom_reset_vec`) for RV64.
//!
//! The hart resets to `0x1000` and runs six instructions that hand the next stage what the
//! RISC-V boot convention (and OpenSBI's `fw_dynamic` interface, `include/sbi/fw_dynamic.h`)
//! expects: `a0` = hart id, `a1` = device tree address, `a2` = address of a
//! `struct fw_dynamic_info`. Observed in QEMU 7.2 with `xp /22wx 0x1000`:
//!
//! ```text
//! 0x1000  00000297  auipc t0, 0
//! 0x1004  02828613  addi  a2, t0, 40      # &fw_dynamic_info
//! 0x1008  f1402573  csrr  a0, mhartid
//! 0x100c  0202b583  ld    a1, 32(t0)      # device tree
//! 0x1010  0182b283  ld    t0, 24(t0)      # start address
//! 0x1014  00028067  jr    t0
//! 0x1018  start address (u64), 0x1020  device tree address (u64)
//! 0x1028  fw_dynamic_info: magic 0x4942534f ("OSBI"), version 2, next_addr,
//!         next_mode 1 (S), options 0, boot_hart 0   (six u64s)
//! ```
//!
//! `next_addr` is where a `fw_dynamic` firmware jumps next: QEMU stores the lowest load
//! address of the `-kernel` image there, or 0 without a kernel ([`BootRom::with_next_addr`]).
//! The rest of the 60 KiB ROM reads as zero, as QEMU's does.

use crate::bus::{Device, DeviceError};
use crate::layout::BOOTROM_SIZE;

/// The six reset-vector instructions, as QEMU 7.2 emits them.
const RESET_VEC: [u32; 6] = [
    0x0000_0297, // auipc t0, 0
    0x0282_8613, // addi a2, t0, 40
    0xf140_2573, // csrr a0, mhartid
    0x0202_b583, // ld a1, 32(t0)
    0x0182_b283, // ld t0, 24(t0)
    0x0002_8067, // jr t0
];
/// `FW_DYNAMIC_INFO_MAGIC_VALUE` ("OSBI" little-endian).
const FW_DYNAMIC_MAGIC: u64 = 0x4942_534f;
/// `FW_DYNAMIC_INFO_VERSION_2`.
const FW_DYNAMIC_VERSION: u64 = 2;
/// `FW_DYNAMIC_INFO_NEXT_MODE_S`: the next stage runs in S-mode.
const NEXT_MODE_S: u64 = 1;
/// Offset of `fw_dynamic_info` in the ROM (the `addi a2, t0, 40` above).
pub const FW_DYNAMIC_INFO_OFFSET: usize = 40;
/// Bytes of the ROM that are not zero: the vector, two addresses and `fw_dynamic_info`.
pub const CONTENT_LEN: usize = FW_DYNAMIC_INFO_OFFSET + 6 * 8;

/// The boot ROM image.
pub struct BootRom {
    image: Vec<u8>,
}

impl BootRom {
    /// Builds the ROM that jumps to `start_addr` with `a1 = fdt_addr`, with
    /// `fw_dynamic_info.next_addr = 0` (QEMU's value when no `-kernel` is given).
    pub fn new(start_addr: u64, fdt_addr: u64) -> Self {
        Self::with_next_addr(start_addr, fdt_addr, 0)
    }

    /// Like [`BootRom::new`], with `fw_dynamic_info.next_addr = next_addr`: QEMU puts the
    /// lowest load address of the `-kernel` image there, which a `fw_dynamic` firmware
    /// (OpenSBI) jumps to in S-mode.
    pub fn with_next_addr(start_addr: u64, fdt_addr: u64, next_addr: u64) -> Self {
        let mut image = vec![0u8; BOOTROM_SIZE as usize];
        let words = RESET_VEC.iter().flat_map(|w| w.to_le_bytes());
        let dwords = [
            start_addr,
            fdt_addr,
            FW_DYNAMIC_MAGIC,
            FW_DYNAMIC_VERSION,
            next_addr,
            NEXT_MODE_S,
            0, // options
            0, // boot_hart
        ]
        .into_iter()
        .flat_map(u64::to_le_bytes);
        for (dst, src) in image.iter_mut().zip(words.chain(dwords)) {
            *dst = src;
        }
        Self { image }
    }

    /// The whole ROM (`BOOTROM_SIZE` bytes), for instruction fetch.
    pub fn bytes(&self) -> &[u8] {
        &self.image
    }
}

impl Device for BootRom {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(DeviceError::BadSize { offset, size });
        }
        // ROM is plain memory to QEMU: any size at any offset inside it reads.
        let start = usize::try_from(offset).map_err(|_| DeviceError::Unmapped(offset))?;
        let bytes = start
            .checked_add(usize::from(size))
            .and_then(|end| self.image.get(start..end))
            .ok_or(DeviceError::Unmapped(offset))?;
        let mut buf = [0u8; 8];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(u64::from_le_bytes(buf))
    }

    /// Refused. (QEMU 7.2 silently drops stores to its ROM; the bus does not route ROM
    /// stores here at all, so the hart sees an access fault either way.)
    fn write(&mut self, offset: u64, _size: u8, _value: u64) -> Result<(), DeviceError> {
        Err(DeviceError::Unmapped(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 22 words at 0x1000 that QEMU 7.2 shows with `xp /22wx 0x1000` for
    /// `-M virt -m 128M -bios none -kernel k.elf` (k.elf's lowest segment at 0x801ff000).
    const QEMU_WORDS: [u32; 22] = [
        0x00000297, 0x02828613, 0xf1402573, 0x0202b583, 0x0182b283, 0x00028067, 0x80000000,
        0x00000000, 0x87e00000, 0x00000000, 0x4942534f, 0x00000000, 0x00000002, 0x00000000,
        0x801ff000, 0x00000000, 0x00000001, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
        0x00000000,
    ];

    fn words(rom: &BootRom, n: usize) -> Vec<u32> {
        rom.bytes()[..n * 4]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    #[test]
    fn matches_qemu_words() {
        let rom = BootRom::with_next_addr(0x8000_0000, 0x87e0_0000, 0x801f_f000);
        assert_eq!(words(&rom, 22), QEMU_WORDS);
    }

    #[test]
    fn new_has_no_next_stage() {
        // QEMU with `-bios <elf>` and no `-kernel`: next_addr is 0.
        let rom = BootRom::new(0x8000_0000, 0x87e0_0000);
        let mut expected = QEMU_WORDS;
        expected[14] = 0;
        assert_eq!(words(&rom, 22), expected);
        assert_eq!(rom.bytes().len() as u64, BOOTROM_SIZE);
        assert!(rom.bytes()[CONTENT_LEN..].iter().all(|&b| b == 0));
    }

    #[test]
    fn reads_any_size_and_refuses_writes() {
        let mut rom = BootRom::new(0x8000_0000, 0x87e0_0000);
        assert_eq!(rom.read(0, 4), Ok(0x297));
        assert_eq!(rom.read(1, 1), Ok(0x02));
        assert_eq!(rom.read(0, 8), Ok(0x0282_8613_0000_0297));
        assert_eq!(rom.read(0x18, 8), Ok(0x8000_0000));
        assert_eq!(rom.read(0x20, 8), Ok(0x87e0_0000));
        assert_eq!(rom.read(0xeffc, 4), Ok(0));
        assert!(rom.read(0xeffe, 4).is_err());
        assert!(rom.read(u64::MAX, 8).is_err());
        assert!(rom.read(0, 3).is_err());
        assert!(rom.write(0, 4, 0).is_err());
    }
}
