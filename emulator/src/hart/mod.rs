//! One RV64GC hart: architectural state, instruction execution by family, CSRs and traps.
//!
//! - [`decode`]: bits to [`decode::Insn`];
//! - `exec`: the integer, multiply, atomic, memory and system families;
//! - [`float`]: F and D, exact through Berkeley SoftFloat with RISC-V NaN rules;
//! - [`csr`]: the CSR file and its access rules;
//! - [`trap`]: exception and interrupt delivery.

pub mod csr;
pub mod decode;
pub mod disasm;
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
    /// Class cycles of the instructions retired before the current block.
    pub base_icycles: u64,
    /// Cycles charged outside the instruction classes: taken branches, TLB misses and walks,
    /// traps, MMIO, time waiting in `wfi`.
    pub stall_cycles: u64,
    /// The cost model.
    pub timing: crate::timing::Timing,
    /// Instructions retired before the current block.
    pub base_instret: u64,
    /// Progress within the current block: instructions retired in it (high 32 bits) and
    /// their class cycles (low 32 bits). The run loop stores the decoded instruction's
    /// precomputed value after each one, one store for both counters.
    pub progress: u64,
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
    /// Loads (and AMOs) that reached a device or the boot ROM rather than RAM.
    pub device_reads: u64,
    /// The physical address of the last of them.
    pub last_device_read: u64,
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
            base_icycles: 0,
            stall_cycles: 0,
            timing: crate::timing::Timing::unit(),
            base_instret: 0,
            progress: 0,
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
            device_reads: 0,
            last_device_read: 0,
        }
    }

    /// Instructions retired (drives `minstret`).
    #[inline(always)]
    pub fn instret(&self) -> u64 {
        self.base_instret.wrapping_add(self.progress >> 32)
    }

    /// Cycles charged by instruction class to the instructions retired so far.
    #[inline(always)]
    pub fn icycles(&self) -> u64 {
        self.base_icycles.wrapping_add(self.progress & 0xffff_ffff)
    }

    /// Folds the current block's progress into the totals (at every block end).
    #[inline(always)]
    pub fn settle(&mut self) {
        self.base_instret = self.instret();
        self.base_icycles = self.icycles();
        self.progress = 0;
    }

    /// Counts one instruction retired outside a decoded block, of class cost `cost`.
    pub fn retire_one(&mut self, cost: u32) {
        self.settle();
        self.base_instret += 1;
        self.base_icycles += cost as u64;
    }

    /// Cycles elapsed: drives `mcycle`, `cycle` and, through the CLINT, `mtime`. TLB hits are
    /// charged here, from the TLBs' exact counters, so the fast path pays nothing for them.
    #[inline(always)]
    pub fn cycle(&self) -> u64 {
        let cycles = self.icycles().wrapping_add(self.stall_cycles);
        if self.timing.tlb_hit == 0 {
            return cycles;
        }
        let hits = self.mmu.itlb.counters.hits + self.mmu.dtlb.counters.hits;
        cycles.wrapping_add(hits.wrapping_mul(self.timing.tlb_hit as u64))
    }
}
