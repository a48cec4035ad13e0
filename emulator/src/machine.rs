//! The machine: one hart, the bus, and the decoded-block cache, with the run loop.
//!
//! The hot path: at a block boundary, check for interrupts only when something could have
//! changed them (a device event is due, or a CSR write / xRET / MMIO asked for a re-check),
//! translate the pc, find the decoded block for the physical pc (a direct-mapped jump cache
//! in front of a hash map), and run its instructions in a tight loop. Blocks end at control
//! transfers, system instructions and page boundaries, so a block never spans two pages.

use std::collections::HashMap;

use crate::bus::{Bus, ExitRequest};
use crate::hart::decode::{self, Insn};
use crate::hart::{HANDLERS, Handler, Hart, Step, Trap};
use crate::trace::Observer;

/// Most instructions in one decoded block.
const MAX_BLOCK: usize = 64;
/// Jump-cache slots (direct-mapped on the physical pc).
const JUMP_SLOTS: usize = 1 << 12;
/// Drop all decoded blocks once the arena holds this many instructions.
const ARENA_LIMIT: usize = 1 << 22;

/// A decoded instruction with the handler that executes it and its cost.
#[derive(Clone, Copy)]
struct Decoded {
    handler: Handler,
    insn: Insn,
    /// The block's progress once this instruction retires: instructions (high 32 bits) and
    /// their class cycles (low 32 bits) from the block's start.
    progress: u64,
    /// Extra cycles when this instruction is a taken branch.
    taken_extra: u32,
}

#[derive(Clone, Copy)]
struct Block {
    start: u32,
    len: u32,
}

/// Decoded instructions, grouped in blocks keyed by physical address.
struct BlockCache {
    arena: Vec<Decoded>,
    blocks: Vec<Block>,
    map: HashMap<u64, u32>,
    jump: Vec<(u64, u32)>,
}

impl BlockCache {
    fn new() -> Self {
        Self {
            arena: Vec::new(),
            blocks: Vec::new(),
            map: HashMap::new(),
            jump: vec![(u64::MAX, 0); JUMP_SLOTS],
        }
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.blocks.clear();
        self.map.clear();
        self.jump.fill((u64::MAX, 0));
    }

    #[inline(always)]
    fn lookup(&mut self, paddr: u64) -> Option<u32> {
        let slot = (paddr >> 1) as usize & (JUMP_SLOTS - 1);
        let (tag, id) = self.jump[slot];
        if tag == paddr {
            return Some(id);
        }
        let id = *self.map.get(&paddr)?;
        self.jump[slot] = (paddr, id);
        Some(id)
    }
}

/// Why [`Machine::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The guest powered off with this status (finisher or HTIF).
    Exit(u32),
    /// The instruction budget ran out.
    InstructionLimit,
    /// The hart waits in `wfi` and no interrupt can ever wake it.
    Deadlock,
    /// The hart keeps trapping without retiring an instruction (for example a fault whose
    /// handler address itself faults): the last trap's cause, value and pc.
    TrapLoop {
        /// `xcause` of the last trap.
        cause: u64,
        /// `xtval` of the last trap.
        tval: u64,
        /// The pc that trapped.
        pc: u64,
    },
}

/// Consecutive traps with no instruction retired in between that count as a trap loop.
const TRAP_LOOP_LIMIT: u32 = 10_000;

/// What `--stats` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MachineStats {
    /// Instructions retired.
    pub instructions: u64,
    /// Cycles elapsed.
    pub cycles: u64,
    /// MMU and TLB counters.
    pub mmu: crate::mmu::MmuStats,
    /// The virtio-blk disk's counters, when a disk is attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<crate::devices::DiskStats>,
    /// The guest kernel's own counters (hostio command 5), when it reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<crate::devices::hostio::GuestStats>,
}

impl std::fmt::Display for MachineStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "instructions {}, cycles {}",
            self.instructions, self.cycles
        )?;
        write!(f, "{}", self.mmu)?;
        if let Some(disk) = &self.disk {
            write!(f, "\n{disk}")?;
        }
        if let Some(guest) = &self.guest {
            write!(f, "\n{guest}")?;
        }
        Ok(())
    }
}

