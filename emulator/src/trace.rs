//! The event stream's consumers: the [`Observer`] trait the run loop reports to, and the
//! commit log in Spike's `--log-commits` format.
//!
//! With [`NoObserver`] every hook compiles away (`ACTIVE = false` is a constant the run loop
//! branches on), so the fast path pays nothing for tracing.

use std::io::Write;

use crate::bus::Bus;
use crate::hart::decode::{Insn, Op, ZERO_SINK};
use crate::hart::{Hart, Privilege};

/// What one instruction did to memory and CSRs, recorded by the hart while tracing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Commit {
    /// Virtual address of a load.
    pub mem_read: Option<u64>,
    /// Virtual address, value and size of a store.
    pub mem_write: Option<(u64, u64, u8)>,
    /// A CSR write and the value the CSR holds afterwards.
    pub csr_write: Option<(u16, u64)>,
}

/// A consumer of the machine's events.
pub trait Observer {
    /// Whether the run loop should report at all.
    const ACTIVE: bool;
    /// Whether it reads [`Hart::commit`] (the hart records memory and CSR effects only then).
    const COMMITS: bool = Self::ACTIVE;
    /// An instruction at `pc`, executed at `privilege`, retired; `hart` holds its results
    /// and [`Hart::commit`] its memory and CSR effects.
    fn retire(&mut self, hart: &Hart, privilege: Privilege, pc: u64, insn: &Insn);
    /// A trap is about to be taken: `cause` is the `xcause` value, `pc` the trapping pc.
    fn trap(&mut self, hart: &Hart, cause: u64, tval: u64, pc: u64);
    /// Whether the next block's instructions should be reported to [`Observer::retire`]
    /// (asked once per block; an observer that listens only now and then saves the calls).
    fn wants_retires(&self) -> bool {
        Self::ACTIVE
    }
    /// The hart waited in `wfi` for `cycles` (called when an interrupt ends the wait).
    fn waited(&mut self, _hart: &Hart, _cycles: u64) {}
    /// A block ended with a side effect (MMIO, among them disk notifies and fault-trace
    /// events): devices may have news for the observer.
    fn synced(&mut self, _hart: &Hart, _bus: &mut Bus) {}
}

/// An observer lent out.
impl<T: Observer> Observer for &mut T {
    const ACTIVE: bool = T::ACTIVE;
    const COMMITS: bool = T::COMMITS;
    #[inline(always)]
    fn retire(&mut self, hart: &Hart, privilege: Privilege, pc: u64, insn: &Insn) {
        (**self).retire(hart, privilege, pc, insn);
    }
    fn trap(&mut self, hart: &Hart, cause: u64, tval: u64, pc: u64) {
        (**self).trap(hart, cause, tval, pc);
    }
    fn wants_retires(&self) -> bool {
        (**self).wants_retires()
    }
    fn waited(&mut self, hart: &Hart, cycles: u64) {
        (**self).waited(hart, cycles);
    }
    fn synced(&mut self, hart: &Hart, bus: &mut Bus) {
        (**self).synced(hart, bus);
    }
}

/// Two observers at once (for example a commit log and the fault accountant).
impl<A: Observer, B: Observer> Observer for (A, B) {
    const ACTIVE: bool = A::ACTIVE || B::ACTIVE;
    const COMMITS: bool = A::COMMITS || B::COMMITS;
    #[inline(always)]
    fn retire(&mut self, hart: &Hart, privilege: Privilege, pc: u64, insn: &Insn) {
        self.0.retire(hart, privilege, pc, insn);
        self.1.retire(hart, privilege, pc, insn);
    }
    fn trap(&mut self, hart: &Hart, cause: u64, tval: u64, pc: u64) {
        self.0.trap(hart, cause, tval, pc);
        self.1.trap(hart, cause, tval, pc);
    }
    fn wants_retires(&self) -> bool {
        self.0.wants_retires() || self.1.wants_retires()
    }
    fn waited(&mut self, hart: &Hart, cycles: u64) {
        self.0.waited(hart, cycles);
        self.1.waited(hart, cycles);
    }
    fn synced(&mut self, hart: &Hart, bus: &mut Bus) {
        self.0.synced(hart, bus);
        self.1.synced(hart, bus);
    }
}

/// The observer that listens to nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    const ACTIVE: bool = false;
    #[inline(always)]
    fn retire(&mut self, _: &Hart, _: Privilege, _: u64, _: &Insn) {}
    #[inline(always)]
    fn trap(&mut self, _: &Hart, _: u64, _: u64, _: u64) {}
}

/// Where an instruction's result goes, for the commit log.
enum Dest {
    None,
    X(u8),
    F(u8),
}

