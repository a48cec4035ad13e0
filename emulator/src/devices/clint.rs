//! The core-local interruptor at `0x0200_0000`, laid out as the RISC-V ACLINT specification
//! (v1.0, the MTIMER and MSWI chapters) and QEMU 7.2 `hw/intc/riscv_aclint.c` place it
//! on `virt` for one hart:
//!
//! ```text
//! 0x0000  msip      (MSWI, 4-byte accesses only; bit 0 is hart 0's MSIP)
//! 0x0004..0x3fff    other harts' msip: read as zero, writes ignored
//! 0x4000  mtimecmp  (MTIMER, 8-byte or 4-byte halves)
//! 0xbff8  mtime     (8-byte or 4-byte halves)
//! 0x4008..0xbff7    other harts' mtimecmp: read as zero, writes ignored
//! 0xc000..0xffff    nothing (QEMU faults)
//! ```
//!
//! `mtime` is not a host clock: it is derived from the machine's cycle counter,
//! `mtime = cycle / CYCLES_PER_TICK + offset`, so a run is reproducible and the guest's
//! notion of time agrees with the cost model. A guest write to `mtime` moves the offset.
//!
//! Reset state follows QEMU rather than the specification's "unknown": `mtime` = 0 and
//! `mtimecmp` = 0 (`riscv_aclint_mtimer_create` zeroes it), so MTIP is pending from the first
//! cycle; QEMU 7.2 shows `mip = 0x80` at the reset vector. Firmware sets `mtimecmp` before
//! enabling `mie.MTIE`, so this is harmless, and it keeps `mip` identical in lockstep.

use super::check_access;
use crate::bus::{Device, DeviceError};
use crate::layout::CYCLES_PER_TICK;

const MSIP: u64 = 0x0;
const MSWI_END: u64 = 0x4000;
const MTIMECMP: u64 = 0x4000;
const MTIME: u64 = 0xbff8;
const MTIMER_END: u64 = 0xc000;
const LOW_HALF: u64 = 0xffff_ffff;

/// The CLINT of hart 0.
pub struct Clint {
    msip: bool,
    mtimecmp: u64,
    /// `mtime` was `base_mtime` at timer tick `base_tick` (tick = cycle / CYCLES_PER_TICK).
    base_mtime: u64,
    base_tick: u64,
    /// The machine's cycle at the last [`Clint::set_cycle`].
    cycle: u64,
}

impl Default for Clint {
    fn default() -> Self {
        Self::new()
    }
}

impl Clint {
    /// A CLINT in QEMU's reset state: `msip` = 0, `mtime` = 0, `mtimecmp` = 0.
    pub fn new() -> Self {
        Self {
            msip: false,
            mtimecmp: 0,
            base_mtime: 0,
            base_tick: 0,
            cycle: 0,
        }
    }

    /// Tells the CLINT the machine's current cycle; register accesses and [`Clint::mtip`]
    /// use it.
    pub fn set_cycle(&mut self, cycle: u64) {
        self.cycle = cycle;
    }

    /// Hart 0's machine software interrupt (`mip.MSIP`).
    pub fn msip(&self) -> bool {
        self.msip
    }

    /// Hart 0's machine timer interrupt (`mip.MTIP`): `mtime >= mtimecmp` at the current cycle.
    pub fn mtip(&self) -> bool {
        self.mtime_at(self.cycle) >= self.mtimecmp
    }

    /// The value of `mtime` (and of the `time` CSR) at `cycle`.
    pub fn mtime_at(&self, cycle: u64) -> u64 {
        // Wrapping, like QEMU's `time_delta`: a guest may set mtime anywhere.
        let tick = cycle / CYCLES_PER_TICK;
        self.base_mtime
            .wrapping_add(tick.wrapping_sub(self.base_tick))
    }

