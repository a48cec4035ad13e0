//! Instruction decoding for RV64GC (unprivileged spec chapters 2, 5, 7, 8, 10, 11, 12 and
//! 16 "C"; privileged spec chapter 3.3 for the system instructions).
//!
//! Every instruction, compressed or not, decodes into one [`Insn`]: an [`Op`] plus operand
//! fields. Compressed instructions expand to the operation of their 32-bit equivalent, so the
//! executor knows nothing about the C extension beyond the instruction length.
//!
//! Integer destinations that name `x0` are rewritten to [`ZERO_SINK`], a scratch register
//! past `x31`: writes land there and are never read, so the executor needs no `rd != 0`
//! branch. [`Insn::rd_is_x0`] recovers the distinction where it matters (CSR side effects).

/// Register index that absorbs writes to `x0`.
pub const ZERO_SINK: u8 = 32;

/// Defines [`Op`] and [`ALL_OPS`] from one list, so that `ALL_OPS[op as usize] == op`.
macro_rules! define_ops {
    ($($name:ident;)+) => {
        /// A decoded operation. Names follow the spec's mnemonics.
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Op {
            $($name,)+
        }

        /// Every [`Op`], in discriminant order.
        pub const ALL_OPS: &[Op] = &[$(Op::$name,)+];
    };
}

define_ops! {
    Illegal;
    // RV64I
    Lui;
    Auipc;
    Jal;
    Jalr;
    Beq;
    Bne;
    Blt;
    Bge;
    Bltu;
    Bgeu;
    Lb;
    Lh;
    Lw;
    Ld;
    Lbu;
    Lhu;
    Lwu;
    Sb;
    Sh;
    Sw;
    Sd;
    Addi;
    Slti;
    Sltiu;
    Xori;
    Ori;
    Andi;
    Slli;
    Srli;
    Srai;
    Add;
    Sub;
    Sll;
    Slt;
    Sltu;
    Xor;
    Srl;
    Sra;
    Or;
    And;
    Addiw;
    Slliw;
    Srliw;
    Sraiw;
    Addw;
    Subw;
    Sllw;
    Srlw;
    Sraw;
    Fence;
    FenceI;
    Ecall;
    Ebreak;
    // Privileged
    Mret;
    Sret;
    Wfi;
    SfenceVma;
    // Zicsr
    Csrrw;
    Csrrs;
    Csrrc;
    Csrrwi;
    Csrrsi;
    Csrrci;
    // M
    Mul;
    Mulh;
    Mulhsu;
    Mulhu;
    Div;
    Divu;
    Rem;
    Remu;
    Mulw;
    Divw;
    Divuw;
    Remw;
    Remuw;
    // A
    LrW;
    ScW;
    AmoswapW;
    AmoaddW;
    AmoxorW;
    AmoandW;
    AmoorW;
    AmominW;
    AmomaxW;
    AmominuW;
    AmomaxuW;
    LrD;
    ScD;
    AmoswapD;
    AmoaddD;
    AmoxorD;
    AmoandD;
    AmoorD;
    AmominD;
    AmomaxD;
    AmominuD;
    AmomaxuD;
    // F
    Flw;
    Fsw;
    FmaddS;
    FmsubS;
    FnmsubS;
    FnmaddS;
    FaddS;
    FsubS;
    FmulS;
    FdivS;
    FsqrtS;
    FsgnjS;
    FsgnjnS;
    FsgnjxS;
    FminS;
    FmaxS;
    FcvtWS;
    FcvtWuS;
    FcvtLS;
    FcvtLuS;
    FcvtSW;
    FcvtSWu;
    FcvtSL;
    FcvtSLu;
    FmvXW;
    FmvWX;
    FeqS;
    FltS;
    FleS;
    FclassS;
    // D
    Fld;
    Fsd;
    FmaddD;
    FmsubD;
    FnmsubD;
    FnmaddD;
    FaddD;
    FsubD;
    FmulD;
    FdivD;
    FsqrtD;
    FsgnjD;
    FsgnjnD;
    FsgnjxD;
    FminD;
    FmaxD;
    FcvtSD;
    FcvtDS;
    FcvtWD;
    FcvtWuD;
    FcvtLD;
    FcvtLuD;
    FcvtDW;
    FcvtDWu;
    FcvtDL;
    FcvtDLu;
    FmvXD;
    FmvDX;
    FeqD;
    FltD;
    FleD;
    FclassD;
}

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The operation.
    pub op: Op,
    /// Destination register (integer destinations: `x0` is [`ZERO_SINK`]).
    pub rd: u8,
    /// First source register.
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Third source register (fused multiply-add).
    pub rs3: u8,
    /// Rounding-mode field of floating-point instructions (7 = dynamic).
    pub rm: u8,
    /// Length in bytes: 2 (compressed) or 4.
    pub len: u8,
    /// Sign-extended immediate; the CSR number for Zicsr; the 5-bit zimm is in `rs1`.
    pub imm: i32,
    /// The instruction bits as fetched (16 bits for a compressed instruction).
    pub raw: u32,
}

