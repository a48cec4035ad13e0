//! Unit tests of the lockstep comparison's pieces: the privilege QEMU is followed in, the
//! fields compared, synchronisation and known-difference rules, and the report.

use super::*;
use crate::crosscheck::qemu_log::csr;
use crate::hart::csr::MSTATUS_MPRV;
use crate::hart::decode::{Insn, decode};

const MTVEC: u64 = 0x8000_0100;
const STVEC: u64 = 0x8000_0200;

fn state(pc: u64, privilege: u8) -> CpuState {
    let mut s = CpuState {
        pc,
        privilege,
        ..CpuState::default()
    };
    s.csr[csr::MTVEC] = MTVEC;
    s.csr[csr::STVEC] = STVEC;
    s
}

/// A trap into M from `from`, taken at `epc` with `cause`, as QEMU would show it.
fn trapped_into_m(prev: &CpuState, cause: u64, epc: u64, from: u8) -> CpuState {
    let mut next = *prev;
    next.pc = vector(MTVEC, cause);
    next.csr[csr::MCAUSE] = cause;
    next.csr[csr::MEPC] = epc;
    next.csr[csr::MSTATUS] = (from as u64) << 11;
    next
}

#[test]
fn qemus_privilege_follows_traps_and_returns() {
    // mret to S.
    let mut m = state(0x8000_0000, 3);
    m.csr[csr::MSTATUS] = 1 << 11;
    let mut after = m;
    after.pc = 0x8020_0000;
    after.csr[csr::MSTATUS] = 0;
    assert_eq!(follow_privilege(&m, &after, Some(Op::Mret)), 1);
    // The same change without an mret is no mode change.
    assert_eq!(follow_privilege(&m, &after, Some(Op::Addi)), 3);
    // An ecall from U into M.
    let u = state(0x1000, 0);
    let next = trapped_into_m(&u, 8, 0x1000, 0);
    assert_eq!(follow_privilege(&u, &next, Some(Op::Ecall)), 3);
    // A delegated fault from U into S: SPP = 0, SIE = 0, pc at stvec.
    let mut s = u;
    s.pc = STVEC;
    s.csr[csr::SCAUSE] = 13;
    s.csr[csr::SEPC] = 0x1000;
    assert_eq!(follow_privilege(&u, &s, Some(Op::Ld)), 1);
    // sret from S back to U (SPP = 0).
    let mut back = s;
    back.privilege = 1;
    let mut user = back;
    user.pc = 0x1004;
    assert_eq!(follow_privilege(&back, &user, Some(Op::Sret)), 0);
    // An mret in U is illegal: the trap into M is what happens.
    let illegal = trapped_into_m(&u, 2, 0x1000, 0);
    assert_eq!(follow_privilege(&u, &illegal, Some(Op::Mret)), 3);
}

#[test]
fn mip_and_missing_csrs_are_not_compared() {
    let a = state(0x8000_0000, 3);
    let mut b = a;
    b.csr[csr::MIP] = 0x80;
    assert!(differences(&a, &b).is_empty());
    b.csr[csr::SATP] = 8 << 60;
    assert_eq!(differences(&a, &b), [Field::Csr(csr::SATP)]);
    b.missing = 1 << csr::SATP;
    assert!(differences(&a, &b).is_empty());
    b.x[10] = 1;
    b.f[3] = 2;
    b.pc = 4;
    b.privilege = 1;
    assert_eq!(
        differences(&a, &b),
        [Field::Pc, Field::Privilege, Field::X(10), Field::F(3)]
    );
}

#[test]
fn interrupts_are_found_before_and_after_the_instruction() {
    let prev = state(0x8000_0040, 3);
    let timer = 7 | CAUSE_INTERRUPT;
    let before = trapped_into_m(&prev, timer, 0x8000_0040, 3);
    assert_eq!(interrupt_before(&before, 0x8000_0040), Some(timer));
    assert_eq!(interrupt_before(&before, 0x8000_0044), None);
    // After the instruction at 0x40 ran, sv39 is at 0x44.
    let after = trapped_into_m(&prev, timer, 0x8000_0044, 3);
    let mut s = prev;
    s.pc = 0x8000_0044;
    assert_eq!(injected_interrupt(&after, &s), Some(timer));
    // An exception is never injected.
    let fault = trapped_into_m(&prev, 5, 0x8000_0044, 3);
    assert_eq!(injected_interrupt(&fault, &s), None);
    // Vectored mode: the interrupt enters at base + 4 * cause.
    let mut vectored = after;
    vectored.csr[csr::MTVEC] = MTVEC | 1;
    vectored.pc = MTVEC + 4 * 7;
    assert_eq!(injected_interrupt(&vectored, &s), Some(timer));
}

