//! Control and status registers (privileged spec chapter 2 "CSRs", 3.1 machine-level CSRs,
//! 4.1 supervisor-level CSRs; unprivileged spec chapter 8 "Zicsr" and 10 "Zicntr").
//!
//! Access rules (privileged spec 2.1): address bits 11:10 = 3 mark a read-only CSR, bits 9:8
//! the lowest privilege that may access it. A violation is an illegal-instruction trap. WARL
//! fields are legalised on write; where the spec leaves the choice, we follow QEMU and say so.

use super::Hart;
use super::trap::{Privilege, Trap};
use crate::bus::Bus;

/// `mstatus.SIE`.
pub const MSTATUS_SIE: u64 = 1 << 1;
/// `mstatus.MIE`.
pub const MSTATUS_MIE: u64 = 1 << 3;
/// `mstatus.SPIE`.
pub const MSTATUS_SPIE: u64 = 1 << 5;
/// `mstatus.MPIE`.
pub const MSTATUS_MPIE: u64 = 1 << 7;
/// `mstatus.SPP`.
pub const MSTATUS_SPP: u64 = 1 << 8;
/// `mstatus.MPP` (two bits).
pub const MSTATUS_MPP: u64 = 3 << 11;
/// `mstatus.FS` (two bits).
pub const MSTATUS_FS: u64 = 3 << 13;
/// `mstatus.MPRV`.
pub const MSTATUS_MPRV: u64 = 1 << 17;
/// `mstatus.SUM`.
pub const MSTATUS_SUM: u64 = 1 << 18;
/// `mstatus.MXR`.
pub const MSTATUS_MXR: u64 = 1 << 19;
/// `mstatus.TVM`.
pub const MSTATUS_TVM: u64 = 1 << 20;
/// `mstatus.TW`.
pub const MSTATUS_TW: u64 = 1 << 21;
/// `mstatus.TSR`.
pub const MSTATUS_TSR: u64 = 1 << 22;
/// `mstatus.UXL` = 2 (64-bit), read-only.
pub const MSTATUS_UXL_64: u64 = 2 << 32;
/// `mstatus.SXL` = 2 (64-bit), read-only.
pub const MSTATUS_SXL_64: u64 = 2 << 34;
/// `mstatus.SD`.
pub const MSTATUS_SD: u64 = 1 << 63;

const MSTATUS_WRITABLE: u64 = MSTATUS_SIE
    | MSTATUS_MIE
    | MSTATUS_SPIE
    | MSTATUS_MPIE
    | MSTATUS_SPP
    | MSTATUS_MPP
    | MSTATUS_FS
    | MSTATUS_MPRV
    | MSTATUS_SUM
    | MSTATUS_MXR
    | MSTATUS_TVM
    | MSTATUS_TW
    | MSTATUS_TSR;
const SSTATUS_WRITABLE: u64 =
    MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
const SSTATUS_VISIBLE: u64 = SSTATUS_WRITABLE | MSTATUS_UXL_64 | MSTATUS_SD;

/// `mip.SSIP`.
pub const MIP_SSIP: u64 = 1 << 1;
/// `mip.MSIP`.
pub const MIP_MSIP: u64 = 1 << 3;
/// `mip.STIP`.
pub const MIP_STIP: u64 = 1 << 5;
/// `mip.MTIP`.
pub const MIP_MTIP: u64 = 1 << 7;
/// `mip.SEIP`.
pub const MIP_SEIP: u64 = 1 << 9;
/// `mip.MEIP`.
pub const MIP_MEIP: u64 = 1 << 11;
const S_INTERRUPTS: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
const ALL_INTERRUPTS: u64 = S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP;

/// Exceptions that `medeleg` can delegate: all but ecall from M-mode (bit 11, read-only zero
/// per privileged spec 3.1.8) and the reserved and hypervisor causes.
const DELEGABLE_EXCEPTIONS: u64 = 0xb3ff;

/// `misa`: RV64 (MXL = 2) with A, C, D, F, I, M, S, U.
pub const MISA: u64 = (2 << 62)
    | (1 << 0)
    | (1 << 2)
    | (1 << 3)
    | (1 << 5)
    | (1 << 8)
    | (1 << 12)
    | (1 << 18)
    | (1 << 20);

/// Number of PMP entries (as QEMU 7.2's `virt` harts).
pub const PMP_ENTRIES: usize = 16;

