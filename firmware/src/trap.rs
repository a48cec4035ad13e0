//! The M-mode trap handler, called by the trap vector in `arch` with the saved registers.
//!
//! From S/U-mode: an S-mode `ecall` is an SBI call; the M-mode timer interrupt goes to S-mode
//! as STIP; any other exception is one `medeleg` does not delegate (illegal instruction,
//! access faults, misaligned loads and stores, …) and is passed to S-mode as if delegated,
//! as OpenSBI does. A trap from M-mode itself is a firmware fault: fatal.

use crate::arch::{TrapFrame, cause, mstatus, read_csr, write_csr};
use crate::console::println;
use crate::{reset, sbi, timer};

/// Entered from `_trap_vector`; returns only to resume S/U-mode.
#[unsafe(no_mangle)]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    let mcause = read_csr!("mcause");
    let status = read_csr!("mstatus");
    if status & mstatus::MPP_MASK == mstatus::MPP_MACHINE {
        fatal(mcause);
    }
    match mcause {
        cause::SUPERVISOR_ECALL => {
            sbi::handle(frame);
            let next = read_csr!("mepc") + 4;
            // SAFETY: resume S-mode after its 4-byte ecall instruction.
            unsafe { write_csr!("mepc", next) };
        }
        cause::MACHINE_TIMER => timer::on_machine_timer(),
        exception if exception & cause::INTERRUPT == 0 => redirect_to_supervisor(exception, status),
        _ => fatal(mcause),
    }
}

/// Delivers exception `mcause` to S-mode's trap vector, as a delegated trap would have.
fn redirect_to_supervisor(mcause: usize, status: usize) {
    let mepc = read_csr!("mepc");
    let handler = read_csr!("stvec") & !3;
    // No S-mode handler yet, or the handler itself faulting, would loop forever.
    if handler == 0 || handler == mepc {
        fatal(mcause);
    }
    let mut new_status =
        status & !(mstatus::SPP | mstatus::SPIE | mstatus::SIE | mstatus::MPP_MASK);
    if status & mstatus::MPP_MASK == mstatus::MPP_SUPERVISOR {
        new_status |= mstatus::SPP;
    }
    if status & mstatus::SIE != 0 {
        new_status |= mstatus::SPIE;
    }
    new_status |= mstatus::MPP_SUPERVISOR;
    let mtval = read_csr!("mtval");
    // SAFETY: exactly the state change of a trap taken into S-mode (privileged spec 3.1.6.1):
    // S-mode's cause, epc and tval registers, SPP/SPIE/SIE, then mret to its vector in S-mode.
    unsafe {
        write_csr!("scause", mcause);
        write_csr!("sepc", mepc);
        write_csr!("stval", mtval);
        write_csr!("mstatus", new_status);
        write_csr!("mepc", handler);
    }
}

/// Reports a trap the firmware cannot handle and powers off with failure (status 3).
fn fatal(mcause: usize) -> ! {
    println!(
        "sv39-firmware: fatal trap: mcause={:#x} mepc={:#x} mtval={:#x}",
        mcause,
        read_csr!("mepc"),
        read_csr!("mtval")
    );
    reset::power_off_failure(reset::FIRMWARE_FAULT_STATUS)
}
