//! Hart unit tests in the riscv-tests spirit, without a cross toolchain: instructions are
//! encoded here (or by [`super::encode`]), run on a real [`Machine`] over RAM, and the
//! architectural state is compared with exact values.
//!
//! Sections follow the specs: the decoder (unprivileged spec chapter 16 "C" and the reserved
//! 32-bit encodings), RV64IMA execution (chapters 2, 5, 13, 14), the CSR rules (privileged
//! spec chapter 2 and 3.1), traps and interrupts (3.1.6-3.1.9, 3.3), and the CLINT timer.
//!
//! Every program runs from `DRAM_BASE` and ends with a write to the `sifive_test` finisher,
//! so the exit status says where the run ended: [`PASS`] (the program fell through to its
//! end), [`M_TRAP`] (the handler at `mtvec`) or [`S_TRAP`] (the handler at `stvec`).

use super::csr::{self, addr};
use super::decode::{Insn, Op, ZERO_SINK, decode};
use super::encode::{self as enc, *};
use super::trap::{CAUSE_INTERRUPT, irq};
use super::{Hart, Privilege};
use crate::bus::Bus;
use crate::devices::{BootRom, Uart, UartInput};
use crate::layout::{CLINT_BASE, DRAM_BASE};
use crate::machine::{Machine, RunOutcome};
use crate::ram::Ram;

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// Exit status: the program ran to its end.
const PASS: u32 = 0;
/// Exit status: the M-mode trap handler ran.
const M_TRAP: u32 = 1;
/// Exit status: the S-mode trap handler ran.
const S_TRAP: u32 = 2;
/// Where the M-mode handler lives (`mtvec` by default).
const M_HANDLER: u64 = DRAM_BASE + 0x1000;
/// Where the S-mode handler lives (`stvec` by default).
const S_HANDLER: u64 = DRAM_BASE + 0x1800;
/// A free page for vectored trap tables.
const VECTORS: u64 = DRAM_BASE + 0x2000;
/// A data page, away from the code pages.
const DATA: u64 = DRAM_BASE + 0x8000;
/// Instruction budget: every test program is tiny; a run that hits it is a hang.
const BUDGET: u64 = 200_000;

const CLINT_MSIP: u64 = CLINT_BASE;
const CLINT_MTIMECMP: u64 = CLINT_BASE + 0x4000;
const CLINT_MTIME: u64 = CLINT_BASE + 0xbff8;

const INT: u64 = CAUSE_INTERRUPT;

/// Writes `code` to the finisher (exit status `code`) and spins. Clobbers x30 and x31.
fn exit_stub(code: u32) -> Vec<u8> {
    let mut p = vec![lui(31, 0x0010_0000)];
    p.extend(li32(30, ((code << 16) | 0x3333) as i32));
    p.push(sw(30, 31, 0));
    p.push(jal(0, 0));
    assemble(&p)
}

/// A machine with `program` at `DRAM_BASE` followed by a [`PASS`] exit, the trap handlers
/// in place, and `mtvec`/`stvec` pointing at them.
fn machine(program: &[u8]) -> Machine {
    let mut ram = Ram::new(DRAM_BASE, 4 << 20).expect("test RAM");
    let mut image = program.to_vec();
    image.extend(exit_stub(PASS));
    assert!(ram.load(DRAM_BASE, &image));
    assert!(ram.load(M_HANDLER, &exit_stub(M_TRAP)));
    assert!(ram.load(S_HANDLER, &exit_stub(S_TRAP)));
    let uart = Uart::new(UartInput::None, Box::new(std::io::sink()));
    let bus = Bus::new(ram, BootRom::new(DRAM_BASE, 0), uart);
    let mut m = Machine::new(bus, DRAM_BASE);
    m.hart.csr.mtvec = M_HANDLER;
    m.hart.csr.stvec = S_HANDLER;
    m
}

/// Runs `program` (32-bit words) after `setup`, and checks that it exits with `status`.
#[track_caller]
fn run_words(words: &[u32], setup: impl FnOnce(&mut Machine), status: u32) -> Machine {
    run_bytes(&assemble(words), setup, status)
}

/// Runs `program` (bytes, for compressed code) after `setup`, and checks the exit status.
#[track_caller]
fn run_bytes(program: &[u8], setup: impl FnOnce(&mut Machine), status: u32) -> Machine {
    let mut m = machine(program);
    setup(&mut m);
    let outcome = m.run(BUDGET);
    let c = &m.hart.csr;
    assert_eq!(
        outcome,
        RunOutcome::Exit(status),
        "mcause {:#x} mepc {:#x} mtval {:#x} scause {:#x} sepc {:#x} pc {:#x}",
        c.mcause,
        c.mepc,
        c.mtval,
        c.scause,
        c.sepc,
        m.hart.pc
    );
    m
}

/// Runs `words`, expecting it to fall through to its end.
#[track_caller]
fn pass(words: &[u32], setup: impl FnOnce(&mut Machine)) -> Machine {
    run_words(words, setup, PASS)
}

/// Runs `words`, expecting an M-mode trap.
#[track_caller]
fn m_trap(words: &[u32], setup: impl FnOnce(&mut Machine)) -> Machine {
    run_words(words, setup, M_TRAP)
}

/// Runs `words` at privilege `p`, expecting an illegal-instruction trap to M-mode on the
/// instruction at `DRAM_BASE + 4 * index` whose bits are `words[index]`.
#[track_caller]
fn assert_illegal_at(words: &[u32], index: usize, setup: impl FnOnce(&mut Machine)) {
    let m = m_trap(words, setup);
    assert_eq!(m.hart.csr.mcause, 2);
    assert_eq!(m.hart.csr.mepc, DRAM_BASE + 4 * index as u64);
    assert_eq!(m.hart.csr.mtval, words[index] as u64);
}

/// Runs one instruction `op(x5, x6, x7)` with x6 = `a`, x7 = `b`; returns x5.
#[track_caller]
fn rr(op: fn(u32, u32, u32) -> u32, a: u64, b: u64) -> u64 {
    pass(&[op(5, 6, 7)], |m| {
        m.hart.x[6] = a;
        m.hart.x[7] = b;
    })
    .hart
    .x[5]
}

/// Runs one instruction `op(x5, x6, imm)` with x6 = `a`; returns x5.
#[track_caller]
fn ri<T>(op: fn(u32, u32, T) -> u32, a: u64, imm: T) -> u64 {
    pass(&[op(5, 6, imm)], |m| m.hart.x[6] = a).hart.x[5]
}

fn at(p: Privilege) -> impl FnOnce(&mut Machine) {
    move |m| m.hart.privilege = p
}

// Encoders the shared encoder lacks (unprivileged spec chapter 34 opcode map).
fn op_r(funct7: u32, funct3: u32) -> impl Fn(u32, u32, u32) -> u32 {
    move |rd, rs1, rs2| enc::r(0x33, funct3, funct7, rd, rs1, rs2)
}
fn op32_r(funct7: u32, funct3: u32) -> impl Fn(u32, u32, u32) -> u32 {
    move |rd, rs1, rs2| enc::r(0x3b, funct3, funct7, rd, rs1, rs2)
}
fn sll(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0, 1)(rd, rs1, rs2)
}
fn slt(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0, 2)(rd, rs1, rs2)
}
fn sltu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0, 3)(rd, rs1, rs2)
}
fn srl(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0, 5)(rd, rs1, rs2)
}
fn sra(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0x20, 5)(rd, rs1, rs2)
}
fn and(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(0, 7)(rd, rs1, rs2)
}
fn mulh(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(1, 1)(rd, rs1, rs2)
}
fn mulhsu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(1, 2)(rd, rs1, rs2)
}
fn mulhu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(1, 3)(rd, rs1, rs2)
}
fn divu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(1, 5)(rd, rs1, rs2)
}
fn remu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op_r(1, 7)(rd, rs1, rs2)
}
fn addw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(0, 0)(rd, rs1, rs2)
}
fn subw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(0x20, 0)(rd, rs1, rs2)
}
fn sllw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(0, 1)(rd, rs1, rs2)
}
fn srlw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(0, 5)(rd, rs1, rs2)
}
fn sraw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(0x20, 5)(rd, rs1, rs2)
}
fn mulw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(1, 0)(rd, rs1, rs2)
}
fn divw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(1, 4)(rd, rs1, rs2)
}
fn divuw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(1, 5)(rd, rs1, rs2)
}
fn remw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(1, 6)(rd, rs1, rs2)
}
fn remuw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    op32_r(1, 7)(rd, rs1, rs2)
}
fn srai(rd: u32, rs1: u32, shamt: u32) -> u32 {
    enc::i(0x13, 5, rd, rs1, (0x400 | (shamt & 63)) as i32)
}
fn slti(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x13, 2, rd, rs1, imm)
}
fn sltiu(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x13, 3, rd, rs1, imm)
}
fn slliw(rd: u32, rs1: u32, shamt: u32) -> u32 {
    enc::i(0x1b, 1, rd, rs1, (shamt & 31) as i32)
}
fn srliw(rd: u32, rs1: u32, shamt: u32) -> u32 {
    enc::i(0x1b, 5, rd, rs1, (shamt & 31) as i32)
}
fn sraiw(rd: u32, rs1: u32, shamt: u32) -> u32 {
    enc::i(0x1b, 5, rd, rs1, (0x400 | (shamt & 31)) as i32)
}
fn lh(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x03, 1, rd, rs1, imm)
}
fn lhu(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x03, 5, rd, rs1, imm)
}
fn lwu(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x03, 6, rd, rs1, imm)
}
fn fld(rd: u32, rs1: u32, imm: i32) -> u32 {
    enc::i(0x07, 3, rd, rs1, imm)
}
fn fsd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    enc::s(0x27, 3, rs1, rs2, imm)
}
fn fadd_d(rd: u32, rs1: u32, rs2: u32) -> u32 {
    enc::r(0x53, 7, 0x01, rd, rs1, rs2)
}
fn csrrsi(rd: u32, csr: u32, zimm: u32) -> u32 {
    enc::i(0x73, 6, rd, zimm, csr as i32)
}
fn csrr(rd: u32, csr: u16) -> u32 {
    csrrs(rd, csr as u32, 0)
}
fn csrw(csr: u16, rs1: u32) -> u32 {
    csrrw(0, csr as u32, rs1)
}
fn sfence_vma(rs1: u32, rs2: u32) -> u32 {
    enc::r(0x73, 0, 0x09, 0, rs1, rs2)
}
const NOP: u32 = 0x0000_0013;

