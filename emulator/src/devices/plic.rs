//! The platform-level interrupt controller at `0x0c00_0000`: the RISC-V PLIC Specification
//! v1.0.0 (memory map, interrupt gateways, claim and completion) with the parameters of QEMU
//! 7.2 `virt` (`hw/intc/sifive_plic.c`, one hart with hart config "MS"):
//!
//! ```text
//! 0x00_0000 + 4*src          priority of source src (1..=95), 3 bits, WARL (value & 7)
//! 0x00_1000 + 4*w            pending bits, read-only (words 0..=2)
//! 0x00_2000 + 0x80*ctx + 4*w enable bits of context ctx (words 0..=2)
//! 0x20_0000 + 0x1000*ctx     priority threshold of context ctx, WARL (value & 7)
//! 0x20_0004 + 0x1000*ctx     claim (read) / complete (write)
//! ```
//!
//! Context 0 drives hart 0's MEIP, context 1 its SEIP. There are 96 source slots; source 0
//! means "none", so 1..=95 are usable. Other offsets inside the window read as zero and
//! ignore writes, as QEMU does. Accesses are 4 bytes; QEMU also accepts 8 bytes as two
//! 4-byte accesses (low word first), and so does sv39. Other sizes fault (observed).
//!
//! Gateways are level-triggered (the specification's "Interrupt Gateways"): a source is pending while its
//! line is high, a claim clears the pending bit, and a claimed source is not pending again
//! until it is completed, at which point a line that is still high makes it pending at once.
//! QEMU instead re-latches the pending bit only when the device re-signals its line (for the
//! UART, on a register access); drivers that service the device before completing, as
//! Linux's 8250 and virtio drivers do, see no difference.
//!
//! One QEMU 7.2 quirk is not copied: it keeps a value written to the priority register of
//! source 96 (observed), although that source can be neither pending nor enabled (its bit
//! would be in the fourth pending/enable word, which QEMU does not have); here that register
//! is read-as-zero like the rest of the reserved space. Source 0's priority reads as zero on
//! both.

use crate::bus::{Device, DeviceError};

/// Interrupt source slots, including the non-source 0 (QEMU `VIRT_IRQCHIP_NUM_SOURCES`).
pub const NUM_SOURCES: u32 = 96;
/// Contexts: hart 0 M-mode, hart 0 S-mode.
pub const NUM_CONTEXTS: usize = 2;
/// Largest priority (QEMU `VIRT_IRQCHIP_NUM_PRIO_BITS` = 3).
pub const MAX_PRIORITY: u32 = 7;

const WORDS: usize = NUM_SOURCES.div_ceil(32) as usize;
const PRIORITY_BASE: u64 = 0x0;
const PENDING_BASE: u64 = 0x1000;
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;
/// The window QEMU's PLIC decodes (`VIRT_PLIC` size; `layout::PLIC_SIZE`).
const APERTURE: u64 = 0x60_0000;

/// The PLIC of the `virt` machine.
pub struct Plic {
    priority: [u32; NUM_SOURCES as usize],
    /// Device lines as last reported by [`Plic::set_source`].
    level: [u32; WORDS],
    pending: [u32; WORDS],
    claimed: [u32; WORDS],
    enable: [[u32; WORDS]; NUM_CONTEXTS],
    threshold: [u32; NUM_CONTEXTS],
}

impl Default for Plic {
    fn default() -> Self {
        Self::new()
    }
}

fn bit(irq: u32) -> (usize, u32) {
    ((irq / 32) as usize, 1 << (irq % 32))
}

impl Plic {
    /// A PLIC in its reset state: everything zero (QEMU `sifive_plic_reset`).
    pub fn new() -> Self {
        Self {
            priority: [0; NUM_SOURCES as usize],
            level: [0; WORDS],
            pending: [0; WORDS],
            claimed: [0; WORDS],
            enable: [[0; WORDS]; NUM_CONTEXTS],
            threshold: [0; NUM_CONTEXTS],
        }
    }