#[test]
fn a_fetch_fault_is_recognised_by_its_handler() {
    let prev = state(0x8000_0000, 0);
    let q = trapped_into_m(&prev, 12, 0x4000, 0);
    assert!(fetch_fault_at(&q, 0x4000));
    assert!(!fetch_fault_at(&q, 0x4004));
    let load = trapped_into_m(&prev, 13, 0x4000, 0);
    assert!(!fetch_fault_at(&load, 0x4000));
}

#[test]
fn known_differences_need_their_instruction_and_exact_fields() {
    let mret = decode(0x3020_0073);
    // Before the mret: MPP = S, MPRV set.
    let mut before = state(0x8000_0000, 3);
    before.csr[csr::MSTATUS] = 1 << 11 | MSTATUS_MPRV;
    let mut s = state(0x8020_0000, 1);
    let mut q = s;
    q.csr[csr::MSTATUS] = MSTATUS_MPRV;
    let fields = differences(&q, &s);
    let known = |insn: &Insn, trap, stale, s: &CpuState, q: &CpuState| {
        known_difference(Some(insn), trap, stale, &before, s, q, &differences(q, s))
    };
    assert_eq!(known(&mret, None, false, &s, &q), Some(MPRV_AFTER_MRET));
    assert_eq!(fields, [Field::Csr(csr::MSTATUS)]);
    // The other way round (sv39 keeps MPRV, QEMU clears it) is a real divergence.
    assert_eq!(known(&mret, None, false, &q, &s), None);
    // Another instruction, or one more field, is a real divergence.
    let addi = decode(0x0010_0513);
    assert_eq!(known(&addi, None, false, &s, &q), None);
    s.x[5] = 1;
    assert_eq!(known(&mret, None, false, &s, &q), None);

    // csrw medeleg, a0: QEMU keeps bit 11, sv39 does not; not the other way round.
    let csrw_medeleg = decode(0x3025_1073);
    let s = state(0x8000_0000, 3);
    let mut q = s;
    q.csr[csr::MEDELEG] = 1 << 11;
    assert_eq!(
        known(&csrw_medeleg, None, false, &s, &q),
        Some(MEDELEG_BITS)
    );
    assert_eq!(known(&csrw_medeleg, None, false, &q, &s), None);
    q.csr[csr::MEDELEG] = 1 << 3;
    assert_eq!(known(&csrw_medeleg, None, false, &s, &q), None);

    // A load through an entry whose translation changed explains its destination only.
    let ld = decode(0x0005_3503); // ld a0,0(a0)
    let mut q = s;
    q.x[10] = 0x2222;
    assert_eq!(known(&ld, None, true, &s, &q), Some(STALE_TLB));
    assert_eq!(known(&ld, None, false, &s, &q), None);
    let mut other = q;
    other.x[11] = 1;
    assert_eq!(known(&ld, None, true, &s, &other), None, "another register");
    let mut trapped = s;
    trapped.pc = MTVEC;
    trapped.csr[csr::MCAUSE] = 13;
    assert_eq!(known(&ld, Some(13), true, &trapped, &q), None, "a trap");
    let sd = decode(0x00a5_3023); // sd a0,0(a0)
    assert_eq!(known(&sd, None, true, &s, &q), None, "a store");

    // A misaligned sc.w: sv39 traps (tval misaligned), QEMU's SC fails (rd = 1) and goes on.
    let sc = decode(0x18c5_a52f); // sc.w a0,a2,(a1)
    let mut before_sc = state(0x8000_0100, 3);
    before_sc.x[11] = 0x8000_1002;
    let mut sv39 = before_sc;
    sv39.pc = MTVEC;
    sv39.csr[csr::MCAUSE] = 6;
    sv39.csr[csr::MEPC] = 0x8000_0100;
    sv39.csr[csr::MTVAL] = 0x8000_1002;
    sv39.csr[csr::MSTATUS] = 3 << 11;
    let mut qemu = before_sc;
    qemu.pc = 0x8000_0104;
    qemu.x[10] = 1;
    let rule = |s: &CpuState, q: &CpuState| {
        known_difference(
            Some(&sc),
            Some(6),
            false,
            &before_sc,
            s,
            q,
            &differences(q, s),
        )
    };
    assert_eq!(rule(&sv39, &qemu), Some(MISALIGNED_SC));
    qemu.x[10] = 0;
    assert_eq!(rule(&sv39, &qemu), None, "QEMU's SC succeeded");
    qemu.x[10] = 1;
    sv39.csr[csr::MTVAL] = 0x8000_1000;
    assert_eq!(rule(&sv39, &qemu), None, "an aligned address");
}