impl Insn {
    /// An illegal instruction with its bits (for `mtval`).
    pub const fn illegal(raw: u32, len: u8) -> Self {
        Self {
            op: Op::Illegal,
            rd: 0,
            rs1: 0,
            rs2: 0,
            rs3: 0,
            rm: 0,
            len,
            imm: 0,
            raw,
        }
    }

    /// Whether the instruction's integer destination was `x0`.
    pub fn rd_is_x0(&self) -> bool {
        self.rd == ZERO_SINK
    }

    /// Whether this instruction ends a decoded block: anything that may change the pc other
    /// than by falling through, or the privilege, translation, interrupt or fetch state.
    pub fn ends_block(&self) -> bool {
        use Op::*;
        matches!(
            self.op,
            Illegal
                | Jal
                | Jalr
                | Beq
                | Bne
                | Blt
                | Bge
                | Bltu
                | Bgeu
                | FenceI
                | Ecall
                | Ebreak
                | Mret
                | Sret
                | Wfi
                | SfenceVma
                | Csrrw
                | Csrrs
                | Csrrc
                | Csrrwi
                | Csrrsi
                | Csrrci
        )
    }
}

/// Length in bytes of the instruction whose low 16 bits are `low`: 2 or 4.
#[inline(always)]
pub fn insn_len(low: u16) -> u8 {
    if low & 3 == 3 { 4 } else { 2 }
}

#[inline(always)]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Sign-extends the low `width` bits of `x`.
#[inline(always)]
fn sext(x: u32, width: u32) -> i32 {
    let shift = 32 - width;
    ((x << shift) as i32) >> shift
}

/// Integer destination register: `x0` becomes the sink.
#[inline(always)]
fn xd(r: u32) -> u8 {
    if r == 0 { ZERO_SINK } else { r as u8 }
}

/// Decodes one instruction from its bits (`raw`'s low 16 bits only, for a compressed one).
pub fn decode(raw: u32) -> Insn {
    if raw & 3 != 3 {
        decode_compressed(raw as u16)
    } else {
        decode32(raw)
    }
}

fn insn(op: Op, rd: u8, rs1: u32, rs2: u32, imm: i32, raw: u32) -> Insn {
    Insn {
        op,
        rd,
        rs1: rs1 as u8,
        rs2: rs2 as u8,
        rs3: 0,
        rm: 0,
        len: 4,
        imm,
        raw,
    }
}