    /// Drives the interrupt line of source `irq` (1..=95; others are ignored).
    pub fn set_source(&mut self, irq: u32, level: bool) {
        if irq == 0 || irq >= NUM_SOURCES {
            return;
        }
        let (w, m) = bit(irq);
        if level {
            self.level[w] |= m;
            // The gateway holds a claimed source until its completion.
            if self.claimed[w] & m == 0 {
                self.pending[w] |= m;
            }
        } else {
            self.level[w] &= !m;
            self.pending[w] &= !m;
        }
    }

    /// Whether context `ctx` has an enabled, pending, unclaimed source whose priority exceeds
    /// the context's threshold (its interrupt line to the hart: MEIP for 0, SEIP for 1).
    pub fn context_pending(&self, ctx: usize) -> bool {
        self.best(ctx) != 0
    }

    /// The source a claim by `ctx` would return: the highest priority above the threshold,
    /// the lowest id among equals (the specification's tie-break), or 0.
    fn best(&self, ctx: usize) -> u32 {
        let Some(enable) = self.enable.get(ctx) else {
            return 0;
        };
        let mut best = 0;
        let mut best_priority = self.threshold[ctx];
        for (w, enabled) in enable.iter().enumerate() {
            let mut candidates = self.pending[w] & !self.claimed[w] & enabled;
            while candidates != 0 {
                let irq = w as u32 * 32 + candidates.trailing_zeros();
                candidates &= candidates - 1;
                let priority = self.priority[irq as usize];
                if priority > best_priority {
                    best = irq;
                    best_priority = priority;
                }
            }
        }
        best
    }

    fn claim(&mut self, ctx: usize) -> u32 {
        let irq = self.best(ctx);
        if irq != 0 {
            let (w, m) = bit(irq);
            self.pending[w] &= !m;
            self.claimed[w] |= m;
        }
        irq
    }

    fn complete(&mut self, irq: u32) {
        // QEMU 7.2 accepts any in-range id from any context, enabled or not.
        if irq == 0 || irq >= NUM_SOURCES {
            return;
        }
        let (w, m) = bit(irq);
        self.claimed[w] &= !m;
        if self.level[w] & m != 0 {
            self.pending[w] |= m;
        }
    }

    fn read32(&mut self, offset: u64) -> u32 {
        match Register::decode(offset) {
            Register::Priority(irq) => self.priority[irq],
            Register::Pending(w) => self.pending[w],
            Register::Enable(ctx, w) => self.enable[ctx][w],
            Register::Threshold(ctx) => self.threshold[ctx],
            Register::Claim(ctx) => self.claim(ctx),
            Register::Reserved => 0,
        }
    }

    fn write32(&mut self, offset: u64, value: u32) {
        match Register::decode(offset) {
            // Priorities and thresholds are WARL: 2^3 levels, so QEMU keeps `value % 8`.
            Register::Priority(irq) => self.priority[irq] = value & MAX_PRIORITY,
            Register::Threshold(ctx) => self.threshold[ctx] = value & MAX_PRIORITY,
            Register::Enable(ctx, w) => self.enable[ctx][w] = value,
            Register::Claim(_) => self.complete(value),
            Register::Pending(_) | Register::Reserved => {
                log::debug!("plic: write of {value:#x} to read-only/reserved {offset:#x} ignored");
            }
        }
    }
}

/// A decoded PLIC register offset.
enum Register {
    Priority(usize),
    Pending(usize),
    Enable(usize, usize),
    Threshold(usize),
    Claim(usize),
    Reserved,
}

