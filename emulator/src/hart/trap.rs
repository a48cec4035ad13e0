//! Exceptions, interrupts and trap delivery (privileged spec 3.1.15 `mcause`, 3.1.16 `mtval`,
//! 3.3 `mret`/`sret`, 4.1 the supervisor view).

/// Privilege levels, with the encoding of `mstatus.MPP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Privilege {
    /// User mode.
    User = 0,
    /// Supervisor mode.
    Supervisor = 1,
    /// Machine mode.
    Machine = 3,
}

impl Privilege {
    /// Decodes an `MPP`-style field; the reserved value 2 reads as User (WARL, as QEMU).
    pub fn from_bits(bits: u64) -> Self {
        match bits & 3 {
            3 => Privilege::Machine,
            1 => Privilege::Supervisor,
            _ => Privilege::User,
        }
    }
}

/// Synchronous exception causes (privileged spec table 3.6).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exception {
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EcallFromU = 8,
    EcallFromS = 9,
    EcallFromM = 11,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
}

/// A synchronous trap: the cause and the value for `xtval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trap {
    /// What went wrong.
    pub cause: Exception,
    /// The trap value: the faulting address, the instruction bits, or 0.
    pub tval: u64,
}

impl Trap {
    /// A trap with a value.
    #[inline(always)]
    pub fn new(cause: Exception, tval: u64) -> Self {
        Self { cause, tval }
    }

    /// An illegal-instruction trap carrying the instruction bits (as QEMU and Spike report).
    #[inline(always)]
    pub fn illegal(raw: u32) -> Self {
        Self {
            cause: Exception::IllegalInstruction,
            tval: raw as u64,
        }
    }
}

/// Interrupt causes (privileged spec table 3.6), as bit positions in `mip`/`mie`.
pub mod irq {
    /// Supervisor software interrupt.
    pub const SSI: u64 = 1;
    /// Machine software interrupt.
    pub const MSI: u64 = 3;
    /// Supervisor timer interrupt.
    pub const STI: u64 = 5;
    /// Machine timer interrupt.
    pub const MTI: u64 = 7;
    /// Supervisor external interrupt.
    pub const SEI: u64 = 9;
    /// Machine external interrupt.
    pub const MEI: u64 = 11;
    /// Priority order when several are pending and enabled (privileged spec 3.1.9):
    /// MEI, MSI, MTI, SEI, SSI, STI.
    pub const PRIORITY: [u64; 6] = [MEI, MSI, MTI, SEI, SSI, STI];
}

/// Bit 63 of `xcause` marks an interrupt.
pub const CAUSE_INTERRUPT: u64 = 1 << 63;

use super::Hart;
use super::csr::*;