fn decode32(raw: u32) -> Insn {
    use Op::*;
    let opcode = raw & 0x7f;
    let rd = bits(raw, 11, 7);
    let funct3 = bits(raw, 14, 12);
    let rs1 = bits(raw, 19, 15);
    let rs2 = bits(raw, 24, 20);
    let funct7 = bits(raw, 31, 25);
    let imm_i = sext(raw >> 20, 12);
    let imm_s = sext((bits(raw, 31, 25) << 5) | bits(raw, 11, 7), 12);
    let imm_b = sext(
        (bits(raw, 31, 31) << 12)
            | (bits(raw, 7, 7) << 11)
            | (bits(raw, 30, 25) << 5)
            | (bits(raw, 11, 8) << 1),
        13,
    );
    let imm_u = (raw & 0xffff_f000) as i32;
    let imm_j = sext(
        (bits(raw, 31, 31) << 20)
            | (bits(raw, 19, 12) << 12)
            | (bits(raw, 20, 20) << 11)
            | (bits(raw, 30, 21) << 1),
        21,
    );
    let ill = Insn::illegal(raw, 4);
    let r = |op| insn(op, xd(rd), rs1, rs2, 0, raw);
    let i = |op| insn(op, xd(rd), rs1, 0, imm_i, raw);
    match opcode {
        0x37 => insn(Lui, xd(rd), 0, 0, imm_u, raw),
        0x17 => insn(Auipc, xd(rd), 0, 0, imm_u, raw),
        0x6f => insn(Jal, xd(rd), 0, 0, imm_j, raw),
        0x67 if funct3 == 0 => i(Jalr),
        0x63 => {
            let op = match funct3 {
                0 => Beq,
                1 => Bne,
                4 => Blt,
                5 => Bge,
                6 => Bltu,
                7 => Bgeu,
                _ => return ill,
            };
            insn(op, 0, rs1, rs2, imm_b, raw)
        }
        0x03 => {
            let op = match funct3 {
                0 => Lb,
                1 => Lh,
                2 => Lw,
                3 => Ld,
                4 => Lbu,
                5 => Lhu,
                6 => Lwu,
                _ => return ill,
            };
            i(op)
        }
        0x23 => {
            let op = match funct3 {
                0 => Sb,
                1 => Sh,
                2 => Sw,
                3 => Sd,
                _ => return ill,
            };
            insn(op, 0, rs1, rs2, imm_s, raw)
        }
        0x13 => match funct3 {
            0 => i(Addi),
            2 => i(Slti),
            3 => i(Sltiu),
            4 => i(Xori),
            6 => i(Ori),
            7 => i(Andi),
            1 if raw >> 26 == 0 => insn(Slli, xd(rd), rs1, 0, bits(raw, 25, 20) as i32, raw),
            5 if raw >> 26 == 0 => insn(Srli, xd(rd), rs1, 0, bits(raw, 25, 20) as i32, raw),
            5 if raw >> 26 == 0x10 => insn(Srai, xd(rd), rs1, 0, bits(raw, 25, 20) as i32, raw),
            _ => ill,
        },
        0x1b => match (funct3, funct7) {
            (0, _) => i(Addiw),
            (1, 0) => insn(Slliw, xd(rd), rs1, 0, rs2 as i32, raw),
            (5, 0) => insn(Srliw, xd(rd), rs1, 0, rs2 as i32, raw),
            (5, 0x20) => insn(Sraiw, xd(rd), rs1, 0, rs2 as i32, raw),
            _ => ill,
        },
        0x33 => {
            let op = match (funct7, funct3) {
                (0, 0) => Add,
                (0x20, 0) => Sub,
                (0, 1) => Sll,
                (0, 2) => Slt,
                (0, 3) => Sltu,
                (0, 4) => Xor,
                (0, 5) => Srl,
                (0x20, 5) => Sra,
                (0, 6) => Or,
                (0, 7) => And,
                (1, 0) => Mul,
                (1, 1) => Mulh,
                (1, 2) => Mulhsu,
                (1, 3) => Mulhu,
                (1, 4) => Div,
                (1, 5) => Divu,
                (1, 6) => Rem,
                (1, 7) => Remu,
                _ => return ill,
            };
            r(op)
        }
        0x3b => {
            let op = match (funct7, funct3) {
                (0, 0) => Addw,
                (0x20, 0) => Subw,
                (0, 1) => Sllw,
                (0, 5) => Srlw,
                (0x20, 5) => Sraw,
                (1, 0) => Mulw,
                (1, 4) => Divw,
                (1, 5) => Divuw,
                (1, 6) => Remw,
                (1, 7) => Remuw,
                _ => return ill,
            };
            r(op)
        }
        // FENCE: unused fields are reserved for future use and ignored (spec 2.7).
        0x0f => match funct3 {
            0 => insn(Fence, 0, 0, 0, 0, raw),
            1 => insn(FenceI, 0, 0, 0, 0, raw),
            _ => ill,
        },
        0x73 => decode_system(raw, rd, funct3, rs1, rs2, funct7),
        0x2f => decode_atomic(raw, rd, funct3, rs1, rs2),
        0x07 | 0x27 => decode_fp_mem(raw, opcode, rd, funct3, rs1, rs2, imm_i, imm_s),
        0x43 | 0x47 | 0x4b | 0x4f => {
            let fmt = bits(raw, 26, 25);
            let op = match (opcode, fmt) {
                (0x43, 0) => FmaddS,
                (0x47, 0) => FmsubS,
                (0x4b, 0) => FnmsubS,
                (0x4f, 0) => FnmaddS,
                (0x43, 1) => FmaddD,
                (0x47, 1) => FmsubD,
                (0x4b, 1) => FnmsubD,
                (0x4f, 1) => FnmaddD,
                _ => return ill,
            };
            Insn {
                rs3: bits(raw, 31, 27) as u8,
                rm: funct3 as u8,
                ..insn(op, rd as u8, rs1, rs2, 0, raw)
            }
        }
        0x53 => decode_fp_op(raw, rd, funct3, rs1, rs2, funct7),
        _ => ill,
    }
}