impl Register {
    fn decode(offset: u64) -> Self {
        let words = WORDS as u64;
        let contexts = NUM_CONTEXTS as u64;
        if (PRIORITY_BASE + 4..PRIORITY_BASE + 4 * u64::from(NUM_SOURCES)).contains(&offset) {
            Self::Priority(((offset - PRIORITY_BASE) / 4) as usize)
        } else if (PENDING_BASE..PENDING_BASE + 4 * words).contains(&offset) {
            Self::Pending(((offset - PENDING_BASE) / 4) as usize)
        } else if (ENABLE_BASE..ENABLE_BASE + ENABLE_STRIDE * contexts).contains(&offset) {
            let ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
            let w = (offset - ENABLE_BASE) % ENABLE_STRIDE / 4;
            if w < words {
                Self::Enable(ctx as usize, w as usize)
            } else {
                Self::Reserved
            }
        } else if (CONTEXT_BASE..CONTEXT_BASE + CONTEXT_STRIDE * contexts).contains(&offset) {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            match (offset - CONTEXT_BASE) % CONTEXT_STRIDE {
                0 => Self::Threshold(ctx),
                4 => Self::Claim(ctx),
                _ => Self::Reserved,
            }
        } else {
            Self::Reserved
        }
    }
}

/// 4-byte registers; an 8-byte access is two of them, so it needs only 4-byte alignment.
fn check_plic_access(offset: u64, size: u8) -> Result<(), DeviceError> {
    if !matches!(size, 4 | 8) || !offset.is_multiple_of(4) {
        return Err(DeviceError::BadSize { offset, size });
    }
    if offset.saturating_add(u64::from(size)) > APERTURE {
        return Err(DeviceError::Unmapped(offset));
    }
    Ok(())
}