fn dest(insn: &Insn) -> Dest {
    use Op::*;
    match insn.op {
        Illegal | Beq | Bne | Blt | Bge | Bltu | Bgeu | Sb | Sh | Sw | Sd | Fsw | Fsd | Fence
        | FenceI | Ecall | Ebreak | Mret | Sret | Wfi | SfenceVma => Dest::None,
        Flw | Fld | FmaddS | FmsubS | FnmsubS | FnmaddS | FaddS | FsubS | FmulS | FdivS
        | FsqrtS | FsgnjS | FsgnjnS | FsgnjxS | FminS | FmaxS | FcvtSW | FcvtSWu | FcvtSL
        | FcvtSLu | FmvWX | FmaddD | FmsubD | FnmsubD | FnmaddD | FaddD | FsubD | FmulD | FdivD
        | FsqrtD | FsgnjD | FsgnjnD | FsgnjxD | FminD | FmaxD | FcvtSD | FcvtDS | FcvtDW
        | FcvtDWu | FcvtDL | FcvtDLu | FmvDX => Dest::F(insn.rd),
        _ if insn.rd == ZERO_SINK => Dest::None,
        _ => Dest::X(insn.rd),
    }
}

/// Name of a CSR as Spike prints it in the commit log (`c768_mstatus`).
fn csr_name(csr: u16) -> &'static str {
    use crate::hart::csr::addr::*;
    match csr {
        FFLAGS => "fflags",
        FRM => "frm",
        FCSR => "fcsr",
        SSTATUS => "sstatus",
        SIE => "sie",
        STVEC => "stvec",
        SCOUNTEREN => "scounteren",
        SENVCFG => "senvcfg",
        SSCRATCH => "sscratch",
        SEPC => "sepc",
        SCAUSE => "scause",
        STVAL => "stval",
        SIP => "sip",
        SATP => "satp",
        MSTATUS => "mstatus",
        MISA => "misa",
        MEDELEG => "medeleg",
        MIDELEG => "mideleg",
        MIE => "mie",
        MTVEC => "mtvec",
        MCOUNTEREN => "mcounteren",
        MENVCFG => "menvcfg",
        MCOUNTINHIBIT => "mcountinhibit",
        MSCRATCH => "mscratch",
        MEPC => "mepc",
        MCAUSE => "mcause",
        MTVAL => "mtval",
        MIP => "mip",
        MCYCLE => "mcycle",
        MINSTRET => "minstret",
        0x3a0..=0x3af => "pmpcfg",
        0x3b0..=0x3ef => "pmpaddr",
        _ => "csr",
    }
}

/// Writes Spike's commit log: one line per retired instruction,
/// `core   0: PRIV 0xPC (0xBITS) [x/f writes] [csr write] [mem read] [mem write]`.
pub struct CommitLog<W: Write> {
    out: W,
    /// The first write error, reported when the run ends.
    pub error: Option<std::io::Error>,
}

impl<W: Write> CommitLog<W> {
    /// A commit log writing to `out`.
    pub fn new(out: W) -> Self {
        Self { out, error: None }
    }

    /// Flushes the log and returns the first error seen.
    pub fn finish(mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }

    fn line(
        &mut self,
        hart: &Hart,
        privilege: Privilege,
        pc: u64,
        insn: &Insn,
    ) -> std::io::Result<()> {
        let o = &mut self.out;
        write!(o, "core   0: {} 0x{pc:016x} ", privilege as u8)?;
        if insn.len == 2 {
            write!(o, "(0x{:04x})", insn.raw)?;
        } else {
            write!(o, "(0x{:08x})", insn.raw)?;
        }
        match dest(insn) {
            Dest::X(r) => write!(o, " x{r:<2} 0x{:016x}", hart.x[r as usize])?,
            Dest::F(r) => write!(o, " f{r:<2} 0x{:016x}", hart.f[r as usize])?,
            Dest::None => {}
        }
        let c = &hart.commit;
        if let Some((csr, value)) = c.csr_write {
            write!(o, " c{csr}_{} 0x{value:016x}", csr_name(csr))?;
        }
        if let Some(addr) = c.mem_read {
            write!(o, " mem 0x{addr:016x}")?;
        }
        if let Some((addr, value, size)) = c.mem_write {
            let width = size as usize * 2;
            write!(o, " mem 0x{addr:016x} 0x{value:0width$x}")?;
        }
        writeln!(o)
    }
}

impl<W: Write> Observer for CommitLog<W> {
    const ACTIVE: bool = true;

    fn retire(&mut self, hart: &Hart, privilege: Privilege, pc: u64, insn: &Insn) {
        if self.error.is_none()
            && let Err(e) = self.line(hart, privilege, pc, insn)
        {
            self.error = Some(e);
        }
    }

    fn trap(&mut self, _hart: &Hart, _cause: u64, _tval: u64, _pc: u64) {}
}