#[test]
fn a_trapping_mret_leaves_qemu_in_m() {
    // An mret in M with MPP = U that raises an exception (QEMU 7.2 without PMP): the trap's
    // epc is the mret's pc and MPP records M.
    let mut m = state(0x8000_0040, 3);
    m.csr[csr::MSTATUS] = 0;
    let next = trapped_into_m(&m, 1, 0x8000_0040, 3);
    assert_eq!(follow_privilege(&m, &next, Some(Op::Mret)), 3);
}

#[test]
fn adopting_qemus_state_makes_the_states_equal() {
    let mut hart = Hart::new(0x1000, 0);
    let mut q = snapshot(&hart);
    q.pc = 0x8020_0000;
    q.privilege = 1;
    q.x[10] = 7;
    q.f[1] = 9;
    q.csr[csr::MEDELEG] = 1 << 11;
    q.csr[csr::SATP] = 8 << 60 | 0x80200;
    adopt(&mut hart, &q);
    assert!(differences(&q, &snapshot(&hart)).is_empty());
    assert_eq!(hart.privilege, Privilege::Supervisor);
}

fn record(step: u64, pc: u64, raw: u32, a0: u64) -> StepRecord {
    let before = state(pc, 3);
    let mut after = before;
    after.pc = pc + 4;
    after.x[10] = a0;
    StepRecord {
        step,
        pc,
        privilege: 3,
        insn: Some(decode(raw)),
        sv39: before,
        sv39_after: after,
        qemu: before,
        qemu_after: after,
        trap: None,
        stale: false,
        notes: Vec::new(),
    }
}

#[test]
fn an_agreement_is_a_summary_line_and_the_synchronisations() {
    let mut syncs = Syncs {
        counter_reads: 3,
        counter_changed: 1,
        mmio_reads: 40,
        interrupts: 2,
        ..Syncs::default()
    };
    syncs.known.insert(STALE_TLB, 7);
    let report = LockstepReport {
        steps: 2_000_000,
        instret: 1_999_000,
        elapsed: Duration::from_secs(40),
        syncs,
        end: End::Exited {
            sv39: 0,
            qemu: Status::Exited(0),
        },
        qemu_messages: vec!["ignored".into()],
    };
    assert!(report.agrees());
    assert_eq!(report.speed(), 50_000);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "crosscheck: agree (lockstep: 2000000 instructions compared in 40.0 s, 50000 per second; both powered off, status 0)"
    );
    assert!(lines[1].starts_with(
        "synchronised: 3 counter reads (1 differed), 40 MMIO reads (0 differed), 2 interrupts injected"
    ));
    assert_eq!(lines[2], "known differences (QEMU's state adopted):");
    assert!(lines[3].starts_with("  7 x a TLB hit on a PTE changed without sfence.vma: "));
    assert!(
        !text.contains("ignored"),
        "QEMU's messages only on a difference"
    );
}

#[test]
fn a_divergence_shows_the_step_the_fields_and_both_histories() {
    let mut last = record(3, 0x8000_0008, 0x0010_0513, 1); // li a0,1
    last.qemu_after.x[10] = 2;
    last.notes.push("MMIO read: QEMU's value taken".into());
    let divergence = Divergence {
        step: 3,
        instret: 3,
        what: "the states differ".into(),
        fields: vec![(Field::X(10), 2, 1)],
        history: vec![
            record(1, 0x8000_0000, 0x0000_0297, 0), // auipc t0,0x0
            record(2, 0x8000_0004, 0x0000_0013, 0), // nop
            last,
        ],
    };
    let report = LockstepReport {
        steps: 3,
        instret: 3,
        elapsed: Duration::from_millis(100),
        syncs: Syncs::default(),
        end: End::Diverged(Box::new(divergence)),
        qemu_messages: vec!["qemu-system-riscv64: a warning".into()],
    };
    assert!(!report.agrees());
    let text = report.to_string();
    assert!(
        text.starts_with(
            "crosscheck: lockstep divergence at instruction 3 (3 retired): the states differ\n\
             the instruction: pc 0x80000008 (M-mode): 00100513  li a0,1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  a0                0x0000000000000002   0x0000000000000001\n"),
        "{text}"
    );
    assert!(text.contains("QEMU, the last 3 instructions:\n"), "{text}");
    assert!(text.contains("sv39, the last 3 instructions:\n"), "{text}");
    let qemu_part =
        &text[text.find("QEMU, the last").unwrap()..text.find("sv39, the last").unwrap()];
    assert!(
        qemu_part.contains("0x0080000008 M  00100513  li a0,1"),
        "{text}"
    );
    assert!(qemu_part.contains(" a0=0x2"), "{text}");
    let sv39_part = &text[text.find("sv39, the last").unwrap()..];
    assert!(
        sv39_part.contains(" a0=0x1  [MMIO read: QEMU's value taken]"),
        "{text}"
    );
    assert!(
        text.contains("  qemu: qemu-system-riscv64: a warning\n"),
        "{text}"
    );
}