impl Device for Plic {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        check_plic_access(offset, size)?;
        let low = u64::from(self.read32(offset));
        if size == 4 {
            return Ok(low);
        }
        Ok(low | u64::from(self.read32(offset + 4)) << 32)
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        check_plic_access(offset, size)?;
        self.write32(offset, value as u32);
        if size == 8 {
            self.write32(offset + 4, (value >> 32) as u32);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: usize = 0;
    const S: usize = 1;

    fn w(p: &mut Plic, offset: u64, value: u32) {
        p.write(offset, 4, u64::from(value)).unwrap();
    }
    fn r(p: &mut Plic, offset: u64) -> u32 {
        p.read(offset, 4).unwrap() as u32
    }
    fn claim_reg(ctx: usize) -> u64 {
        CONTEXT_BASE + 4 + CONTEXT_STRIDE * ctx as u64
    }
    fn threshold_reg(ctx: usize) -> u64 {
        CONTEXT_BASE + CONTEXT_STRIDE * ctx as u64
    }
    fn enable(p: &mut Plic, ctx: usize, irq: u32) {
        let reg = ENABLE_BASE + ENABLE_STRIDE * ctx as u64 + 4 * u64::from(irq / 32);
        let old = r(p, reg);
        w(p, reg, old | 1 << (irq % 32));
    }

    #[test]
    fn claim_complete_cycle() {
        let mut p = Plic::new();
        w(&mut p, 4 * 10, 1);
        enable(&mut p, S, 10);
        assert!(!p.context_pending(S));
        p.set_source(10, true);
        assert_eq!(r(&mut p, PENDING_BASE), 1 << 10);
        assert!(p.context_pending(S));
        assert!(!p.context_pending(M), "not enabled for M");
        assert_eq!(r(&mut p, claim_reg(S)), 10);
        assert_eq!(r(&mut p, PENDING_BASE), 0);
        assert!(!p.context_pending(S));
        // Still high, but claimed: the gateway holds it.
        p.set_source(10, true);
        assert_eq!(r(&mut p, PENDING_BASE), 0);
        assert_eq!(r(&mut p, claim_reg(S)), 0);
        // Completion with the line still high: pending again.
        w(&mut p, claim_reg(S), 10);
        assert_eq!(r(&mut p, PENDING_BASE), 1 << 10);
        assert!(p.context_pending(S));
        assert_eq!(r(&mut p, claim_reg(S)), 10);
        // The device drops its line before completion: nothing more.
        p.set_source(10, false);
        w(&mut p, claim_reg(S), 10);
        assert!(!p.context_pending(S));
        assert_eq!(r(&mut p, claim_reg(S)), 0);
    }

    #[test]
    fn lowering_the_line_clears_pending() {
        let mut p = Plic::new();
        w(&mut p, 4 * 3, 2);
        enable(&mut p, M, 3);
        p.set_source(3, true);
        assert!(p.context_pending(M));
        p.set_source(3, false);
        assert!(!p.context_pending(M));
        assert_eq!(r(&mut p, PENDING_BASE), 0);
    }

    #[test]
    fn priority_and_threshold() {
        let mut p = Plic::new();
        for irq in [1, 5, 40, 95] {
            enable(&mut p, M, irq);
            p.set_source(irq, true);
        }
        // Priority 0 never interrupts.
        assert!(!p.context_pending(M));
        w(&mut p, 4 * 5, 3);
        w(&mut p, 4 * 40, 6);
        w(&mut p, 4 * 95, 6);
        w(&mut p, 4, 1);
        // Highest priority first, lowest id among equals.
        assert_eq!(r(&mut p, claim_reg(M)), 40);
        assert_eq!(r(&mut p, claim_reg(M)), 95);
        // Priority must exceed the threshold.
        w(&mut p, threshold_reg(M), 3);
        assert!(!p.context_pending(M));
        assert_eq!(r(&mut p, claim_reg(M)), 0);
        w(&mut p, threshold_reg(M), 2);
        assert_eq!(r(&mut p, claim_reg(M)), 5);
        w(&mut p, threshold_reg(M), 0);
        assert_eq!(r(&mut p, claim_reg(M)), 1);
        assert_eq!(r(&mut p, claim_reg(M)), 0);
    }

    #[test]
    fn warl_and_reserved_registers_as_qemu() {
        let mut p = Plic::new();
        // Observed in QEMU 7.2: priority 9 reads 1, threshold 9 reads 1.
        w(&mut p, 4, 9);
        assert_eq!(r(&mut p, 4), 1);
        w(&mut p, threshold_reg(M), 9);
        assert_eq!(r(&mut p, threshold_reg(M)), 1);
        // Source 0, source 96+, enable word 3 and context 2 read as zero.
        w(&mut p, 0, 3);
        assert_eq!(r(&mut p, 0), 0);
        w(&mut p, 4 * 96, 5);
        assert_eq!(r(&mut p, 4 * 96), 0);
        w(&mut p, ENABLE_BASE + 12, u32::MAX);
        assert_eq!(r(&mut p, ENABLE_BASE + 12), 0);
        w(&mut p, ENABLE_BASE + 8, u32::MAX);
        assert_eq!(r(&mut p, ENABLE_BASE + 8), u32::MAX);
        assert_eq!(r(&mut p, ENABLE_BASE + 2 * ENABLE_STRIDE), 0);
        assert_eq!(r(&mut p, claim_reg(2)), 0);
        // Pending is read-only.
        w(&mut p, PENDING_BASE, u32::MAX);
        assert_eq!(r(&mut p, PENDING_BASE), 0);
        assert!(!p.context_pending(2));
    }

    #[test]
    fn access_sizes() {
        let mut p = Plic::new();
        // QEMU 7.2: 1- and 2-byte accesses fault, 8-byte ones are two 4-byte accesses.
        assert!(p.read(4, 1).is_err());
        assert!(p.read(4, 2).is_err());
        assert!(p.read(6, 4).is_err());
        assert!(p.write(4, 1, 0).is_err());
        p.write(12, 8, 0x0000_0005_0000_0004).unwrap();
        assert_eq!(r(&mut p, 12), 4);
        assert_eq!(r(&mut p, 16), 5);
        w(&mut p, 8, 3);
        assert_eq!(p.read(4, 8), Ok(0x3_0000_0000));
        assert!(p.read(APERTURE, 4).is_err());
        assert_eq!(p.read(APERTURE - 4, 4), Ok(0));
    }

    #[test]
    fn out_of_range_sources_are_ignored() {
        let mut p = Plic::new();
        p.set_source(0, true);
        p.set_source(96, true);
        p.set_source(u32::MAX, true);
        assert_eq!(r(&mut p, PENDING_BASE), 0);
        w(&mut p, claim_reg(M), u32::MAX);
    }
}