/// AMO `funct5` values (unprivileged spec chapter 14, table of AMOs).
mod amo5 {
    pub const ADD: u32 = 0x00;
    pub const SWAP: u32 = 0x01;
    pub const XOR: u32 = 0x04;
    pub const OR: u32 = 0x08;
    pub const AND: u32 = 0x0c;
    pub const MIN: u32 = 0x10;
    pub const MAX: u32 = 0x14;
    pub const MINU: u32 = 0x18;
    pub const MAXU: u32 = 0x1c;
}

/// Compressed encoders, bit for bit from the RVC format tables (unprivileged spec 16.2-16.8).
mod c {
    /// Bits `hi..=lo` of `v`, shifted down.
    fn f(v: u32, hi: u32, lo: u32) -> u32 {
        (v >> lo) & ((1 << (hi - lo + 1)) - 1)
    }
    fn q(rd: u32) -> u32 {
        assert!((8..16).contains(&rd), "x{rd} is not a compressed register");
        rd - 8
    }
    pub fn addi4spn(rd: u32, nzuimm: u32) -> u16 {
        let u = nzuimm;
        ((f(u, 5, 4) << 11)
            | (f(u, 9, 6) << 7)
            | (f(u, 2, 2) << 6)
            | (f(u, 3, 3) << 5)
            | (q(rd) << 2)) as u16
    }
    /// CL/CS with a doubleword offset (c.fld, c.ld, c.fsd, c.sd).
    fn cl_d(funct3: u32, r_lo: u32, rs1: u32, u: u32) -> u16 {
        ((funct3 << 13) | (f(u, 5, 3) << 10) | (q(rs1) << 7) | (f(u, 7, 6) << 5) | (q(r_lo) << 2))
            as u16
    }
    /// CL/CS with a word offset (c.lw, c.sw).
    fn cl_w(funct3: u32, r_lo: u32, rs1: u32, u: u32) -> u16 {
        ((funct3 << 13)
            | (f(u, 5, 3) << 10)
            | (q(rs1) << 7)
            | (f(u, 2, 2) << 6)
            | (f(u, 6, 6) << 5)
            | (q(r_lo) << 2)) as u16
    }
    pub fn fld(rd: u32, rs1: u32, u: u32) -> u16 {
        cl_d(1, rd, rs1, u)
    }
    pub fn lw(rd: u32, rs1: u32, u: u32) -> u16 {
        cl_w(2, rd, rs1, u)
    }
    pub fn ld(rd: u32, rs1: u32, u: u32) -> u16 {
        cl_d(3, rd, rs1, u)
    }
    pub fn fsd(rs2: u32, rs1: u32, u: u32) -> u16 {
        cl_d(5, rs2, rs1, u)
    }
    pub fn sw(rs2: u32, rs1: u32, u: u32) -> u16 {
        cl_w(6, rs2, rs1, u)
    }
    pub fn sd(rs2: u32, rs1: u32, u: u32) -> u16 {
        cl_d(7, rs2, rs1, u)
    }
    /// CI format: imm[5] at bit 12, imm[4:0] at bits 6:2.
    fn ci(funct3: u32, quadrant: u32, rd: u32, imm: i32) -> u16 {
        let i = imm as u32;
        ((funct3 << 13) | (f(i, 5, 5) << 12) | (rd << 7) | (f(i, 4, 0) << 2) | quadrant) as u16
    }
    pub fn addi(rd: u32, imm: i32) -> u16 {
        ci(0, 1, rd, imm)
    }
    pub fn addiw(rd: u32, imm: i32) -> u16 {
        ci(1, 1, rd, imm)
    }
    pub fn li(rd: u32, imm: i32) -> u16 {
        ci(2, 1, rd, imm)
    }
    /// `nzimm` is the value lui places (bits 17:12 significant).
    pub fn lui(rd: u32, nzimm: i32) -> u16 {
        ci(3, 1, rd, nzimm >> 12)
    }
    pub fn addi16sp(nzimm: i32) -> u16 {
        let i = nzimm as u32;
        ((3 << 13)
            | (f(i, 9, 9) << 12)
            | (2 << 7)
            | (f(i, 4, 4) << 6)
            | (f(i, 6, 6) << 5)
            | (f(i, 8, 7) << 3)
            | (f(i, 5, 5) << 2)
            | 1) as u16
    }
    /// c.srli (kind 0), c.srai (1), c.andi (2).
    fn cb_alu(kind: u32, rd: u32, imm: i32) -> u16 {
        let i = imm as u32;
        ((4 << 13) | (f(i, 5, 5) << 12) | (kind << 10) | (q(rd) << 7) | (f(i, 4, 0) << 2) | 1)
            as u16
    }
    pub fn srli(rd: u32, shamt: u32) -> u16 {
        cb_alu(0, rd, shamt as i32)
    }
    pub fn srai(rd: u32, shamt: u32) -> u16 {
        cb_alu(1, rd, shamt as i32)
    }
    pub fn andi(rd: u32, imm: i32) -> u16 {
        cb_alu(2, rd, imm)
    }
    /// CA format: c.sub/xor/or/and (`w` = 0) and c.subw/addw (`w` = 1).
    pub fn ca(w: u32, funct2: u32, rd: u32, rs2: u32) -> u16 {
        ((4 << 13) | (w << 12) | (3 << 10) | (q(rd) << 7) | (funct2 << 5) | (q(rs2) << 2) | 1)
            as u16
    }
    pub fn j(off: i32) -> u16 {
        let o = off as u32;
        ((5 << 13)
            | (f(o, 11, 11) << 12)
            | (f(o, 4, 4) << 11)
            | (f(o, 9, 8) << 9)
            | (f(o, 10, 10) << 8)
            | (f(o, 6, 6) << 7)
            | (f(o, 7, 7) << 6)
            | (f(o, 3, 1) << 3)
            | (f(o, 5, 5) << 2)
            | 1) as u16
    }
    fn branch(funct3: u32, rs1: u32, off: i32) -> u16 {
        let o = off as u32;
        ((funct3 << 13)
            | (f(o, 8, 8) << 12)
            | (f(o, 4, 3) << 10)
            | (q(rs1) << 7)
            | (f(o, 7, 6) << 5)
            | (f(o, 2, 1) << 3)
            | (f(o, 5, 5) << 2)
            | 1) as u16
    }
    pub fn beqz(rs1: u32, off: i32) -> u16 {
        branch(6, rs1, off)
    }
    pub fn bnez(rs1: u32, off: i32) -> u16 {
        branch(7, rs1, off)
    }
    pub fn slli(rd: u32, shamt: u32) -> u16 {
        ci(0, 2, rd, shamt as i32)
    }
    /// c.fldsp / c.ldsp: uimm[5] at bit 12, uimm[4:3|8:6] at bits 6:2.
    fn lsp_d(funct3: u32, rd: u32, u: u32) -> u16 {
        ((funct3 << 13)
            | (f(u, 5, 5) << 12)
            | (rd << 7)
            | (f(u, 4, 3) << 5)
            | (f(u, 8, 6) << 2)
            | 2) as u16
    }
    pub fn fldsp(rd: u32, u: u32) -> u16 {
        lsp_d(1, rd, u)
    }
    pub fn ldsp(rd: u32, u: u32) -> u16 {
        lsp_d(3, rd, u)
    }
    pub fn lwsp(rd: u32, u: u32) -> u16 {
        ((2 << 13) | (f(u, 5, 5) << 12) | (rd << 7) | (f(u, 4, 2) << 4) | (f(u, 7, 6) << 2) | 2)
            as u16
    }
    /// CR format: c.jr/c.mv (`bit12` = 0), c.ebreak/c.jalr/c.add (`bit12` = 1).
    pub fn cr(bit12: u32, rd: u32, rs2: u32) -> u16 {
        ((4 << 13) | (bit12 << 12) | (rd << 7) | (rs2 << 2) | 2) as u16
    }
    /// c.fsdsp / c.sdsp: uimm[5:3|8:6] at bits 12:7.
    fn ssp_d(funct3: u32, rs2: u32, u: u32) -> u16 {
        ((funct3 << 13) | (f(u, 5, 3) << 10) | (f(u, 8, 6) << 7) | (rs2 << 2) | 2) as u16
    }
    pub fn fsdsp(rs2: u32, u: u32) -> u16 {
        ssp_d(5, rs2, u)
    }
    pub fn sdsp(rs2: u32, u: u32) -> u16 {
        ssp_d(7, rs2, u)
    }
    pub fn swsp(rs2: u32, u: u32) -> u16 {
        ((6 << 13) | (f(u, 5, 2) << 9) | (f(u, 7, 6) << 7) | (rs2 << 2) | 2) as u16
    }
}

// ---------------------------------------------------------------------------------------
// 1. Decoder
// ---------------------------------------------------------------------------------------

fn fields(i: &Insn) -> (Op, u8, u8, u8, i32) {
    (i.op, i.rd, i.rs1, i.rs2, i.imm)
}

/// The compressed `half` decodes to the same operation and operands as `full`.
#[track_caller]
fn expands(half: u16, full: u32) {
    let a = decode(half as u32);
    let b = decode(full);
    assert_ne!(b.op, Op::Illegal, "{full:#010x} should be legal");
    assert_eq!(
        fields(&a),
        fields(&b),
        "{half:#06x} should expand to {full:#010x}"
    );
    assert_eq!((a.len, a.raw), (2, half as u32));
    assert_eq!(b.len, 4);
}

#[track_caller]
fn illegal(raw: u32) {
    let i = decode(raw);
    assert_eq!(
        i.op,
        Op::Illegal,
        "{raw:#010x} should be illegal, got {i:?}"
    );
    assert_eq!(i.raw, raw);
}

