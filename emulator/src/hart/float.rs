//! The F and D extensions' computational instructions (unprivileged spec chapters
//! "F" Standard Extension for Single-Precision Floating-Point and "D" Standard Extension for
//! Double-Precision Floating-Point); loads and stores live with the other memory accesses.
//!
//! Arithmetic, square root, fused multiply-add and conversions go through Berkeley SoftFloat
//! (the `softfloat` submodule), whose RISCV specialisation already gives the spec's canonical
//! NaNs, saturating integer conversions and tininess-after-rounding. Sign injection, moves,
//! min/max, comparisons and classification are bit manipulations done here, because their
//! NaN rules are the spec's own, not IEEE 754's defaults.
//!
//! NaN-boxing (spec "NaN Boxing of Narrower Values"): a single-precision operand whose upper
//! 32 bits are not all ones reads as the canonical NaN; every single-precision result is
//! written boxed. `FMV.X.W` and `FSW` ignore the upper bits instead.
//!
//! Floating-point state (privileged spec "Extension Context Status"): `mstatus.FS` becomes
//! Dirty whenever an `f` register is written or an instruction raises an exception flag,
//! as Spike does (even when the flag was already set in `fflags`).

use super::Hart;
use super::decode::{Insn, Op};
use super::trap::Trap;

// The SoftFloat wrapper is this module's alone; it sits beside this file so that the `unsafe`
// FFI stays in one small file.
#[path = "softfloat.rs"]
mod softfloat;
use self::softfloat as sf;

/// The canonical single-precision NaN.
const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
/// The canonical double-precision NaN.
const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;
/// `fflags` invalid-operation bit (the only flag raised outside SoftFloat).
const FLAG_NV: u8 = 0x10;
/// The `rm` field value that selects the rounding mode in `frm`.
const RM_DYNAMIC: u8 = 7;

/// Boxes a single-precision value into a 64-bit `f` register (upper 32 bits all ones).
#[inline(always)]
pub(crate) fn nan_box(bits32: u32) -> u64 {
    0xffff_ffff_0000_0000 | bits32 as u64
}

/// The single-precision value an `f` register holds: its low 32 bits if properly NaN-boxed,
/// otherwise the canonical NaN.
#[inline(always)]
pub(crate) fn unbox_f32(bits: u64) -> u32 {
    if bits >> 32 == 0xffff_ffff {
        bits as u32
    } else {
        CANONICAL_NAN_F32
    }
}

/// Bit-level helpers shared by both formats, generated once per format.
macro_rules! ieee_format {
    ($module:ident, $bits:ty, $float:ty, $frac_bits:expr, $canonical:expr) => {
        mod $module {
            const SIGN: $bits = 1 << (<$bits>::BITS - 1);
            const FRAC: $bits = (1 << $frac_bits) - 1;
            const EXP: $bits = !SIGN & !FRAC;
            const QUIET: $bits = 1 << ($frac_bits - 1);

            #[inline(always)]
            pub(super) fn is_nan(a: $bits) -> bool {
                a & !SIGN > EXP
            }

            #[inline(always)]
            pub(super) fn is_signaling(a: $bits) -> bool {
                is_nan(a) && a & QUIET == 0
            }

            /// FSGNJ (`mode` 0), FSGNJN (1), FSGNJX (2): never canonicalises NaNs.
            #[inline(always)]
            pub(super) fn sign_inject(a: $bits, b: $bits, mode: u8) -> $bits {
                match mode {
                    0 => (a & !SIGN) | (b & SIGN),
                    1 => (a & !SIGN) | (!b & SIGN),
                    _ => a ^ (b & SIGN),
                }
            }

            #[inline(always)]
            pub(super) fn negate(a: $bits) -> $bits {
                a ^ SIGN
            }

            /// FMIN/FMAX (spec 2.2: IEEE 754-2019 minimumNumber/maximumNumber): -0 < +0,
            /// a single NaN operand yields the other operand, two NaNs the canonical NaN,
            /// and any signaling NaN raises NV.
            #[inline(always)]
            pub(super) fn min_max(a: $bits, b: $bits, max: bool) -> ($bits, u8) {
                let flags = if is_signaling(a) || is_signaling(b) {
                    super::FLAG_NV
                } else {
                    0
                };
                let v = match (is_nan(a), is_nan(b)) {
                    (true, true) => $canonical,
                    (true, false) => b,
                    (false, true) => a,
                    (false, false) => {
                        let (fa, fb) = (<$float>::from_bits(a), <$float>::from_bits(b));
                        if fa == fb {
                            // Equal but for the sign of zero: min takes the set sign bit.
                            if max { a & b } else { a | b }
                        } else if (fa < fb) != max {
                            a
                        } else {
                            b
                        }
                    }
                };
                (v, flags)
            }

            /// FEQ (quiet: NV only for a signaling NaN) when `op` is 2, FLT (1) and FLE (0)
            /// (signaling: NV for any NaN). The funct3 numbering is the instruction's.
            #[inline(always)]
            pub(super) fn compare(a: $bits, b: $bits, op: u8) -> (u64, u8) {
                if is_nan(a) || is_nan(b) {
                    let nv = if op != 2 || is_signaling(a) || is_signaling(b) {
                        super::FLAG_NV
                    } else {
                        0
                    };
                    return (0, nv);
                }
                // The host compares finite and infinite values exactly as IEEE 754 does
                // (including -0 == +0) and raises nothing we could observe.
                let (fa, fb) = (<$float>::from_bits(a), <$float>::from_bits(b));
                let r = match op {
                    2 => fa == fb,
                    1 => fa < fb,
                    _ => fa <= fb,
                };
                (r as u64, 0)
            }

            /// FCLASS: one of ten bits, from -inf (bit 0) to quiet NaN (bit 9).
            #[inline(always)]
            pub(super) fn classify(a: $bits) -> u64 {
                let (exp, frac) = (a & EXP, a & FRAC);
                // +0, +subnormal, +normal, +inf are bits 4..=7; the negative classes mirror
                // them in bits 3..=0.
                let positive_class = match (exp, frac) {
                    (0, 0) => 4,
                    (0, _) => 5,
                    _ if exp != EXP => 6,
                    (_, 0) => 7,
                    _ => return if frac & QUIET != 0 { 1 << 9 } else { 1 << 8 },
                };
                1 << if a & SIGN != 0 {
                    7 - positive_class
                } else {
                    positive_class
                }
            }
        }
    };
}

ieee_format!(single, u32, f32, 23, super::CANONICAL_NAN_F32);
ieee_format!(double, u64, f64, 52, super::CANONICAL_NAN_F64);

/// Where an instruction's result goes.
enum Out {
    /// A single-precision value for `f[rd]` (to be boxed).
    S(u32),
    /// A double-precision value for `f[rd]`.
    D(u64),
    /// A value for `x[rd]`.
    X(u64),
}

/// Sign-extends the low 32 bits, as every RV64 instruction with a 32-bit integer result does.
#[inline(always)]
fn sext32(v: u32) -> u64 {
    v as i32 as i64 as u64
}