impl Hart {
    /// Takes a trap: `cause` is the `xcause` value (interrupt bit included), `pc` the
    /// address of the interrupted or faulting instruction. Delegation follows privileged
    /// spec 3.1.8: a trap taken in M-mode always stays in M-mode. Returns the handler's pc.
    pub fn take_trap(&mut self, cause: u64, tval: u64, pc: u64) -> u64 {
        let interrupt = cause & CAUSE_INTERRUPT != 0;
        let code = cause & !CAUSE_INTERRUPT;
        let deleg = if interrupt {
            self.csr.mideleg
        } else {
            self.csr.medeleg
        };
        // A trap never lowers the privilege, so the reservation is broken either way.
        self.reservation = u64::MAX;
        self.waiting = false;
        self.irq_check = true;
        let c = &mut self.csr;
        let to_supervisor = self.privilege <= Privilege::Supervisor && (deleg >> code) & 1 != 0;
        let tvec = if to_supervisor {
            c.scause = cause;
            c.sepc = pc;
            c.stval = tval;
            let sie = c.mstatus & MSTATUS_SIE != 0;
            let mut s = c.mstatus & !(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
            if sie {
                s |= MSTATUS_SPIE;
            }
            if self.privilege == Privilege::Supervisor {
                s |= MSTATUS_SPP;
            }
            c.mstatus = s;
            self.privilege = Privilege::Supervisor;
            c.stvec
        } else {
            c.mcause = cause;
            c.mepc = pc;
            c.mtval = tval;
            let mie = c.mstatus & MSTATUS_MIE != 0;
            let mut s = c.mstatus & !(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
            if mie {
                s |= MSTATUS_MPIE;
            }
            s |= (self.privilege as u64) << 11;
            c.mstatus = s;
            self.privilege = Privilege::Machine;
            c.mtvec
        };
        self.update_translation();
        let base = tvec & !3;
        if interrupt && tvec & 3 == 1 {
            base.wrapping_add(4 * code)
        } else {
            base
        }
    }

    /// `mret` (privileged spec 3.3.2): returns the new pc.
    pub fn mret(&mut self) -> u64 {
        let c = &mut self.csr;
        let mpp = Privilege::from_bits((c.mstatus & MSTATUS_MPP) >> 11);
        let mut s = c.mstatus & !(MSTATUS_MIE | MSTATUS_MPP);
        if c.mstatus & MSTATUS_MPIE != 0 {
            s |= MSTATUS_MIE;
        }
        s |= MSTATUS_MPIE;
        if mpp != Privilege::Machine {
            s &= !MSTATUS_MPRV;
        }
        c.mstatus = s;
        self.privilege = mpp;
        self.irq_check = true;
        let target = c.mepc;
        self.update_translation();
        target
    }

    /// `sret` (privileged spec 3.3.2): returns the new pc.
    pub fn sret(&mut self) -> u64 {
        let c = &mut self.csr;
        let spp = if c.mstatus & MSTATUS_SPP != 0 {
            Privilege::Supervisor
        } else {
            Privilege::User
        };
        let mut s = c.mstatus & !(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
        if c.mstatus & MSTATUS_SPIE != 0 {
            s |= MSTATUS_SIE;
        }
        s |= MSTATUS_SPIE;
        c.mstatus = s;
        self.privilege = spp;
        self.irq_check = true;
        let target = c.sepc;
        self.update_translation();
        target
    }

    /// Whether interrupt `cause` (an `xcause` value) would be taken now if it were pending
    /// and nothing of higher priority were: enabled in `mie`, and globally enabled for the
    /// mode it goes to (the rule of [`Hart::pending_interrupt`]).
    pub fn interrupt_enabled(&self, cause: u64) -> bool {
        let code = cause & !CAUSE_INTERRUPT;
        if code >= 64 || cause & CAUSE_INTERRUPT == 0 || self.csr.mie & (1 << code) == 0 {
            return false;
        }
        let c = &self.csr;
        if c.mideleg & (1 << code) == 0 {
            self.privilege < Privilege::Machine || c.mstatus & MSTATUS_MIE != 0
        } else {
            self.privilege < Privilege::Supervisor
                || (self.privilege == Privilege::Supervisor && c.mstatus & MSTATUS_SIE != 0)
        }
    }

    /// The interrupt to take now, as an `xcause` value, if any (privileged spec 3.1.9):
    /// M-level interrupts are enabled below M-mode or with `mstatus.MIE`; delegated
    /// (S-level) ones below S-mode or in S-mode with `mstatus.SIE`, never in M-mode.
    /// Interrupts for M-mode are taken before those for S-mode.
    pub fn pending_interrupt(&self) -> Option<u64> {
        let c = &self.csr;
        let pending = c.mip() & c.mie;
        if pending == 0 {
            return None;
        }
        let m_enabled = self.privilege < Privilege::Machine || c.mstatus & MSTATUS_MIE != 0;
        let s_enabled = self.privilege < Privilege::Supervisor
            || (self.privilege == Privilege::Supervisor && c.mstatus & MSTATUS_SIE != 0);
        let m_pending = if m_enabled { pending & !c.mideleg } else { 0 };
        let s_pending = if s_enabled { pending & c.mideleg } else { 0 };
        let set = if m_pending != 0 { m_pending } else { s_pending };
        irq::PRIORITY
            .iter()
            .find(|&&i| set & (1 << i) != 0)
            .map(|&i| i | CAUSE_INTERRUPT)
    }
}
