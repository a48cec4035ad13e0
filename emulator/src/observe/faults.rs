//! The fault accountant: an [`Observer`] that follows every page fault a user program takes
//! from its trap into S-mode to the `sret` that ends the handler, and measures it.
//!
//! - A fault starts with the faulting instruction's attempt: the hardware walk that found no
//!   usable PTE (when a walk raised it), then the trap. The handler's *segment* runs from the
//!   trap to the `sret` that ends it (its cost included). Everything in between belongs to the
//!   fault: the kernel's instructions, firmware calls and interrupts taken inside (counted as
//!   nested traps), walks, disk requests submitted.
//! - The fault ends when the faulting instruction retires on its retry: the retry's walks
//!   belong to the fault, its own class cost does not. So a program that reads `cycle` just
//!   before and just after a faulting store sees the first `rdcycle`'s cost, the fault's
//!   cycles and the store's cost. (When something else runs before the retry, an interrupt
//!   or another process, the fault ends at its `sret`.)
//! - The kernel reports the fault's kind and pid through the fault-trace channel before it
//!   returns ([`crate::devices::fault_trace`]).
//! - When the kernel reports a wait, the process is blocked and runs the faulting instruction
//!   again later: the next fault taken in the same address space (`satp`) at the same pc
//!   continues the record. The time between is the fault's wait, and so is time the hart
//!   spends in `wfi` inside a segment; neither is attributed to a kernel function.
//! - Kernel functions: each retired instruction inside a segment adds the cycles since the
//!   previous one (its own cost, walks, MMIO, the trap entry for the first) to the function
//!   holding its pc; instructions in M-mode count as `[firmware]`.
//! - Nothing a guest does makes the arithmetic fail: a guest-requested reset starts the
//!   hart's counters again, and differences then saturate at 0 rather than wrap.

use std::collections::{BTreeMap, HashMap};

use super::symbols::Symbols;
use super::{FaultAccess, FaultProfile, FaultRecord};
use crate::bus::Bus;
use crate::devices::{FaultKind, TraceEvent};
use crate::hart::decode::{Insn, Op};
use crate::hart::{Hart, Privilege};
use crate::mmu::FaultWalk;
use crate::trace::Observer;

/// Where cycles in M-mode go in the function attribution.
pub const FIRMWARE: &str = "[firmware]";
/// Where cycles at pcs outside any kernel symbol go.
pub const UNKNOWN: &str = "[unknown]";
/// Where the hardware walks of the faulting attempt and of the retry go.
pub const WALKS: &str = "[hardware walk]";
/// Where the cost of taking the trap goes.
pub const TRAP_ENTRY: &str = "[trap entry]";

const FN_FIRMWARE: u32 = u32::MAX;
const FN_UNKNOWN: u32 = u32::MAX - 1;
const FN_WALKS: u32 = u32::MAX - 2;
const FN_TRAP_ENTRY: u32 = u32::MAX - 3;
const FN_NONE: u32 = u32::MAX - 4;

/// MMU counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    instret: u64,
    pte_reads: u64,
    ad_writes: u64,
    tlb_misses: u64,
    disk_requests: u64,
}

/// A fault being measured.
#[derive(Debug, Clone)]
struct Fault {
    record: FaultRecord,
    /// `satp` when it was taken: the address space the retry comes from.
    satp: u64,
    /// The kernel's report for the current segment.
    report: Option<TraceEvent>,
    /// Counters at the start of the current segment, or at its end while retrying.
    mark: Snapshot,
    /// The cycle the last segment ended at (its `sret` retired).
    ended_at: u64,
    /// Cycles per function index (or one of the `FN_` pseudo-functions).
    functions: HashMap<u32, u64>,
}

/// The fault accountant (see the module documentation).
pub struct FaultAccountant {
    symbols: Option<Symbols>,
    /// The fault whose handler runs now.
    open: Option<Fault>,
    /// The fault whose handler has returned, until its instruction retires.
    retrying: Option<Fault>,
    /// Faults whose process waits for the disk.
    waiting: Vec<Fault>,
    records: Vec<FaultRecord>,
    functions: BTreeMap<FaultKind, BTreeMap<String, u64>>,
    taken: u64,
    last_cycle: u64,
    /// The function the open fault's handler is in, and the cycles it has had since it
    /// entered it (added to the fault's functions when it leaves).
    run_fn: u32,
    run_cycles: u64,
    /// The last function found, as `(start, end, index)`: the next pc is usually in it.
    last_range: (u64, u64, u32),
    /// The pid the kernel last reported for each address space (`satp`), for faults it did
    /// not report.
    pids: HashMap<u64, u32>,
    disk_requests: u64,
    stray_events: u64,
}

