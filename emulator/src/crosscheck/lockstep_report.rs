//! What a lockstep comparison found, and how it reads: one summary line and the
//! synchronisation counts when the machines agree; otherwise the step, the differing state
//! and the last [`super::lockstep::HISTORY`] steps of each side.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::Status;
use super::lockstep_rules::Known;
use super::qemu_log::{CSR_NAMES, CpuState, csr};
use crate::hart::decode::Insn;
use crate::hart::disasm::{F_NAMES, X_NAMES};

/// One field of the compared state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The program counter.
    Pc,
    /// The privilege mode.
    Privilege,
    /// An integer register.
    X(u8),
    /// A floating-point register.
    F(u8),
    /// A CSR, by its index in [`CSR_NAMES`].
    Csr(usize),
}

impl Field {
    /// Its value in `s`.
    pub fn get(self, s: &CpuState) -> u64 {
        match self {
            Field::Pc => s.pc,
            Field::Privilege => s.privilege as u64,
            Field::X(i) => s.x[i as usize],
            Field::F(i) => s.f[i as usize],
            Field::Csr(i) => s.csr[i],
        }
    }

    /// Its name, as a commit log or QEMU's dump names it (`a0`, `fa0`, `mstatus`).
    pub fn name(self) -> String {
        match self {
            Field::Pc => "pc".into(),
            Field::Privilege => "privilege".into(),
            Field::X(i) => X_NAMES[i as usize].into(),
            Field::F(i) => F_NAMES[i as usize].into(),
            Field::Csr(i) => CSR_NAMES[i].into(),
        }
    }

    /// `value` as this field shows it: a mode letter, or hexadecimal.
    pub fn show(self, value: u64) -> String {
        match self {
            Field::Privilege => mode_letter(value as u8).to_string(),
            _ => format!("{value:#018x}"),
        }
    }
}

/// `M`, `S`, `U` (or `?`).
pub fn mode_letter(privilege: u8) -> char {
    match privilege {
        0 => 'U',
        1 => 'S',
        3 => 'M',
        _ => '?',
    }
}

/// One compared step: the instruction, and both machines' states before and after it.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// 1-based step number.
    pub step: u64,
    /// Where the step started (the same on both sides: it was compared).
    pub pc: u64,
    /// The mode it started in.
    pub privilege: u8,
    /// The instruction there, if it could be fetched.
    pub insn: Option<Insn>,
    /// sv39 before and after.
    pub sv39: CpuState,
    /// sv39 after the step, synchronisations included.
    pub sv39_after: CpuState,
    /// QEMU before.
    pub qemu: CpuState,
    /// QEMU after.
    pub qemu_after: CpuState,
    /// The trap sv39 took in the step (`xcause`), if it took one.
    pub trap: Option<u64>,
    /// Whether sv39 hit a stale TLB entry in the step.
    pub stale: bool,
    /// What the comparison did at this step (synchronisations, injections, known differences).
    pub notes: Vec<String>,
}

/// The synchronisations made, by kind.
#[derive(Debug, Clone, Default)]
pub struct Syncs {
    /// CSR reads of counters, `mip` and `sip`.
    pub counter_reads: u64,
    /// ... of which the values differed.
    pub counter_changed: u64,
    /// Loads from device registers.
    pub mmio_reads: u64,
    /// ... of which the values differed.
    pub mmio_changed: u64,
    /// Interrupts taken where QEMU took them.
    pub interrupts: u64,
    /// States QEMU dumped twice (an instruction it abandoned and ran again).
    pub qemu_repeats: u64,
    /// Known differences, and how often QEMU's state was adopted for each.
    pub known: BTreeMap<Known, u64>,
}

/// How a comparison ended.
#[derive(Debug, Clone)]
pub enum End {
    /// Both machines powered off with the same status.
    Exited {
        /// sv39's status.
        sv39: i32,
        /// QEMU's.
        qemu: Status,
    },
    /// Both powered off at the same instruction, with different statuses.
    StatusDiffers {
        /// sv39's status.
        sv39: i32,
        /// QEMU's.
        qemu: Status,
    },
    /// `--max-instructions` steps agreed.
    Limit,
    /// `--until-user`: the first user-mode instruction was reached, at `pc`.
    FirstUser {
        /// Its address.
        pc: u64,
    },
    /// Both machines wait in `wfi` at `pc` for an interrupt that can never come (QEMU
    /// produced no state for the idle limit; sv39 has nothing that could wake it).
    BothWait {
        /// The `wfi`'s address.
        pc: u64,
    },
    /// QEMU produced no state at all.
    NoStates,
    /// The machines parted ways.
    Diverged(Box<Divergence>),
}

/// Where and how the machines parted ways.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// The step after which the states differ (0: before the first instruction).
    pub step: u64,
    /// sv39's instructions retired by then.
    pub instret: u64,
    /// What happened, in words.
    pub what: String,
    /// Each differing field with QEMU's and sv39's values.
    pub fields: Vec<(Field, u64, u64)>,
    /// The last steps, oldest first, the divergent one last.
    pub history: Vec<StepRecord>,
}

/// A lockstep comparison's result.
#[derive(Debug, Clone)]
pub struct LockstepReport {
    /// Steps compared (instructions retired plus exceptions taken).
    pub steps: u64,
    /// Instructions sv39 retired.
    pub instret: u64,
    /// Host time the comparison took (for the speed shown; never seen by the guest).
    pub elapsed: Duration,
    /// Synchronisations.
    pub syncs: Syncs,
    /// How it ended.
    pub end: End,
    /// QEMU's messages (its stderr, and log lines that were not state dumps).
    pub qemu_messages: Vec<String>,
}

