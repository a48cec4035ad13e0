//! The rules of a lockstep comparison: what is compared ([`snapshot`], [`differences`]),
//! how QEMU's privilege mode is followed, which reads are synchronised, how interrupts and
//! fetch faults are recognised in QEMU's states, and the known differences between sv39
//! (following the specifications) and QEMU 7.2, with how QEMU's state is adopted.

use std::fmt;

use super::lockstep_report::Field;
use super::qemu_log::{self, CSR_NAMES, CpuState, csr};
use crate::hart::csr::{MSTATUS_MIE, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPP};
use crate::hart::decode::{Insn, Op};
use crate::hart::trap::CAUSE_INTERRUPT;
use crate::hart::{Hart, Privilege};

/// A known difference between sv39 (following the specification) and QEMU 7.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Known {
    /// What differs.
    pub name: &'static str,
    /// Why: the specification's rule and what QEMU does.
    pub why: &'static str,
}

pub(super) const MPRV_AFTER_MRET: Known = Known {
    name: "mstatus.MPRV after mret to S or U",
    why: "privileged spec 3.3.2: an xRET to a mode below M clears MPRV; QEMU 7.2 keeps it",
};
pub(super) const MEDELEG_BITS: Known = Known {
    name: "medeleg bits 10, 11 and 20 to 23",
    why: "privileged spec 3.1.8: an M-mode ecall (11) cannot be delegated, and causes 10 and \
          20 to 23 exist only with the hypervisor extension; QEMU 7.2 makes them writable \
          even without it",
};
pub(super) const MIDELEG_BITS: Known = Known {
    name: "mideleg bits 2, 6, 10 and 13",
    why: "privileged spec 3.1.9: the VS-level interrupts (2, 6, 10) exist only with the \
          hypervisor extension and 13 only with Sscofpmf; QEMU 7.2 makes them writable \
          without either",
};
/// The `mideleg` bits QEMU 7.2 keeps and sv39 does not.
pub(super) const MIDELEG_QEMU_ONLY: u64 = 1 << 2 | 1 << 6 | 1 << 10 | 1 << 13;
/// The `medeleg` bits QEMU 7.2 keeps and sv39 does not.
pub(super) const MEDELEG_QEMU_ONLY: u64 = 3 << 10 | 0xf << 20;
pub(super) const MISALIGNED_SC: Known = Known {
    name: "a misaligned SC",
    why: "unprivileged spec 13.2: it raises a store/AMO address-misaligned exception; QEMU 7.2 \
          lets an SC without a reservation fail without one",
};
pub(super) const MISALIGNED_AMO: Known = Known {
    name: "a misaligned AMO's cause",
    why: "unprivileged spec 13.4: store/AMO address-misaligned (6); QEMU 7.2 reports \
          load address-misaligned (4)",
};
pub(super) const SATP_MODE: Known = Known {
    name: "satp written with Sv48 or Sv57",
    why: "privileged spec 4.1.11: a write of an unsupported mode has no effect, and sv39 has \
          Bare and Sv39 only; QEMU 7.2's hart also has Sv48 and Sv57",
};
pub(super) const STALE_TLB: Known = Known {
    name: "a TLB hit on a PTE changed without sfence.vma",
    why: "privileged spec 4.2.1: the old translation and the new are both correct until a \
          covering sfence.vma; sv39's TLB keeps the old, QEMU 7.2 flushes its whole TLB at \
          every sfence.vma and ASID change",
};

/// sv39's hart as a [`CpuState`].
pub fn snapshot(hart: &Hart) -> CpuState {
    let c = &hart.csr;
    let mut csr = [0; qemu_log::CSR_COUNT];
    csr[csr::MHARTID] = c.mhartid;
    csr[csr::MSTATUS] = c.mstatus;
    csr[csr::MIP] = c.mip();
    csr[csr::MIE] = c.mie;
    csr[csr::MIDELEG] = c.mideleg;
    csr[csr::MEDELEG] = c.medeleg;
    csr[csr::MTVEC] = c.mtvec;
    csr[csr::STVEC] = c.stvec;
    csr[csr::MEPC] = c.mepc;
    csr[csr::SEPC] = c.sepc;
    csr[csr::MCAUSE] = c.mcause;
    csr[csr::SCAUSE] = c.scause;
    csr[csr::MTVAL] = c.mtval;
    csr[csr::STVAL] = c.stval;
    csr[csr::MSCRATCH] = c.mscratch;
    csr[csr::SSCRATCH] = c.sscratch;
    csr[csr::SATP] = c.satp;
    let mut x = [0; 32];
    x.copy_from_slice(&hart.x[..32]);
    CpuState {
        pc: hart.pc,
        privilege: hart.privilege as u8,
        csr,
        x,
        f: hart.f,
        missing: 0,
    }
}

