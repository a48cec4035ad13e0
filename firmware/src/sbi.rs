//! SBI calls from S-mode (SBI spec 2.0): `ecall` with a7 = extension id, a6 = function id,
//! arguments in a0..a5; the answer is a0 = error, a1 = value (legacy extensions: a0 only).
//!
//! Implemented: BASE, TIME, IPI (sPI), RFENCE (RFNC, acting on this hart: the firmware runs
//! one hart), SRST, DBCN, and the legacy set_timer, console_putchar, console_getchar and
//! shutdown. Anything else answers `SBI_ERR_NOT_SUPPORTED`.
//!
//! [`dispatch`] decides what a call does (pure, tested on the host); `handle` (RISC-V only)
//! carries the resulting [`Action`] out on the hardware.

use sbi_spec::binary::{RET_ERR_INVALID_PARAM, RET_ERR_NOT_SUPPORTED, RET_SUCCESS};
use sbi_spec::{base, dbcn, legacy, rfnc, spi, srst, time};

use crate::reset::{self, Finish};

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

/// The answer to one call, as it goes back into S-mode's registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// a0 = error, a1 = value.
    Standard {
        /// `SBI_SUCCESS` or an `SBI_ERR_*` code.
        error: usize,
        /// The call's result.
        value: usize,
    },
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

/// What the firmware does for one call. Every action except [`Action::Answer`] has an effect
/// on the hardware, after which the call answers as the variant says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do but answer.
    Answer(Answer),
    /// Program the timer for `deadline`, then answer `answer`.
    SetTimer {
        /// The `mtime` value at which S-mode's timer interrupt is due.
        deadline: u64,
        /// `ok(0)`, or legacy 0.
        answer: Answer,
    },
    /// Raise S-mode's software interrupt (`mip.SSIP`), then answer `ok(0)`.
    RaiseSoftwareInterrupt,
    /// `fence.i` on this hart, then answer `ok(0)`.
    FenceI,
    /// `sfence.vma` of everything on this hart, then answer `ok(0)`.
    SfenceVmaAll,
    /// Send one byte to the console, then answer `answer`.
    PutByte {
        /// The byte.
        byte: u8,
        /// `ok(0)`, or legacy 0.
        answer: Answer,
    },
    /// Legacy `console_getchar`: answer the waiting byte, or -1 when none waits.
    GetByte,
    /// DBCN `console_write`: send the `len` bytes at physical `address`, answer `ok(len)`.
    ConsoleWrite {
        /// Physical address of the first byte.
        address: usize,
        /// Number of bytes; `address + len` does not overflow.
        len: usize,
    },
    /// DBCN `console_read`: store up to `len` waiting bytes at physical `address`, answer
    /// `ok(count)` with the number stored.
    ConsoleRead {
        /// Physical address of the buffer.
        address: usize,
        /// Its size; `address + len` does not overflow.
        len: usize,
    },
    /// Stop the machine through the finisher; the call does not return.
    Finish(Finish),
}

/// The machine's identity registers, which BASE reports (`mvendorid`, `marchid`, `mimpid`).
pub trait MachineIds {
    /// `mvendorid`.
    fn mvendorid(&self) -> usize;
    /// `marchid`.
    fn marchid(&self) -> usize;
    /// `mimpid`.
    fn mimpid(&self) -> usize;
}