/// One hart, its bus and its decoded-block cache.
pub struct Machine {
    /// The hart.
    pub hart: Hart,
    /// The physical address space.
    pub bus: Bus,
    cache: BlockCache,
    /// The cycle at which a device next needs attention.
    next_event: u64,
    /// What a guest-requested reset copies back into RAM (QEMU reloads its ROM blobs).
    reset_images: Vec<crate::loader::Image>,
    /// Traps taken since an instruction last retired, and `instret` at the last trap.
    traps_without_progress: u32,
    instret_at_last_trap: u64,
    trap_loop: Option<RunOutcome>,
}

impl Machine {
    /// A machine whose hart starts at `reset_pc` (the boot ROM normally).
    pub fn new(bus: Bus, reset_pc: u64) -> Self {
        Self {
            hart: Hart::new(reset_pc, 0),
            bus,
            cache: BlockCache::new(),
            next_event: 0,
            reset_images: Vec::new(),
            traps_without_progress: 0,
            instret_at_last_trap: u64::MAX,
            trap_loop: None,
        }
    }

    /// Sets the images a guest-requested reset reloads into RAM, as QEMU does on a system
    /// reset.
    pub fn set_reset_images(&mut self, images: Vec<crate::loader::Image>) {
        self.reset_images = images;
    }

    /// Installs a cost model. Decoded blocks carry their costs, so they are dropped; the disk
    /// takes its latencies from the model too.
    pub fn set_timing(&mut self, timing: crate::timing::Timing) {
        self.hart.timing = timing;
        self.cache.clear();
        self.bus.clear_code_marks();
        if let Some(disk) = &mut self.bus.disk {
            disk.set_timing(timing.disk());
        }
    }

    /// Counters of the run so far.
    pub fn stats(&self) -> MachineStats {
        MachineStats {
            instructions: self.hart.instret(),
            cycles: self.hart.cycle(),
            mmu: self.hart.mmu.stats(),
            disk: self.bus.disk.as_ref().map(|d| d.stats()),
            guest: self.bus.hostio.guest_stats().cloned(),
        }
    }

    /// Runs until the guest exits or `max_instructions` have retired, without observers.
    pub fn run(&mut self, max_instructions: u64) -> RunOutcome {
        self.run_observed(max_instructions, &mut crate::trace::NoObserver)
    }

    /// Runs with an observer that sees every retired instruction and trap.
    pub fn run_observed<O: Observer>(&mut self, max_instructions: u64, obs: &mut O) -> RunOutcome {
        self.hart.tracing = O::COMMITS;
        loop {
            if let Some(req) = self.bus.exit.take() {
                match req {
                    ExitRequest::Exit(code) => {
                        self.bus.uart.flush();
                        return RunOutcome::Exit(code);
                    }
                    ExitRequest::Reset => {
                        self.reset();
                        continue;
                    }
                }
            }
            if self.hart.cycle() >= self.next_event || self.hart.irq_check {
                self.refresh_interrupts();
                if let Some(cause) = self.hart.pending_interrupt() {
                    let pc = self.hart.pc;
                    obs.trap(&self.hart, cause, 0, pc);
                    self.hart.stall_cycles += self.hart.timing.trap_entry as u64;
                    self.hart.pc = self.hart.take_trap(cause, 0, pc);
                }
            }
            if self.hart.waiting && !self.wait_for_interrupt(obs) {
                self.bus.uart.flush();
                return RunOutcome::Deadlock;
            }
            if self.bus.code_written {
                self.cache.clear();
                self.bus.clear_code_marks();
            }
            if let Some(stuck) = self.trap_loop.take() {
                self.bus.uart.flush();
                return stuck;
            }
            let retired = self.hart.instret();
            if retired >= max_instructions {
                self.bus.uart.flush();
                return RunOutcome::InstructionLimit;
            }
            self.run_block(max_instructions - retired, obs);
        }
    }