/// The fields in which `a` and `b` differ (`mip` is never compared: interrupts are
/// synchronised instead).
pub fn differences(a: &CpuState, b: &CpuState) -> Vec<Field> {
    let mut out = Vec::new();
    if a.pc != b.pc {
        out.push(Field::Pc);
    }
    if a.privilege != b.privilege {
        out.push(Field::Privilege);
    }
    for i in 1..32 {
        if a.x[i] != b.x[i] {
            out.push(Field::X(i as u8));
        }
    }
    for i in 0..32 {
        if a.f[i] != b.f[i] {
            out.push(Field::F(i as u8));
        }
    }
    let missing = a.missing | b.missing;
    for i in 0..CSR_NAMES.len() {
        if i != csr::MIP && missing & (1 << i) == 0 && a.csr[i] != b.csr[i] {
            out.push(Field::Csr(i));
        }
    }
    out
}

/// Where a trap with `cause` enters, for trap-vector CSR `tvec`.
pub(super) fn vector(tvec: u64, cause: u64) -> u64 {
    let base = tvec & !3;
    if cause & CAUSE_INTERRUPT != 0 && tvec & 3 == 1 {
        base.wrapping_add(4 * (cause & !CAUSE_INTERRUPT))
    } else {
        base
    }
}

/// QEMU's privilege mode in `next`, from its mode in `prev` and the instruction it ran
/// there: `mret`/`sret` return to MPP/SPP; a trap into M (or S) shows in that mode's trap
/// CSRs, its vector in pc, the previous mode in MPP (SPP) and interrupts off.
pub fn follow_privilege(prev: &CpuState, next: &CpuState, op: Option<Op>) -> u8 {
    let (p, ms) = (prev.privilege, prev.csr[csr::MSTATUS]);
    // The instruction itself trapped (an mret in U-mode, an access fault): the trap's epc
    // is its pc and it left the mode it came from in MPP or SPP.
    if trap_into(prev, next, 3, p, Some(prev.pc)) {
        return 3;
    }
    if p <= 1 && trap_into(prev, next, 1, p, Some(prev.pc)) {
        return 1;
    }
    let mut mode = match op {
        Some(Op::Mret) if p == 3 => ((ms & MSTATUS_MPP) >> 11) as u8,
        Some(Op::Sret) if p == 3 || (p == 1 && ms & (1 << 22) == 0) => {
            u8::from(ms & MSTATUS_SPP != 0)
        }
        _ => p,
    };
    // Then an interrupt (or a fault of the next instruction's fetch) may have come.
    if mode <= 1 && trap_into(prev, next, 1, mode, None) {
        mode = 1;
    }
    if trap_into(prev, next, 3, mode, None) {
        mode = 3;
    }
    mode
}

/// Whether QEMU's `next` shows a trap into `to` (3 = M, 1 = S) taken from mode `from`
/// (at `epc`, when given): pc at the vector, the trap CSRs changed, the mode's interrupt
/// enable off and the previous mode recorded.
fn trap_into(prev: &CpuState, next: &CpuState, to: u8, from: u8, epc: Option<u64>) -> bool {
    let (cause, epc_csr, tval, tvec) = if to == 3 {
        (csr::MCAUSE, csr::MEPC, csr::MTVAL, csr::MTVEC)
    } else {
        (csr::SCAUSE, csr::SEPC, csr::STVAL, csr::STVEC)
    };
    let (ms, ns) = (prev.csr[csr::MSTATUS], next.csr[csr::MSTATUS]);
    let changed = (next.csr[cause], next.csr[epc_csr], next.csr[tval], ns)
        != (prev.csr[cause], prev.csr[epc_csr], prev.csr[tval], ms);
    let recorded = if to == 3 {
        ns & MSTATUS_MIE == 0 && ((ns & MSTATUS_MPP) >> 11) as u8 == from
    } else {
        ns & MSTATUS_SIE == 0 && u8::from(ns & MSTATUS_SPP != 0) == from
    };
    next.pc == vector(next.csr[tvec], next.csr[cause])
        && changed
        && recorded
        && epc.is_none_or(|e| next.csr[epc_csr] == e)
}

