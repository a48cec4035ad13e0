//! A safe, value-only face over Berkeley SoftFloat 3e (`softfloat-sys`, built with its RISCV
//! specialisation: default NaNs are RISC-V's canonical NaNs, invalid integer conversions
//! return RISC-V's saturated values, and tininess is detected after rounding).
//!
//! # Thread safety
//!
//! SoftFloat keeps its rounding mode, exception flags and tininess mode in C globals. The
//! `softfloat-sys` 0.1.4 build script compiles SoftFloat with
//! `-DTHREAD_LOCAL=_Thread_local` (or `__thread` on old GCC) for the only target it builds
//! for (x86-64 Linux; it refuses every other), so these globals are thread-local: each
//! thread (each test thread, each hart thread) has its own copy, and no lock is needed. A
//! caller sets the mode and clears the flags with [`begin`], runs its operations, and reads
//! what they raised with [`flags`], all on one thread with nothing in between that could run
//! SoftFloat code on that thread.
//!
//! The functions below call C code that only computes on the values passed and touches only
//! those thread-local globals: no pointers, no allocation, defined for every bit pattern.

// The names mirror SoftFloat's own (`f32_mulAdd`), so a reader can find the C routine.
#![allow(non_snake_case)]

use softfloat_sys as sf;
use softfloat_sys::{float32_t, float64_t};

/// Sets the rounding mode for the operations that follow on this thread and clears the
/// exception flags. `rm` is a RISC-V rounding mode 0..=4, whose numbering SoftFloat shares
/// (near_even, minMag, min, max, near_maxMag).
#[inline(always)]
pub(crate) fn begin(rm: u8) {
    // SAFETY: writes SoftFloat's thread-local rounding mode and flags through its C helpers;
    // plain byte stores with no other effect.
    unsafe {
        sf::softfloat_roundingMode_write_helper(rm);
        sf::softfloat_exceptionFlags_write_helper(0);
    }
}

/// The exception flags raised on this thread since the last [`begin`], in SoftFloat's
/// encoding, which is also the encoding of `fflags` (NV=16 DZ=8 OF=4 UF=2 NX=1).
#[inline(always)]
pub(crate) fn flags() -> u8 {
    // SAFETY: reads SoftFloat's thread-local flags byte through its C helper.
    unsafe { sf::softfloat_exceptionFlags_read_helper() }
}

/// Generates one safe wrapper per SoftFloat routine. Every wrapped routine takes and returns
/// plain values and is defined for all inputs (see the module documentation), which is what
/// makes the single `unsafe` block below sound for each of them.
macro_rules! wrap {
    ($($name:ident($($arg:ident: $ty:ty => $conv:expr),*) -> $ret:ty = |$r:ident| $res:expr;)*) => {
        $(
            #[doc = concat!("SoftFloat's `", stringify!($name), "` on raw bit patterns.")]
            #[inline(always)]
            pub(crate) fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: a pure C routine on values (no pointers), defined for every input;
                // its only side effects are on SoftFloat's thread-local mode and flags.
                let $r = unsafe { sf::$name($($conv),*) };
                $res
            }
        )*
    };
}

fn f32(v: u32) -> float32_t {
    float32_t { v }
}

fn f64(v: u64) -> float64_t {
    float64_t { v }
}

wrap! {
    f32_add(a: u32 => f32(a), b: u32 => f32(b)) -> u32 = |r| r.v;
    f32_sub(a: u32 => f32(a), b: u32 => f32(b)) -> u32 = |r| r.v;
    f32_mul(a: u32 => f32(a), b: u32 => f32(b)) -> u32 = |r| r.v;
    f32_div(a: u32 => f32(a), b: u32 => f32(b)) -> u32 = |r| r.v;
    f32_sqrt(a: u32 => f32(a)) -> u32 = |r| r.v;
    f32_mulAdd(a: u32 => f32(a), b: u32 => f32(b), c: u32 => f32(c)) -> u32 = |r| r.v;
    f64_add(a: u64 => f64(a), b: u64 => f64(b)) -> u64 = |r| r.v;
    f64_sub(a: u64 => f64(a), b: u64 => f64(b)) -> u64 = |r| r.v;
    f64_mul(a: u64 => f64(a), b: u64 => f64(b)) -> u64 = |r| r.v;
    f64_div(a: u64 => f64(a), b: u64 => f64(b)) -> u64 = |r| r.v;
    f64_sqrt(a: u64 => f64(a)) -> u64 = |r| r.v;
    f64_mulAdd(a: u64 => f64(a), b: u64 => f64(b), c: u64 => f64(c)) -> u64 = |r| r.v;

    f32_to_f64(a: u32 => f32(a)) -> u64 = |r| r.v;
    f64_to_f32(a: u64 => f64(a)) -> u32 = |r| r.v;

    // Float to integer: the rounding mode is an argument, `exact` = true raises inexact.
    // SoftFloat returns the C "fast" types (64 bits wide here); the values fit the narrow
    // type, so the truncating casts are exact.
    f32_to_i32(a: u32 => f32(a), rm: u8 => rm, x: bool => x) -> i32 = |r| r as i32;
    f32_to_ui32(a: u32 => f32(a), rm: u8 => rm, x: bool => x) -> u32 = |r| r as u32;
    f32_to_i64(a: u32 => f32(a), rm: u8 => rm, x: bool => x) -> i64 = |r| r;
    f32_to_ui64(a: u32 => f32(a), rm: u8 => rm, x: bool => x) -> u64 = |r| r;
    f64_to_i32(a: u64 => f64(a), rm: u8 => rm, x: bool => x) -> i32 = |r| r as i32;
    f64_to_ui32(a: u64 => f64(a), rm: u8 => rm, x: bool => x) -> u32 = |r| r as u32;
    f64_to_i64(a: u64 => f64(a), rm: u8 => rm, x: bool => x) -> i64 = |r| r;
    f64_to_ui64(a: u64 => f64(a), rm: u8 => rm, x: bool => x) -> u64 = |r| r;

    // Integer to float, rounding by the current mode.
    i32_to_f32(a: i32 => a) -> u32 = |r| r.v;
    ui32_to_f32(a: u32 => a) -> u32 = |r| r.v;
    i64_to_f32(a: i64 => a) -> u32 = |r| r.v;
    ui64_to_f32(a: u64 => a) -> u32 = |r| r.v;
    i32_to_f64(a: i32 => a) -> u64 = |r| r.v;
    ui32_to_f64(a: u32 => a) -> u64 = |r| r.v;
    i64_to_f64(a: i64 => a) -> u64 = |r| r.v;
    ui64_to_f64(a: u64 => a) -> u64 = |r| r.v;
}