#[test]
fn compressed_encoder_matches_known_assembler_output() {
    // The classic GCC prologue and epilogue, as objdump shows them.
    assert_eq!(c::addi(2, -16), 0x1141); // addi sp,sp,-16
    assert_eq!(c::sdsp(1, 8), 0xe406); // sd ra,8(sp)
    assert_eq!(c::sdsp(8, 0), 0xe022); // sd s0,0(sp)
    assert_eq!(c::addi4spn(8, 16), 0x0800); // addi s0,sp,16
    assert_eq!(c::ldsp(1, 8), 0x60a2); // ld ra,8(sp)
    assert_eq!(c::ldsp(8, 0), 0x6402); // ld s0,0(sp)
    assert_eq!(c::addi(2, 16), 0x0141); // addi sp,sp,16
    assert_eq!(c::cr(0, 1, 0), 0x8082); // ret
    assert_eq!(c::li(10, 0), 0x4501); // li a0,0
    assert_eq!(c::cr(0, 10, 11), 0x852e); // mv a0,a1
    assert_eq!(c::cr(1, 0, 0), 0x9002); // ebreak
    assert_eq!(c::addi(0, 0), 0x0001); // nop
}

#[test]
fn compressed_quadrant0_expands() {
    expands(c::addi4spn(8, 4), addi(8, 2, 4));
    expands(c::addi4spn(15, 1020), addi(15, 2, 1020));
    expands(c::addi4spn(9, 0x3f0 & !3), addi(9, 2, 0x3f0));
    expands(c::fld(8, 15, 0), fld(8, 15, 0));
    expands(c::fld(15, 8, 248), fld(15, 8, 248));
    expands(c::lw(9, 10, 4), lw(9, 10, 4));
    expands(c::lw(15, 8, 124), lw(15, 8, 124));
    expands(c::lw(8, 8, 64), lw(8, 8, 64));
    expands(c::ld(10, 11, 8), ld(10, 11, 8));
    expands(c::ld(15, 15, 248), ld(15, 15, 248));
    expands(c::ld(8, 9, 192), ld(8, 9, 192));
    expands(c::fsd(9, 12, 136), fsd(9, 12, 136));
    expands(c::fsd(15, 8, 248), fsd(15, 8, 248));
    expands(c::sw(11, 12, 0), sw(11, 12, 0));
    expands(c::sw(15, 8, 124), sw(15, 8, 124));
    expands(c::sw(8, 9, 68), sw(8, 9, 68));
    expands(c::sd(13, 14, 8), sd(13, 14, 8));
    expands(c::sd(8, 15, 248), sd(8, 15, 248));
}

#[test]
fn compressed_quadrant1_expands() {
    expands(0x0001, addi(0, 0, 0)); // c.nop
    expands(c::addi(5, 1), addi(5, 5, 1));
    expands(c::addi(31, -32), addi(31, 31, -32));
    expands(c::addi(2, 31), addi(2, 2, 31));
    expands(c::addiw(5, -1), addiw(5, 5, -1));
    expands(c::addiw(31, 31), addiw(31, 31, 31));
    expands(c::addiw(1, 0), addiw(1, 1, 0)); // sext.w
    expands(c::li(10, -32), addi(10, 0, -32));
    expands(c::li(10, 31), addi(10, 0, 31));
    expands(c::li(1, -1), addi(1, 0, -1));
    expands(c::addi16sp(-512), addi(2, 2, -512));
    expands(c::addi16sp(496), addi(2, 2, 496));
    expands(c::addi16sp(16), addi(2, 2, 16));
    expands(c::addi16sp(-16), addi(2, 2, -16));
    expands(c::lui(5, 0x1000), lui(5, 0x1000));
    expands(c::lui(5, 0x1f000), lui(5, 0x1f000));
    expands(c::lui(31, -0x20000), lui(31, -0x20000)); // 0xfffe0000
    expands(c::lui(1, -0x1000), lui(1, -0x1000)); // 0xfffff000
    expands(c::srli(8, 1), srli(8, 8, 1));
    expands(c::srli(15, 63), srli(15, 15, 63));
    expands(c::srli(9, 32), srli(9, 9, 32));
    expands(c::srai(8, 1), srai(8, 8, 1));
    expands(c::srai(15, 63), srai(15, 15, 63));
    expands(c::andi(10, -32), andi(10, 10, -32));
    expands(c::andi(10, 31), andi(10, 10, 31));
    expands(c::andi(8, -1), andi(8, 8, -1));
    expands(c::ca(0, 0, 8, 15), sub(8, 8, 15));
    expands(c::ca(0, 1, 9, 14), xor(9, 9, 14));
    expands(c::ca(0, 2, 10, 13), or(10, 10, 13));
    expands(c::ca(0, 3, 15, 8), and(15, 15, 8));
    expands(c::ca(1, 0, 11, 12), subw(11, 11, 12));
    expands(c::ca(1, 1, 12, 11), addw(12, 12, 11));
    expands(c::j(0), jal(0, 0));
    expands(c::j(2046), jal(0, 2046));
    expands(c::j(-2048), jal(0, -2048));
    expands(c::j(-2), jal(0, -2));
    expands(c::j(0x554), jal(0, 0x554));
    expands(c::j(-0x556), jal(0, -0x556));
    expands(c::beqz(8, 254), beq(8, 0, 254));
    expands(c::beqz(15, -256), beq(15, 0, -256));
    expands(c::beqz(9, -2), beq(9, 0, -2));
    expands(c::beqz(10, 0xaa), beq(10, 0, 0xaa));
    expands(c::bnez(8, 254), bne(8, 0, 254));
    expands(c::bnez(15, -256), bne(15, 0, -256));
    expands(c::bnez(11, -0x56), bne(11, 0, -0x56));
}

#[test]
fn compressed_quadrant2_expands() {
    expands(c::slli(5, 1), slli(5, 5, 1));
    expands(c::slli(31, 63), slli(31, 31, 63));
    expands(c::slli(1, 32), slli(1, 1, 32));
    expands(c::fldsp(0, 0), fld(0, 2, 0));
    expands(c::fldsp(31, 504), fld(31, 2, 504));
    expands(c::fldsp(7, 0x148), fld(7, 2, 0x148));
    expands(c::lwsp(1, 0), lw(1, 2, 0));
    expands(c::lwsp(31, 252), lw(31, 2, 252));
    expands(c::lwsp(9, 0x94), lw(9, 2, 0x94));
    expands(c::ldsp(1, 8), ld(1, 2, 8));
    expands(c::ldsp(31, 504), ld(31, 2, 504));
    expands(c::ldsp(2, 0x1a8), ld(2, 2, 0x1a8));
    expands(c::cr(0, 1, 0), jalr(0, 1, 0)); // c.jr ra
    expands(c::cr(0, 31, 0), jalr(0, 31, 0));
    expands(c::cr(0, 10, 11), add(10, 0, 11)); // c.mv
    expands(c::cr(0, 31, 1), add(31, 0, 1));
    expands(c::cr(1, 0, 0), EBREAK);
    expands(c::cr(1, 1, 0), jalr(1, 1, 0)); // c.jalr ra
    expands(c::cr(1, 15, 0), jalr(1, 15, 0));
    expands(c::cr(1, 10, 11), add(10, 10, 11)); // c.add
    expands(c::cr(1, 31, 31), add(31, 31, 31));
    expands(c::fsdsp(0, 0), fsd(0, 2, 0));
    expands(c::fsdsp(31, 504), fsd(31, 2, 504));
    expands(c::swsp(1, 0), sw(1, 2, 0));
    expands(c::swsp(31, 252), sw(31, 2, 252));
    expands(c::swsp(9, 0x94), sw(9, 2, 0x94));
    expands(c::sdsp(0, 8), sd(0, 2, 8));
    expands(c::sdsp(31, 504), sd(31, 2, 504));
    expands(c::sdsp(5, 0x1a8), sd(5, 2, 0x1a8));
}

#[test]
fn compressed_reserved_encodings_are_illegal() {
    illegal(0x0000); // the all-zero parcel
    illegal(0x0004); // c.addi4spn x9, 0
    illegal(0x001c); // c.addi4spn x15, 0
    illegal(c::addiw(0, 1) as u32); // c.addiw with rd = 0
    illegal(c::lwsp(0, 4) as u32);
    illegal(c::ldsp(0, 8) as u32);
    illegal(c::cr(0, 0, 0) as u32); // c.jr x0
    illegal(c::addi16sp(0) as u32);
    illegal(c::lui(5, 0) as u32);
    illegal(c::lui(31, 0) as u32);
    illegal(0x8000); // quadrant 0, funct3 = 4
    illegal(0x9fff & !3); // quadrant 0, funct3 = 4, all other bits set
    illegal(c::ca(1, 2, 8, 9) as u32); // reserved CA halves (RV64 has subw/addw only)
    illegal(c::ca(1, 3, 8, 9) as u32);
    let i = decode(0x8002);
    assert_eq!(i.len, 2, "an illegal compressed instruction keeps length 2");
}

#[test]
fn reserved_32bit_encodings_are_illegal() {
    illegal(slli(5, 5, 1) | (1 << 26)); // funct6 beyond shamt[5]
    illegal(slli(5, 5, 1) | (1 << 31));
    illegal(srli(5, 5, 1) | (1 << 29));
    illegal(srai(5, 5, 1) | (1 << 31));
    illegal(slliw(5, 5, 0) | (1 << 25)); // shamt[5] = 1 is reserved for the W shifts
    illegal(srliw(5, 5, 0) | (1 << 25));
    illegal(sraiw(5, 5, 0) | (1 << 25));
    illegal(lr(2, 5, 10) | (1 << 20)); // lr.w with rs2 != 0
    illegal(lr(3, 5, 10) | (31 << 20));
    illegal(0x0000_200f); // fence with funct3 = 2
    illegal(enc::i(0x03, 7, 5, 10, 0)); // load funct3 = 7
    illegal(enc::s(0x23, 4, 10, 5, 0)); // store funct3 = 4
    illegal(ECALL | (1 << 7)); // ecall with rd != 0
    illegal(ECALL | (1 << 15)); // ecall with rs1 != 0
    illegal(EBREAK | (5 << 7));
    illegal(enc::i(0x73, 4, 5, 0, 0x300)); // SYSTEM funct3 = 4
    illegal(add(5, 6, 7) | (0x02 << 25)); // unknown funct7
    illegal(0xffff_ffff);
    for opcode in [0x0b, 0x2b, 0x57, 0x5b, 0x77, 0x7b, 0x1f, 0x3f, 0x7f] {
        illegal(opcode | (5 << 7));
    }
    assert_eq!(decode(0xffff_ffff).len, 4);
}