fn decode_system(raw: u32, rd: u32, funct3: u32, rs1: u32, rs2: u32, funct7: u32) -> Insn {
    use Op::*;
    let csr = (raw >> 20) as i32;
    let op = match funct3 {
        0 => {
            return match raw {
                0x0000_0073 => insn(Ecall, 0, 0, 0, 0, raw),
                0x0010_0073 => insn(Ebreak, 0, 0, 0, 0, raw),
                0x3020_0073 => insn(Mret, 0, 0, 0, 0, raw),
                0x1020_0073 => insn(Sret, 0, 0, 0, 0, raw),
                0x1050_0073 => insn(Wfi, 0, 0, 0, 0, raw),
                _ if funct7 == 0x09 && rd == 0 => insn(SfenceVma, 0, rs1, rs2, 0, raw),
                _ => Insn::illegal(raw, 4),
            };
        }
        1 => Csrrw,
        2 => Csrrs,
        3 => Csrrc,
        5 => Csrrwi,
        6 => Csrrsi,
        7 => Csrrci,
        _ => return Insn::illegal(raw, 4),
    };
    insn(op, xd(rd), rs1, 0, csr & 0xfff, raw)
}

fn decode_atomic(raw: u32, rd: u32, funct3: u32, rs1: u32, rs2: u32) -> Insn {
    use Op::*;
    let funct5 = raw >> 27;
    let op = match (funct3, funct5) {
        (2, 0x02) if rs2 == 0 => LrW,
        (2, 0x03) => ScW,
        (2, 0x01) => AmoswapW,
        (2, 0x00) => AmoaddW,
        (2, 0x04) => AmoxorW,
        (2, 0x0c) => AmoandW,
        (2, 0x08) => AmoorW,
        (2, 0x10) => AmominW,
        (2, 0x14) => AmomaxW,
        (2, 0x18) => AmominuW,
        (2, 0x1c) => AmomaxuW,
        (3, 0x02) if rs2 == 0 => LrD,
        (3, 0x03) => ScD,
        (3, 0x01) => AmoswapD,
        (3, 0x00) => AmoaddD,
        (3, 0x04) => AmoxorD,
        (3, 0x0c) => AmoandD,
        (3, 0x08) => AmoorD,
        (3, 0x10) => AmominD,
        (3, 0x14) => AmomaxD,
        (3, 0x18) => AmominuD,
        (3, 0x1c) => AmomaxuD,
        _ => return Insn::illegal(raw, 4),
    };
    insn(op, xd(rd), rs1, rs2, 0, raw)
}