    /// The first cycle at which [`Clint::mtip`] rises, or `u64::MAX` if it never will.
    ///
    /// When MTIP is already pending at the current cycle this is `u64::MAX` as well: the line
    /// stays high until the guest writes `mtimecmp` or `mtime` (MMIO the run loop sees), so
    /// there is no edge to wait for, and a firmware that leaves MTIP pending but masked (as
    /// OpenSBI does while S-mode handles the timer) costs the run loop nothing.
    pub fn next_timer_cycle(&self) -> u64 {
        if self.mtip() {
            return u64::MAX;
        }
        // mtime < mtimecmp now; mtime reaches mtimecmp `mtimecmp - base_mtime` ticks after
        // base_tick (the difference cannot wrap: base_mtime <= mtime now < mtimecmp unless
        // mtime already wrapped, in which case the next edge is past u64::MAX cycles anyway).
        let Some(ticks) = self.mtimecmp.checked_sub(self.base_mtime) else {
            return u64::MAX;
        };
        self.base_tick
            .checked_add(ticks)
            .and_then(|tick| tick.checked_mul(CYCLES_PER_TICK))
            .unwrap_or(u64::MAX)
    }

    fn set_mtime(&mut self, value: u64) {
        self.base_mtime = value;
        self.base_tick = self.cycle / CYCLES_PER_TICK;
    }

    fn read_mswi(&self, offset: u64) -> u64 {
        if offset == MSIP {
            u64::from(self.msip)
        } else {
            0
        }
    }

    fn read_mtimer(&self, offset: u64, size: u8) -> u64 {
        let (value, at) = match offset & !7 {
            MTIMECMP => (self.mtimecmp, offset - MTIMECMP),
            MTIME => (self.mtime_at(self.cycle), offset - MTIME),
            _ => return 0,
        };
        match (at, size) {
            (0, 8) => value,
            (0, _) => value & LOW_HALF,
            _ => value >> 32,
        }
    }

    fn write_mtimer(&mut self, offset: u64, size: u8, value: u64) {
        let (old, at) = match offset & !7 {
            MTIMECMP => (self.mtimecmp, offset - MTIMECMP),
            MTIME => (self.mtime_at(self.cycle), offset - MTIME),
            _ => {
                log::debug!("clint: write to reserved offset {offset:#x} ignored");
                return;
            }
        };
        let new = match (at, size) {
            (0, 8) => value,
            (0, _) => (old & !LOW_HALF) | (value & LOW_HALF),
            _ => (value << 32) | (old & LOW_HALF),
        };
        if offset & !7 == MTIMECMP {
            self.mtimecmp = new;
        } else {
            self.set_mtime(new);
        }
    }
}