#[test]
fn integer_x0_destination_maps_to_sink() {
    assert_eq!(decode(add(0, 1, 2)).rd, ZERO_SINK);
    assert_eq!(decode(addi(0, 0, 0)).rd, ZERO_SINK);
    assert_eq!(decode(lui(0, 0x1000)).rd, ZERO_SINK);
    assert_eq!(decode(jal(0, 8)).rd, ZERO_SINK);
    assert_eq!(decode(jalr(0, 1, 0)).rd, ZERO_SINK);
    assert_eq!(decode(ld(0, 2, 0)).rd, ZERO_SINK);
    assert_eq!(decode(amo(amo5::ADD, 3, 0, 10, 11)).rd, ZERO_SINK);
    assert!(decode(csrr(0, addr::MSTATUS)).rd_is_x0());
    assert!(!decode(csrr(5, addr::MSTATUS)).rd_is_x0());
    assert_eq!(decode(c::li(0, 1) as u32).rd, ZERO_SINK); // a HINT, still harmless
    assert_eq!(decode(c::j(4) as u32).rd, ZERO_SINK);
    // Floating-point destinations have no x0 special case.
    assert_eq!(decode(fld(0, 2, 0)).rd, 0);
    assert_eq!(decode(c::fldsp(0, 0) as u32).rd, 0);
}

// ---------------------------------------------------------------------------------------
// 2. Execution (RV64I, M, A)
// ---------------------------------------------------------------------------------------

#[test]
fn x0_stays_zero() {
    let m = pass(
        &[
            addi(0, 0, 5),
            lui(0, 0x12345000),
            add(0, 6, 6),
            ld(0, 10, 0),
            add(5, 0, 0),
            addi(7, 0, 0),
        ],
        |m| {
            m.hart.x[6] = 77;
            m.hart.x[10] = DATA;
            m.hart.x[5] = 1;
            m.hart.x[7] = 1;
            assert!(m.bus.ram.load(DATA, &u64::MAX.to_le_bytes()));
        },
    );
    assert_eq!(m.hart.x[0], 0);
    assert_eq!(m.hart.x[5], 0);
    assert_eq!(m.hart.x[7], 0);
}

#[test]
fn add_sub_wrap() {
    assert_eq!(rr(add, u64::MAX, 1), 0);
    assert_eq!(rr(add, i64::MAX as u64, 1), i64::MIN as u64);
    assert_eq!(rr(sub, 0, 1), u64::MAX);
    assert_eq!(rr(sub, i64::MIN as u64, 1), i64::MAX as u64);
    assert_eq!(ri(addi, u64::MAX, 1), 0);
    assert_eq!(ri(addi, 5, -2048), (5i64 - 2048) as u64);
}