/// Decides the call with extension id `extension` (a7), function id `function` (a6) and
/// arguments `args` (a0..a5).
pub fn dispatch(
    extension: usize,
    function: usize,
    args: [usize; 6],
    ids: &impl MachineIds,
) -> Action {
    use Action::Answer as Reply;
    match extension {
        base::EID_BASE => Reply(base_call(function, args[0], ids)),
        time::EID_TIME => match function {
            time::SET_TIMER => Action::SetTimer {
                deadline: args[0] as u64,
                answer: ok(0),
            },
            _ => Reply(err(RET_ERR_NOT_SUPPORTED)),
        },
        spi::EID_SPI => match function {
            spi::SEND_IPI => match targets_boot_hart(args[0], args[1]) {
                Ok(true) => Action::RaiseSoftwareInterrupt,
                Ok(false) => Reply(ok(0)),
                Err(error) => Reply(err(error)),
            },
            _ => Reply(err(RET_ERR_NOT_SUPPORTED)),
        },
        rfnc::EID_RFNC => rfence_call(function, args[0], args[1]),
        srst::EID_SRST => match function {
            srst::SYSTEM_RESET => match reset::system_reset(args[0] as u32, args[1] as u32) {
                Ok(finish) => Action::Finish(finish),
                Err(reset::ResetError::InvalidParam) => Reply(err(RET_ERR_INVALID_PARAM)),
            },
            _ => Reply(err(RET_ERR_NOT_SUPPORTED)),
        },
        dbcn::EID_DBCN => dbcn_call(function, args[0], args[1], args[2]),
        legacy::LEGACY_SET_TIMER => Action::SetTimer {
            deadline: args[0] as u64,
            answer: Answer::Legacy(0),
        },
        legacy::LEGACY_CONSOLE_PUTCHAR => Action::PutByte {
            byte: args[0] as u8,
            answer: Answer::Legacy(0),
        },
        legacy::LEGACY_CONSOLE_GETCHAR => Action::GetByte,
        legacy::LEGACY_SHUTDOWN => Action::Finish(Finish::PowerOff),
        _ => Reply(err(RET_ERR_NOT_SUPPORTED)),
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

fn base_call(function: usize, argument: usize, ids: &impl MachineIds) -> Answer {
    match function {
        base::GET_SBI_SPEC_VERSION => ok(SPEC_VERSION),
        base::GET_SBI_IMPL_ID => ok(IMPL_ID),
        base::GET_SBI_IMPL_VERSION => ok(IMPL_VERSION),
        base::PROBE_EXTENSION => ok(usize::from(implemented(argument))),
        base::GET_MVENDORID => ok(ids.mvendorid()),
        base::GET_MARCHID => ok(ids.marchid()),
        base::GET_MIMPID => ok(ids.mimpid()),
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

fn rfence_call(function: usize, mask: usize, mask_base: usize) -> Action {
    let fence = match function {
        rfnc::REMOTE_FENCE_I => Action::FenceI,
        // A full flush is a correct (if broad) answer to any address range or ASID.
        rfnc::REMOTE_SFENCE_VMA | rfnc::REMOTE_SFENCE_VMA_ASID => Action::SfenceVmaAll,
        _ => return Action::Answer(err(RET_ERR_NOT_SUPPORTED)),
    };
    match targets_boot_hart(mask, mask_base) {
        Ok(true) => fence,
        Ok(false) => Action::Answer(ok(0)),
        Err(error) => Action::Answer(err(error)),
    }
}

/// DBCN (SBI spec chapter 12). Buffers are physical addresses, used as given: the firmware
/// does not vet them, so one where nothing answers faults the firmware (a fatal trap).
fn dbcn_call(function: usize, argument: usize, base_lo: usize, base_hi: usize) -> Action {
    let buffer = |len: usize| {
        // RV64 physical addresses fit in base_lo; the high half must be zero.
        (base_hi == 0 && base_lo.checked_add(len).is_some()).then_some(base_lo)
    };
    let invalid = Action::Answer(err(RET_ERR_INVALID_PARAM));
    match function {
        dbcn::CONSOLE_WRITE => buffer(argument).map_or(invalid, |address| Action::ConsoleWrite {
            address,
            len: argument,
        }),
        dbcn::CONSOLE_READ => buffer(argument).map_or(invalid, |address| Action::ConsoleRead {
            address,
            len: argument,
        }),
        dbcn::CONSOLE_WRITE_BYTE => Action::PutByte {
            byte: argument as u8,
            answer: ok(0),
        },
        _ => Action::Answer(err(RET_ERR_NOT_SUPPORTED)),
    }
}

#[cfg(target_arch = "riscv64")]
pub use hart::handle;

/// Carrying actions out on this hart.
#[cfg(target_arch = "riscv64")]
mod hart {
    use core::ptr::{read_volatile, write_volatile};

    use super::{Action, Answer, MachineIds, dispatch, ok};
    use crate::arch::{TrapFrame, fence_i, interrupt, read_csr, set_csr, sfence_vma_all};
    use crate::{console, reset, timer};

    /// The identity CSRs, read when BASE asks for them.
    struct Csrs;

    impl MachineIds for Csrs {
        fn mvendorid(&self) -> usize {
            read_csr!("mvendorid")
        }
        fn marchid(&self) -> usize {
            read_csr!("marchid")
        }
        fn mimpid(&self) -> usize {
            read_csr!("mimpid")
        }
    }

    /// Handles the S-mode `ecall` saved in `frame`, writing the answer back into it.
    pub fn handle(frame: &mut TrapFrame) {
        let args = [
            frame.a(0),
            frame.a(1),
            frame.a(2),
            frame.a(3),
            frame.a(4),
            frame.a(5),
        ];
        let answer = match dispatch(frame.a(7), frame.a(6), args, &Csrs) {
            Action::Answer(answer) => answer,
            Action::SetTimer { deadline, answer } => {
                timer::set_timer(deadline);
                answer
            }
            Action::RaiseSoftwareInterrupt => {
                // SAFETY: SSIP is S-mode's software interrupt, which M-mode may raise.
                unsafe { set_csr!("mip", interrupt::SSIP) };
                ok(0)
            }
            Action::FenceI => {
                fence_i();
                ok(0)
            }
            Action::SfenceVmaAll => {
                sfence_vma_all();
                ok(0)
            }
            Action::PutByte { byte, answer } => {
                console::put_byte(byte);
                answer
            }
            Action::GetByte => Answer::Legacy(console::get_byte().map_or(usize::MAX, usize::from)),
            Action::ConsoleWrite { address, len } => {
                for address in address..address + len {
                    // SAFETY: M-mode reads the physical byte S-mode named, untranslated; an
                    // address without memory raises an access fault that ends in the fatal
                    // trap.
                    console::put_byte(unsafe { read_volatile(address as *const u8) });
                }
                ok(len)
            }
            Action::ConsoleRead { address, len } => {
                let mut count = 0;
                while count < len {
                    let Some(byte) = console::get_byte() else {
                        break;
                    };
                    // SAFETY: S-mode gave this physical buffer to be filled (PMP already lets
                    // S-mode write all memory, so this grants it nothing new); a bad address
                    // faults as above.
                    unsafe { write_volatile((address + count) as *mut u8, byte) };
                    count += 1;
                }
                ok(count)
            }
            Action::Finish(how) => reset::finish(how),
        };
        match answer {
            Answer::Standard { error, value } => {
                frame.set_a(0, error);
                frame.set_a(1, value);
            }
            Answer::Legacy(value) => frame.set_a(0, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_SUPPORTED: Action = Action::Answer(err(RET_ERR_NOT_SUPPORTED));
    const INVALID_PARAM: Action = Action::Answer(err(RET_ERR_INVALID_PARAM));
    const OK_0: Action = Action::Answer(ok(0));

    /// A machine whose identity registers read as made-up, distinct values.
    struct FakeIds;

    impl MachineIds for FakeIds {
        fn mvendorid(&self) -> usize {
            0x489
        }
        fn marchid(&self) -> usize {
            0x8000_0000_0000_0007
        }
        fn mimpid(&self) -> usize {
            0x2024_0101
        }
    }

    fn call(extension: usize, function: usize, args: &[usize]) -> Action {
        let mut registers = [0; 6];
        registers[..args.len()].copy_from_slice(args);
        dispatch(extension, function, registers, &FakeIds)
    }

    fn returns(value: usize) -> Action {
        Action::Answer(ok(value))
    }

    #[test]
    fn error_codes_are_the_specs() {
        assert_eq!(RET_ERR_NOT_SUPPORTED as isize, -2);
        assert_eq!(RET_ERR_INVALID_PARAM as isize, -3);
        assert_eq!(RET_SUCCESS, 0);
    }

    #[test]
    fn base_versions_and_ids() {
        assert_eq!(call(0x10, 0, &[]), returns(0x0200_0000));
        assert_eq!(call(0x10, 1, &[]), returns(0x5339));
        let version = |part: &str| part.parse::<usize>().unwrap();
        let expected = version(env!("CARGO_PKG_VERSION_MAJOR")) << 16
            | version(env!("CARGO_PKG_VERSION_MINOR")) << 8
            | version(env!("CARGO_PKG_VERSION_PATCH"));
        assert_eq!(call(0x10, 2, &[]), returns(expected));
        assert_eq!(call(0x10, 4, &[]), returns(0x489));
        assert_eq!(call(0x10, 5, &[]), returns(0x8000_0000_0000_0007));
        assert_eq!(call(0x10, 6, &[]), returns(0x2024_0101));
        assert_eq!(call(0x10, 7, &[]), NOT_SUPPORTED);
    }

    #[test]
    fn version_digits_parse() {
        assert_eq!(parse("0"), 0);
        assert_eq!(parse("7"), 7);
        assert_eq!(parse("123"), 123);
    }

    #[test]
    fn probe_finds_every_implemented_extension() {
        let implemented = [
            0x10,
            0x5449_4D45, // TIME
            0x0073_5049, // sPI
            0x5246_4E43, // RFNC
            0x5352_5354, // SRST
            0x4442_434E, // DBCN
            0,
            1,
            2,
            8,
        ];
        for extension in implemented {
            assert_eq!(call(0x10, 3, &[extension]), returns(1), "{extension:#x}");
        }
        let absent = [
            3,           // legacy clear_ipi
            4,           // legacy send_ipi
            5,           // legacy remote_fence_i
            7,           // legacy remote_sfence_vma_asid
            0x0048_534D, // HSM
            0x5041_5553, // PMU
            0x5355_5350, // SUSP
            0x4E41_434C, // NACL
            0x0053_5441, // STA
            usize::MAX,
        ];
        for extension in absent {
            assert_eq!(call(0x10, 3, &[extension]), returns(0), "{extension:#x}");
        }
    }

    #[test]
    fn unknown_extensions_and_functions_are_not_supported() {
        for extension in [3, 4, 5, 6, 7, 9, 0x0048_534D, 0x0A00_0000, usize::MAX] {
            assert_eq!(
                call(extension, 0, &[1, 2, 3]),
                NOT_SUPPORTED,
                "{extension:#x}"
            );
        }
        for (extension, function) in [
            (0x5449_4D45, 1),
            (0x0073_5049, 1),
            (0x5246_4E43, 3), // remote_hfence_gvma_vmid
            (0x5246_4E43, 6), // remote_hfence_vvma
            (0x5352_5354, 1),
            (0x4442_434E, 3),
            (0x10, usize::MAX),
        ] {
            assert_eq!(
                call(extension, function, &[]),
                NOT_SUPPORTED,
                "{extension:#x}/{function}"
            );
        }
    }

    #[test]
    fn time_set_timer() {
        assert_eq!(
            call(0x5449_4D45, 0, &[0x1234_5678_9abc]),
            Action::SetTimer {
                deadline: 0x1234_5678_9abc,
                answer: ok(0)
            }
        );
        assert_eq!(
            call(0x5449_4D45, 0, &[usize::MAX]),
            Action::SetTimer {
                deadline: u64::MAX,
                answer: ok(0)
            }
        );
    }

    #[test]
    fn ipi_to_hart_0_raises_ssip() {
        let send_ipi = |mask: usize, base: usize| call(0x0073_5049, 0, &[mask, base]);
        assert_eq!(send_ipi(1, 0), Action::RaiseSoftwareInterrupt);
        // hart_mask_base = -1: every hart.
        assert_eq!(send_ipi(0, usize::MAX), Action::RaiseSoftwareInterrupt);
        assert_eq!(send_ipi(0b1010, usize::MAX), Action::RaiseSoftwareInterrupt);
        // An empty mask names no hart: nothing to do.
        assert_eq!(send_ipi(0, 0), OK_0);
        assert_eq!(send_ipi(0, 5), OK_0);
    }

    #[test]
    fn ipi_to_other_harts_is_invalid() {
        let send_ipi = |mask: usize, base: usize| call(0x0073_5049, 0, &[mask, base]);
        assert_eq!(send_ipi(0b10, 0), INVALID_PARAM);
        assert_eq!(send_ipi(0b11, 0), INVALID_PARAM);
        assert_eq!(send_ipi(1, 1), INVALID_PARAM);
        assert_eq!(send_ipi(1 << 63, 0), INVALID_PARAM);
        // Base + bit overflows: no such hart.
        assert_eq!(send_ipi(0b10, usize::MAX - 1), INVALID_PARAM);
    }

    #[test]
    fn rfence_acts_locally() {
        let rfence = |function: usize, mask: usize, base: usize| {
            call(0x5246_4E43, function, &[mask, base, 0x1000, 0x2000, 7])
        };
        assert_eq!(rfence(0, 1, 0), Action::FenceI);
        assert_eq!(rfence(1, 1, 0), Action::SfenceVmaAll);
        assert_eq!(rfence(2, 1, 0), Action::SfenceVmaAll);
        assert_eq!(rfence(0, 0, usize::MAX), Action::FenceI);
        assert_eq!(rfence(2, 0, usize::MAX), Action::SfenceVmaAll);
        for function in 0..=2 {
            assert_eq!(rfence(function, 0, 0), OK_0);
            assert_eq!(rfence(function, 0b10, 0), INVALID_PARAM);
            assert_eq!(rfence(function, 1, 3), INVALID_PARAM);
        }
        // An unknown function is refused before the mask is looked at.
        assert_eq!(rfence(4, 0b10, 0), NOT_SUPPORTED);
    }

    #[test]
    fn srst_system_reset() {
        let reset = |reset_type: usize, reason: usize| call(0x5352_5354, 0, &[reset_type, reason]);
        assert_eq!(reset(0, 0), Action::Finish(Finish::PowerOff));
        assert_eq!(reset(0, 1), Action::Finish(Finish::PowerOffFailure(1)));
        assert_eq!(
            reset(0, 0xF000_002A),
            Action::Finish(Finish::PowerOffFailure(42))
        );
        assert_eq!(Finish::PowerOffFailure(42).command(), 0x002A_3333);
        assert_eq!(reset(1, 0), Action::Finish(Finish::Reboot));
        assert_eq!(reset(2, 0xF000_0001), Action::Finish(Finish::Reboot));
        assert_eq!(reset(3, 0), INVALID_PARAM);
        assert_eq!(reset(0, 2), INVALID_PARAM);
        assert_eq!(reset(1, 0xE000_0000), INVALID_PARAM);
        // The arguments are 32-bit: the upper halves of a0 and a1 are ignored.
        assert_eq!(
            reset(1 << 32, 0xFFFF_FFFF_0000_0000),
            Action::Finish(Finish::PowerOff)
        );
    }

    #[test]
    fn dbcn_console_write() {
        let write = |len: usize, lo: usize, hi: usize| call(0x4442_434E, 0, &[len, lo, hi]);
        assert_eq!(
            write(13, 0x8020_1000, 0),
            Action::ConsoleWrite {
                address: 0x8020_1000,
                len: 13
            }
        );
        assert_eq!(
            write(0, 0x8020_1000, 0),
            Action::ConsoleWrite {
                address: 0x8020_1000,
                len: 0
            }
        );
        // The high half of the address must be zero on RV64.
        assert_eq!(write(13, 0x8020_1000, 1), INVALID_PARAM);
        // The buffer may not wrap around the address space.
        assert_eq!(write(2, usize::MAX, 0), INVALID_PARAM);
        assert_eq!(
            write(1, usize::MAX - 1, 0),
            Action::ConsoleWrite {
                address: usize::MAX - 1,
                len: 1
            }
        );
    }

    #[test]
    fn dbcn_console_read() {
        let read = |len: usize, lo: usize, hi: usize| call(0x4442_434E, 1, &[len, lo, hi]);
        assert_eq!(
            read(64, 0x8030_0000, 0),
            Action::ConsoleRead {
                address: 0x8030_0000,
                len: 64
            }
        );
        assert_eq!(read(64, 0x8030_0000, 0x8000_0000), INVALID_PARAM);
        assert_eq!(read(usize::MAX, 1, 0), INVALID_PARAM);
    }

    #[test]
    fn dbcn_console_write_byte() {
        let write_byte = |byte: usize| call(0x4442_434E, 2, &[byte, 0xdead, 0xbeef]);
        assert_eq!(
            write_byte(b'A'.into()),
            Action::PutByte {
                byte: b'A',
                answer: ok(0)
            }
        );
        // Only the low 8 bits are the byte; the other arguments do not matter.
        assert_eq!(
            write_byte(0x1_0a),
            Action::PutByte {
                byte: b'\n',
                answer: ok(0)
            }
        );
    }

    #[test]
    fn legacy_calls_answer_in_a0_only() {
        assert_eq!(
            call(0, 0, &[0xffff_0000]),
            Action::SetTimer {
                deadline: 0xffff_0000,
                answer: Answer::Legacy(0)
            }
        );
        assert_eq!(
            call(1, 0, &[0x4142]),
            Action::PutByte {
                byte: 0x42,
                answer: Answer::Legacy(0)
            }
        );
        // Legacy extensions ignore a6.
        assert_eq!(
            call(1, 99, &[b'x'.into()]),
            Action::PutByte {
                byte: b'x',
                answer: Answer::Legacy(0)
            }
        );
        assert_eq!(call(2, 0, &[]), Action::GetByte);
        assert_eq!(call(8, 0, &[]), Action::Finish(Finish::PowerOff));
    }
}