impl Device for Clint {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        if offset < MSWI_END {
            check_access(offset, size, &[4])?;
            Ok(self.read_mswi(offset))
        } else if offset < MTIMER_END {
            check_access(offset, size, &[4, 8])?;
            Ok(self.read_mtimer(offset, size))
        } else {
            Err(DeviceError::Unmapped(offset))
        }
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        if offset < MSWI_END {
            check_access(offset, size, &[4])?;
            if offset == MSIP {
                self.msip = value & 1 != 0;
            }
            Ok(())
        } else if offset < MTIMER_END {
            check_access(offset, size, &[4, 8])?;
            self.write_mtimer(offset, size, value);
            Ok(())
        } else {
            Err(DeviceError::Unmapped(offset))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = CYCLES_PER_TICK;

    #[test]
    fn reset_state_matches_qemu() {
        let mut c = Clint::new();
        assert!(!c.msip());
        assert!(
            c.mtip(),
            "mtimecmp resets to 0, so MTIP is pending at reset"
        );
        assert_eq!(c.read(MTIMECMP, 8), Ok(0));
        assert_eq!(c.read(MTIME, 8), Ok(0));
        assert_eq!(c.next_timer_cycle(), u64::MAX);
    }

    #[test]
    fn mtime_follows_cycles() {
        let mut c = Clint::new();
        c.set_cycle(10 * T + T - 1);
        assert_eq!(c.read(MTIME, 8), Ok(10));
        assert_eq!(c.mtime_at(1000 * T), 1000);
        assert_eq!(c.read(MTIME, 4), Ok(10));
        assert_eq!(c.read(MTIME + 4, 4), Ok(0));
    }

    #[test]
    fn timer_fires_at_mtimecmp() {
        let mut c = Clint::new();
        c.write(MTIMECMP, 8, 50).unwrap();
        assert!(!c.mtip());
        assert_eq!(c.next_timer_cycle(), 50 * T);
        c.set_cycle(50 * T - 1);
        assert!(!c.mtip());
        c.set_cycle(50 * T);
        assert!(c.mtip());
        assert_eq!(c.next_timer_cycle(), u64::MAX);
        c.write(MTIMECMP, 8, u64::MAX).unwrap();
        assert!(!c.mtip());
        assert_eq!(c.next_timer_cycle(), u64::MAX, "mtimecmp = MAX never fires");
    }

    #[test]
    fn mtimecmp_halves() {
        let mut c = Clint::new();
        c.write(MTIMECMP, 8, u64::MAX).unwrap();
        c.write(MTIMECMP, 4, 0x1234).unwrap();
        assert_eq!(c.read(MTIMECMP, 8), Ok(0xffff_ffff_0000_1234));
        c.write(MTIMECMP + 4, 4, 0xabc).unwrap();
        assert_eq!(c.read(MTIMECMP, 8), Ok(0xabc_0000_1234));
        assert_eq!(c.read(MTIMECMP + 4, 4), Ok(0xabc));
        assert_eq!(c.read(MTIMECMP, 4), Ok(0x1234));
    }

    #[test]
    fn mtime_writes_move_the_offset() {
        let mut c = Clint::new();
        c.set_cycle(100 * T);
        c.write(MTIME, 8, 0x1_2345_6789).unwrap();
        assert_eq!(c.read(MTIME, 8), Ok(0x1_2345_6789));
        c.set_cycle(105 * T);
        assert_eq!(c.read(MTIME, 8), Ok(0x1_2345_678e));
        assert_eq!(c.mtime_at(110 * T), 0x1_2345_6793);
        c.write(MTIME + 4, 4, 7).unwrap();
        assert_eq!(c.read(MTIME + 4, 4), Ok(7));
        assert_eq!(c.read(MTIME, 4), Ok(0x2345_678e));
        c.write(MTIME, 4, 0).unwrap();
        assert_eq!(c.read(MTIME, 8), Ok(0x7_0000_0000));
        // Timer arithmetic uses the moved base: fire 20 ticks from now.
        c.write(MTIMECMP, 8, 0x7_0000_0014).unwrap();
        assert_eq!(c.next_timer_cycle(), 125 * T);
        // Setting mtime backwards makes an expired compare pending again later.
        c.write(MTIME, 8, 0x7_0000_0020).unwrap();
        assert!(c.mtip());
        c.write(MTIME, 8, 0).unwrap();
        assert!(!c.mtip());
        assert_eq!(c.next_timer_cycle(), (105 + 0x7_0000_0014) * T);
    }

    #[test]
    fn msip_is_bit0() {
        let mut c = Clint::new();
        c.write(MSIP, 4, 0xffff_fffe).unwrap();
        assert!(!c.msip());
        c.write(MSIP, 4, 0xffff_ffff).unwrap();
        assert!(c.msip());
        assert_eq!(c.read(MSIP, 4), Ok(1));
        c.write(MSIP, 4, 0).unwrap();
        assert!(!c.msip());
    }

    #[test]
    fn sizes_and_holes_as_qemu() {
        let mut c = Clint::new();
        // Observed in QEMU 7.2: 8- and 2-byte msip accesses and 1-byte mtime reads fault.
        assert!(c.read(MSIP, 8).is_err());
        assert!(c.read(MSIP, 2).is_err());
        assert!(c.read(MTIME, 1).is_err());
        assert!(c.read(MTIMECMP + 2, 4).is_err());
        // Other harts' registers read as zero; the space past the MTIMER faults.
        assert_eq!(c.read(8, 4), Ok(0));
        assert_eq!(c.read(0x4008, 8), Ok(0));
        assert_eq!(c.read(0xbff0, 4), Ok(0));
        c.write(0xbff4, 4, 1).unwrap();
        assert!(c.read(0xc000, 4).is_err());
        assert!(c.write(0xfff8, 8, 0).is_err());
    }
}