    /// One step of a lockstep comparison: the instruction at `pc` retires, or raises its
    /// exception and the trap is taken. Interrupts are never taken here: the comparison
    /// injects them where the reference machine took them ([`Machine::inject_interrupt`]).
    /// `wfi` retires at once (the reference says when the interrupt comes). Returns how the
    /// machine stopped, if this step stopped it (a write to the finisher).
    pub fn step_one<O: Observer>(&mut self, obs: &mut O) -> Option<RunOutcome> {
        self.hart.tracing = O::COMMITS;
        if self.hart.cycle() >= self.next_event || self.hart.irq_check {
            // Keeps the device lines (mip) and device events current.
            self.refresh_interrupts();
        }
        self.hart.waiting = false;
        if self.bus.code_written {
            self.cache.clear();
            self.bus.clear_code_marks();
        }
        self.run_block(1, obs);
        self.hart.waiting = false;
        self.trap_loop = None;
        match self.bus.exit.take() {
            Some(ExitRequest::Exit(code)) => {
                self.bus.uart.flush();
                Some(RunOutcome::Exit(code))
            }
            Some(ExitRequest::Reset) => {
                self.reset();
                None
            }
            None => None,
        }
    }

    /// Whether a hart waiting in `wfi` now could ever wake: an interrupt is pending and
    /// enabled in `mie`, or a device has an event scheduled (the rule of `run`'s wait).
    pub fn can_wake(&mut self) -> bool {
        self.refresh_interrupts();
        let c = &self.hart.csr;
        c.mip() & c.mie != 0 || self.next_event != u64::MAX
    }

    /// Takes interrupt `cause` (an `xcause` value, interrupt bit set) now, at `pc`, whether
    /// or not it is pending here: the lockstep comparison's way of taking an interrupt at
    /// the instruction where the reference machine took it.
    pub fn inject_interrupt<O: Observer>(&mut self, cause: u64, obs: &mut O) {
        let pc = self.hart.pc;
        obs.trap(&self.hart, cause, 0, pc);
        self.hart.stall_cycles += self.hart.timing.trap_entry as u64;
        self.hart.pc = self.hart.take_trap(cause, 0, pc);
    }

    /// Re-reads the device interrupt lines into `mip` and schedules the next device event.
    fn refresh_interrupts(&mut self) {
        self.hart.csr.mip_hw = self.bus.hardware_mip(self.hart.cycle());
        self.next_event = self.bus.next_event_cycle();
        self.hart.irq_check = false;
    }

    /// The hart is in `wfi`: let time pass until an interrupt is pending (whether or not it
    /// is globally enabled, as the spec requires). Returns `false` if none can ever come.
    fn wait_for_interrupt<O: Observer>(&mut self, obs: &mut O) -> bool {
        let start = self.hart.cycle();
        loop {
            self.refresh_interrupts();
            let c = &self.hart.csr;
            if c.mip() & c.mie != 0 {
                self.hart.waiting = false;
                self.hart.irq_check = true;
                obs.waited(&self.hart, self.hart.cycle() - start);
                return true;
            }
            if self.next_event == u64::MAX {
                // Nothing is scheduled; only interactive input could still arrive.
                if !self.bus.uart.wait_input() {
                    return false;
                }
                continue;
            }
            // Time passes in the wait: jump straight to the next device event.
            let now = self.hart.cycle();
            if self.next_event > now {
                self.hart.stall_cycles += self.next_event - now;
            }
        }
    }

    /// A guest-requested reset: the hart restarts at the boot ROM with RAM reloaded.
    fn reset(&mut self) {
        log::info!("guest requested a reset");
        let cycle = self.hart.cycle();
        let mmu_config = self.hart.mmu.config;
        let timing = self.hart.timing;
        self.hart = Hart::new(crate::layout::BOOTROM_BASE, 0);
        self.hart.mmu = crate::mmu::Mmu::new(mmu_config);
        self.hart.timing = timing;
        // Time keeps running across a reset, as on hardware.
        self.hart.stall_cycles = cycle;
        self.cache.clear();
        self.bus.clear_code_marks();
        // The disk forgets its driver, as QEMU resets its devices; its contents stay.
        if let Some(disk) = &mut self.bus.disk {
            disk.reset();
        }
        for img in &self.reset_images {
            crate::loader::place(img, &mut self.bus.ram);
        }
    }