#[allow(clippy::too_many_arguments)]
fn decode_fp_mem(
    raw: u32,
    opcode: u32,
    rd: u32,
    funct3: u32,
    rs1: u32,
    rs2: u32,
    imm_i: i32,
    imm_s: i32,
) -> Insn {
    use Op::*;
    match (opcode, funct3) {
        (0x07, 2) => insn(Flw, rd as u8, rs1, 0, imm_i, raw),
        (0x07, 3) => insn(Fld, rd as u8, rs1, 0, imm_i, raw),
        (0x27, 2) => insn(Fsw, 0, rs1, rs2, imm_s, raw),
        (0x27, 3) => insn(Fsd, 0, rs1, rs2, imm_s, raw),
        _ => Insn::illegal(raw, 4),
    }
}

fn decode_fp_op(raw: u32, rd: u32, funct3: u32, rs1: u32, rs2: u32, funct7: u32) -> Insn {
    use Op::*;
    // Destinations that are integer registers go through `xd`, float ones stay as they are.
    let f = |op| Insn {
        rm: funct3 as u8,
        ..insn(op, rd as u8, rs1, rs2, 0, raw)
    };
    let x = |op| Insn {
        rm: funct3 as u8,
        ..insn(op, xd(rd), rs1, rs2, 0, raw)
    };
    let ill = Insn::illegal(raw, 4);
    match funct7 {
        0x00 => f(FaddS),
        0x04 => f(FsubS),
        0x08 => f(FmulS),
        0x0c => f(FdivS),
        0x2c if rs2 == 0 => f(FsqrtS),
        0x01 => f(FaddD),
        0x05 => f(FsubD),
        0x09 => f(FmulD),
        0x0d => f(FdivD),
        0x2d if rs2 == 0 => f(FsqrtD),
        0x10 => match funct3 {
            0 => f(FsgnjS),
            1 => f(FsgnjnS),
            2 => f(FsgnjxS),
            _ => ill,
        },
        0x11 => match funct3 {
            0 => f(FsgnjD),
            1 => f(FsgnjnD),
            2 => f(FsgnjxD),
            _ => ill,
        },
        0x14 => match funct3 {
            0 => f(FminS),
            1 => f(FmaxS),
            _ => ill,
        },
        0x15 => match funct3 {
            0 => f(FminD),
            1 => f(FmaxD),
            _ => ill,
        },
        0x20 if rs2 == 1 => f(FcvtSD),
        0x21 if rs2 == 0 => f(FcvtDS),
        0x50 => match funct3 {
            0 => x(FleS),
            1 => x(FltS),
            2 => x(FeqS),
            _ => ill,
        },
        0x51 => match funct3 {
            0 => x(FleD),
            1 => x(FltD),
            2 => x(FeqD),
            _ => ill,
        },
        0x60 => match rs2 {
            0 => x(FcvtWS),
            1 => x(FcvtWuS),
            2 => x(FcvtLS),
            3 => x(FcvtLuS),
            _ => ill,
        },
        0x61 => match rs2 {
            0 => x(FcvtWD),
            1 => x(FcvtWuD),
            2 => x(FcvtLD),
            3 => x(FcvtLuD),
            _ => ill,
        },
        0x68 => match rs2 {
            0 => f(FcvtSW),
            1 => f(FcvtSWu),
            2 => f(FcvtSL),
            3 => f(FcvtSLu),
            _ => ill,
        },
        0x69 => match rs2 {
            0 => f(FcvtDW),
            1 => f(FcvtDWu),
            2 => f(FcvtDL),
            3 => f(FcvtDLu),
            _ => ill,
        },
        0x70 if rs2 == 0 && funct3 == 0 => x(FmvXW),
        0x70 if rs2 == 0 && funct3 == 1 => x(FclassS),
        0x71 if rs2 == 0 && funct3 == 0 => x(FmvXD),
        0x71 if rs2 == 0 && funct3 == 1 => x(FclassD),
        0x78 if rs2 == 0 && funct3 == 0 => f(FmvWX),
        0x79 if rs2 == 0 && funct3 == 0 => f(FmvDX),
        _ => ill,
    }
}