/// CSR addresses used by name elsewhere.
#[allow(missing_docs)]
pub mod addr {
    pub const FFLAGS: u16 = 0x001;
    pub const FRM: u16 = 0x002;
    pub const FCSR: u16 = 0x003;
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
    pub const SSTATUS: u16 = 0x100;
    pub const SIE: u16 = 0x104;
    pub const STVEC: u16 = 0x105;
    pub const SCOUNTEREN: u16 = 0x106;
    pub const SENVCFG: u16 = 0x10a;
    pub const SSCRATCH: u16 = 0x140;
    pub const SEPC: u16 = 0x141;
    pub const SCAUSE: u16 = 0x142;
    pub const STVAL: u16 = 0x143;
    pub const SIP: u16 = 0x144;
    pub const SATP: u16 = 0x180;
    pub const MVENDORID: u16 = 0xf11;
    pub const MARCHID: u16 = 0xf12;
    pub const MIMPID: u16 = 0xf13;
    pub const MHARTID: u16 = 0xf14;
    pub const MCONFIGPTR: u16 = 0xf15;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MEDELEG: u16 = 0x302;
    pub const MIDELEG: u16 = 0x303;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTEREN: u16 = 0x306;
    pub const MENVCFG: u16 = 0x30a;
    pub const MCOUNTINHIBIT: u16 = 0x320;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const PMPCFG0: u16 = 0x3a0;
    pub const PMPADDR0: u16 = 0x3b0;
    pub const MCYCLE: u16 = 0xb00;
    pub const MINSTRET: u16 = 0xb02;
}

/// The CSR file (everything but the counters, which live in [`Hart`]).
#[derive(Debug, Clone)]
pub struct Csrs {
    /// `mstatus` (SD is kept current on every write).
    pub mstatus: u64,
    /// `mhartid`.
    pub mhartid: u64,
    /// `medeleg`.
    pub medeleg: u64,
    /// `mideleg`.
    pub mideleg: u64,
    /// `mie`.
    pub mie: u64,
    /// Software-writable bits of `mip` (SSIP, STIP, SEIP).
    pub mip_sw: u64,
    /// Device-driven bits of `mip` (MSIP, MTIP, MEIP, SEIP), refreshed by the run loop.
    pub mip_hw: u64,
    /// `mtvec`.
    pub mtvec: u64,
    /// `stvec`.
    pub stvec: u64,
    /// `mcounteren`.
    pub mcounteren: u32,
    /// `scounteren`.
    pub scounteren: u32,
    /// `mcountinhibit`.
    pub mcountinhibit: u32,
    /// `menvcfg`.
    pub menvcfg: u64,
    /// `senvcfg`.
    pub senvcfg: u64,
    /// `mscratch`.
    pub mscratch: u64,
    /// `sscratch`.
    pub sscratch: u64,
    /// `mepc`.
    pub mepc: u64,
    /// `sepc`.
    pub sepc: u64,
    /// `mcause`.
    pub mcause: u64,
    /// `scause`.
    pub scause: u64,
    /// `mtval`.
    pub mtval: u64,
    /// `stval`.
    pub stval: u64,
    /// `satp`.
    pub satp: u64,
    /// `frm` (3 bits).
    pub frm: u8,
    /// `fflags` (5 bits: NV DZ OF UF NX).
    pub fflags: u8,
    /// `pmpcfg0..15` as bytes, one per entry.
    pub pmpcfg: [u8; PMP_ENTRIES],
    /// `pmpaddr0..15`.
    pub pmpaddr: [u64; PMP_ENTRIES],
    /// `mcycle` = cycle + this offset (wrapping), so guest writes keep the machine's clock.
    pub mcycle_offset: u64,
    /// `minstret` = instret + this offset (wrapping).
    pub minstret_offset: u64,
    /// `mcycle` while `mcountinhibit.CY` holds it still.
    pub mcycle_frozen: u64,
    /// `minstret` while `mcountinhibit.IR` holds it still.
    pub minstret_frozen: u64,
}