    /// Fetches, decodes if needed, and runs one block of at most `budget` instructions.
    #[inline(always)]
    fn run_block<O: Observer>(&mut self, budget: u64, obs: &mut O) {
        let pc = self.hart.pc;
        let paddr = match self.hart.translate_fetch(&mut self.bus, pc) {
            Ok(p) => p,
            Err(trap) => return self.deliver(trap, pc, obs),
        };
        let id = match self.cache.lookup(paddr) {
            Some(id) => id,
            None => match self.build_block(pc, paddr) {
                Ok(Some(id)) => id,
                Ok(None) => return self.run_straddling(pc, obs),
                Err(trap) => return self.deliver(trap, pc, obs),
            },
        };
        let Block { start, len } = self.cache.blocks[id as usize];
        let n = (len as u64).min(budget) as usize;
        let insns = &self.cache.arena[start as usize..start as usize + n];
        let hart = &mut self.hart;
        let bus = &mut self.bus;
        let mut pc = pc;
        // After each instruction the loop stores its precomputed block progress (count and
        // class cycles, never re-loaded), so CSR reads and MMIO inside the block see exact
        // counters without a memory dependency from one instruction to the next.
        debug_assert_eq!(hart.progress, 0);
        let observe = O::ACTIVE && obs.wants_retires();
        let mut last = Step::Next;
        for d in insns {
            let insn = &d.insn;
            if O::COMMITS {
                hart.commit = Default::default();
            }
            let privilege = hart.privilege;
            let step = (d.handler)(hart, insn, pc, bus);
            if step == Step::Trap {
                last = step;
                break;
            }
            hart.progress = d.progress;
            if step != Step::Next {
                if step == Step::Jump {
                    // Only a conditional branch has a taken_extra, and it jumps when taken.
                    hart.stall_cycles += d.taken_extra as u64;
                }
                if observe {
                    obs.retire(hart, privilege, pc, insn);
                }
                pc = if step == Step::Jump {
                    hart.next_pc
                } else {
                    pc.wrapping_add(insn.len as u64)
                };
                last = step;
                break;
            }
            if observe {
                obs.retire(hart, privilege, pc, insn);
            }
            pc = pc.wrapping_add(insn.len as u64);
        }
        self.hart.pc = pc;
        self.hart.settle();
        match last {
            Step::Trap => {
                let trap = self.hart.trap;
                self.deliver(trap, pc, obs);
            }
            // A side effect (MMIO, code written, wfi) may have changed an interrupt line.
            Step::Sync => {
                self.hart.irq_check = true;
                if O::ACTIVE {
                    obs.synced(&self.hart, &mut self.bus);
                }
            }
            _ => {}
        }
    }

    /// Delivers a synchronous trap raised by the instruction at `pc`.
    #[cold]
    fn deliver<O: Observer>(&mut self, trap: Trap, pc: u64, obs: &mut O) {
        let cause = trap.cause as u64;
        obs.trap(&self.hart, cause, trap.tval, pc);
        if self.hart.instret() == self.instret_at_last_trap {
            self.traps_without_progress += 1;
            if self.traps_without_progress >= TRAP_LOOP_LIMIT {
                self.trap_loop = Some(RunOutcome::TrapLoop {
                    cause,
                    tval: trap.tval,
                    pc,
                });
            }
        } else {
            self.traps_without_progress = 0;
            self.instret_at_last_trap = self.hart.instret();
        }
        // The trapping instruction does not retire: it costs the trap alone.
        self.hart.stall_cycles += self.hart.timing.trap_entry as u64;
        self.hart.pc = self.hart.take_trap(cause, trap.tval, pc);
    }