/// The counter CSRs and interrupt-pending CSRs whose reads take QEMU's value.
pub(super) fn synchronised_csr(number: u16) -> bool {
    matches!(number, 0xc00..=0xc1f | 0xb00..=0xb1f | 0x344 | 0x144)
}

pub(super) fn is_csr_op(op: Op) -> bool {
    matches!(
        op,
        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
    )
}

pub(super) fn is_amo(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        AmoswapW
            | AmoaddW
            | AmoxorW
            | AmoandW
            | AmoorW
            | AmominW
            | AmomaxW
            | AmominuW
            | AmomaxuW
            | AmoswapD
            | AmoaddD
            | AmoxorD
            | AmoandD
            | AmoorD
            | AmominD
            | AmomaxD
            | AmominuD
            | AmomaxuD
    )
}

/// Whether `op` reads memory into a register.
pub(super) fn is_load(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Flw | Fld | LrW | LrD
    ) || is_amo(op)
}

/// Which known difference, if any, explains `fields` after sv39 ran `insn` from `before`
/// (trapping with `trap`; `stale_data` when a load or store used a TLB entry whose
/// translation has changed in memory) and reached `s` where QEMU reached `q`. Each rule
/// names the instruction, the fields that may differ, and which side holds what.
pub(super) fn known_difference(
    insn: Option<&Insn>,
    trap: Option<u64>,
    stale_data: bool,
    before: &CpuState,
    s: &CpuState,
    q: &CpuState,
    fields: &[Field],
) -> Option<Known> {
    let insn = insn?;
    let op = insn.op;
    let csr_number = (insn.imm as u32 & 0xfff) as u16;
    let only = |f: Field| fields == [f];
    let xor = |i: usize| s.csr[i] ^ q.csr[i];
    // Bits QEMU holds and sv39 does not, all among `extra`.
    let qemu_only = |i: usize, extra: u64| {
        let x = xor(i);
        x != 0 && x & !extra == 0 && q.csr[i] & x == x
    };
    let mpp = (before.csr[csr::MSTATUS] & MSTATUS_MPP) >> 11;
    if op == Op::Mret
        && mpp != 3
        && only(Field::Csr(csr::MSTATUS))
        && xor(csr::MSTATUS) == MSTATUS_MPRV
        && q.csr[csr::MSTATUS] & MSTATUS_MPRV != 0
    {
        return Some(MPRV_AFTER_MRET);
    }
    if is_csr_op(op)
        && csr_number == 0x302
        && only(Field::Csr(csr::MEDELEG))
        && qemu_only(csr::MEDELEG, MEDELEG_QEMU_ONLY)
    {
        return Some(MEDELEG_BITS);
    }
    if is_csr_op(op)
        && csr_number == 0x303
        && only(Field::Csr(csr::MIDELEG))
        && qemu_only(csr::MIDELEG, MIDELEG_QEMU_ONLY)
    {
        return Some(MIDELEG_BITS);
    }
    if matches!(op, Op::ScW | Op::ScD) && trap == Some(6) {
        // sv39 took the misaligned trap (its tval is the address); QEMU's SC failed (rd = 1)
        // and went on.
        let size = if op == Op::ScW { 4 } else { 8 };
        let tval = if s.privilege == 3 {
            s.csr[csr::MTVAL]
        } else {
            s.csr[csr::STVAL]
        };
        let rd = insn.rd as usize;
        let trap_fields = [
            Field::Pc,
            Field::Privilege,
            Field::Csr(csr::MSTATUS),
            Field::Csr(csr::MEPC),
            Field::Csr(csr::MCAUSE),
            Field::Csr(csr::MTVAL),
            Field::Csr(csr::SEPC),
            Field::Csr(csr::SCAUSE),
            Field::Csr(csr::STVAL),
        ];
        let failed = rd >= 32 || q.x[rd] == 1;
        if tval % size != 0
            && q.pc == before.pc.wrapping_add(4)
            && failed
            && fields
                .iter()
                .all(|f| trap_fields.contains(f) || *f == Field::X(insn.rd))
        {
            return Some(MISALIGNED_SC);
        }
    }
    let causes = [Field::Csr(csr::MCAUSE), Field::Csr(csr::SCAUSE)];
    if is_amo(op)
        && trap == Some(6)
        && fields.iter().all(|f| causes.contains(f))
        && fields
            .iter()
            .all(|f| matches!(f, Field::Csr(i) if q.csr[*i] == 4))
    {
        return Some(MISALIGNED_AMO);
    }
    if is_csr_op(op)
        && csr_number == 0x180
        && only(Field::Csr(csr::SATP))
        && s.csr[csr::SATP] == before.csr[csr::SATP]
        && matches!(q.csr[csr::SATP] >> 60, 9 | 10)
    {
        return Some(SATP_MODE);
    }
    // A load through a stale entry: only its destination register may differ.
    let loaded = match op {
        Op::Flw | Op::Fld => Field::F(insn.rd),
        _ => Field::X(insn.rd),
    };
    if stale_data && is_plain_load(op) && trap.is_none() && only(loaded) {
        return Some(STALE_TLB);
    }
    None
}