impl Hart {
    /// Executes an F or D computational instruction (every F/D op except Flw/Fsw/Fld/Fsd).
    /// The caller has already checked mstatus.FS != Off.
    ///
    /// An instruction that uses the rounding mode traps as illegal when its `rm` field is 5
    /// or 6, or is dynamic (7) while `frm` holds 5..=7; the trap leaves all state unchanged.
    pub(crate) fn exec_fp(&mut self, insn: &Insn) -> Result<(), Trap> {
        use Op::*;
        // Masked so that no `Insn`, however built, can index out of bounds.
        let (r1, r2) = (insn.rs1 as usize & 31, insn.rs2 as usize & 31);
        let mut flags = 0;
        let out = match insn.op {
            // These take no rounding mode: their funct3 selects the operation.
            FsgnjS | FsgnjnS | FsgnjxS => {
                let (a, b) = (unbox_f32(self.f[r1]), unbox_f32(self.f[r2]));
                Out::S(single::sign_inject(a, b, insn.rm))
            }
            FsgnjD | FsgnjnD | FsgnjxD => {
                Out::D(double::sign_inject(self.f[r1], self.f[r2], insn.rm))
            }
            FminS | FmaxS => {
                let (a, b) = (unbox_f32(self.f[r1]), unbox_f32(self.f[r2]));
                let (v, fl) = single::min_max(a, b, insn.op == FmaxS);
                flags = fl;
                Out::S(v)
            }
            FminD | FmaxD => {
                let (v, fl) = double::min_max(self.f[r1], self.f[r2], insn.op == FmaxD);
                flags = fl;
                Out::D(v)
            }
            FeqS | FltS | FleS => {
                let (a, b) = (unbox_f32(self.f[r1]), unbox_f32(self.f[r2]));
                let (v, fl) = single::compare(a, b, insn.rm);
                flags = fl;
                Out::X(v)
            }
            FeqD | FltD | FleD => {
                let (v, fl) = double::compare(self.f[r1], self.f[r2], insn.rm);
                flags = fl;
                Out::X(v)
            }
            FclassS => Out::X(single::classify(unbox_f32(self.f[r1]))),
            FclassD => Out::X(double::classify(self.f[r1])),
            // Moves transfer bits untouched; FMV.X.W reads the low 32 bits, boxed or not.
            FmvXW => Out::X(sext32(self.f[r1] as u32)),
            FmvWX => Out::S(self.x[r1] as u32),
            FmvXD => Out::X(self.f[r1]),
            FmvDX => Out::D(self.x[r1]),
            _ => {
                let rm = if insn.rm == RM_DYNAMIC {
                    self.csr.frm
                } else {
                    insn.rm
                };
                if rm > 4 {
                    return Err(Trap::illegal(insn.raw));
                }
                sf::begin(rm);
                let out = self.exec_rounded(insn, rm).ok_or(Trap::illegal(insn.raw))?;
                flags = sf::flags();
                out
            }
        };
        if flags != 0 {
            self.csr.fflags |= flags;
            self.csr.set_fs_dirty();
        }
        match out {
            Out::S(v) => {
                self.f[insn.rd as usize & 31] = nan_box(v);
                self.csr.set_fs_dirty();
            }
            Out::D(v) => {
                self.f[insn.rd as usize & 31] = v;
                self.csr.set_fs_dirty();
            }
            Out::X(v) => {
                // `rd` is 1..=32 from the decoder (32 absorbs writes to x0).
                if let Some(x) = self.x.get_mut(insn.rd as usize) {
                    *x = v;
                }
            }
        }
        Ok(())
    }