impl FaultAccountant {
    /// An accountant that names kernel functions from `symbols`, when given.
    pub fn new(symbols: Option<Symbols>) -> Self {
        Self {
            symbols,
            open: None,
            retrying: None,
            waiting: Vec::new(),
            records: Vec::new(),
            functions: BTreeMap::new(),
            taken: 0,
            last_cycle: 0,
            run_fn: FN_NONE,
            run_cycles: 0,
            last_range: (0, 0, FN_NONE),
            pids: HashMap::new(),
            disk_requests: 0,
            stray_events: 0,
        }
    }

    /// Turns on the fault-trace channel's queue: call before the run.
    pub fn attach(&mut self, bus: &mut Bus) {
        bus.fault_trace.set_recording(true);
        self.disk_requests = disk_requests(bus);
    }

    /// Ends the accounting: a fault still being handled or waiting is kept (unreported
    /// unless the kernel had reported it); the records come out in the order the faults
    /// were first taken.
    pub fn finish(mut self, hart: &Hart) -> FaultProfile {
        if self.stray_events > 0 {
            log::warn!(
                "fault-trace: {} events outside a fault or of an unknown kind ignored",
                self.stray_events
            );
        }
        let now = hart.cycle();
        self.flush_run();
        if let Some(mut f) = self.open.take() {
            let mark = self.snapshot(hart);
            end_segment(&mut f, &mark);
            self.finalize(f, now);
        }
        if let Some(f) = self.retrying.take() {
            let end = f.ended_at;
            self.finalize(f, end);
        }
        for mut f in std::mem::take(&mut self.waiting) {
            f.record.wait_cycles += now.saturating_sub(f.ended_at);
            f.report = None;
            self.finalize(f, now);
        }
        self.records.sort_by_key(|r| r.n);
        FaultProfile {
            records: self.records,
            functions: self.functions,
            symbols: self.symbols.is_some(),
        }
    }

    fn snapshot(&self, hart: &Hart) -> Snapshot {
        Snapshot {
            instret: hart.instret(),
            pte_reads: hart.mmu.counters.pte_reads,
            ad_writes: hart.mmu.counters.ad_writes,
            tlb_misses: hart.mmu.itlb.counters.misses + hart.mmu.dtlb.counters.misses,
            disk_requests: self.disk_requests,
        }
    }

    fn start(&mut self, hart: &Hart, cause: u64, tval: u64, pc: u64) {
        let access = match cause {
            12 => FaultAccess::Fetch,
            13 => FaultAccess::Load,
            _ => FaultAccess::Store,
        };
        // The walk that raised the fault, if one did, is the fault's first cost.
        let walk = faulting_walk(hart, tval);
        let walk_cycles = walk.map_or(0, |w| w.cycles);
        let now = hart.cycle();
        let begin = now.saturating_sub(walk_cycles);
        let satp = hart.csr.satp;
        // A fault of this address space that waits: a fault at the same pc on the same page
        // resumes it. One at the same pc on another page (the retried instruction's text,
        // evicted meanwhile) is a fault of its own, and the wait goes on; one elsewhere means
        // the process went on without it.
        let mut resumed = None;
        let mut i = 0;
        while i < self.waiting.len() {
            let w = &self.waiting[i];
            if w.satp != satp {
                i += 1;
            } else if w.record.pc != pc {
                let stale = self.waiting.swap_remove(i);
                self.abandon(stale, begin);
            } else if w.record.va >> 12 == tval >> 12 {
                resumed = Some(self.waiting.swap_remove(i));
                break;
            } else {
                i += 1;
            }
        }
        let mut fault = match resumed {
            Some(mut f) => {
                f.record.wait_cycles += begin.saturating_sub(f.ended_at);
                f.record.segments += 1;
                f
            }
            None => {
                self.taken += 1;
                Fault {
                    record: FaultRecord {
                        n: self.taken,
                        pid: 0,
                        kind: FaultKind::Unreported,
                        major: false,
                        va: tval,
                        pc,
                        access,
                        start_cycle: begin,
                        cycles: 0,
                        instructions: 0,
                        pte_reads: 0,
                        tlb_misses: 0,
                        disk_requests: 0,
                        wait_cycles: 0,
                        nested_traps: 0,
                        segments: 1,
                    },
                    satp,
                    report: None,
                    mark: Snapshot::default(),
                    ended_at: 0,
                    functions: HashMap::new(),
                }
            }
        };
        if let Some(w) = walk {
            fault.record.pte_reads += w.pte_reads;
            fault.record.tlb_misses += 1;
            *fault.functions.entry(FN_WALKS).or_default() += w.cycles;
        }
        let entry = hart.timing.trap_entry as u64;
        *fault.functions.entry(FN_TRAP_ENTRY).or_default() += entry;
        fault.report = None;
        fault.mark = self.snapshot(hart);
        self.last_cycle = now + entry;
        self.open = Some(fault);
    }