#[test]
fn word_ops_sign_extend() {
    assert_eq!(rr(addw, 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
    assert_eq!(rr(addw, 0xdead_beef_0000_0001, 0x1234_5678_0000_0001), 2);
    assert_eq!(rr(subw, 0, 1), u64::MAX);
    assert_eq!(rr(subw, 0x8000_0000, 1), 0x7fff_ffff);
    assert_eq!(ri(addiw, 0x7fff_ffff, 1), 0xffff_ffff_8000_0000);
    assert_eq!(ri(addiw, 0xffff_ffff, 0), u64::MAX); // sext.w
    assert_eq!(rr(sllw, 1, 31), 0xffff_ffff_8000_0000);
    assert_eq!(rr(sllw, 1, 32), 1); // only rs2[4:0]
    assert_eq!(rr(sllw, 0xffff_ffff_0000_0003, 63), 0xffff_ffff_8000_0000);
    assert_eq!(rr(srlw, (-16i64) as u64, 4), 0x0fff_ffff);
    assert_eq!(rr(srlw, 0x8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(rr(srlw, 0x8000_0000, 31), 1);
    assert_eq!(rr(sraw, 0x8000_0000, 4), 0xffff_ffff_f800_0000);
    assert_eq!(rr(sraw, 0x0000_0001_7fff_ffff, 35), 0x0fff_ffff);
    assert_eq!(ri(slliw, 1, 31), 0xffff_ffff_8000_0000);
    assert_eq!(ri(srliw, u64::MAX, 31), 1);
    assert_eq!(ri(srliw, 0x8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(ri(sraiw, 0x8000_0000, 31), u64::MAX);
    assert_eq!(rr(mulw, 0x7fff_ffff, 2), (-2i64) as u64);
}

#[test]
fn shifts_mask_their_amount() {
    assert_eq!(rr(sll, 1, 63), 1 << 63);
    assert_eq!(rr(sll, 1, 64), 1);
    assert_eq!(rr(sll, 1, 65), 2);
    assert_eq!(rr(srl, 1 << 63, 63), 1);
    assert_eq!(rr(srl, 1 << 63, 127), 1);
    assert_eq!(rr(sra, 1 << 63, 63), u64::MAX);
    assert_eq!(rr(sra, 1 << 63, 64), 1 << 63);
    assert_eq!(ri(slli, 3, 63), 1 << 63);
    assert_eq!(ri(srli, u64::MAX, 63), 1);
    assert_eq!(ri(srai, 1 << 63, 63), u64::MAX);
    assert_eq!(ri(srai, 0x4000_0000_0000_0000, 62), 1);
}

#[test]
fn set_less_than() {
    assert_eq!(rr(slt, u64::MAX, 0), 1);
    assert_eq!(rr(slt, 0, u64::MAX), 0);
    assert_eq!(rr(slt, i64::MIN as u64, i64::MAX as u64), 1);
    assert_eq!(rr(slt, 5, 5), 0);
    assert_eq!(rr(sltu, u64::MAX, 0), 0);
    assert_eq!(rr(sltu, 0, u64::MAX), 1);
    assert_eq!(ri(slti, u64::MAX, 0), 1);
    assert_eq!(ri(slti, 0, -1), 0);
    assert_eq!(ri(sltiu, 5, -1), 1); // the immediate is sign-extended, then compared unsigned
    assert_eq!(ri(sltiu, 0, 1), 1); // seqz
    assert_eq!(ri(sltiu, 1, 1), 0);
}

#[test]
fn division_corner_cases() {
    let min = i64::MIN as u64;
    let m1 = u64::MAX; // -1
    assert_eq!(rr(div, 7, 0), m1);
    assert_eq!(rr(divu, 7, 0), u64::MAX);
    assert_eq!(rr(rem, 7, 0), 7);
    assert_eq!(rr(remu, 7, 0), 7);
    assert_eq!(rr(rem, min, 0), min);
    assert_eq!(rr(div, min, m1), min);
    assert_eq!(rr(rem, min, m1), 0);
    assert_eq!(rr(div, (-7i64) as u64, 2), (-3i64) as u64);
    assert_eq!(rr(rem, (-7i64) as u64, 2), m1);
    assert_eq!(rr(rem, 7, (-2i64) as u64), 1);
    assert_eq!(rr(divu, m1, 2), u64::MAX / 2);
    // W forms use the low 32 bits and sign-extend the 32-bit result.
    assert_eq!(rr(divw, 7, 0), m1);
    assert_eq!(rr(divw, 7, 0x1_0000_0000), m1); // low word of the divisor is zero
    assert_eq!(rr(divuw, 7, 0), m1); // 2^32 - 1, sign-extended
    assert_eq!(rr(remw, 0x1_8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(rr(remuw, 0x1_8000_0000, 0), 0xffff_ffff_8000_0000);
    assert_eq!(rr(divw, 0x8000_0000, 0xffff_ffff), 0xffff_ffff_8000_0000);
    assert_eq!(rr(remw, 0x8000_0000, 0xffff_ffff), 0);
    assert_eq!(rr(divw, 0x1_0000_0006, 0x1_0000_0003), 2);
    assert_eq!(rr(divuw, 0xffff_fffe, 1), 0xffff_ffff_ffff_fffe);
    assert_eq!(rr(remuw, 0xffff_ffff, 0x10), 0xf);
}

#[test]
fn multiply_high_on_negatives() {
    let m1 = u64::MAX;
    let min = i64::MIN as u64;
    assert_eq!(rr(mul, m1, m1), 1);
    assert_eq!(rr(mulh, m1, m1), 0);
    assert_eq!(rr(mulh, min, min), 0x4000_0000_0000_0000);
    assert_eq!(rr(mulh, (-2i64) as u64, 3), m1);
    assert_eq!(rr(mulh, min, 1), m1);
    assert_eq!(rr(mulhsu, m1, m1), m1); // -1 * (2^64 - 1)
    assert_eq!(rr(mulhsu, (-2i64) as u64, 3), m1);
    assert_eq!(rr(mulhsu, 2, m1), 1);
    assert_eq!(rr(mulhsu, min, m1), 0x8000_0000_0000_0000); // -2^127 + 2^63
    assert_eq!(rr(mulhu, m1, m1), 0xffff_ffff_ffff_fffe);
    assert_eq!(rr(mulhu, (-2i64) as u64, 3), 2);
    assert_eq!(rr(mulhu, min, 2), 1);
}

#[test]
fn lui_auipc() {
    let m = pass(
        &[
            lui(5, 0x8000_0000u32 as i32),
            lui(6, 0x7ffff000),
            auipc(7, 0x1000),
            auipc(8, -0x1000),
        ],
        |_| {},
    );
    assert_eq!(m.hart.x[5], 0xffff_ffff_8000_0000);
    assert_eq!(m.hart.x[6], 0x7fff_f000);
    assert_eq!(m.hart.x[7], DRAM_BASE + 8 + 0x1000);
    assert_eq!(m.hart.x[8], DRAM_BASE + 12 - 0x1000);
}

#[test]
fn jal_jalr_link_and_target() {
    // jal skips one instruction and links the next pc.
    let m = pass(&[jal(1, 8), addi(20, 0, 1), addi(21, 0, 2)], |_| {});
    assert_eq!(m.hart.x[1], DRAM_BASE + 4);
    assert_eq!((m.hart.x[20], m.hart.x[21]), (0, 2));
    // jalr with rd == rs1: the target uses the old rs1, and bit 0 of the sum is cleared.
    let m = pass(&[jalr(5, 5, 0), addi(20, 0, 1), addi(21, 0, 2)], |m| {
        m.hart.x[5] = DRAM_BASE + 9
    });
    assert_eq!(m.hart.x[5], DRAM_BASE + 4);
    assert_eq!((m.hart.x[20], m.hart.x[21]), (0, 2));
    // Odd immediate: (rs1 + imm) & !1.
    let m = pass(&[jalr(6, 5, 3), addi(20, 0, 1), addi(21, 0, 2)], |m| {
        m.hart.x[5] = DRAM_BASE + 6
    });
    assert_eq!(m.hart.x[6], DRAM_BASE + 4);
    assert_eq!(m.hart.x[20], 0);
    // Backward jal and a compressed c.jalr, whose link is pc + 2.
    let mut prog = assemble(&[jal(0, 12), addi(21, 0, 2), jal(0, 8)]); // 8 jumps to the exit at 16
    prog.extend(c::cr(1, 5, 0).to_le_bytes()); // 12: c.jalr x5 -> pc 4
    prog.extend(c::addi(0, 0).to_le_bytes()); // 14: c.nop (skipped)
    let m = run_bytes(&prog, |m| m.hart.x[5] = DRAM_BASE + 4, PASS);
    assert_eq!(m.hart.x[1], DRAM_BASE + 14);
    assert_eq!(m.hart.x[21], 2);
}

#[test]
fn loads_extend() {
    let bytes = [0x80, 0xff, 0x00, 0x80, 0xfe, 0xff, 0xff, 0xff];
    let prog = [
        lb(5, 10, 0),
        lbu(6, 10, 0),
        lh(7, 10, 0),
        lhu(8, 10, 0),
        lw(9, 10, 0),
        lwu(11, 10, 0),
        ld(12, 10, 0),
        lb(13, 10, 2),
        lh(14, 10, 6),
        lw(15, 10, 4),
    ];
    let m = pass(&prog, |m| {
        m.hart.x[10] = DATA;
        assert!(m.bus.ram.load(DATA, &bytes));
    });
    let x = &m.hart.x;
    assert_eq!(x[5], 0xffff_ffff_ffff_ff80);
    assert_eq!(x[6], 0x80);
    assert_eq!(x[7], 0xffff_ffff_ffff_ff80);
    assert_eq!(x[8], 0xff80);
    assert_eq!(x[9], 0xffff_ffff_8000_ff80);
    assert_eq!(x[11], 0x8000_ff80);
    assert_eq!(x[12], 0xffff_fffe_8000_ff80);
    assert_eq!(x[13], 0);
    assert_eq!(x[14], u64::MAX);
    assert_eq!(x[15], 0xffff_ffff_ffff_fffe);
}

#[test]
fn misaligned_load_store_in_ram_do_not_trap() {
    let v = 0x0123_4567_89ab_cdef;
    let m = pass(
        &[sd(7, 10, 3), ld(5, 10, 3), lw(6, 10, 5), ld(8, 10, 0)],
        |m| {
            m.hart.x[10] = DATA;
            m.hart.x[7] = v;
        },
    );
    assert_eq!(m.hart.x[5], v);
    assert_eq!(m.hart.x[6], 0x4567_89ab);
    assert_eq!(m.hart.x[8], v << 24);
    assert_eq!(m.hart.csr.mcause, 0);
}

#[test]
fn lr_sc_succeeds_and_sign_extends() {
    let m = pass(&[lr(3, 5, 10), sc(3, 6, 10, 7), ld(8, 10, 0)], |m| {
        m.hart.x[10] = DATA;
        m.hart.x[7] = 0x1122_3344_5566_7788;
        assert!(m.bus.ram.load(DATA, &42u64.to_le_bytes()));
    });
    assert_eq!(
        (m.hart.x[5], m.hart.x[6], m.hart.x[8]),
        (42, 0, 0x1122_3344_5566_7788)
    );
    let m = pass(&[lr(2, 5, 10), sc(2, 6, 10, 7), lwu(8, 10, 0)], |m| {
        m.hart.x[10] = DATA;
        m.hart.x[7] = 0xdead_beef_1234_5678;
        assert!(m.bus.ram.load(DATA, &0x8000_0000u32.to_le_bytes()));
    });
    assert_eq!(m.hart.x[5], 0xffff_ffff_8000_0000);
    assert_eq!((m.hart.x[6], m.hart.x[8]), (0, 0x1234_5678));
}

#[test]
fn sc_fails_without_reservation() {
    let m = pass(&[sc(3, 6, 10, 7), ld(8, 10, 0), sc(2, 9, 10, 7)], |m| {
        m.hart.x[10] = DATA;
        m.hart.x[7] = 99;
        assert!(m.bus.ram.load(DATA, &5u64.to_le_bytes()));
    });
    assert_eq!((m.hart.x[6], m.hart.x[8], m.hart.x[9]), (1, 5, 1));
    // An SC consumes the reservation, successful or not.
    let m = pass(&[lr(3, 5, 10), sc(3, 6, 10, 7), sc(3, 9, 10, 7)], |m| {
        m.hart.x[10] = DATA
    });
    assert_eq!((m.hart.x[6], m.hart.x[9]), (0, 1));
}

#[test]
fn sc_fails_after_store_to_granule() {
    let m = pass(
        &[lr(3, 5, 10), sw(11, 10, 4), sc(3, 6, 10, 7), ld(8, 10, 0)],
        |m| {
            m.hart.x[10] = DATA;
            m.hart.x[7] = 99;
            m.hart.x[11] = 0xaaaa;
        },
    );
    assert_eq!(m.hart.x[6], 1);
    assert_eq!(m.hart.x[8], 0xaaaa << 32);
    // A store outside the granule leaves the reservation alone.
    let m = pass(&[lr(3, 5, 10), sd(11, 10, 8), sc(3, 6, 10, 7)], |m| {
        m.hart.x[10] = DATA;
    });
    assert_eq!(m.hart.x[6], 0);
}

#[test]
fn sc_fails_after_trap() {
    // The "handler" is the sc right after the ecall.
    let m = pass(&[lr(3, 5, 10), ECALL, sc(3, 6, 10, 7)], |m| {
        m.hart.x[10] = DATA;
        m.hart.csr.mtvec = DRAM_BASE + 8;
    });
    assert_eq!(m.hart.csr.mcause, 11);
    assert_eq!(m.hart.x[6], 1);
}

#[test]
fn amos_word_and_double() {
    use amo5::*;
    let old = -5i64 as u64;
    // rs2's upper half must be ignored by the .w forms.
    let src = 0xdead_beef_0000_0004u64;
    let cases: [(u32, u64, u64); 9] = [
        // funct5, new low word for .w, new doubleword for .d (src is negative as an i64)
        (SWAP, 4, src),
        (ADD, 0xffff_ffff, 0xdead_beee_ffff_ffff),
        (XOR, 0xffff_ffff, 0x2152_4110_ffff_ffff),
        (AND, 0, 0xdead_beef_0000_0000),
        (OR, 0xffff_ffff, u64::MAX),
        (MIN, 0xffff_fffb, src),
        (MAX, 4, old),
        (MINU, 4, src),
        (MAXU, 0xffff_fffb, old),
    ];
    for (f5, new_w, new_d) in cases {
        let m = pass(&[amo(f5, 2, 5, 10, 7), ld(6, 10, 0)], |m| {
            m.hart.x[10] = DATA;
            m.hart.x[7] = src;
            let mut init = (old as u32).to_le_bytes().to_vec();
            init.extend(0x1122_3344u32.to_le_bytes());
            assert!(m.bus.ram.load(DATA, &init));
        });
        assert_eq!(m.hart.x[5], old, "amo {f5:#x}.w old value, sign-extended");
        let expect = (0x1122_3344u64 << 32) | (new_w & 0xffff_ffff);
        assert_eq!(m.hart.x[6], expect, "amo {f5:#x}.w memory");

        let m = pass(&[amo(f5, 3, 5, 10, 7), ld(6, 10, 0)], |m| {
            m.hart.x[10] = DATA;
            m.hart.x[7] = src;
            assert!(m.bus.ram.load(DATA, &old.to_le_bytes()));
        });
        assert_eq!(m.hart.x[5], old, "amo {f5:#x}.d old value");
        assert_eq!(m.hart.x[6], new_d, "amo {f5:#x}.d memory");
    }
    // Signed vs unsigned with a positive memory value and a negative source.
    let m = pass(&[amo(MIN, 3, 5, 10, 7), amo(MAXU, 3, 6, 11, 7)], |m| {
        m.hart.x[10] = DATA;
        m.hart.x[11] = DATA + 8;
        m.hart.x[7] = u64::MAX;
        assert!(
            m.bus
                .ram
                .load(DATA, &[1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        );
    });
    let mut buf = [0u8; 16];
    assert!(m.bus.ram.dump(DATA, &mut buf));
    assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), u64::MAX);
    assert_eq!(u64::from_le_bytes(buf[8..].try_into().unwrap()), u64::MAX);
}

#[test]
fn misaligned_atomics_trap() {
    for (insn, addr, cause) in [
        (amo(amo5::ADD, 2, 5, 10, 7), DATA + 2, 6),
        (amo(amo5::SWAP, 3, 5, 10, 7), DATA + 4, 6),
        (amo(amo5::MAXU, 3, 5, 10, 7), DATA + 1, 6),
        (sc(3, 5, 10, 7), DATA + 4, 6),
        (lr(2, 5, 10), DATA + 2, 4),
        (lr(3, 5, 10), DATA + 4, 4),
    ] {
        let m = m_trap(&[insn], |m| {
            m.hart.x[10] = addr;
            m.hart.x[5] = 0x77;
        });
        assert_eq!(m.hart.csr.mcause, cause, "{insn:#010x}");
        assert_eq!(m.hart.csr.mtval, addr, "{insn:#010x}");
        assert_eq!(m.hart.csr.mepc, DRAM_BASE);
        assert_eq!(
            m.hart.x[5], 0x77,
            "a trapping instruction writes no register"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. CSRs and privilege
// ---------------------------------------------------------------------------------------

#[test]
fn identification_csrs() {
    let m = pass(
        &[
            csrr(5, addr::MISA),
            csrr(6, addr::MHARTID),
            csrr(7, addr::MVENDORID),
            csrr(8, addr::MARCHID),
            csrr(9, addr::MIMPID),
        ],
        |m| m.hart.x[6] = 1,
    );
    // RV64 (MXL = 2) with I M A F D C S U.
    assert_eq!(m.hart.x[5], 0x8000_0000_0014_112d);
    assert_eq!(m.hart.x[5], csr::MISA);
    assert_eq!(&m.hart.x[6..10], &[0, 0, 0, 0]);
}

#[test]
fn read_only_csr_writes_are_illegal() {
    assert_illegal_at(&[NOP, csrrw(5, addr::MVENDORID as u32, 0)], 1, |_| {});
    assert_illegal_at(&[csrrw(0, addr::MHARTID as u32, 6)], 0, |_| {});
    assert_illegal_at(&[csrrs(5, addr::MARCHID as u32, 6)], 0, |m| m.hart.x[6] = 1);
    assert_illegal_at(&[csrrwi(0, addr::CYCLE as u32, 0)], 0, |_| {});
    // Reading with rs1 = x0 (or zimm = 0) does not write, so it is legal.
    let m = pass(
        &[
            csrrs(5, addr::MVENDORID as u32, 0),
            csrrc(6, addr::MHARTID as u32, 0),
            csrrsi(7, 0xf12, 0),
        ],
        |m| m.hart.x[5] = 9,
    );
    assert_eq!(&m.hart.x[5..8], &[0, 0, 0]);
}

#[test]
fn csrs_on_mip_does_not_latch_the_plic_line() {
    // Privileged spec 3.1.9: a csrs/csrc of mip reads SEIP as the OR of the software bit and
    // the PLIC's line, but only the software bit takes part in the write.
    let m = pass(
        &[
            addi(5, 0, 1 << 5),
            csrrs(0, addr::MIP as u32, 5),
            csrr(6, addr::MIP),
        ],
        |m| {
            use crate::bus::Device;
            let plic = &mut m.bus.plic;
            plic.write(4 * 5, 4, 1).unwrap(); // source 5: priority 1
            plic.write(0x2080, 4, 1 << 5).unwrap(); // enabled for context 1 (S-mode)
            plic.set_source(5, true);
        },
    );
    assert_ne!(m.hart.x[6] & csr::MIP_SEIP, 0, "the line shows in mip");
    assert_eq!(m.hart.csr.mip_sw & csr::MIP_SEIP, 0, "but was not latched");
    assert_ne!(m.hart.csr.mip_sw & csr::MIP_STIP, 0);
}

#[test]
fn csr_privilege_checks() {
    assert_illegal_at(&[csrr(5, addr::MSTATUS)], 0, at(Privilege::Supervisor));
    assert_illegal_at(&[csrr(5, addr::MSCRATCH)], 0, at(Privilege::Supervisor));
    assert_illegal_at(&[csrr(5, addr::SSTATUS)], 0, at(Privilege::User));
    let m = pass(&[csrr(5, addr::SSCRATCH)], |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.sscratch = 0x55;
    });
    assert_eq!(m.hart.x[5], 0x55);
    // Unknown CSRs are illegal even in M-mode.
    assert_illegal_at(&[csrr(5, 0x7ff)], 0, |_| {});
}

#[test]
fn user_counter_access_follows_counteren() {
    let rd_cycle = [csrr(5, addr::CYCLE)];
    assert_illegal_at(&rd_cycle, 0, at(Privilege::User));
    assert_illegal_at(&rd_cycle, 0, |m| {
        m.hart.privilege = Privilege::User;
        m.hart.csr.mcounteren = 1; // scounteren still clear
    });
    assert_illegal_at(&rd_cycle, 0, |m| {
        m.hart.privilege = Privilege::User;
        m.hart.csr.scounteren = 1; // mcounteren still clear
    });
    assert_illegal_at(&rd_cycle, 0, at(Privilege::Supervisor));
    let m = pass(
        &[NOP, NOP, csrr(5, addr::CYCLE), csrr(6, addr::INSTRET)],
        |m| {
            m.hart.privilege = Privilege::User;
            m.hart.csr.mcounteren = 0b101;
            m.hart.csr.scounteren = 0b101;
        },
    );
    assert_eq!((m.hart.x[5], m.hart.x[6]), (2, 3));
    assert_eq!(m.hart.privilege, Privilege::User);
    // S-mode needs only mcounteren; time is bit 1.
    let m = pass(&[csrr(5, addr::TIME)], |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mcounteren = 0b010;
    });
    assert_eq!(m.hart.x[5], 0);
    assert_illegal_at(&[csrr(5, addr::CYCLE)], 0, |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mcounteren = 0b010;
    });
}

#[test]
fn mstatus_warl() {
    let fs3 = csr::MSTATUS_FS;
    let m = pass(
        &[
            csrw(addr::MSTATUS, 6), // MPP = 2 (reserved)
            csrr(5, addr::MSTATUS),
            csrw(addr::MSTATUS, 7), // FS = 3 and junk in read-only fields
            csrr(8, addr::MSTATUS),
            csrw(addr::MSTATUS, 0),
            csrr(9, addr::MSTATUS),
            csrw(addr::MSTATUS, 11), // MPP = S
            csrr(12, addr::MSTATUS),
        ],
        |m| {
            m.hart.x[6] = 2 << 11;
            m.hart.x[7] = fs3 | (0xf << 32) | (1 << 63) | (1 << 40);
            m.hart.x[11] = 1 << 11;
        },
    );
    let uxl_sxl = (2 << 32) | (2 << 34);
    assert_eq!(m.hart.x[5] & csr::MSTATUS_MPP, 0, "MPP = 2 reads back as U");
    assert_eq!(m.hart.x[5], uxl_sxl);
    assert_eq!(
        m.hart.x[8],
        uxl_sxl | fs3 | csr::MSTATUS_SD,
        "SD follows FS = 3"
    );
    assert_eq!(m.hart.x[9], uxl_sxl, "SD clears with FS, UXL/SXL stay 2");
    assert_eq!(m.hart.x[12], uxl_sxl | (1 << 11));
}

#[test]
fn delegation_registers_warl() {
    let m = pass(
        &[
            csrw(addr::MEDELEG, 6),
            csrr(5, addr::MEDELEG),
            csrw(addr::MIDELEG, 6),
            csrr(7, addr::MIDELEG),
            csrw(addr::MIE, 6),
            csrr(8, addr::MIE),
        ],
        |m| m.hart.x[6] = u64::MAX,
    );
    assert_eq!(
        m.hart.x[5] & (1 << 11),
        0,
        "ecall from M cannot be delegated"
    );
    assert_eq!(m.hart.x[5], 0xb3ff);
    assert_eq!(m.hart.x[7], csr::MIP_SSIP | csr::MIP_STIP | csr::MIP_SEIP);
    assert_eq!(m.hart.x[8], 0xaaa);
}

#[test]
fn trap_vector_and_epc_warl() {
    let m = pass(
        &[
            csrw(addr::MTVEC, 6), // mode 2: ignored
            csrr(5, addr::MTVEC),
            csrw(addr::MTVEC, 7), // mode 3: ignored
            csrr(8, addr::MTVEC),
            csrw(addr::MTVEC, 9), // mode 1: accepted
            csrr(11, addr::MTVEC),
            csrw(addr::MEPC, 12),
            csrr(13, addr::MEPC),
            csrw(addr::SEPC, 12),
            csrr(14, addr::SEPC),
            csrw(addr::MTVEC, 10), // restore the handler
        ],
        |m| {
            m.hart.x[6] = DRAM_BASE + 0x4002;
            m.hart.x[7] = DRAM_BASE + 0x4003;
            m.hart.x[9] = DRAM_BASE + 0x4001;
            m.hart.x[10] = M_HANDLER;
            m.hart.x[12] = 0x8000_1235;
        },
    );
    assert_eq!(m.hart.x[5], M_HANDLER);
    assert_eq!(m.hart.x[8], M_HANDLER);
    assert_eq!(m.hart.x[11], DRAM_BASE + 0x4001);
    assert_eq!(m.hart.x[13], 0x8000_1234);
    assert_eq!(m.hart.x[14], 0x8000_1234);
}

#[test]
fn satp_accepts_bare_and_sv39_only() {
    // satp.MODE is WARL: Sv39 (8) and Bare (0) are implemented with a 16-bit ASID; a write
    // of Sv48 (9) or Sv57 (10) leaves satp unchanged (privileged spec 4.1.11).
    let sv39 = (8u64 << 60) | (0xffff << 44) | 0x8_0001;
    let m = pass(
        &[
            csrw(addr::SATP, 6),
            csrr(5, addr::SATP),
            csrw(addr::SATP, 7),
            csrr(8, addr::SATP),
            csrw(addr::SATP, 9),
            csrr(18, addr::SATP),
        ],
        |m| {
            m.hart.x[6] = sv39;
            m.hart.x[7] = 9 << 60; // Sv48: ignored
            m.hart.x[9] = 0x1234; // mode Bare, other fields accepted
        },
    );
    assert_eq!(m.hart.x[5], sv39);
    assert_eq!(m.hart.x[8], sv39);
    assert_eq!(m.hart.x[18], 0x1234);
}

#[test]
fn counter_writes_take_effect() {
    let prog = [
        csrw(addr::MCYCLE, 6),
        csrr(5, addr::MCYCLE),
        NOP,
        NOP,
        csrr(7, addr::MCYCLE),
        csrw(addr::MINSTRET, 6),
        csrr(8, addr::MINSTRET),
        NOP,
        csrr(9, addr::MINSTRET),
        csrr(11, addr::CYCLE),
        csrr(12, addr::INSTRET),
    ];
    let m = pass(&prog, |m| m.hart.x[6] = 1000);
    let x = &m.hart.x;
    assert_eq!((x[5], x[7]), (1000, 1003));
    assert_eq!((x[8], x[9]), (1000, 1002));
    assert_eq!(x[11], 1008, "cycle is mcycle");
    assert_eq!(x[12], 1004, "instret is minstret");
}

#[test]
fn fp_csrs_illegal_when_fs_off() {
    assert_illegal_at(&[csrr(5, addr::FCSR)], 0, |_| {});
    assert_illegal_at(&[csrr(5, addr::FFLAGS)], 0, |_| {});
    assert_illegal_at(&[csrw(addr::FRM, 6)], 0, |_| {});
    assert_illegal_at(&[fadd_d(1, 2, 3)], 0, |_| {});
    assert_illegal_at(&[fld(1, 10, 0)], 0, |m| m.hart.x[10] = DATA);
    let m = pass(
        &[csrw(addr::FCSR, 6), csrr(5, addr::FCSR), csrr(7, addr::FRM)],
        |m| {
            m.hart.csr.mstatus |= 1 << 13; // FS = Initial
            m.hart.x[6] = 0xff;
        },
    );
    assert_eq!((m.hart.x[5], m.hart.x[7]), (0xff, 7));
}

#[test]
fn fs_becomes_dirty_after_fadd() {
    let m = pass(
        &[
            csrr(5, addr::MSTATUS),
            fadd_d(1, 2, 3),
            csrr(6, addr::MSTATUS),
        ],
        |m| {
            m.hart.csr.mstatus |= 1 << 13; // FS = Initial
            m.hart.f[2] = 1.5f64.to_bits();
            m.hart.f[3] = 2.25f64.to_bits();
        },
    );
    assert_eq!(m.hart.x[5] & (csr::MSTATUS_FS | csr::MSTATUS_SD), 1 << 13);
    assert_eq!(
        m.hart.x[6] & (csr::MSTATUS_FS | csr::MSTATUS_SD),
        csr::MSTATUS_FS | csr::MSTATUS_SD
    );
    assert_eq!(m.hart.f[1], 3.75f64.to_bits());
}

// ---------------------------------------------------------------------------------------
// 4. Traps
// ---------------------------------------------------------------------------------------

#[test]
fn ecall_cause_per_mode() {
    for (p, cause, mpp) in [
        (Privilege::User, 8, 0),
        (Privilege::Supervisor, 9, 1),
        (Privilege::Machine, 11, 3),
    ] {
        let m = m_trap(&[NOP, ECALL], at(p));
        let c = &m.hart.csr;
        assert_eq!(
            (c.mcause, c.mepc, c.mtval),
            (cause, DRAM_BASE + 4, 0),
            "{p:?}"
        );
        assert_eq!((c.mstatus & csr::MSTATUS_MPP) >> 11, mpp, "{p:?}");
        assert_eq!(m.hart.privilege, Privilege::Machine);
    }
    let m = m_trap(&[EBREAK], |_| {});
    assert_eq!((m.hart.csr.mcause, m.hart.csr.mepc), (3, DRAM_BASE));
}

#[test]
fn delegated_exception_goes_to_supervisor() {
    let m = run_words(
        &[NOP, ECALL],
        |m| {
            m.hart.privilege = Privilege::User;
            m.hart.csr.medeleg = 1 << 8;
            m.hart.csr.mstatus |= csr::MSTATUS_SIE | csr::MSTATUS_MIE;
        },
        S_TRAP,
    );
    let c = &m.hart.csr;
    assert_eq!((c.scause, c.sepc, c.stval), (8, DRAM_BASE + 4, 0));
    assert_eq!(c.mstatus & csr::MSTATUS_SPP, 0, "SPP = U");
    assert_ne!(c.mstatus & csr::MSTATUS_SPIE, 0, "SPIE = old SIE");
    assert_eq!(c.mstatus & csr::MSTATUS_SIE, 0);
    assert_ne!(c.mstatus & csr::MSTATUS_MIE, 0, "M-level state untouched");
    assert_eq!((c.mcause, c.mepc), (0, 0));
    assert_eq!(m.hart.privilege, Privilege::Supervisor);

    // From S-mode, with SIE clear: SPP = S, SPIE = 0, stval = the instruction bits.
    let bad = 0xffff_ffff;
    let m = run_words(
        &[bad],
        |m| {
            m.hart.privilege = Privilege::Supervisor;
            m.hart.csr.medeleg = 1 << 2;
            m.hart.csr.mstatus |= csr::MSTATUS_SPIE;
        },
        S_TRAP,
    );
    let c = &m.hart.csr;
    assert_eq!((c.scause, c.sepc, c.stval), (2, DRAM_BASE, bad as u64));
    assert_ne!(c.mstatus & csr::MSTATUS_SPP, 0);
    assert_eq!(c.mstatus & (csr::MSTATUS_SPIE | csr::MSTATUS_SIE), 0);
}

#[test]
fn trap_in_machine_mode_is_never_delegated() {
    let m = m_trap(&[0xffff_ffff], |m| m.hart.csr.medeleg = 0xb3ff);
    assert_eq!((m.hart.csr.mcause, m.hart.csr.scause), (2, 0));
    let m = m_trap(&[ECALL], |m| m.hart.csr.medeleg = 0xb3ff);
    assert_eq!(m.hart.csr.mcause, 11);
}

#[test]
fn mret_restores_state() {
    use csr::{MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPRV};
    for (mpp, p, mprv_after) in [
        (0, Privilege::User, 0),
        (1, Privilege::Supervisor, 0),
        (3, Privilege::Machine, MSTATUS_MPRV),
    ] {
        let m = pass(&[MRET, addi(5, 0, 9)], |m| {
            m.hart.csr.mstatus |= (mpp << 11) | MSTATUS_MPIE | MSTATUS_MPRV;
            m.hart.csr.mepc = DRAM_BASE + 4;
        });
        let s = m.hart.csr.mstatus;
        assert_eq!(m.hart.privilege, p);
        assert_eq!(m.hart.x[5], 9);
        assert_ne!(s & MSTATUS_MIE, 0, "MIE = old MPIE");
        assert_ne!(s & MSTATUS_MPIE, 0, "MPIE = 1");
        assert_eq!(s & MSTATUS_MPP, 0, "MPP = U");
        assert_eq!(s & MSTATUS_MPRV, mprv_after, "MPRV after mret to {p:?}");
    }
    // MPIE = 0 gives MIE = 0.
    let m = pass(&[MRET], |m| {
        m.hart.csr.mstatus |= MSTATUS_MIE | (3 << 11);
        m.hart.csr.mepc = DRAM_BASE + 4;
    });
    assert_eq!(m.hart.csr.mstatus & MSTATUS_MIE, 0);
    assert_illegal_at(&[MRET], 0, at(Privilege::Supervisor));
    assert_illegal_at(&[MRET], 0, at(Privilege::User));
}

#[test]
fn sret_restores_state() {
    use csr::{MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_TSR};
    for (spp, p) in [(0, Privilege::User), (MSTATUS_SPP, Privilege::Supervisor)] {
        let m = pass(&[SRET, addi(5, 0, 9)], |m| {
            m.hart.privilege = Privilege::Supervisor;
            m.hart.csr.mstatus |= spp | MSTATUS_SPIE | MSTATUS_MPRV;
            m.hart.csr.sepc = DRAM_BASE + 4;
        });
        let s = m.hart.csr.mstatus;
        assert_eq!(m.hart.privilege, p);
        assert_eq!(m.hart.x[5], 9);
        assert_ne!(s & MSTATUS_SIE, 0, "SIE = old SPIE");
        assert_ne!(s & MSTATUS_SPIE, 0);
        assert_eq!(s & MSTATUS_SPP, 0, "SPP = U");
        assert_eq!(s & MSTATUS_MPRV, 0, "MPRV cleared: sret never returns to M");
    }
    assert_illegal_at(&[SRET], 0, |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mstatus |= MSTATUS_TSR;
    });
    assert_illegal_at(&[SRET], 0, at(Privilege::User));
    // TSR does not apply to M-mode.
    let m = pass(&[SRET], |m| {
        m.hart.csr.mstatus |= MSTATUS_TSR;
        m.hart.csr.sepc = DRAM_BASE + 4;
    });
    assert_eq!(m.hart.privilege, Privilege::User);
}

#[test]
fn wfi_and_sfence_privilege_rules() {
    use csr::{MSTATUS_TVM, MSTATUS_TW};
    assert_illegal_at(&[WFI], 0, at(Privilege::User));
    assert_illegal_at(&[WFI], 0, |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mstatus |= MSTATUS_TW;
    });
    let sf = sfence_vma(0, 0);
    assert_illegal_at(&[sf], 0, at(Privilege::User));
    assert_illegal_at(&[sfence_vma(10, 11)], 0, |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mstatus |= MSTATUS_TVM;
    });
    assert_illegal_at(&[csrr(5, addr::SATP)], 0, |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mstatus |= MSTATUS_TVM;
    });
    pass(&[sf, sfence_vma(10, 11)], at(Privilege::Supervisor));
    pass(&[sf], |m| m.hart.csr.mstatus |= MSTATUS_TVM); // TVM does not apply to M
}

#[test]
fn vectored_mtvec() {
    let setup = |m: &mut Machine| {
        assert!(m.bus.ram.load(VECTORS, &exit_stub(M_TRAP)));
        assert!(m.bus.ram.load(VECTORS + 4 * irq::MTI, &exit_stub(7)));
        m.hart.csr.mtvec = VECTORS | 1;
    };
    // An exception goes to the base.
    let m = m_trap(&[NOP, ECALL], setup);
    assert_eq!((m.hart.csr.mcause, m.hart.csr.mepc), (11, DRAM_BASE + 4));
    // An interrupt goes to base + 4 * cause. mtimecmp = 0 at reset, so MTIP is pending.
    let m = run_words(
        &[NOP],
        |m| {
            setup(m);
            m.hart.csr.mie = csr::MIP_MTIP;
            m.hart.csr.mstatus |= csr::MSTATUS_MIE;
        },
        7,
    );
    assert_eq!(m.hart.csr.mcause, INT | irq::MTI);
    assert_eq!(m.hart.csr.mepc, DRAM_BASE);
    assert_eq!(m.hart.csr.mtval, 0);
}

fn hart_at(p: Privilege) -> Hart {
    let mut h = Hart::new(DRAM_BASE, 0);
    h.privilege = p;
    h
}

#[test]
fn interrupt_priority() {
    let mut h = hart_at(Privilege::Machine);
    h.csr.mie = 0xaaa;
    h.csr.mstatus |= csr::MSTATUS_MIE;
    h.csr.mip_sw = 0xaaa;
    for expected in irq::PRIORITY {
        assert_eq!(h.pending_interrupt(), Some(INT | expected));
        h.csr.mip_sw &= !(1 << expected);
    }
    assert_eq!(h.pending_interrupt(), None);
    assert_eq!(
        irq::PRIORITY,
        [irq::MEI, irq::MSI, irq::MTI, irq::SEI, irq::SSI, irq::STI]
    );

    // In S-mode with S interrupts delegated: M-level first, then SEI, SSI, STI.
    let mut h = hart_at(Privilege::Supervisor);
    h.csr.mie = 0xaaa;
    h.csr.mideleg = 0x222;
    h.csr.mstatus |= csr::MSTATUS_SIE;
    h.csr.mip_sw = 0xaaa;
    for expected in irq::PRIORITY {
        assert_eq!(h.pending_interrupt(), Some(INT | expected));
        h.csr.mip_sw &= !(1 << expected);
    }
    // Disabled in mie: nothing.
    let mut h = hart_at(Privilege::Machine);
    h.csr.mip_sw = 0xaaa;
    h.csr.mstatus |= csr::MSTATUS_MIE;
    assert_eq!(h.pending_interrupt(), None);
    // M-mode with MIE = 0: nothing.
    h.csr.mie = 0xaaa;
    h.csr.mstatus &= !csr::MSTATUS_MIE;
    assert_eq!(h.pending_interrupt(), None);
}

#[test]
fn delegated_interrupts_never_taken_in_machine_mode() {
    let mut h = hart_at(Privilege::Machine);
    h.csr.mideleg = 0x222;
    h.csr.mie = 0x222;
    h.csr.mip_sw = 0x222;
    h.csr.mstatus |= csr::MSTATUS_MIE | csr::MSTATUS_SIE;
    assert_eq!(h.pending_interrupt(), None);
    // The same interrupts are taken in S-mode with SIE, and in U-mode regardless of SIE.
    h.privilege = Privilege::Supervisor;
    assert_eq!(h.pending_interrupt(), Some(INT | irq::SEI));
    h.csr.mstatus &= !csr::MSTATUS_SIE;
    assert_eq!(h.pending_interrupt(), None);
    h.privilege = Privilege::User;
    assert_eq!(h.pending_interrupt(), Some(INT | irq::SEI));
}

#[test]
fn machine_interrupts_taken_below_machine_mode_even_with_mie_clear() {
    for p in [Privilege::Supervisor, Privilege::User] {
        let mut h = hart_at(p);
        h.csr.mie = csr::MIP_MTIP;
        h.csr.mip_sw = csr::MIP_MTIP;
        assert_eq!(h.pending_interrupt(), Some(INT | irq::MTI), "{p:?}");
    }
    // Through the machine: an S-mode program is interrupted by MTI (pending from reset).
    let m = m_trap(&[NOP, NOP], |m| {
        m.hart.privilege = Privilege::Supervisor;
        m.hart.csr.mie = csr::MIP_MTIP;
    });
    assert_eq!(m.hart.csr.mcause, INT | irq::MTI);
    assert_eq!((m.hart.csr.mstatus & csr::MSTATUS_MPP) >> 11, 1);
}

#[test]
fn delegated_interrupt_to_supervisor() {
    let m = run_words(
        &[NOP],
        |m| {
            m.hart.privilege = Privilege::User;
            m.hart.csr.mideleg = csr::MIP_SSIP;
            m.hart.csr.mie = csr::MIP_SSIP;
            m.hart.csr.mip_sw = csr::MIP_SSIP;
        },
        S_TRAP,
    );
    let c = &m.hart.csr;
    assert_eq!((c.scause, c.sepc, c.stval), (INT | irq::SSI, DRAM_BASE, 0));
    assert_eq!(c.mcause, 0);
}

#[test]
fn illegal_compressed_mtval_is_16_bits() {
    let mut prog = c::cr(0, 0, 0).to_le_bytes().to_vec(); // c.jr x0: reserved
    prog.extend(0xffffu16.to_le_bytes()); // what a 32-bit fetch would see above it
    let m = run_bytes(&prog, |_| {}, M_TRAP);
    assert_eq!(
        (m.hart.csr.mcause, m.hart.csr.mepc, m.hart.csr.mtval),
        (2, DRAM_BASE, 0x8002)
    );
    // A 32-bit illegal instruction after a compressed one: all 32 bits.
    let mut prog = c::addi(0, 0).to_le_bytes().to_vec();
    prog.extend(0x0000_107fu32.to_le_bytes());
    let m = run_bytes(&prog, |_| {}, M_TRAP);
    assert_eq!((m.hart.csr.mepc, m.hart.csr.mtval), (DRAM_BASE + 2, 0x107f));
}

// ---------------------------------------------------------------------------------------
// 5. Timer and software interrupts through the CLINT
// ---------------------------------------------------------------------------------------

/// Sets up x11 = mtime, x12 = mtimecmp, x13 = msip addresses.
fn clint_regs(m: &mut Machine) {
    m.hart.x[11] = CLINT_MTIME;
    m.hart.x[12] = CLINT_MTIMECMP;
    m.hart.x[13] = CLINT_MSIP;
}

#[test]
fn timer_interrupt_through_clint() {
    let prog = [
        ld(5, 11, 0),
        addi(5, 5, 5),
        sd(5, 12, 0), // mtimecmp = mtime + 5
        addi(6, 0, 0x80),
        csrrs(0, addr::MIE as u32, 6),
        csrrsi(0, addr::MSTATUS as u32, 8),
        jal(0, 0), // spin
    ];
    let m = m_trap(&prog, clint_regs);
    assert_eq!(m.hart.csr.mcause, 0x8000_0000_0000_0007);
    assert_eq!(m.hart.csr.mepc, DRAM_BASE + 24);
    let mtimecmp = m.hart.x[5];
    assert!(m.bus.clint.mtime_at(m.hart.cycle()) >= mtimecmp);
    assert!(m.hart.cycle() >= 5 * crate::layout::CYCLES_PER_TICK);
    assert_eq!(m.hart.csr.mstatus & csr::MSTATUS_MIE, 0);
    assert_ne!(m.hart.csr.mstatus & csr::MSTATUS_MPIE, 0);
}

#[test]
fn wfi_wakes_on_timer_with_mie_clear() {
    let prog = [
        ld(5, 11, 0),
        addi(5, 5, 50),
        sd(5, 12, 0),
        addi(6, 0, 0x80),
        csrrs(0, addr::MIE as u32, 6),
        WFI,
        addi(7, 0, 42),
    ];
    let m = pass(&prog, clint_regs);
    assert_eq!(m.hart.x[7], 42);
    assert_eq!(
        m.hart.csr.mcause, 0,
        "MIE = 0: no trap, execution continues after wfi"
    );
    assert!(m.bus.clint.mtime_at(m.hart.cycle()) >= m.hart.x[5]);
    assert!(!m.hart.waiting);
}

#[test]
fn wfi_without_any_possible_interrupt_deadlocks() {
    let mut m = machine(&assemble(&[WFI]));
    assert_eq!(m.run(BUDGET), RunOutcome::Deadlock);
    assert_eq!(m.hart.pc, DRAM_BASE + 4);
}

#[test]
fn software_interrupt_through_clint_is_taken_after_the_store() {
    let prog = [sw(6, 13, 0), addi(20, 0, 1), jal(0, 0)];
    let m = m_trap(&prog, |m| {
        clint_regs(m);
        m.hart.x[6] = 1;
        m.hart.csr.mie = csr::MIP_MSIP;
        m.hart.csr.mstatus |= csr::MSTATUS_MIE;
    });
    assert_eq!(m.hart.csr.mcause, INT | irq::MSI);
    assert_eq!(m.hart.csr.mepc, DRAM_BASE + 4);
    assert_eq!(m.hart.x[20], 0);
}

#[test]
fn timer_interrupt_taken_after_mtimecmp_store_makes_it_pending() {
    // Interrupts are already enabled when the store lowers mtimecmp below mtime.
    let prog = [
        addi(7, 0, -1),
        sd(7, 12, 0), // mtimecmp = max: MTIP low
        addi(6, 0, 0x80),
        csrrs(0, addr::MIE as u32, 6),
        csrrsi(0, addr::MSTATUS as u32, 8),
        sd(0, 12, 0), // mtimecmp = 0: MTIP high now
        addi(20, 0, 1),
        jal(0, 0),
    ];
    let m = m_trap(&prog, clint_regs);
    assert_eq!(m.hart.csr.mcause, INT | irq::MTI);
    assert_eq!(m.hart.csr.mepc, DRAM_BASE + 24);
    assert_eq!(m.hart.x[20], 0);
}

#[test]
fn mcountinhibit_holds_and_resumes_the_counters() {
    // Inhibit CY and IR, run instructions, read both twice (held), then resume: the counters
    // continue from the held values. The write that clears the inhibit bits does not count
    // itself; counting starts with the next instruction.
    let m = pass(
        &[
            csrw(addr::MCOUNTINHIBIT, 6), // x6 = 5: CY | IR
            csrr(5, addr::MINSTRET),
            csrr(7, addr::MCYCLE),
            addi(0, 0, 0),
            addi(0, 0, 0),
            csrr(8, addr::MINSTRET),
            csrr(9, addr::MCYCLE),
            csrw(addr::MCOUNTINHIBIT, 0),
            csrr(18, addr::MINSTRET),
            csrr(19, addr::MINSTRET),
        ],
        |m| m.hart.x[6] = 5,
    );
    let held = m.hart.x[5];
    assert_eq!(m.hart.x[8], held, "minstret holds while inhibited");
    assert_eq!(m.hart.x[9], m.hart.x[7], "mcycle holds while inhibited");
    assert_eq!(m.hart.x[18], held, "minstret resumes from the held value");
    assert_eq!(m.hart.x[19], held + 1, "and counts again");
}
