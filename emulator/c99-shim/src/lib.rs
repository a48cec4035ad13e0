//! The C99 `<stdint.h>` aliases that `softfloat-sys` imports from the `c99` crate.
//!
//! The published `c99` crate generates these at build time by running `cmake` and a C
//! program, which would make cmake a requirement for building sv39. The values are fixed by
//! each platform's C ABI, so this stand-in (wired in with `[patch.crates-io]` in the
//! workspace `Cargo.toml`) states them directly: glibc and musl on 64-bit Linux make the
//! "fast" 16/32-bit types 64 bits wide; Apple and Windows keep them at their nominal width.

#![no_std]
#![allow(non_camel_case_types)]

/// `int8_t`.
pub type int8_t = i8;
/// `int16_t`.
pub type int16_t = i16;
/// `int32_t`.
pub type int32_t = i32;
/// `int64_t`.
pub type int64_t = i64;
/// `uint8_t`.
pub type uint8_t = u8;
/// `uint16_t`.
pub type uint16_t = u16;
/// `uint32_t`.
pub type uint32_t = u32;
/// `uint64_t`.
pub type uint64_t = u64;
/// `int_fast8_t`.
pub type int_fast8_t = i8;
/// `uint_fast8_t`.
pub type uint_fast8_t = u8;
/// `int_fast64_t`.
pub type int_fast64_t = i64;
/// `uint_fast64_t`.
pub type uint_fast64_t = u64;

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod fast {
    /// `int_fast16_t` (64-bit on LP64 Linux).
    pub type int_fast16_t = i64;
    /// `uint_fast16_t`.
    pub type uint_fast16_t = u64;
    /// `int_fast32_t`.
    pub type int_fast32_t = i64;
    /// `uint_fast32_t`.
    pub type uint_fast32_t = u64;
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod fast {
    /// `int_fast16_t`.
    pub type int_fast16_t = i16;
    /// `uint_fast16_t`.
    pub type uint_fast16_t = u16;
    /// `int_fast32_t`.
    pub type int_fast32_t = i32;
    /// `uint_fast32_t`.
    pub type uint_fast32_t = u32;
}

pub use fast::*;