    /// Decodes the block at virtual `pc` / physical `paddr`. `Ok(None)` means the first
    /// instruction straddles a page boundary and must be fetched in two halves.
    #[cold]
    fn build_block(&mut self, pc: u64, paddr: u64) -> Result<Option<u32>, Trap> {
        use crate::hart::trap::Exception;
        if self.cache.arena.len() >= ARENA_LIMIT {
            self.cache.clear();
            self.bus.clear_code_marks();
        }
        let window = self
            .bus
            .fetch_window(paddr)
            .ok_or(Trap::new(Exception::InstructionAccessFault, pc))?;
        // Never decode past the end of the 4 KiB page: the next page may map elsewhere.
        let page_left = (4096 - (paddr & 4095)) as usize;
        let window = &window[..window.len().min(page_left)];
        let start = self.cache.arena.len();
        // Under --tlb-check every instruction is its own block, so `hart.pc` is exact when a
        // stale hit is reported.
        let max_block = if self.hart.mmu.config.tlb_check {
            1
        } else {
            MAX_BLOCK
        };
        let timing = self.hart.timing;
        let mut cum_cost = 0u64;
        let mut off = 0usize;
        while off + 2 <= window.len() {
            let low = u16::from_le_bytes([window[off], window[off + 1]]);
            let raw = if decode::insn_len(low) == 4 {
                if off + 4 > window.len() {
                    break; // straddles the page (or the end of memory)
                }
                u32::from_le_bytes([
                    window[off],
                    window[off + 1],
                    window[off + 2],
                    window[off + 3],
                ])
            } else {
                low as u32
            };
            let insn = decode::decode(raw);
            off += insn.len as usize;
            cum_cost += timing.cost(insn.op) as u64;
            let count = (self.cache.arena.len() - start + 1) as u64;
            self.cache.arena.push(Decoded {
                handler: HANDLERS[insn.op as usize],
                insn,
                progress: count << 32 | cum_cost,
                taken_extra: timing.taken_extra(insn.op),
            });
            if insn.ends_block() || self.cache.arena.len() - start >= max_block {
                break;
            }
        }
        let len = self.cache.arena.len() - start;
        if len == 0 {
            if window.len() >= 2 && page_left < 4 {
                return Ok(None);
            }
            return Err(Trap::new(Exception::InstructionAccessFault, pc));
        }
        let id = self.cache.blocks.len() as u32;
        self.cache.blocks.push(Block {
            start: start as u32,
            len: len as u32,
        });
        self.cache.map.insert(paddr, id);
        self.bus.mark_code(paddr);
        Ok(Some(id))
    }

    /// Runs one 32-bit instruction whose halves lie in two pages: each half is translated
    /// on its own, and a fault on the second reports the second page's address.
    #[cold]
    fn run_straddling<O: Observer>(&mut self, pc: u64, obs: &mut O) {
        let low = match self.hart.fetch_parcel(&mut self.bus, pc) {
            Ok(v) => v,
            Err(t) => return self.deliver(t, pc, obs),
        };
        let high = match self.hart.fetch_parcel(&mut self.bus, pc.wrapping_add(2)) {
            Ok(v) => v,
            Err(t) => return self.deliver(t, pc, obs),
        };
        let insn = decode::decode(low as u32 | (high as u32) << 16);
        if O::COMMITS {
            self.hart.commit = Default::default();
        }
        let privilege = self.hart.privilege;
        match self.hart.execute(&insn, pc, &mut self.bus) {
            Step::Trap => {
                let trap = self.hart.trap;
                self.deliver(trap, pc, obs);
            }
            step => {
                let timing = self.hart.timing;
                self.hart.retire_one(timing.cost(insn.op));
                self.hart.pc = match step {
                    Step::Jump => {
                        self.hart.stall_cycles += timing.taken_extra(insn.op) as u64;
                        self.hart.next_pc
                    }
                    _ => pc.wrapping_add(4),
                };
                obs.retire(&self.hart, privilege, pc, &insn);
            }
        }
    }
}