impl Csrs {
    /// The reset state (privileged spec 3.4): M-mode, MIE = 0, MPRV = 0, FS off.
    pub fn new(hart_id: u64) -> Self {
        Self {
            mstatus: MSTATUS_UXL_64 | MSTATUS_SXL_64,
            mhartid: hart_id,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip_sw: 0,
            mip_hw: 0,
            mtvec: 0,
            stvec: 0,
            mcounteren: 0,
            scounteren: 0,
            mcountinhibit: 0,
            menvcfg: 0,
            senvcfg: 0,
            mscratch: 0,
            sscratch: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            satp: 0,
            frm: 0,
            fflags: 0,
            pmpcfg: [0; PMP_ENTRIES],
            pmpaddr: [0; PMP_ENTRIES],
            mcycle_offset: 0,
            minstret_offset: 0,
            mcycle_frozen: 0,
            minstret_frozen: 0,
        }
    }

    /// `mip` as software reads it.
    #[inline(always)]
    pub fn mip(&self) -> u64 {
        self.mip_sw | self.mip_hw
    }

    /// Whether the floating-point unit is on (`mstatus.FS` != Off).
    #[inline(always)]
    pub fn fp_enabled(&self) -> bool {
        self.mstatus & MSTATUS_FS != 0
    }

    /// Marks the floating-point state dirty (FS = Dirty, SD = 1).
    #[inline(always)]
    pub fn set_fs_dirty(&mut self) {
        self.mstatus |= MSTATUS_FS | MSTATUS_SD;
    }

    /// Writes `mstatus` through the writable mask, legalising WARL fields.
    pub fn write_mstatus(&mut self, value: u64) {
        let mut v = (self.mstatus & !MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE);
        // MPP is WARL: the reserved encoding 2 becomes U, as Spike legalises it.
        if (v & MSTATUS_MPP) >> 11 == 2 {
            v &= !MSTATUS_MPP;
        }
        self.mstatus = with_sd(v);
    }
}

fn with_sd(mstatus: u64) -> u64 {
    if mstatus & MSTATUS_FS == MSTATUS_FS {
        mstatus | MSTATUS_SD
    } else {
        mstatus & !MSTATUS_SD
    }
}

/// WARL trap-vector write: modes 0 (direct) and 1 (vectored) are accepted; a write with a
/// reserved mode leaves the register unchanged, as QEMU does.
fn write_tvec(reg: &mut u64, value: u64) {
    if value & 3 < 2 {
        *reg = value;
    }
}

impl Hart {
    /// Checks the privilege and read-only rules for an access to CSR `csr`.
    fn csr_check(&self, csr: u16, write: bool, raw: u32) -> Result<(), Trap> {
        let min_priv = (csr >> 8) & 3;
        if (self.privilege as u16) < min_priv || (write && csr >> 10 == 3) {
            return Err(Trap::illegal(raw));
        }
        Ok(())
    }

    /// Whether the counter `index` (0 = cycle, 1 = time, 2 = instret, 3.. = hpm) may be read
    /// at the current privilege (privileged spec 3.1.11 `mcounteren`, 4.1.5 `scounteren`).
    fn counter_allowed(&self, index: u16) -> bool {
        let bit = 1u32 << index;
        match self.privilege {
            Privilege::Machine => true,
            Privilege::Supervisor => self.csr.mcounteren & bit != 0,
            Privilege::User => self.csr.mcounteren & bit != 0 && self.csr.scounteren & bit != 0,
        }
    }

    /// `mcycle` as software reads it (privileged spec 3.1.10, 3.1.12 for inhibition).
    pub fn mcycle(&self) -> u64 {
        if self.csr.mcountinhibit & 1 != 0 {
            self.csr.mcycle_frozen
        } else {
            self.cycle().wrapping_add(self.csr.mcycle_offset)
        }
    }

    /// `minstret` as software reads it.
    pub fn minstret(&self) -> u64 {
        if self.csr.mcountinhibit & 4 != 0 {
            self.csr.minstret_frozen
        } else {
            self.instret().wrapping_add(self.csr.minstret_offset)
        }
    }