fn c(op: Op, rd: u8, rs1: u32, rs2: u32, imm: i32, raw: u16) -> Insn {
    Insn {
        op,
        rd,
        rs1: rs1 as u8,
        rs2: rs2 as u8,
        rs3: 0,
        rm: 0,
        len: 2,
        imm,
        raw: raw as u32,
    }
}

/// Expands a compressed instruction (unprivileged spec chapter 16, RV64C).
fn decode_compressed(raw16: u16) -> Insn {
    use Op::*;
    let x = raw16 as u32;
    let ill = Insn::illegal(x, 2);
    let quadrant = x & 3;
    let funct3 = bits(x, 15, 13);
    // Registers x8..x15 in the 3-bit fields.
    let r_hi = bits(x, 9, 7) + 8; // rs1' / rd'
    let r_lo = bits(x, 4, 2) + 8; // rs2' / rd'
    let rd_full = bits(x, 11, 7);
    let rs2_full = bits(x, 6, 2);
    let imm6 = sext((bits(x, 12, 12) << 5) | bits(x, 6, 2), 6);
    let uimm_d = ((bits(x, 12, 10) << 3) | (bits(x, 6, 5) << 6)) as i32; // C.LD/C.SD/C.FLD/C.FSD
    let uimm_w = ((bits(x, 12, 10) << 3) | (bits(x, 6, 6) << 2) | (bits(x, 5, 5) << 6)) as i32; // C.LW/C.SW
    match (quadrant, funct3) {
        (0, 0) => {
            let nzuimm = (bits(x, 12, 11) << 4)
                | (bits(x, 10, 7) << 6)
                | (bits(x, 6, 6) << 2)
                | (bits(x, 5, 5) << 3);
            if nzuimm == 0 {
                return ill; // includes the all-zero instruction
            }
            c(Addi, r_lo as u8, 2, 0, nzuimm as i32, raw16)
        }
        (0, 1) => c(Fld, r_lo as u8, r_hi, 0, uimm_d, raw16),
        (0, 2) => c(Lw, r_lo as u8, r_hi, 0, uimm_w, raw16),
        (0, 3) => c(Ld, r_lo as u8, r_hi, 0, uimm_d, raw16),
        (0, 5) => c(Fsd, 0, r_hi, r_lo, uimm_d, raw16),
        (0, 6) => c(Sw, 0, r_hi, r_lo, uimm_w, raw16),
        (0, 7) => c(Sd, 0, r_hi, r_lo, uimm_d, raw16),
        (1, 0) => c(Addi, xd(rd_full), rd_full, 0, imm6, raw16),
        (1, 1) if rd_full != 0 => c(Addiw, xd(rd_full), rd_full, 0, imm6, raw16),
        (1, 2) => c(Addi, xd(rd_full), 0, 0, imm6, raw16),
        (1, 3) if rd_full == 2 => {
            let nzimm = sext(
                (bits(x, 12, 12) << 9)
                    | (bits(x, 6, 6) << 4)
                    | (bits(x, 5, 5) << 6)
                    | (bits(x, 4, 3) << 7)
                    | (bits(x, 2, 2) << 5),
                10,
            );
            if nzimm == 0 {
                return ill;
            }
            c(Addi, 2, 2, 0, nzimm, raw16)
        }
        (1, 3) => {
            let nzimm = sext((bits(x, 12, 12) << 17) | (bits(x, 6, 2) << 12), 18);
            if nzimm == 0 {
                return ill;
            }
            c(Lui, xd(rd_full), 0, 0, nzimm, raw16)
        }
        (1, 4) => {
            let shamt = ((bits(x, 12, 12) << 5) | bits(x, 6, 2)) as i32;
            match bits(x, 11, 10) {
                0 => c(Srli, r_hi as u8, r_hi, 0, shamt, raw16),
                1 => c(Srai, r_hi as u8, r_hi, 0, shamt, raw16),
                2 => c(Andi, r_hi as u8, r_hi, 0, imm6, raw16),
                _ => {
                    let op = match (bits(x, 12, 12), bits(x, 6, 5)) {
                        (0, 0) => Sub,
                        (0, 1) => Xor,
                        (0, 2) => Or,
                        (0, 3) => And,
                        (1, 0) => Subw,
                        (1, 1) => Addw,
                        _ => return ill,
                    };
                    c(op, r_hi as u8, r_hi, r_lo, 0, raw16)
                }
            }
        }
        (1, 5) => {
            let off = sext(
                (bits(x, 12, 12) << 11)
                    | (bits(x, 11, 11) << 4)
                    | (bits(x, 10, 9) << 8)
                    | (bits(x, 8, 8) << 10)
                    | (bits(x, 7, 7) << 6)
                    | (bits(x, 6, 6) << 7)
                    | (bits(x, 5, 3) << 1)
                    | (bits(x, 2, 2) << 5),
                12,
            );
            c(Jal, ZERO_SINK, 0, 0, off, raw16)
        }
        (1, 6) | (1, 7) => {
            let off = sext(
                (bits(x, 12, 12) << 8)
                    | (bits(x, 11, 10) << 3)
                    | (bits(x, 6, 5) << 6)
                    | (bits(x, 4, 3) << 1)
                    | (bits(x, 2, 2) << 5),
                9,
            );
            c(if funct3 == 6 { Beq } else { Bne }, 0, r_hi, 0, off, raw16)
        }
        (2, 0) => {
            let shamt = ((bits(x, 12, 12) << 5) | bits(x, 6, 2)) as i32;
            c(Slli, xd(rd_full), rd_full, 0, shamt, raw16)
        }
        (2, 1) => {
            let uimm = (bits(x, 12, 12) << 5) | (bits(x, 6, 5) << 3) | (bits(x, 4, 2) << 6);
            c(Fld, rd_full as u8, 2, 0, uimm as i32, raw16)
        }
        (2, 2) if rd_full != 0 => {
            let uimm = (bits(x, 12, 12) << 5) | (bits(x, 6, 4) << 2) | (bits(x, 3, 2) << 6);
            c(Lw, rd_full as u8, 2, 0, uimm as i32, raw16)
        }
        (2, 3) if rd_full != 0 => {
            let uimm = (bits(x, 12, 12) << 5) | (bits(x, 6, 5) << 3) | (bits(x, 4, 2) << 6);
            c(Ld, rd_full as u8, 2, 0, uimm as i32, raw16)
        }
        (2, 4) => match (bits(x, 12, 12), rd_full, rs2_full) {
            (0, 0, 0) => ill,
            (0, rs1, 0) => c(Jalr, ZERO_SINK, rs1, 0, 0, raw16),
            (0, rd, rs2) => c(Add, xd(rd), 0, rs2, 0, raw16),
            (_, 0, 0) => c(Ebreak, 0, 0, 0, 0, raw16),
            (_, rs1, 0) => c(Jalr, 1, rs1, 0, 0, raw16),
            (_, rd, rs2) => c(Add, xd(rd), rd, rs2, 0, raw16),
        },
        (2, 5) => {
            let uimm = (bits(x, 12, 10) << 3) | (bits(x, 9, 7) << 6);
            c(Fsd, 0, 2, rs2_full, uimm as i32, raw16)
        }
        (2, 6) => {
            let uimm = (bits(x, 12, 9) << 2) | (bits(x, 8, 7) << 6);
            c(Sw, 0, 2, rs2_full, uimm as i32, raw16)
        }
        (2, 7) => {
            let uimm = (bits(x, 12, 10) << 3) | (bits(x, 9, 7) << 6);
            c(Sd, 0, 2, rs2_full, uimm as i32, raw16)
        }
        _ => ill,
    }
}