    /// A process that waited and then went on without faulting again at the same place: its
    /// fault never completed.
    fn abandon(&mut self, mut f: Fault, now: u64) {
        f.record.wait_cycles += now.saturating_sub(f.ended_at);
        f.report = None;
        self.finalize(f, now);
    }

    /// Adds the current function's cycles to the open fault.
    fn flush_run(&mut self) {
        if let Some(f) = self.open.as_mut()
            && self.run_fn != FN_NONE
        {
            *f.functions.entry(self.run_fn).or_default() += self.run_cycles;
        }
        self.run_fn = FN_NONE;
        self.run_cycles = 0;
    }

    /// The `sret` that ends the current segment has retired.
    fn end_handler(&mut self, hart: &Hart) {
        self.flush_run();
        let Some(mut f) = self.open.take() else {
            return;
        };
        let mark = self.snapshot(hart);
        end_segment(&mut f, &mark);
        f.ended_at = hart.cycle();
        f.mark = mark;
        match f.report {
            Some(TraceEvent::Wait { pid, .. }) => {
                f.record.pid = pid;
                self.waiting.push(f);
            }
            _ => self.retrying = Some(f),
        }
    }

    /// The faulting instruction retired on its retry: its walks join the fault.
    /// When the retry faulted again (`next`, the walk that raised the new fault), the walks
    /// before that one are still the first fault's.
    fn end_retry(&mut self, mut f: Fault, hart: &Hart, next: Option<FaultWalk>) {
        let now = self.snapshot(hart);
        let t = &hart.timing;
        let (next_misses, next_reads, next_cycles) =
            next.map_or((0, 0, 0), |w| (1, w.pte_reads, w.cycles));
        let all_misses = now.tlb_misses.saturating_sub(f.mark.tlb_misses);
        let all_reads = now.pte_reads.saturating_sub(f.mark.pte_reads);
        let all_writes = now.ad_writes.saturating_sub(f.mark.ad_writes);
        let walks = (all_misses * t.tlb_miss as u64
            + all_reads * t.pte_read as u64
            + all_writes * t.ad_write as u64)
            .saturating_sub(next_cycles);
        let misses = all_misses.saturating_sub(next_misses);
        let pte_reads = all_reads.saturating_sub(next_reads);
        f.record.tlb_misses += misses;
        f.record.pte_reads += pte_reads;
        if walks > 0 {
            *f.functions.entry(FN_WALKS).or_default() += walks;
        }
        let end = f.ended_at + walks;
        self.finalize(f, end);
    }

    fn finalize(&mut self, mut f: Fault, end: u64) {
        let r = &mut f.record;
        r.cycles = end.saturating_sub(r.start_cycle);
        match f.report {
            Some(TraceEvent::Done { kind, major, pid }) => {
                r.kind = kind;
                r.major = major;
                r.pid = pid;
            }
            _ => {
                r.kind = FaultKind::Unreported;
                if r.pid == 0 {
                    r.pid = self.pids.get(&f.satp).copied().unwrap_or(0);
                }
            }
        }
        if let Some(symbols) = &self.symbols {
            let per_kind = self.functions.entry(r.kind).or_default();
            for (&index, &cycles) in &f.functions {
                let name = match index {
                    FN_FIRMWARE => FIRMWARE,
                    FN_UNKNOWN => UNKNOWN,
                    FN_WALKS => WALKS,
                    FN_TRAP_ENTRY => TRAP_ENTRY,
                    i => symbols.name(i),
                };
                *per_kind.entry(name.to_owned()).or_default() += cycles;
            }
        }
        self.records.push(f.record);
    }
}

/// Adds a segment's counts, from its start mark to `now`, to the record.
fn end_segment(f: &mut Fault, now: &Snapshot) {
    let r = &mut f.record;
    r.instructions += now.instret.saturating_sub(f.mark.instret);
    r.pte_reads += now.pte_reads.saturating_sub(f.mark.pte_reads);
    r.tlb_misses += now.tlb_misses.saturating_sub(f.mark.tlb_misses);
    r.disk_requests += now.disk_requests.saturating_sub(f.mark.disk_requests);
}