impl LockstepReport {
    /// Whether the machines agreed over the whole comparison.
    pub fn agrees(&self) -> bool {
        matches!(
            self.end,
            End::Exited { .. } | End::Limit | End::FirstUser { .. } | End::BothWait { .. }
        )
    }

    /// Steps compared per second of host time.
    pub fn speed(&self) -> u64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.steps as f64 / secs) as u64
        } else {
            0
        }
    }
}

impl fmt::Display for LockstepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compared = format!(
            "{} instructions compared in {:.1} s, {} per second",
            self.steps,
            self.elapsed.as_secs_f64(),
            self.speed()
        );
        match &self.end {
            End::Exited { sv39, .. } => writeln!(
                f,
                "crosscheck: agree (lockstep: {compared}; both powered off, status {sv39})"
            )?,
            End::Limit => writeln!(
                f,
                "crosscheck: agree (lockstep: {compared}; stopped at --max-instructions)"
            )?,
            End::BothWait { pc } => writeln!(
                f,
                "crosscheck: agree (lockstep: {compared}; both wait in wfi at pc {pc:#x} for an interrupt that can never come)"
            )?,
            End::FirstUser { pc } => writeln!(
                f,
                "crosscheck: agree (lockstep: {compared}; stopped at the first user-mode instruction, pc {pc:#x})"
            )?,
            End::StatusDiffers { sv39, qemu } => writeln!(
                f,
                "crosscheck: differ (lockstep: {compared}; both powered off at the same instruction, but sv39's status is {sv39} and QEMU's {qemu})"
            )?,
            End::NoStates => {
                writeln!(
                    f,
                    "crosscheck: no comparison: QEMU produced no CPU state (is it QEMU 7.2?)"
                )?;
                for m in &self.qemu_messages {
                    writeln!(f, "  qemu: {m}")?;
                }
                return Ok(());
            }
            End::Diverged(d) => {
                write_divergence(f, d)?;
                writeln!(f, "before it: {compared}")?;
            }
        }
        write_syncs(f, &self.syncs)?;
        if !self.agrees() {
            for m in self.qemu_messages.iter().take(10) {
                writeln!(f, "  qemu: {m}")?;
            }
        }
        Ok(())
    }
}

fn write_syncs(f: &mut fmt::Formatter<'_>, s: &Syncs) -> fmt::Result {
    writeln!(
        f,
        "synchronised: {} counter reads ({} differed), {} MMIO reads ({} differed), {} interrupts injected; {} QEMU states repeated (an instruction -icount ran again, or a jump to itself)",
        s.counter_reads,
        s.counter_changed,
        s.mmio_reads,
        s.mmio_changed,
        s.interrupts,
        s.qemu_repeats
    )?;
    if s.known.is_empty() {
        return writeln!(f, "known differences: none");
    }
    writeln!(f, "known differences (QEMU's state adopted):")?;
    for (known, count) in &s.known {
        writeln!(f, "  {count} x {}: {}", known.name, known.why)?;
    }
    Ok(())
}

fn write_divergence(f: &mut fmt::Formatter<'_>, d: &Divergence) -> fmt::Result {
    writeln!(
        f,
        "crosscheck: lockstep divergence at instruction {} ({} retired): {}",
        d.step, d.instret, d.what
    )?;
    if let Some(last) = d.history.last() {
        writeln!(
            f,
            "the instruction: pc {:#x} ({}-mode): {}",
            last.pc,
            mode_letter(last.privilege),
            text(last)
        )?;
    }
    if !d.fields.is_empty() {
        writeln!(f, "differing state:    {:<18}   sv39", "QEMU")?;
        for (field, q, s) in &d.fields {
            writeln!(
                f,
                "  {:<16}  {:<18}   {}",
                field.name(),
                field.show(*q),
                field.show(*s)
            )?;
        }
    }
    for (side, qemu) in [("QEMU", true), ("sv39", false)] {
        writeln!(f, "{side}, the last {} instructions:", d.history.len())?;
        for r in &d.history {
            let (before, after) = if qemu {
                (&r.qemu, &r.qemu_after)
            } else {
                (&r.sv39, &r.sv39_after)
            };
            let mut line = format!(
                "  {:>9}  {:#012x} {}  {:<28}",
                r.step,
                r.pc,
                mode_letter(r.privilege),
                text(r)
            );
            line += &writes(before, after);
            if !qemu {
                if let Some(cause) = r.trap {
                    line += &format!("  [trap, cause {:#x}]", cause);
                }
                for n in &r.notes {
                    line += &format!("  [{n}]");
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

/// The instruction's bits and disassembly.
fn text(r: &StepRecord) -> String {
    match &r.insn {
        Some(i) if i.len == 2 => format!(
            "{:04x}      {}",
            i.raw,
            crate::hart::disasm::disassemble(i, r.pc)
        ),
        Some(i) => format!(
            "{:08x}  {}",
            i.raw,
            crate::hart::disasm::disassemble(i, r.pc)
        ),
        None => "(fetch faults)".into(),
    }
}

/// The fields a step changed, `name=value` (pc only when it did not simply move on).
fn writes(before: &CpuState, after: &CpuState) -> String {
    let mut out = String::new();
    for field in super::lockstep_rules::differences(before, after) {
        if field == Field::Pc {
            continue;
        }
        if field == Field::Csr(csr::MIP) {
            continue;
        }
        let value = field.get(after);
        out += &format!(" {}={}", field.name(), short(field, value));
    }
    out
}

fn short(field: Field, value: u64) -> String {
    match field {
        Field::Privilege => mode_letter(value as u8).to_string(),
        _ => format!("{value:#x}"),
    }
}
