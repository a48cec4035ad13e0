//! One RV64GC hart: architectural state, instruction execution by family, CSRs and traps.
//!
//! - [`decode`]: bits to [`decode::Insn`];
//! - `exec`: the integer, multiply, atomic, memory and system families;
//! - [`float`]: F and D, exact through Berkeley SoftFloat with RISC-V NaN rules;
//! - [`csr`]: the CSR file and its access rules;
//! - [`trap`]: exception and interrupt delivery.

pub mod csr;
pub mod decode;
pub mod encode;
mod exec;
pub mod float;
mod memory;
#[cfg(test)]
mod tests;
pub mod trap;

pub use exec::{HANDLERS, Handler, Step};
pub use trap::{Exception, Privilege, Trap};

use csr::Csrs;

/// Architectural state of one hart.
pub struct Hart {
    /// Integer registers; index 32 is the sink for writes to `x0` (see [`decode::ZERO_SINK`]).
    /// The array has 64 entries so that a masked index never needs a bounds check.
    pub x: [u64; 64],
    /// Floating-point registers, raw bits (single values NaN-boxed).
    pub f: [u64; 32],
    /// Program counter (only current between blocks; the run loop carries it inside one).
    pub pc: u64,
    /// Current privilege level.
    pub privilege: Privilege,
    /// Control and status registers.
    pub csr: Csrs,
    /// Cycles charged by instruction class to the instructions retired so far (the run loop
    /// stores a running total after each instruction).
    pub icycles: u64,
    /// Cycles charged outside the instruction classes: taken branches, TLB misses and walks,
    /// traps, MMIO, time waiting in `wfi`.
    pub stall_cycles: u64,
    /// The cost model.
    pub timing: crate::timing::Timing,
    /// Instructions retired (drives `minstret`).
    pub instret: u64,
    /// LR reservation: the address of the reserved doubleword granule, or `u64::MAX`.
    pub reservation: u64,
    /// Set by anything that may make an interrupt deliverable (CSR writes, xRET, MMIO);
    /// the run loop re-evaluates interrupts at the next block boundary.
    pub irq_check: bool,
    /// Set while the hart is stalled in `wfi`.
    pub waiting: bool,
    /// Commit-log record of the instruction being executed, filled only while tracing.
    pub commit: crate::trace::Commit,
    /// Whether to fill [`Hart::commit`].
    pub tracing: bool,
    /// The trap raised by the last instruction that returned [`Step::Trap`].
    pub trap: Trap,
    /// The target of the last instruction that returned [`Step::Jump`].
    pub next_pc: u64,
    /// The MMU: TLBs, fast caches, counters.
    pub mmu: crate::mmu::Mmu,
    /// Fast-cache context of data accesses; 0 when data accesses do not translate.
    pub data_key: u64,
    /// Fast-cache context of fetches; 0 when fetches do not translate.
    pub fetch_key: u64,
}

impl Hart {
    /// A hart in its reset state: M-mode, pc = `reset_pc`, registers zero, counting time with
    /// the `unit` cost model until the machine installs another.
    pub fn new(reset_pc: u64, hart_id: u64) -> Self {
        Self {
            x: [0; 64],
            f: [0; 32],
            pc: reset_pc,
            privilege: Privilege::Machine,
            csr: Csrs::new(hart_id),
            icycles: 0,
            stall_cycles: 0,
            timing: crate::timing::Timing::unit(),
            instret: 0,
            reservation: u64::MAX,
            irq_check: true,
            waiting: false,
            commit: crate::trace::Commit::default(),
            tracing: false,
            trap: Trap::new(trap::Exception::IllegalInstruction, 0),
            next_pc: reset_pc,
            mmu: crate::mmu::Mmu::new(crate::mmu::MmuConfig::default()),
            data_key: 0,
            fetch_key: 0,
        }
    }

    /// Cycles elapsed: drives `mcycle`, `cycle` and, through the CLINT, `mtime`. TLB hits are
    /// charged here, from the TLBs' exact counters, so the fast path pays nothing for them.
    #[inline(always)]
    pub fn cycle(&self) -> u64 {
        let hits = self.mmu.itlb.counters.hits + self.mmu.dtlb.counters.hits;
        self.icycles
            .wrapping_add(self.stall_cycles)
            .wrapping_add(hits.wrapping_mul(self.timing.tlb_hit as u64))
    }
}