/// Loads that only read memory into a register.
fn is_plain_load(op: Op) -> bool {
    use Op::*;
    matches!(op, Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Flw | Fld)
}

/// Makes sv39's hart hold QEMU's state `q` (after a known difference).
pub(super) fn adopt(hart: &mut Hart, q: &CpuState) {
    hart.pc = q.pc;
    hart.privilege = Privilege::from_bits(q.privilege as u64);
    hart.x[..32].copy_from_slice(&q.x);
    hart.x[0] = 0;
    hart.f = q.f;
    let c = &mut hart.csr;
    c.mstatus = q.csr[csr::MSTATUS];
    c.mie = q.csr[csr::MIE];
    c.mideleg = q.csr[csr::MIDELEG];
    c.medeleg = q.csr[csr::MEDELEG];
    c.mtvec = q.csr[csr::MTVEC];
    c.stvec = q.csr[csr::STVEC];
    c.mepc = q.csr[csr::MEPC];
    c.sepc = q.csr[csr::SEPC];
    c.mcause = q.csr[csr::MCAUSE];
    c.scause = q.csr[csr::SCAUSE];
    c.mtval = q.csr[csr::MTVAL];
    c.stval = q.csr[csr::STVAL];
    c.mscratch = q.csr[csr::MSCRATCH];
    c.sscratch = q.csr[csr::SSCRATCH];
    if c.satp != q.csr[csr::SATP] {
        c.satp = q.csr[csr::SATP];
        hart.mmu.clear_fast();
    }
    hart.irq_check = true;
    hart.update_translation();
}

/// The interrupt QEMU's state `q` shows taken at `pc` before the instruction there ran.
pub(super) fn interrupt_before(q: &CpuState, pc: u64) -> Option<u64> {
    let mcause = q.csr[csr::MCAUSE];
    if mcause & CAUSE_INTERRUPT != 0
        && q.csr[csr::MEPC] == pc
        && q.pc == vector(q.csr[csr::MTVEC], mcause)
    {
        return Some(mcause);
    }
    let scause = q.csr[csr::SCAUSE];
    if scause & CAUSE_INTERRUPT != 0
        && q.csr[csr::SEPC] == pc
        && q.pc == vector(q.csr[csr::STVEC], scause)
    {
        return Some(scause);
    }
    None
}

/// Whether QEMU's state `q` is the handler of an instruction-fetch fault at `pc`.
pub(super) fn fetch_fault_at(q: &CpuState, pc: u64) -> bool {
    let fetch = |cause: u64| matches!(cause, 1 | 12);
    let (mcause, scause) = (q.csr[csr::MCAUSE], q.csr[csr::SCAUSE]);
    (fetch(mcause) && q.csr[csr::MEPC] == pc && q.pc == vector(q.csr[csr::MTVEC], mcause))
        || (fetch(scause) && q.csr[csr::SEPC] == pc && q.pc == vector(q.csr[csr::STVEC], scause))
}

/// The interrupt QEMU's state `q` shows taken at sv39's pc, if it does.
pub(super) fn injected_interrupt(q: &CpuState, s: &CpuState) -> Option<u64> {
    let mcause = q.csr[csr::MCAUSE];
    if mcause & CAUSE_INTERRUPT != 0
        && q.csr[csr::MEPC] == s.pc
        && q.pc == vector(q.csr[csr::MTVEC], mcause)
    {
        return Some(mcause);
    }
    let scause = q.csr[csr::SCAUSE];
    let s_vector = vector(q.csr[csr::STVEC], scause);
    if scause & CAUSE_INTERRUPT != 0
        && q.csr[csr::SEPC] == s.pc
        && (q.pc == s_vector || q.csr[csr::MEPC] == s_vector)
    {
        return Some(scause);
    }
    None
}

impl fmt::Display for Known {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.why)
    }
}