/// The walk that raised the page fault at `tval` being taken now, if a walk raised it.
fn faulting_walk(hart: &Hart, tval: u64) -> Option<FaultWalk> {
    hart.mmu
        .fault_walk
        .filter(|w| w.instret == hart.instret() && w.vaddr >> 12 == tval >> 12)
}

fn disk_requests(bus: &Bus) -> u64 {
    bus.disk.as_ref().map_or(0, |d| d.stats().requests)
}

/// Whether `cause` is a page fault the kernel handles for a user program.
fn is_user_page_fault(hart: &Hart, cause: u64) -> bool {
    matches!(cause, 12 | 13 | 15)
        && hart.privilege == Privilege::User
        && (hart.csr.medeleg >> cause) & 1 != 0
}

impl Observer for FaultAccountant {
    const ACTIVE: bool = true;
    const COMMITS: bool = false;

    /// Instructions matter only inside a fault, before a retry, or while a process waits
    /// (whose retry may go through without a fault). These states begin and end at traps,
    /// `sret` and MMIO, which all end blocks.
    fn wants_retires(&self) -> bool {
        self.open.is_some() || self.retrying.is_some() || !self.waiting.is_empty()
    }

    fn retire(&mut self, hart: &Hart, privilege: Privilege, pc: u64, insn: &Insn) {
        if let Some(f) = self.open.as_mut() {
            if let Some(symbols) = &self.symbols {
                let now = hart.cycle();
                let index = if privilege == Privilege::Machine {
                    FN_FIRMWARE
                } else if (self.last_range.0..self.last_range.1).contains(&pc) {
                    self.last_range.2
                } else if let Some(range) = symbols.lookup_range(pc) {
                    self.last_range = range;
                    range.2
                } else {
                    FN_UNKNOWN
                };
                let delta = now.saturating_sub(self.last_cycle);
                self.last_cycle = now;
                if index == self.run_fn {
                    self.run_cycles += delta;
                } else {
                    if self.run_fn != FN_NONE {
                        *f.functions.entry(self.run_fn).or_default() += self.run_cycles;
                    }
                    self.run_fn = index;
                    self.run_cycles = delta;
                }
            }
            if insn.op == Op::Sret && privilege == Privilege::Supervisor {
                self.end_handler(hart);
            }
            return;
        }
        if privilege != Privilege::User {
            return;
        }
        if let Some(f) = self.retrying.take() {
            if f.record.pc == pc && f.satp == hart.csr.satp {
                self.end_retry(f, hart, None);
            } else {
                let end = f.ended_at;
                self.finalize(f, end);
            }
        }
        if !self.waiting.is_empty() {
            let satp = hart.csr.satp;
            if let Some(i) = self
                .waiting
                .iter()
                .position(|f| f.satp == satp && f.record.pc == pc)
            {
                let f = self.waiting.swap_remove(i);
                self.abandon(f, hart.cycle());
            }
        }
    }

    fn trap(&mut self, hart: &Hart, cause: u64, tval: u64, pc: u64) {
        if let Some(f) = self.open.as_mut() {
            f.record.nested_traps += 1;
            return;
        }
        if let Some(f) = self.retrying.take() {
            if is_user_page_fault(hart, cause) && f.satp == hart.csr.satp && f.record.pc == pc {
                // The retry faulted again, on another page.
                self.end_retry(f, hart, faulting_walk(hart, tval));
            } else {
                // Something came before the retry: the fault ends at its sret.
                let end = f.ended_at;
                self.finalize(f, end);
            }
        }
        if is_user_page_fault(hart, cause) {
            self.start(hart, cause, tval, pc);
        }
    }

    fn waited(&mut self, _hart: &Hart, cycles: u64) {
        if let Some(f) = self.open.as_mut() {
            f.record.wait_cycles += cycles;
            self.last_cycle += cycles;
        }
    }

    fn synced(&mut self, _hart: &Hart, bus: &mut Bus) {
        self.disk_requests = disk_requests(bus);
        if !bus.fault_trace.has_events() {
            return;
        }
        for (_, value) in bus.fault_trace.take_events() {
            match (TraceEvent::decode(value), self.open.as_mut()) {
                (TraceEvent::Unknown(_), _) | (_, None) => self.stray_events += 1,
                (event, Some(f)) => {
                    if let TraceEvent::Done { pid, .. } | TraceEvent::Wait { pid, .. } = event {
                        self.pids.insert(f.satp, pid);
                    }
                    f.report = Some(event);
                }
            }
        }
    }
}
