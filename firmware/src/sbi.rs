//! SBI calls from S-mode (SBI spec 2.0): `ecall` with a7 = extension id, a6 = function id,
//! arguments in a0..a5; the answer is a0 = error, a1 = value (legacy extensions: a0 only).
//!
//! Implemented: BASE, TIME, IPI (sPI), RFENCE (RFNC, acting on this hart: the firmware runs
//! one hart), SRST, DBCN, and the legacy set_timer, console_putchar, console_getchar and
//! shutdown. Anything else answers `SBI_ERR_NOT_SUPPORTED`.

use core::ptr::{read_volatile, write_volatile};

use sbi_spec::binary::{RET_ERR_INVALID_PARAM, RET_ERR_NOT_SUPPORTED, RET_SUCCESS};
use sbi_spec::{base, dbcn, legacy, rfnc, spi, srst, time};

use crate::arch::{TrapFrame, fence_i, interrupt, read_csr, set_csr, sfence_vma_all};
use crate::{console, reset, timer};

/// SBI implementation id of sv39-firmware: 0x5339 ("S9"), far above the ids the SBI spec's
/// registry assigns (0 BBL … 10 oreboot, and the few added since), so it collides with none.
pub const IMPL_ID: usize = 0x5339;

/// Implementation version: `major << 16 | minor << 8 | patch` of the crate version.
const IMPL_VERSION: usize = (parse(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
    | (parse(env!("CARGO_PKG_VERSION_MINOR")) << 8)
    | parse(env!("CARGO_PKG_VERSION_PATCH"));

/// SBI specification version 2.0 (major in bits 30:24, minor in 23:0).
const SPEC_VERSION: usize = 2 << 24;

/// The hart the firmware runs on and S-mode may name (the only one it started).
const BOOT_HART: usize = 0;

const fn parse(digits: &str) -> usize {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as usize;
        i += 1;
    }
    value
}

/// The answer to one call.
enum Answer {
    /// a0 = error, a1 = value.
    Standard { error: usize, value: usize },
    /// A legacy extension: a0 only.
    Legacy(usize),
}

const fn ok(value: usize) -> Answer {
    Answer::Standard {
        error: RET_SUCCESS,
        value,
    }
}

const fn err(error: usize) -> Answer {
    Answer::Standard { error, value: 0 }
}

/// Handles the S-mode `ecall` saved in `frame`, writing the answer back into it.
pub fn handle(frame: &mut TrapFrame) {
    let extension = frame.a(7);
    let function = frame.a(6);
    let answer = match extension {
        base::EID_BASE => base_call(function, frame.a(0)),
        time::EID_TIME => match function {
            time::SET_TIMER => {
                timer::set_timer(frame.a(0) as u64);
                ok(0)
            }
            _ => err(RET_ERR_NOT_SUPPORTED),
        },
        spi::EID_SPI => match function {
            spi::SEND_IPI => match targets_boot_hart(frame.a(0), frame.a(1)) {
                Ok(true) => {
                    // SAFETY: SSIP is S-mode's software interrupt, which M-mode may raise.
                    unsafe { set_csr!("mip", interrupt::SSIP) };
                    ok(0)
                }
                Ok(false) => ok(0),
                Err(error) => err(error),
            },
            _ => err(RET_ERR_NOT_SUPPORTED),
        },
        rfnc::EID_RFNC => rfence_call(function, frame.a(0), frame.a(1)),
        srst::EID_SRST => match function {
            srst::SYSTEM_RESET => match reset::system_reset(frame.a(0) as u32, frame.a(1) as u32) {
                reset::ResetError::InvalidParam => err(RET_ERR_INVALID_PARAM),
            },
            _ => err(RET_ERR_NOT_SUPPORTED),
        },
        dbcn::EID_DBCN => dbcn_call(function, frame.a(0), frame.a(1), frame.a(2)),
        legacy::LEGACY_SET_TIMER => {
            timer::set_timer(frame.a(0) as u64);
            Answer::Legacy(0)
        }
        legacy::LEGACY_CONSOLE_PUTCHAR => {
            console::put_byte(frame.a(0) as u8);
            Answer::Legacy(0)
        }
        legacy::LEGACY_CONSOLE_GETCHAR => {
            Answer::Legacy(console::get_byte().map_or(usize::MAX, usize::from))
        }
        legacy::LEGACY_SHUTDOWN => reset::power_off(),
        _ => err(RET_ERR_NOT_SUPPORTED),
    };
    match answer {
        Answer::Standard { error, value } => {
            frame.set_a(0, error);
            frame.set_a(1, value);
        }
        Answer::Legacy(value) => frame.set_a(0, value),
    }
}

/// Whether `extension` is one this firmware implements (`probe_extension`).
fn implemented(extension: usize) -> bool {
    matches!(
        extension,
        base::EID_BASE
            | time::EID_TIME
            | spi::EID_SPI
            | rfnc::EID_RFNC
            | srst::EID_SRST
            | dbcn::EID_DBCN
            | legacy::LEGACY_SET_TIMER
            | legacy::LEGACY_CONSOLE_PUTCHAR
            | legacy::LEGACY_CONSOLE_GETCHAR
            | legacy::LEGACY_SHUTDOWN
    )
}

fn base_call(function: usize, argument: usize) -> Answer {
    match function {
        base::GET_SBI_SPEC_VERSION => ok(SPEC_VERSION),
        base::GET_SBI_IMPL_ID => ok(IMPL_ID),
        base::GET_SBI_IMPL_VERSION => ok(IMPL_VERSION),
        base::PROBE_EXTENSION => ok(usize::from(implemented(argument))),
        base::GET_MVENDORID => ok(read_csr!("mvendorid")),
        base::GET_MARCHID => ok(read_csr!("marchid")),
        base::GET_MIMPID => ok(read_csr!("mimpid")),
        _ => err(RET_ERR_NOT_SUPPORTED),
    }
}

/// Whether a hart mask (SBI spec 3.1) names the boot hart; an error if it names any other.
fn targets_boot_hart(mask: usize, mask_base: usize) -> Result<bool, usize> {
    if mask_base == usize::MAX {
        return Ok(true);
    }
    let mut includes_boot = false;
    for bit in (0..usize::BITS as usize).filter(|bit| mask & (1 << bit) != 0) {
        match mask_base.checked_add(bit) {
            Some(BOOT_HART) => includes_boot = true,
            _ => return Err(RET_ERR_INVALID_PARAM),
        }
    }
    Ok(includes_boot)
}

fn rfence_call(function: usize, mask: usize, mask_base: usize) -> Answer {
    let fence: fn() = match function {
        rfnc::REMOTE_FENCE_I => fence_i,
        // A full flush is a correct (if broad) answer to any address range or ASID.
        rfnc::REMOTE_SFENCE_VMA | rfnc::REMOTE_SFENCE_VMA_ASID => sfence_vma_all,
        _ => return err(RET_ERR_NOT_SUPPORTED),
    };
    match targets_boot_hart(mask, mask_base) {
        Ok(true) => {
            fence();
            ok(0)
        }
        Ok(false) => ok(0),
        Err(error) => err(error),
    }
}

/// DBCN (SBI spec chapter 12). Buffers are physical addresses, used as given: the firmware
/// does not vet them, so one where nothing answers faults the firmware (a fatal trap).
fn dbcn_call(function: usize, argument: usize, base_lo: usize, base_hi: usize) -> Answer {
    let buffer = |len: usize| {
        // RV64 physical addresses fit in base_lo; the high half must be zero.
        (base_hi == 0 && base_lo.checked_add(len).is_some()).then_some(base_lo)
    };
    match function {
        dbcn::CONSOLE_WRITE => {
            let Some(start) = buffer(argument) else {
                return err(RET_ERR_INVALID_PARAM);
            };
            for address in start..start + argument {
                // SAFETY: M-mode reads the physical byte S-mode named, untranslated; an
                // address without memory raises an access fault that ends in the fatal trap.
                console::put_byte(unsafe { read_volatile(address as *const u8) });
            }
            ok(argument)
        }
        dbcn::CONSOLE_READ => {
            let Some(start) = buffer(argument) else {
                return err(RET_ERR_INVALID_PARAM);
            };
            let mut count = 0;
            while count < argument {
                let Some(byte) = console::get_byte() else {
                    break;
                };
                // SAFETY: S-mode gave this physical buffer to be filled (PMP already lets
                // S-mode write all memory, so this grants it nothing new); a bad address
                // faults as above.
                unsafe { write_volatile((start + count) as *mut u8, byte) };
                count += 1;
            }
            ok(count)
        }
        dbcn::CONSOLE_WRITE_BYTE => {
            console::put_byte(argument as u8);
            ok(0)
        }
        _ => err(RET_ERR_NOT_SUPPORTED),
    }
}
