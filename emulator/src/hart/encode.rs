//! A small RISC-V instruction encoder, for unit tests and the built-in benchmark programs.
//!
//! Functions take register numbers and immediates and return the instruction bits; they are
//! the inverse of [`super::decode`] for the forms used here. Immediates out of range are a
//! bug in the caller and are masked, not checked.

#![allow(missing_docs)]

/// R-type: `funct7 rs2 rs1 funct3 rd opcode`.
pub const fn r(opcode: u32, funct3: u32, funct7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

/// I-type.
pub const fn i(opcode: u32, funct3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}

/// S-type.
pub const fn s(opcode: u32, funct3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (funct3 << 12)
        | ((imm & 0x1f) << 7)
        | opcode
}

/// B-type (`imm` is the byte offset, even).
pub const fn b(funct3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    (((imm >> 12) & 1) << 31)
        | (((imm >> 5) & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (funct3 << 12)
        | (((imm >> 1) & 0xf) << 8)
        | (((imm >> 11) & 1) << 7)
        | 0x63
}

/// U-type (`imm` holds the upper 20 bits in place).
pub const fn u(opcode: u32, rd: u32, imm: i32) -> u32 {
    ((imm as u32) & 0xffff_f000) | (rd << 7) | opcode
}

/// J-type (`imm` is the byte offset, even).
pub const fn j(rd: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    (((imm >> 20) & 1) << 31)
        | (((imm >> 1) & 0x3ff) << 21)
        | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xff) << 12)
        | (rd << 7)
        | 0x6f
}

pub const fn lui(rd: u32, imm: i32) -> u32 {
    u(0x37, rd, imm)
}
pub const fn auipc(rd: u32, imm: i32) -> u32 {
    u(0x17, rd, imm)
}
pub const fn jal(rd: u32, off: i32) -> u32 {
    j(rd, off)
}
pub const fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x67, 0, rd, rs1, imm)
}
pub const fn beq(rs1: u32, rs2: u32, off: i32) -> u32 {
    b(0, rs1, rs2, off)
}
pub const fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
    b(1, rs1, rs2, off)
}
pub const fn blt(rs1: u32, rs2: u32, off: i32) -> u32 {
    b(4, rs1, rs2, off)
}
pub const fn bltu(rs1: u32, rs2: u32, off: i32) -> u32 {
    b(6, rs1, rs2, off)
}
pub const fn lb(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 0, rd, rs1, imm)
}
pub const fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 2, rd, rs1, imm)
}
pub const fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 3, rd, rs1, imm)
}
pub const fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 4, rd, rs1, imm)
}
pub const fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 0, rs1, rs2, imm)
}
pub const fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 2, rs1, rs2, imm)
}
pub const fn sd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 3, rs1, rs2, imm)
}
pub const fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 0, rd, rs1, imm)
}
pub const fn addiw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x1b, 0, rd, rs1, imm)
}
pub const fn xori(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 4, rd, rs1, imm)
}
pub const fn andi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 7, rd, rs1, imm)
}
pub const fn slli(rd: u32, rs1: u32, shamt: u32) -> u32 {
    i(0x13, 1, rd, rs1, (shamt & 63) as i32)
}
pub const fn srli(rd: u32, rs1: u32, shamt: u32) -> u32 {
    i(0x13, 5, rd, rs1, (shamt & 63) as i32)
}
pub const fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 0, 0, rd, rs1, rs2)
}
pub const fn sub(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 0, 0x20, rd, rs1, rs2)
}
pub const fn xor(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 4, 0, rd, rs1, rs2)
}
pub const fn or(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 6, 0, rd, rs1, rs2)
}
pub const fn mul(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 0, 1, rd, rs1, rs2)
}
pub const fn div(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 4, 1, rd, rs1, rs2)
}
pub const fn rem(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 6, 1, rd, rs1, rs2)
}
pub const fn csrrw(rd: u32, csr: u32, rs1: u32) -> u32 {
    i(0x73, 1, rd, rs1, csr as i32)
}
pub const fn csrrs(rd: u32, csr: u32, rs1: u32) -> u32 {
    i(0x73, 2, rd, rs1, csr as i32)
}
pub const fn csrrc(rd: u32, csr: u32, rs1: u32) -> u32 {
    i(0x73, 3, rd, rs1, csr as i32)
}
pub const fn csrrwi(rd: u32, csr: u32, zimm: u32) -> u32 {
    i(0x73, 5, rd, zimm, csr as i32)
}
pub const ECALL: u32 = 0x0000_0073;
pub const EBREAK: u32 = 0x0010_0073;
pub const MRET: u32 = 0x3020_0073;
pub const SRET: u32 = 0x1020_0073;
pub const WFI: u32 = 0x1050_0073;
pub const FENCE_I: u32 = 0x0000_100f;

/// `lr.w`/`lr.d` (`width` 2 or 3).
pub const fn lr(width: u32, rd: u32, rs1: u32) -> u32 {
    r(0x2f, width, 0x02 << 2, rd, rs1, 0)
}
/// `sc.w`/`sc.d` (`width` 2 or 3).
pub const fn sc(width: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x2f, width, 0x03 << 2, rd, rs1, rs2)
}
/// An AMO with its `funct5` (e.g. 0x00 add, 0x01 swap, 0x10 min).
pub const fn amo(funct5: u32, width: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x2f, width, funct5 << 2, rd, rs1, rs2)
}

/// Instructions to load a 32-bit signed constant into `rd` (lui + addiw, or one addi).
pub fn li32(rd: u32, value: i32) -> Vec<u32> {
    if (-2048..2048).contains(&value) {
        return vec![addi(rd, 0, value)];
    }
    let lo = (value << 20) >> 20;
    let hi = value.wrapping_sub(lo);
    vec![lui(rd, hi), addiw(rd, rd, lo)]
}

/// Little-endian bytes of a program.
pub fn assemble(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