    /// The instructions that round, run with SoftFloat's mode already set to `rm` (0..=4) and
    /// its flags cleared; `None` for an operation that is not one of them.
    #[inline(always)]
    fn exec_rounded(&self, insn: &Insn, rm: u8) -> Option<Out> {
        use Op::*;
        let (r1, r2, r3) = (
            insn.rs1 as usize & 31,
            insn.rs2 as usize & 31,
            insn.rs3 as usize & 31,
        );
        let s = |r: usize| unbox_f32(self.f[r]);
        let d = |r: usize| self.f[r];
        let x = self.x[r1];
        Some(match insn.op {
            FaddS => Out::S(sf::f32_add(s(r1), s(r2))),
            FsubS => Out::S(sf::f32_sub(s(r1), s(r2))),
            FmulS => Out::S(sf::f32_mul(s(r1), s(r2))),
            FdivS => Out::S(sf::f32_div(s(r1), s(r2))),
            FsqrtS => Out::S(sf::f32_sqrt(s(r1))),
            FaddD => Out::D(sf::f64_add(d(r1), d(r2))),
            FsubD => Out::D(sf::f64_sub(d(r1), d(r2))),
            FmulD => Out::D(sf::f64_mul(d(r1), d(r2))),
            FdivD => Out::D(sf::f64_div(d(r1), d(r2))),
            FsqrtD => Out::D(sf::f64_sqrt(d(r1))),
            // The spec defines the negated forms by operand signs (FNMADD = -(a*b) - c), which
            // is what flipping sign bits before one fused operation computes, signed zeros
            // included. SoftFloat raises NV for inf*0 even when the addend is a quiet NaN.
            FmaddS => Out::S(sf::f32_mulAdd(s(r1), s(r2), s(r3))),
            FmsubS => Out::S(sf::f32_mulAdd(s(r1), s(r2), single::negate(s(r3)))),
            FnmsubS => Out::S(sf::f32_mulAdd(single::negate(s(r1)), s(r2), s(r3))),
            FnmaddS => Out::S(sf::f32_mulAdd(
                single::negate(s(r1)),
                s(r2),
                single::negate(s(r3)),
            )),
            FmaddD => Out::D(sf::f64_mulAdd(d(r1), d(r2), d(r3))),
            FmsubD => Out::D(sf::f64_mulAdd(d(r1), d(r2), double::negate(d(r3)))),
            FnmsubD => Out::D(sf::f64_mulAdd(double::negate(d(r1)), d(r2), d(r3))),
            FnmaddD => Out::D(sf::f64_mulAdd(
                double::negate(d(r1)),
                d(r2),
                double::negate(d(r3)),
            )),
            // Widening conversions are exact but still decode `rm` as usual (spec 2.2: "must
            // treat the rm field as usual ... with regard to decoding legal vs. reserved").
            FcvtSD => Out::S(sf::f64_to_f32(d(r1))),
            FcvtDS => Out::D(sf::f32_to_f64(s(r1))),
            // Float to integer: SoftFloat's RISCV values saturate as the spec's table says
            // (NaN gives the largest positive value), raising NV and not NX when out of range.
            // 32-bit results, unsigned ones included, are sign-extended.
            FcvtWS => Out::X(sf::f32_to_i32(s(r1), rm, true) as i64 as u64),
            FcvtWuS => Out::X(sext32(sf::f32_to_ui32(s(r1), rm, true))),
            FcvtLS => Out::X(sf::f32_to_i64(s(r1), rm, true) as u64),
            FcvtLuS => Out::X(sf::f32_to_ui64(s(r1), rm, true)),
            FcvtWD => Out::X(sf::f64_to_i32(d(r1), rm, true) as i64 as u64),
            FcvtWuD => Out::X(sext32(sf::f64_to_ui32(d(r1), rm, true))),
            FcvtLD => Out::X(sf::f64_to_i64(d(r1), rm, true) as u64),
            FcvtLuD => Out::X(sf::f64_to_ui64(d(r1), rm, true)),
            FcvtSW => Out::S(sf::i32_to_f32(x as i32)),
            FcvtSWu => Out::S(sf::ui32_to_f32(x as u32)),
            FcvtSL => Out::S(sf::i64_to_f32(x as i64)),
            FcvtSLu => Out::S(sf::ui64_to_f32(x)),
            FcvtDW => Out::D(sf::i32_to_f64(x as i32)),
            FcvtDWu => Out::D(sf::ui32_to_f64(x as u32)),
            FcvtDL => Out::D(sf::i64_to_f64(x as i64)),
            FcvtDLu => Out::D(sf::ui64_to_f64(x)),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Expected values are derived from IEEE 754 and the RISC-V spec by hand (each noted where
    //! not obvious); a representative subset (about sixty cases across every test) was run on
    //! qemu-riscv64 and agreed bit for bit, flags included.

    use super::*;
    use crate::hart::decode::decode;
    use crate::hart::trap::Exception;

    const RNE: u32 = 0;
    const RTZ: u32 = 1;
    const RDN: u32 = 2;
    const RUP: u32 = 3;
    const RMM: u32 = 4;
    const DYN: u32 = 7;
    const MODES: [u32; 5] = [RNE, RTZ, RDN, RUP, RMM];

    const NV: u8 = 0x10;
    const DZ: u8 = 0x08;
    const OF: u8 = 0x04;
    const UF: u8 = 0x02;
    const NX: u8 = 0x01;

    const FS: u64 = 3 << 13;
    const FS_INITIAL: u64 = 1 << 13;

    // OP-FP funct7 values (fmt S; add 1 for D).
    const FADD: u32 = 0x00;
    const FSUB: u32 = 0x04;
    const FMUL: u32 = 0x08;
    const FDIV: u32 = 0x0c;
    const FSQRT: u32 = 0x2c;
    const FSGNJ: u32 = 0x10;
    const FMINMAX: u32 = 0x14;
    const FCVT_S_D: u32 = 0x20;
    const FCVT_D_S: u32 = 0x21;
    const FCMP: u32 = 0x50;
    const FCVT_TO_INT: u32 = 0x60;
    const FCVT_FROM_INT: u32 = 0x68;
    const FMV_X_CLASS: u32 = 0x70;
    const FMV_F_X: u32 = 0x78;
    // Integer selector in rs2 for conversions.
    const W: u32 = 0;
    const WU: u32 = 1;
    const L: u32 = 2;
    const LU: u32 = 3;
    // R4 opcodes.
    const FMADD: u32 = 0x43;
    const FMSUB: u32 = 0x47;
    const FNMSUB: u32 = 0x4b;
    const FNMADD: u32 = 0x4f;

    // Single-precision constants.
    const ONE: u32 = 0x3f80_0000;
    const TWO: u32 = 0x4000_0000;
    const THREE: u32 = 0x4040_0000;
    const HALF: u32 = 0x3f00_0000;
    const MAX: u32 = 0x7f7f_ffff;
    const INF: u32 = 0x7f80_0000;
    const QNAN: u32 = 0x7fc0_0000;
    const SNAN: u32 = 0x7f80_0001;
    const NEG: u32 = 0x8000_0000;
    // Double-precision constants.
    const D_ONE: u64 = 0x3ff0_0000_0000_0000;
    const D_THREE: u64 = 0x4008_0000_0000_0000;
    const D_INF: u64 = 0x7ff0_0000_0000_0000;
    const D_QNAN: u64 = 0x7ff8_0000_0000_0000;
    const D_SNAN: u64 = 0x7ff0_0000_0000_0001;
    const D_NEG: u64 = 1 << 63;

    /// R-type OP-FP: operands in f1/x1 and f2, result in f10/x10.
    fn op_fp(funct7: u32, rs2: u32, funct3: u32) -> u32 {
        (funct7 << 25) | (rs2 << 20) | (1 << 15) | (funct3 << 12) | (10 << 7) | 0x53
    }

    /// R4-type fused multiply-add: f10 = f1 * f2 (+/-) f3; `fmt` 0 = S, 1 = D.
    fn r4(opcode: u32, fmt: u32, rm: u32) -> u32 {
        (3 << 27) | (fmt << 25) | (2 << 20) | (1 << 15) | (rm << 12) | (10 << 7) | opcode
    }

    fn hart() -> Hart {
        let mut h = Hart::new(0x8000_0000, 0);
        h.csr.mstatus |= FS_INITIAL;
        h
    }

    /// Decodes `raw`, runs it with f1..f3 = `f` and x1 = `x1`, and returns the hart.
    fn run(raw: u32, f: [u64; 3], x1: u64) -> Hart {
        let mut h = hart();
        h.f[1..4].copy_from_slice(&f);
        h.x[1] = x1;
        let insn = decode(raw);
        assert_ne!(insn.op, Op::Illegal, "{raw:#010x} must decode");
        h.exec_fp(&insn)
            .unwrap_or_else(|t| panic!("{:?} trapped: {t:?}", insn.op));
        h
    }

    /// A single-precision result: asserts it is boxed, returns it with fflags.
    fn s_result(h: &Hart) -> (u32, u8) {
        assert_eq!(h.f[10] >> 32, 0xffff_ffff, "single result not NaN-boxed");
        (h.f[10] as u32, h.csr.fflags)
    }

    fn s_op(funct7: u32, rm: u32, a: u32, b: u32) -> (u32, u8) {
        s_result(&run(op_fp(funct7, 2, rm), [nan_box(a), nan_box(b), 0], 0))
    }

    fn d_op(funct7: u32, rm: u32, a: u64, b: u64) -> (u64, u8) {
        let h = run(op_fp(funct7 | 1, 2, rm), [a, b, 0], 0);
        (h.f[10], h.csr.fflags)
    }

    fn s_unary(funct7: u32, rs2: u32, rm: u32, a: u64) -> (u32, u8) {
        s_result(&run(op_fp(funct7, rs2, rm), [a, 0, 0], 0))
    }

    fn d_unary(funct7: u32, rs2: u32, rm: u32, a: u64) -> (u64, u8) {
        let h = run(op_fp(funct7, rs2, rm), [a, 0, 0], 0);
        (h.f[10], h.csr.fflags)
    }

    /// An instruction with an integer result from f1.
    fn to_x(funct7: u32, rs2: u32, rm: u32, a: u64) -> (u64, u8) {
        let h = run(op_fp(funct7, rs2, rm), [a, 0, 0], 0);
        (h.x[10], h.csr.fflags)
    }

    /// A comparison f1 ? f2 (funct3 2 = FEQ, 1 = FLT, 0 = FLE) with an integer result.
    fn cmp(funct7: u32, funct3: u32, a: u64, b: u64) -> (u64, u8) {
        let h = run(op_fp(funct7, 2, funct3), [a, b, 0], 0);
        (h.x[10], h.csr.fflags)
    }

    fn from_x(funct7: u32, rs2: u32, rm: u32, x: u64) -> (u64, u8) {
        let h = run(op_fp(funct7, rs2, rm), [0; 3], x);
        (h.f[10], h.csr.fflags)
    }

    fn fma_s(opcode: u32, rm: u32, a: u32, b: u32, c: u32) -> (u32, u8) {
        s_result(&run(
            r4(opcode, 0, rm),
            [nan_box(a), nan_box(b), nan_box(c)],
            0,
        ))
    }

    fn fma_d(opcode: u32, rm: u32, a: u64, b: u64, c: u64) -> (u64, u8) {
        let h = run(r4(opcode, 1, rm), [a, b, c], 0);
        (h.f[10], h.csr.fflags)
    }

    #[test]
    fn boxing_helpers() {
        assert_eq!(nan_box(ONE), 0xffff_ffff_3f80_0000);
        assert_eq!(unbox_f32(0xffff_ffff_3f80_0000), ONE);
        assert_eq!(unbox_f32(0x0000_0000_3f80_0000), QNAN);
        assert_eq!(unbox_f32(0xffff_fffe_3f80_0000), QNAN);
        assert_eq!(unbox_f32(0x7fff_ffff_3f80_0000), QNAN);
    }

    #[test]
    fn divide_one_third_in_every_mode() {
        // 1/3 = 1.0101...b x 2^-2; the bits past the 23rd fraction bit are 1010... (2/3 ulp),
        // so RNE/RMM/RUP round up and RTZ/RDN truncate.
        let expect = [
            0x3eaa_aaab,
            0x3eaa_aaaa,
            0x3eaa_aaaa,
            0x3eaa_aaab,
            0x3eaa_aaab,
        ];
        for (rm, want) in MODES.into_iter().zip(expect) {
            assert_eq!(s_op(FDIV, rm, ONE, THREE), (want, NX), "rm {rm}");
            // -1/3: directed modes swap.
            let neg = s_op(FDIV, rm, ONE | NEG, THREE).0;
            let want_neg = match rm {
                RDN => 0xbeaa_aaab,
                RUP => 0xbeaa_aaaa,
                _ => want | NEG,
            };
            assert_eq!(neg, want_neg, "rm {rm}");
        }
        // In double the bits past the 52nd are 0101... (1/3 ulp): only RUP rounds up.
        for rm in MODES {
            let want = if rm == RUP {
                0x3fd5_5555_5555_5556
            } else {
                0x3fd5_5555_5555_5555
            };
            assert_eq!(d_op(FDIV, rm, D_ONE, D_THREE), (want, NX), "rm {rm}");
        }
    }

    #[test]
    fn add_ties_even_and_away() {
        // 2^24 + 1 is a tie between 2^24 (even) and 2^24 + 2.
        let expect = [
            0x4b80_0000,
            0x4b80_0000,
            0x4b80_0000,
            0x4b80_0001,
            0x4b80_0001,
        ];
        for (rm, want) in MODES.into_iter().zip(expect) {
            assert_eq!(s_op(FADD, rm, 0x4b80_0000, ONE), (want, NX), "rm {rm}");
        }
        // (2^24 + 2) + 1 ties between 2^24 + 2 (odd significand) and 2^24 + 4: RNE goes up.
        assert_eq!(s_op(FADD, RNE, 0x4b80_0001, ONE), (0x4b80_0002, NX));
        assert_eq!(s_op(FADD, RTZ, 0x4b80_0001, ONE), (0x4b80_0001, NX));
        // Double: 2^53 + 1.
        assert_eq!(
            d_op(FADD, RNE, 0x4340_0000_0000_0000, D_ONE),
            (0x4340_0000_0000_0000, NX)
        );
        assert_eq!(
            d_op(FADD, RMM, 0x4340_0000_0000_0000, D_ONE),
            (0x4340_0000_0000_0001, NX)
        );
        // Exact: no flags. x - x is +0 except in RDN, where it is -0.
        assert_eq!(s_op(FADD, RNE, ONE, ONE), (TWO, 0));
        assert_eq!(s_op(FSUB, RNE, ONE, ONE), (0, 0));
        assert_eq!(s_op(FSUB, RDN, ONE, ONE), (NEG, 0));
        assert_eq!(d_op(FSUB, RDN, D_ONE, D_ONE), (D_NEG, 0));
    }

    #[test]
    fn sqrt_rounding_and_domain() {
        // sqrt(2) = 1.41421356...; 0x3fb504f3 = 1.41421353..., 0x3fb504f4 = 1.41421365...
        let expect = [
            0x3fb5_04f3,
            0x3fb5_04f3,
            0x3fb5_04f3,
            0x3fb5_04f4,
            0x3fb5_04f3,
        ];
        for (rm, want) in MODES.into_iter().zip(expect) {
            assert_eq!(s_unary(FSQRT, 0, rm, nan_box(TWO)), (want, NX), "rm {rm}");
        }
        // Double: 0x3ff6a09e667f3bcd = 1.4142135623730951 lies above sqrt(2).
        let d_two = 0x4000_0000_0000_0000;
        assert_eq!(
            d_unary(FSQRT | 1, 0, RNE, d_two),
            (0x3ff6_a09e_667f_3bcd, NX)
        );
        assert_eq!(
            d_unary(FSQRT | 1, 0, RTZ, d_two),
            (0x3ff6_a09e_667f_3bcc, NX)
        );
        assert_eq!(s_unary(FSQRT, 0, RNE, nan_box(0x4080_0000)), (TWO, 0));
        assert_eq!(s_unary(FSQRT, 0, RNE, nan_box(ONE | NEG)), (QNAN, NV));
        assert_eq!(s_unary(FSQRT, 0, RNE, nan_box(NEG)), (NEG, 0));
        assert_eq!(d_unary(FSQRT | 1, 0, RNE, D_ONE | D_NEG), (D_QNAN, NV));
    }

    #[test]
    fn int_to_float_rounding() {
        // 2^24 + 1 is a tie (see add_ties_even_and_away).
        let expect = [
            0x4b80_0000,
            0x4b80_0000,
            0x4b80_0000,
            0x4b80_0001,
            0x4b80_0001,
        ];
        for (rm, want) in MODES.into_iter().zip(expect) {
            assert_eq!(
                from_x(FCVT_FROM_INT, W, rm, 16_777_217),
                (nan_box(want), NX),
                "rm {rm}"
            );
        }
        let minus = (-16_777_217i64) as u64;
        assert_eq!(
            from_x(FCVT_FROM_INT, W, RDN, minus),
            (nan_box(0xcb80_0001), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, W, RUP, minus),
            (nan_box(0xcb80_0000), NX)
        );
        // W reads only the low 32 bits of x1.
        assert_eq!(
            from_x(FCVT_FROM_INT, W, RNE, 0x1234_5678_0000_0001),
            (nan_box(ONE), 0)
        );
        // WU: 0xffff_ffff = 2^32 - 1 rounds to 2^32, or down to 0x4f7fffff in RTZ.
        assert_eq!(
            from_x(FCVT_FROM_INT, WU, RNE, u64::MAX),
            (nan_box(0x4f80_0000), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, WU, RTZ, u64::MAX),
            (nan_box(0x4f7f_ffff), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, L, RNE, i64::MAX as u64),
            (nan_box(0x5f00_0000), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, L, RTZ, i64::MAX as u64),
            (nan_box(0x5eff_ffff), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, LU, RNE, u64::MAX),
            (nan_box(0x5f80_0000), NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT, LU, RTZ, u64::MAX),
            (nan_box(0x5f7f_ffff), NX)
        );
        // Double: W and WU are exact; L rounds 2^53 + 1.
        assert_eq!(
            from_x(FCVT_FROM_INT | 1, W, RNE, -5i64 as u64),
            (0xc014_0000_0000_0000, 0)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT | 1, WU, RNE, u64::MAX),
            (0x41ef_ffff_ffe0_0000, 0)
        );
        let big = (1u64 << 53) + 1;
        assert_eq!(
            from_x(FCVT_FROM_INT | 1, L, RNE, big),
            (0x4340_0000_0000_0000, NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT | 1, L, RMM, big),
            (0x4340_0000_0000_0001, NX)
        );
        assert_eq!(
            from_x(FCVT_FROM_INT | 1, LU, RNE, u64::MAX),
            (0x43f0_0000_0000_0000, NX)
        );
    }

    #[test]
    fn overflow_to_infinity_or_max_finite() {
        // Round-to-nearest goes to infinity; a directed mode toward zero stops at MAX.
        let pos = [INF, MAX, MAX, INF, INF];
        let neg = [INF | NEG, MAX | NEG, INF | NEG, MAX | NEG, INF | NEG];
        for (i, rm) in MODES.into_iter().enumerate() {
            assert_eq!(s_op(FMUL, rm, MAX, TWO), (pos[i], OF | NX), "rm {rm}");
            assert_eq!(s_op(FMUL, rm, MAX | NEG, TWO), (neg[i], OF | NX), "rm {rm}");
        }
        let d_max = 0x7fef_ffff_ffff_ffff;
        assert_eq!(d_op(FADD, RNE, d_max, d_max), (D_INF, OF | NX));
        assert_eq!(d_op(FADD, RTZ, d_max, d_max), (d_max, OF | NX));
        // Double to single overflow.
        let d_1e300 = 0x7e37_e43c_8800_759c;
        assert_eq!(s_unary(FCVT_S_D, 1, RNE, d_1e300), (INF, OF | NX));
        assert_eq!(s_unary(FCVT_S_D, 1, RTZ, d_1e300), (MAX, OF | NX));
    }

    #[test]
    fn underflow_and_subnormals() {
        // 0x00800001 * 0.5 = 2^-127 + 2^-150: half a subnormal ulp above 0x00400000 (even).
        let expect = [
            0x0040_0000,
            0x0040_0000,
            0x0040_0000,
            0x0040_0001,
            0x0040_0001,
        ];
        for (rm, want) in MODES.into_iter().zip(expect) {
            assert_eq!(
                s_op(FMUL, rm, 0x0080_0001, HALF),
                (want, UF | NX),
                "rm {rm}"
            );
        }
        // An exact subnormal result raises nothing.
        assert_eq!(s_op(FMUL, RNE, 0x0080_0000, HALF), (0x0040_0000, 0));
        // 2^-1076 is below half the smallest subnormal: 0 in RNE, 2^-1074 in RUP.
        assert_eq!(d_op(FDIV, RNE, 1, 0x4010_0000_0000_0000), (0, UF | NX));
        assert_eq!(d_op(FDIV, RUP, 1, 0x4010_0000_0000_0000), (1, UF | NX));
        // Tininess after rounding: 2^-126 * (1 - 2^-53) rounds (unbounded exponent, RNE) to
        // 2^-126, which is not tiny, so only NX; in RTZ it stays below 2^-126: UF too.
        let just_below = 0x380f_ffff_ffff_ffff;
        assert_eq!(s_unary(FCVT_S_D, 1, RNE, just_below), (0x0080_0000, NX));
        assert_eq!(
            s_unary(FCVT_S_D, 1, RTZ, just_below),
            (0x007f_ffff, UF | NX)
        );
    }

    #[test]
    fn nan_boxing() {
        let unboxed_one = ONE as u64;
        // An improperly boxed input reads as the canonical NaN (quiet: no flags).
        let h = run(op_fp(FADD, 2, RNE), [unboxed_one, nan_box(ONE), 0], 0);
        assert_eq!((h.f[10], h.csr.fflags), (nan_box(QNAN), 0));
        assert_eq!(d_unary(FCVT_D_S, 0, RNE, unboxed_one), (D_QNAN, 0));
        assert_eq!(to_x(FMV_X_CLASS, 0, 1, unboxed_one), (1 << 9, 0));
        // Sign injection works on the canonical NaN the bad box reads as.
        let h = run(op_fp(FSGNJ, 2, 1), [unboxed_one, nan_box(ONE), 0], 0);
        assert_eq!(h.f[10], nan_box(QNAN | NEG));
        assert_eq!(to_x(FCVT_TO_INT, W, RNE, unboxed_one), (0x7fff_ffff, NV));
        // A double-precision op sees all 64 bits: a boxed single is a (negative) NaN.
        assert_eq!(d_op(FADD, RNE, nan_box(ONE), D_ONE), (D_QNAN, 0));
    }

    #[test]
    fn min_max_zeros_and_nans() {
        for (a, b) in [(NEG, 0), (0, NEG)] {
            assert_eq!(s_op(FMINMAX, 0, a, b), (NEG, 0));
            assert_eq!(s_op(FMINMAX, 1, a, b), (0, 0));
        }
        assert_eq!(s_op(FMINMAX, 0, ONE, TWO), (ONE, 0));
        assert_eq!(s_op(FMINMAX, 1, ONE, TWO), (TWO, 0));
        assert_eq!(s_op(FMINMAX, 1, ONE | NEG, TWO | NEG), (ONE | NEG, 0));
        assert_eq!(s_op(FMINMAX, 0, INF | NEG, ONE), (INF | NEG, 0));
        // One NaN: the other operand, NV only if the NaN signals.
        assert_eq!(s_op(FMINMAX, 0, QNAN, ONE), (ONE, 0));
        assert_eq!(s_op(FMINMAX, 1, ONE, 0x7fc1_2345), (ONE, 0));
        assert_eq!(s_op(FMINMAX, 0, SNAN, ONE), (ONE, NV));
        assert_eq!(s_op(FMINMAX, 1, ONE, SNAN | NEG), (ONE, NV));
        // Two NaNs: the canonical NaN, whatever their payloads.
        assert_eq!(s_op(FMINMAX, 0, 0xffc1_2345, 0x7fc5_4321), (QNAN, 0));
        assert_eq!(s_op(FMINMAX, 1, SNAN, QNAN), (QNAN, NV));
        for (a, b) in [(D_NEG, 0), (0, D_NEG)] {
            assert_eq!(d_op(FMINMAX, 0, a, b), (D_NEG, 0));
            assert_eq!(d_op(FMINMAX, 1, a, b), (0, 0));
        }
        assert_eq!(d_op(FMINMAX, 0, D_QNAN | 5, D_ONE), (D_ONE, 0));
        assert_eq!(d_op(FMINMAX, 1, D_SNAN, D_ONE), (D_ONE, NV));
        assert_eq!(d_op(FMINMAX, 0, D_SNAN, D_QNAN | 7), (D_QNAN, NV));
    }

    #[test]
    fn fcvt_w_s_saturates() {
        let min = 0xffff_ffff_8000_0000;
        let cases = [
            (QNAN, 0x7fff_ffff, NV),
            (QNAN | NEG, 0x7fff_ffff, NV), // NaN is +max whatever its sign
            (SNAN, 0x7fff_ffff, NV),
            (INF, 0x7fff_ffff, NV),
            (INF | NEG, min, NV),
            (0x4f32_d05e, 0x7fff_ffff, NV), // 3e9
            (0xcf32_d05e, min, NV),         // -3e9
            (0x4f00_0000, 0x7fff_ffff, NV), // 2^31
            (0xcf00_0000, min, 0),          // -2^31 is exact
            (0xc000_0000, (-2i64) as u64, 0),
        ];
        for (a, want, flags) in cases {
            assert_eq!(
                to_x(FCVT_TO_INT, W, RTZ, nan_box(a)),
                (want, flags),
                "{a:#x}"
            );
        }
        // 2.5 and -2.5 in each mode.
        let pos = [2, 2, 2, 3, 3];
        let neg = [-2i64, -2, -3, -2, -3];
        for (i, rm) in MODES.into_iter().enumerate() {
            assert_eq!(to_x(FCVT_TO_INT, W, rm, nan_box(0x4020_0000)), (pos[i], NX));
            assert_eq!(
                to_x(FCVT_TO_INT, W, rm, nan_box(0xc020_0000)),
                (neg[i] as u64, NX)
            );
        }
        assert_eq!(
            to_x(FCVT_TO_INT, L, RNE, nan_box(QNAN)),
            (i64::MAX as u64, NV)
        );
        assert_eq!(to_x(FCVT_TO_INT, L, RNE, nan_box(INF | NEG)), (1 << 63, NV));
    }

    #[test]
    fn fcvt_wu_s_negative_half_by_mode() {
        // -0.5 rounds to -0 (valid, NX) or to -1 (invalid, NV, result 0).
        let flags = [NX, NX, NV, NX, NV];
        for (rm, fl) in MODES.into_iter().zip(flags) {
            assert_eq!(
                to_x(FCVT_TO_INT, WU, rm, nan_box(HALF | NEG)),
                (0, fl),
                "rm {rm}"
            );
            assert_eq!(
                to_x(FCVT_TO_INT, LU, rm, nan_box(HALF | NEG)),
                (0, fl),
                "rm {rm}"
            );
        }
        // Unsigned 32-bit results are sign-extended too.
        assert_eq!(to_x(FCVT_TO_INT, WU, RNE, nan_box(QNAN)), (u64::MAX, NV));
        assert_eq!(to_x(FCVT_TO_INT, WU, RNE, nan_box(INF)), (u64::MAX, NV));
        assert_eq!(to_x(FCVT_TO_INT, WU, RNE, nan_box(INF | NEG)), (0, NV));
        assert_eq!(to_x(FCVT_TO_INT, WU, RNE, nan_box(ONE | NEG)), (0, NV));
        assert_eq!(
            to_x(FCVT_TO_INT, WU, RNE, nan_box(0x4f32_d05e)),
            (0xffff_ffff_b2d0_5e00, 0)
        );
        assert_eq!(to_x(FCVT_TO_INT, LU, RNE, nan_box(INF)), (u64::MAX, NV));
    }

    #[test]
    fn fcvt_l_d_edges() {
        let two_63 = 0x43e0_0000_0000_0000;
        let d = FCVT_TO_INT | 1;
        assert_eq!(to_x(d, L, RNE, two_63), (i64::MAX as u64, NV));
        assert_eq!(to_x(d, L, RNE, two_63 | D_NEG), (1 << 63, 0));
        assert_eq!(to_x(d, L, RNE, two_63 - 1), (0x7fff_ffff_ffff_fc00, 0));
        assert_eq!(to_x(d, L, RNE, (two_63 | D_NEG) + 1), (1 << 63, NV));
        assert_eq!(to_x(d, L, RNE, D_QNAN | D_NEG), (i64::MAX as u64, NV));
        assert_eq!(to_x(d, LU, RNE, two_63), (1 << 63, 0));
        assert_eq!(to_x(d, LU, RNE, 0x43f0_0000_0000_0000), (u64::MAX, NV));
        assert_eq!(to_x(d, L, RNE, 0x3fe0_0000_0000_0000), (0, NX));
        assert_eq!(to_x(d, L, RMM, 0x3fe0_0000_0000_0000), (1, NX));
        assert_eq!(to_x(d, W, RNE, 0x41e0_0000_0000_0000), (0x7fff_ffff, NV)); // 2^31
        assert_eq!(to_x(d, W, RNE, 0x41df_ffff_ffc0_0000), (0x7fff_ffff, 0)); // 2^31 - 1
        assert_eq!(to_x(d, WU, RNE, 0x41ef_ffff_ffe0_0000), (u64::MAX, 0)); // 2^32 - 1
    }

    #[test]
    fn fclass_all_ten_classes() {
        let single = [
            (INF | NEG, 0),
            (ONE | NEG, 1),
            (0x8000_0001, 2),
            (NEG, 3),
            (0, 4),
            (0x0000_0001, 5),
            (ONE, 6),
            (INF, 7),
            (SNAN, 8),
            (QNAN, 9),
            (0xffc0_0001, 9),
        ];
        for (a, bit) in single {
            assert_eq!(to_x(FMV_X_CLASS, 0, 1, nan_box(a)), (1 << bit, 0), "{a:#x}");
        }
        let double = [
            (D_INF | D_NEG, 0),
            (D_ONE | D_NEG, 1),
            (D_NEG | 1, 2),
            (D_NEG, 3),
            (0, 4),
            (0x000f_ffff_ffff_ffff, 5),
            (D_ONE, 6),
            (D_INF, 7),
            (D_SNAN, 8),
            (0x7ff7_ffff_ffff_ffff, 8),
            (D_QNAN, 9),
        ];
        for (a, bit) in double {
            assert_eq!(to_x(FMV_X_CLASS | 1, 0, 1, a), (1 << bit, 0), "{a:#x}");
        }
    }

    #[test]
    fn compares_quiet_and_signaling() {
        let (feq, flt, fle) = (2, 1, 0);
        let (q, s) = (nan_box(QNAN), nan_box(SNAN));
        let one = nan_box(ONE);
        assert_eq!(cmp(FCMP, feq, q, one), (0, 0));
        assert_eq!(cmp(FCMP, feq, q, q), (0, 0));
        assert_eq!(cmp(FCMP, feq, one, s), (0, NV));
        assert_eq!(cmp(FCMP, flt, q, one), (0, NV));
        assert_eq!(cmp(FCMP, fle, one, q), (0, NV));
        assert_eq!(cmp(FCMP, flt, s, one), (0, NV));
        let (nz, pz) = (nan_box(NEG), nan_box(0));
        assert_eq!(cmp(FCMP, feq, nz, pz), (1, 0));
        assert_eq!(cmp(FCMP, flt, nz, pz), (0, 0));
        assert_eq!(cmp(FCMP, fle, nz, pz), (1, 0));
        assert_eq!(cmp(FCMP, flt, one, nan_box(TWO)), (1, 0));
        assert_eq!(cmp(FCMP, fle, nan_box(TWO), one), (0, 0));
        assert_eq!(cmp(FCMP, flt, nan_box(INF | NEG), nan_box(INF)), (1, 0));
        let d = FCMP | 1;
        assert_eq!(cmp(d, feq, D_QNAN, D_ONE), (0, 0));
        assert_eq!(cmp(d, feq, D_SNAN, D_ONE), (0, NV));
        assert_eq!(cmp(d, flt, D_QNAN, D_ONE), (0, NV));
        assert_eq!(cmp(d, fle, D_ONE, D_QNAN), (0, NV));
        assert_eq!(cmp(d, fle, D_NEG, 0), (1, 0));
        assert_eq!(cmp(d, feq, D_NEG, 0), (1, 0));
        // rd = x0 lands in the sink, x0 stays zero.
        let mut h = hart();
        h.f[1] = nan_box(ONE);
        h.exec_fp(&decode(op_fp(FCMP, 1, feq) & !(31 << 7)))
            .unwrap();
        assert_eq!((h.x[0], h.x[32]), (0, 1));
    }

    #[test]
    fn fma_signs_and_single_rounding() {
        // 2 * 3 (+/-) 1 in the four forms.
        assert_eq!(fma_s(FMADD, RNE, TWO, THREE, ONE), (0x40e0_0000, 0)); // 7
        assert_eq!(fma_s(FMSUB, RNE, TWO, THREE, ONE), (0x40a0_0000, 0)); // 5
        assert_eq!(fma_s(FNMSUB, RNE, TWO, THREE, ONE), (0xc0a0_0000, 0)); // -5
        assert_eq!(fma_s(FNMADD, RNE, TWO, THREE, ONE), (0xc0e0_0000, 0)); // -7
        let d_two = 0x4000_0000_0000_0000;
        assert_eq!(
            fma_d(FNMADD, RNE, d_two, D_THREE, D_ONE),
            (0xc01c_0000_0000_0000, 0)
        );
        assert_eq!(
            fma_d(FNMSUB, RNE, d_two, D_THREE, D_ONE),
            (0xc014_0000_0000_0000, 0)
        );
        // Signed zeros: 1*0 - 0 = +0 (-0 in RDN); -(1*0) - 0 = -0; -(1*0) + 0 = +0.
        assert_eq!(fma_s(FMSUB, RNE, ONE, 0, 0), (0, 0));
        assert_eq!(fma_s(FMSUB, RDN, ONE, 0, 0), (NEG, 0));
        assert_eq!(fma_s(FNMADD, RNE, ONE, 0, 0), (NEG, 0));
        assert_eq!(fma_s(FNMSUB, RNE, ONE, 0, 0), (0, 0));
        assert_eq!(fma_s(FNMSUB, RDN, ONE, 0, 0), (NEG, 0));
        // One rounding: (1 + 2^-23)^2 - 1 = 2^-22 + 2^-46, a tie in single precision.
        let a = 0x3f80_0001;
        assert_eq!(fma_s(FMADD, RNE, a, a, ONE | NEG), (0x3480_0000, NX));
        assert_eq!(fma_s(FMADD, RUP, a, a, ONE | NEG), (0x3480_0001, NX));
    }

    #[test]
    fn fma_invalid_rules() {
        // inf * 0 is invalid even when the addend is a quiet NaN (spec, F chapter).
        for op in [FMADD, FMSUB, FNMSUB, FNMADD] {
            assert_eq!(fma_s(op, RNE, INF, 0, QNAN), (QNAN, NV));
            assert_eq!(fma_s(op, RNE, 0, INF | NEG, ONE), (QNAN, NV));
            assert_eq!(fma_d(op, RNE, D_INF, 0, D_QNAN), (D_QNAN, NV));
        }
        // A quiet NaN addend alone is quiet; a signaling one is not.
        assert_eq!(fma_s(FMADD, RNE, ONE, ONE, 0x7fc1_2345), (QNAN, 0));
        assert_eq!(fma_s(FMADD, RNE, ONE, ONE, SNAN), (QNAN, NV));
        // inf - inf through the addend.
        assert_eq!(fma_s(FMSUB, RNE, INF, ONE, INF), (QNAN, NV));
        assert_eq!(fma_d(FMADD, RNE, D_INF, D_ONE, D_INF | D_NEG), (D_QNAN, NV));
    }

    #[test]
    fn sign_injection_never_canonicalises() {
        let payload = 0x7fc1_2345;
        let h = run(
            op_fp(FSGNJ, 2, 2),
            [nan_box(payload), nan_box(ONE | NEG), 0],
            0,
        );
        assert_eq!((h.f[10], h.csr.fflags), (nan_box(payload | NEG), 0));
        let h = run(op_fp(FSGNJ, 2, 1), [nan_box(SNAN), nan_box(ONE), 0], 0);
        assert_eq!((h.f[10], h.csr.fflags), (nan_box(SNAN | NEG), 0));
        let h = run(
            op_fp(FSGNJ, 2, 0),
            [nan_box(SNAN | NEG), nan_box(QNAN), 0],
            0,
        );
        assert_eq!((h.f[10], h.csr.fflags), (nan_box(SNAN), 0));
        // FSGNJX with a NaN sign source uses its sign bit like any other.
        let h = run(
            op_fp(FSGNJ, 2, 2),
            [nan_box(ONE | NEG), nan_box(QNAN | NEG), 0],
            0,
        );
        assert_eq!(h.f[10], nan_box(ONE));
        let h = run(op_fp(FSGNJ | 1, 2, 0), [D_SNAN, D_ONE | D_NEG, 0], 0);
        assert_eq!((h.f[10], h.csr.fflags), (D_SNAN | D_NEG, 0));
        let h = run(op_fp(FSGNJ | 1, 2, 2), [D_QNAN | D_NEG | 9, D_NEG, 0], 0);
        assert_eq!(h.f[10], D_QNAN | 9);
        let h = run(op_fp(FSGNJ | 1, 2, 1), [D_ONE, D_ONE, 0], 0);
        assert_eq!(h.f[10], D_ONE | D_NEG);
    }

    #[test]
    fn moves_transfer_raw_bits() {
        assert_eq!(
            to_x(FMV_X_CLASS, 0, 0, nan_box(NEG)),
            (0xffff_ffff_8000_0000, 0)
        );
        assert_eq!(
            to_x(FMV_X_CLASS, 0, 0, nan_box(0x7fff_ffff)),
            (0x7fff_ffff, 0)
        );
        // FMV.X.W ignores the upper bits, boxed or not.
        assert_eq!(
            to_x(FMV_X_CLASS, 0, 0, 0x1234_5678_8765_4321),
            (0xffff_ffff_8765_4321, 0)
        );
        assert_eq!(
            from_x(FMV_F_X, 0, 0, 0x1234_5678_7f80_0001),
            (nan_box(SNAN), 0)
        );
        assert_eq!(to_x(FMV_X_CLASS | 1, 0, 0, D_SNAN), (D_SNAN, 0));
        assert_eq!(from_x(FMV_F_X | 1, 0, 0, D_SNAN | 3), (D_SNAN | 3, 0));
    }

    #[test]
    fn conversions_between_formats() {
        let (to_s, to_d) = (FCVT_S_D, FCVT_D_S);
        assert_eq!(s_unary(to_s, 1, RNE, D_SNAN), (QNAN, NV));
        assert_eq!(s_unary(to_s, 1, RNE, D_QNAN | 0x123), (QNAN, 0));
        assert_eq!(s_unary(to_s, 1, RNE, D_QNAN | D_NEG), (QNAN, 0));
        assert_eq!(s_unary(to_s, 1, RNE, D_INF | D_NEG), (INF | NEG, 0));
        // Double 1/3 to single rounds like the single division.
        assert_eq!(
            s_unary(to_s, 1, RNE, 0x3fd5_5555_5555_5555),
            (0x3eaa_aaab, NX)
        );
        assert_eq!(
            s_unary(to_s, 1, RTZ, 0x3fd5_5555_5555_5555),
            (0x3eaa_aaaa, NX)
        );
        assert_eq!(d_unary(to_d, 0, RNE, nan_box(SNAN)), (D_QNAN, NV));
        assert_eq!(d_unary(to_d, 0, RNE, nan_box(0xffc1_2345)), (D_QNAN, 0));
        assert_eq!(d_unary(to_d, 0, RNE, nan_box(ONE)), (D_ONE, 0));
        assert_eq!(
            d_unary(to_d, 0, RNE, nan_box(0x0000_0001)),
            (0x36a0_0000_0000_0000, 0)
        );
    }

    #[test]
    fn division_by_zero_and_invalid() {
        assert_eq!(s_op(FDIV, RNE, ONE, 0), (INF, DZ));
        assert_eq!(s_op(FDIV, RNE, ONE | NEG, 0), (INF | NEG, DZ));
        assert_eq!(s_op(FDIV, RNE, ONE, NEG), (INF | NEG, DZ));
        assert_eq!(s_op(FDIV, RNE, 0, 0), (QNAN, NV));
        assert_eq!(s_op(FDIV, RNE, INF, INF), (QNAN, NV));
        assert_eq!(s_op(FDIV, RNE, INF, 0), (INF, 0));
        assert_eq!(s_op(FSUB, RNE, INF, INF), (QNAN, NV));
        assert_eq!(s_op(FMUL, RNE, INF, 0), (QNAN, NV));
        assert_eq!(s_op(FADD, RNE, SNAN, ONE), (QNAN, NV));
        assert_eq!(s_op(FADD, RNE, 0x7fc1_2345, ONE), (QNAN, 0));
        assert_eq!(d_op(FDIV, RNE, D_ONE, 0), (D_INF, DZ));
        assert_eq!(d_op(FDIV, RNE, 0, 0), (D_QNAN, NV));
        assert_eq!(d_op(FMUL, RNE, D_QNAN | 0x55, D_ONE), (D_QNAN, 0));
    }

    #[test]
    fn dynamic_rounding_mode() {
        let raw = op_fp(FDIV, 2, DYN);
        for (frm, want) in [(RNE, 0x3eaa_aaab), (RTZ, 0x3eaa_aaaa), (RUP, 0x3eaa_aaab)] {
            let mut h = hart();
            h.csr.frm = frm as u8;
            h.f[1] = nan_box(ONE);
            h.f[2] = nan_box(THREE);
            h.exec_fp(&decode(raw)).unwrap();
            assert_eq!(h.f[10], nan_box(want), "frm {frm}");
        }
    }

    #[test]
    fn reserved_rounding_modes_are_illegal() {
        let rounding = [
            op_fp(FADD, 2, 5),
            op_fp(FSQRT | 1, 0, 6),
            r4(FMADD, 0, 5),
            r4(FNMADD, 1, 6),
            op_fp(FCVT_S_D, 1, 5),
            op_fp(FCVT_D_S, 0, 6), // exact, but rm still decodes as usual
            op_fp(FCVT_FROM_INT | 1, W, 5), // likewise
            op_fp(FCVT_TO_INT, WU, 6),
            op_fp(FCVT_FROM_INT, LU, 5),
        ];
        for raw in rounding {
            let mut h = hart();
            h.f[10] = 0x1234;
            let insn = decode(raw);
            assert_ne!(insn.op, Op::Illegal);
            let trap = h.exec_fp(&insn).unwrap_err();
            assert_eq!(
                (trap.cause, trap.tval),
                (Exception::IllegalInstruction, raw as u64)
            );
            assert_eq!(
                (h.f[10], h.csr.fflags, h.csr.mstatus & FS),
                (0x1234, 0, FS_INITIAL)
            );
        }
        // Dynamic with frm holding a reserved value.
        for frm in 5..=7 {
            let mut h = hart();
            h.csr.frm = frm;
            let raw = op_fp(FMUL, 2, DYN);
            let trap = h.exec_fp(&decode(raw)).unwrap_err();
            assert_eq!(
                (trap.cause, trap.tval),
                (Exception::IllegalInstruction, raw as u64)
            );
        }
        // An operation exec_fp does not handle is illegal, not a panic.
        let lui = decode(0x0000_12b7);
        assert_eq!(hart().exec_fp(&lui).unwrap_err().tval, 0x12b7);
    }

    #[test]
    fn instructions_without_rm_ignore_frm() {
        let raws = [
            op_fp(FSGNJ, 2, 0),
            op_fp(FMINMAX | 1, 2, 1),
            op_fp(FCMP, 2, 2),
            op_fp(FMV_X_CLASS, 0, 1),
            op_fp(FMV_X_CLASS | 1, 0, 0),
            op_fp(FMV_F_X, 0, 0),
        ];
        for raw in raws {
            let mut h = hart();
            h.csr.frm = 7;
            assert!(h.exec_fp(&decode(raw)).is_ok(), "{raw:#010x}");
        }
    }

    #[test]
    fn flags_accrue_and_mark_fs_dirty() {
        let mut h = hart();
        h.csr.fflags = NX;
        h.f[1] = nan_box(ONE);
        h.f[2] = 0xffff_ffff_0000_0000; // boxed +0
        h.exec_fp(&decode(op_fp(FDIV, 2, RNE))).unwrap();
        assert_eq!(h.csr.fflags, NX | DZ);
        // An integer result with no flag leaves FS alone; a raised flag dirties it.
        let mut h = hart();
        h.f[1] = nan_box(ONE);
        h.exec_fp(&decode(op_fp(FCMP, 1, 2))).unwrap();
        assert_eq!(h.csr.mstatus & FS, FS_INITIAL);
        h.f[2] = nan_box(SNAN);
        h.exec_fp(&decode(op_fp(FCMP, 2, 2))).unwrap();
        assert_eq!((h.csr.mstatus & FS, h.csr.mstatus >> 63), (FS, 1));
        // Any f write dirties, even one that raises nothing.
        let mut h = hart();
        h.exec_fp(&decode(op_fp(FMV_F_X, 0, 0))).unwrap();
        assert_eq!(h.csr.mstatus & FS, FS);
    }

    #[test]
    fn softfloat_state_is_per_thread() {
        // Threads dividing 1/3 in different modes at once must not see each other's mode.
        let threads: Vec<_> = [(RNE, 0x3eaa_aaab), (RTZ, 0x3eaa_aaaa)]
            .into_iter()
            .map(|(rm, want)| {
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        assert_eq!(s_op(FDIV, rm, ONE, THREE), (want, NX));
                        assert_eq!(s_op(FADD, rm, ONE, TWO), (0x4040_0000, 0));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn no_panic_on_any_encoding() {
        // Every OP-FP and fused multiply-add encoding with register fields 0, 1, 31 and
        // awkward register contents: whatever decodes to an F/D op either runs or traps.
        let values = [
            0,
            u64::MAX,
            nan_box(SNAN),
            D_SNAN,
            0x8000_0000_0000_0001,
            D_INF,
        ];
        let mut h = hart();
        for (i, v) in values.iter().cycle().take(32).enumerate() {
            h.f[i] = *v;
            h.x[i] = *v;
        }
        for funct7 in 0..128u32 {
            for rs2 in [0, 1, 2, 3, 31] {
                for funct3 in 0..8 {
                    for reg in [0, 1, 31] {
                        let raw = (funct7 << 25)
                            | (rs2 << 20)
                            | (reg << 15)
                            | (funct3 << 12)
                            | (reg << 7)
                            | 0x53;
                        let insn = decode(raw);
                        if insn.op != Op::Illegal {
                            let _ = h.exec_fp(&insn);
                        }
                    }
                }
            }
        }
        for opcode in [FMADD, FMSUB, FNMSUB, FNMADD] {
            for fmt in 0..4 {
                for rm in 0..8 {
                    let insn = decode(r4(opcode, fmt, rm));
                    if insn.op != Op::Illegal {
                        let _ = h.exec_fp(&insn);
                    }
                }
            }
        }
    }
}