    /// Reads CSR `csr` for instruction `raw`.
    pub fn csr_read(&mut self, csr: u16, raw: u32, bus: &mut Bus) -> Result<u64, Trap> {
        use addr::*;
        self.csr_check(csr, false, raw)?;
        if matches!(csr, addr::MIP | addr::SIP) {
            // Reading mip shows the device lines as they are at this instruction.
            self.csr.mip_hw = bus.hardware_mip(self.cycle());
        }
        let ill = Trap::illegal(raw);
        let c = &self.csr;
        let value = match csr {
            FFLAGS | FRM | FCSR if !c.fp_enabled() => return Err(ill),
            FFLAGS => c.fflags as u64,
            FRM => c.frm as u64,
            FCSR => ((c.frm as u64) << 5) | c.fflags as u64,
            0xc00..=0xc1f => {
                let index = csr - 0xc00;
                if !self.counter_allowed(index) {
                    return Err(ill);
                }
                match index {
                    0 => self.mcycle(),
                    1 => bus.clint.mtime_at(self.cycle()),
                    2 => self.minstret(),
                    _ => 0,
                }
            }
            SSTATUS => c.mstatus & SSTATUS_VISIBLE,
            SIE => c.mie & c.mideleg,
            STVEC => c.stvec,
            SCOUNTEREN => c.scounteren as u64,
            SENVCFG => c.senvcfg,
            SSCRATCH => c.sscratch,
            SEPC => c.sepc,
            SCAUSE => c.scause,
            STVAL => c.stval,
            SIP => c.mip() & c.mideleg,
            SATP => {
                if self.privilege == Privilege::Supervisor && c.mstatus & MSTATUS_TVM != 0 {
                    return Err(ill);
                }
                c.satp
            }
            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            MHARTID => c.mhartid,
            MSTATUS => c.mstatus,
            MISA => self::MISA,
            MEDELEG => c.medeleg,
            MIDELEG => c.mideleg,
            MIE => c.mie,
            MTVEC => c.mtvec,
            MCOUNTEREN => c.mcounteren as u64,
            MENVCFG => c.menvcfg,
            MCOUNTINHIBIT => c.mcountinhibit as u64,
            0x323..=0x33f => 0, // mhpmevent3..31: no events implemented
            MSCRATCH => c.mscratch,
            MEPC => c.mepc,
            MCAUSE => c.mcause,
            MTVAL => c.mtval,
            MIP => c.mip(),
            0x3a0..=0x3af => {
                let n = (csr - PMPCFG0) as usize;
                if n % 2 == 1 || n * 4 >= PMP_ENTRIES {
                    return Err(ill); // RV64 has only the even pmpcfg registers
                }
                let mut v = 0u64;
                for i in 0..8 {
                    v |= (c.pmpcfg[n * 4 + i] as u64) << (8 * i);
                }
                v
            }
            0x3b0..=0x3bf => c.pmpaddr[(csr - PMPADDR0) as usize],
            MCYCLE => self.mcycle(),
            MINSTRET => self.minstret(),
            0xb03..=0xb1f => 0, // mhpmcounter3..31: hard-wired zero
            _ => return Err(ill),
        };
        Ok(value)
    }

    /// Writes CSR `csr` for instruction `raw`, and asks the run loop to re-evaluate
    /// interrupts (the write may have enabled one).
    pub fn csr_write(&mut self, csr: u16, value: u64, raw: u32) -> Result<(), Trap> {
        use addr::*;
        self.csr_check(csr, true, raw)?;
        let ill = Trap::illegal(raw);
        let privilege = self.privilege;
        // mcycle counts on from the end of this instruction, which costs a CSR access.
        let cycle_after = self.cycle().wrapping_add(self.timing.csr as u64);
        let instret = self.instret();
        let c = &mut self.csr;
        match csr {
            FFLAGS | FRM | FCSR if !c.fp_enabled() => return Err(ill),
            FFLAGS => {
                c.fflags = (value & 0x1f) as u8;
                c.set_fs_dirty();
            }
            FRM => {
                c.frm = (value & 7) as u8;
                c.set_fs_dirty();
            }
            FCSR => {
                c.fflags = (value & 0x1f) as u8;
                c.frm = ((value >> 5) & 7) as u8;
                c.set_fs_dirty();
            }
            SSTATUS => {
                let v = (c.mstatus & !SSTATUS_WRITABLE) | (value & SSTATUS_WRITABLE);
                c.write_mstatus(v);
            }
            SIE => c.mie = (c.mie & !c.mideleg) | (value & c.mideleg & S_INTERRUPTS),
            STVEC => write_tvec(&mut c.stvec, value),
            SCOUNTEREN => c.scounteren = value as u32,
            SENVCFG => c.senvcfg = value & 1,
            SSCRATCH => c.sscratch = value,
            SEPC => c.sepc = value & !1,
            SCAUSE => c.scause = value,
            STVAL => c.stval = value,
            SIP => {
                // Only SSIP is writable through sip, and only when delegated.
                let mask = c.mideleg & MIP_SSIP;
                c.mip_sw = (c.mip_sw & !mask) | (value & mask);
            }
            SATP => {
                if privilege == Privilege::Supervisor && c.mstatus & MSTATUS_TVM != 0 {
                    return Err(ill);
                }
                // WARL: only the modes this hart translates are accepted; any other write
                // leaves satp unchanged (privileged spec 4.1.11).
                if crate::hart::memory::satp_mode_supported(value >> 60) {
                    c.satp = value;
                    // The TLB keeps its entries (a satp write is not a fence), but the fast
                    // caches are keyed without the ASID.
                    self.mmu.clear_fast();
                }
            }
            MSTATUS => c.write_mstatus(value),
            MISA => {} // WARL, read-only here: extensions cannot be switched off
            MEDELEG => c.medeleg = value & DELEGABLE_EXCEPTIONS,
            MIDELEG => c.mideleg = value & S_INTERRUPTS,
            MIE => c.mie = value & ALL_INTERRUPTS,
            MTVEC => write_tvec(&mut c.mtvec, value),
            MCOUNTEREN => c.mcounteren = value as u32,
            MENVCFG => c.menvcfg = value & 1,
            MCOUNTINHIBIT => {
                // Privileged spec 3.1.12: an inhibited counter holds its value; when counting
                // resumes it continues from there, starting with the next instruction.
                let new = (value as u32) & !2;
                let (cy_was, ir_was) = (c.mcountinhibit & 1 != 0, c.mcountinhibit & 4 != 0);
                let (cy_now, ir_now) = (new & 1 != 0, new & 4 != 0);
                if !cy_was && cy_now {
                    c.mcycle_frozen = cycle_after
                        .wrapping_sub(self.timing.csr as u64)
                        .wrapping_add(c.mcycle_offset);
                } else if cy_was && !cy_now {
                    c.mcycle_offset = c.mcycle_frozen.wrapping_sub(cycle_after);
                }
                if !ir_was && ir_now {
                    c.minstret_frozen = instret.wrapping_add(c.minstret_offset);
                } else if ir_was && !ir_now {
                    c.minstret_offset = c.minstret_frozen.wrapping_sub(instret.wrapping_add(1));
                }
                c.mcountinhibit = new;
            }
            0x323..=0x33f => {}
            MSCRATCH => c.mscratch = value,
            MEPC => c.mepc = value & !1,
            MCAUSE => c.mcause = value,
            MTVAL => c.mtval = value,
            MIP => {
                let mask = S_INTERRUPTS;
                c.mip_sw = (c.mip_sw & !mask) | (value & mask);
            }
            0x3a0..=0x3af => {
                let n = (csr - PMPCFG0) as usize;
                if n % 2 == 1 || n * 4 >= PMP_ENTRIES {
                    return Err(ill);
                }
                for i in 0..8 {
                    let entry = &mut c.pmpcfg[n * 4 + i];
                    if *entry & 0x80 == 0 {
                        // Bits 6:5 are reserved zero; the lock bit freezes the entry.
                        *entry = ((value >> (8 * i)) as u8) & 0x9f;
                    }
                }
            }
            0x3b0..=0x3bf => {
                let i = (csr - PMPADDR0) as usize;
                let locked = c.pmpcfg[i] & 0x80 != 0
                    || (i + 1 < PMP_ENTRIES && c.pmpcfg[i + 1] & 0x98 == 0x88); // next entry locked TOR
                if !locked {
                    c.pmpaddr[i] = value & ((1 << 54) - 1);
                }
            }
            // The instruction that writes a counter does not then count itself: the offset
            // is set so that the value after this instruction retires is `value`.
            MCYCLE if c.mcountinhibit & 1 != 0 => c.mcycle_frozen = value,
            MCYCLE => c.mcycle_offset = value.wrapping_sub(cycle_after),
            MINSTRET if c.mcountinhibit & 4 != 0 => c.minstret_frozen = value,
            MINSTRET => c.minstret_offset = value.wrapping_sub(instret.wrapping_add(1)),
            0xb03..=0xb1f => {}
            _ => return Err(ill),
        }
        self.irq_check = true;
        self.update_translation();
        Ok(())
    }
}
