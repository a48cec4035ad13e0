//! sv39-firmware: the M-mode SBI firmware of sv39, for QEMU's `virt` machine and the sv39
//! emulator alike.
//!
//! The boot ROM starts every hart at 0x8000_0000 with a0 = hart id and a1 = the device tree.
//! Hart 0 reads the device tree, prints a banner, sets up M-mode (PMP, delegation, counters)
//! and drops to the S-mode stage at 0x8020_0000; then it serves SBI calls and the timer from
//! its trap handler. Other harts park in `wfi`.

//!
//! The decisions (SBI dispatch, SRST, device-tree reading) are plain functions that `cargo test`
//! runs on the host; the assembly, CSRs and devices they drive are built for RISC-V only.

#![cfg_attr(target_arch = "riscv64", no_std)]
#![cfg_attr(target_arch = "riscv64", no_main)]
// Off RISC-V (the host's tests and `cargo clippy --all-targets`), nothing but the tests calls
// the pure logic.
#![cfg_attr(not(target_arch = "riscv64"), allow(dead_code))]

#[cfg(target_arch = "riscv64")]
mod arch;
#[cfg(target_arch = "riscv64")]
mod console;
mod devicetree;
mod reset;
mod sbi;
#[cfg(target_arch = "riscv64")]
mod timer;
#[cfg(target_arch = "riscv64")]
mod trap;

#[cfg(target_arch = "riscv64")]
use arch::{clear_csr, interrupt, mstatus, set_csr, write_csr};
#[cfg(target_arch = "riscv64")]
use console::println;
#[cfg(target_arch = "riscv64")]
use devicetree::Platform;

#[cfg(target_arch = "riscv64")]
/// Where the S-mode stage (the kernel) starts.
const NEXT_STAGE: usize = 0x8020_0000;

#[cfg(target_arch = "riscv64")]
/// Exceptions handed straight to S-mode, as OpenSBI 1.1 on QEMU's virt delegates them:
/// instruction misaligned (0), breakpoint (3), U-mode ecall (8), and the instruction (12),
/// load (13) and store/AMO (15) page faults.
const MEDELEG: usize = 0xb109;

#[cfg(target_arch = "riscv64")]
/// Interrupts handed to S-mode: its software, timer and external interrupts.
const MIDELEG: usize = interrupt::SSIP | interrupt::STIP | interrupt::SEIP;

#[cfg(target_arch = "riscv64")]
/// `pmpcfg` entry: NAPOT (A = 3), readable, writable, executable.
const PMP_NAPOT_RWX: usize = (3 << 3) | 0b111;

#[cfg(target_arch = "riscv64")]
/// `menvcfg.STCE`: the Sstc `stimecmp` would own STIP; the firmware keeps it off so that
/// `set_timer` and the CLINT drive S-mode's timer on every machine.
const MENVCFG_STCE: usize = 1 << 63;

#[cfg(target_arch = "riscv64")]
/// Called by `_start` on hart 0 with the boot ROM's a0 and a1, on the firmware stack.
#[unsafe(no_mangle)]
extern "C" fn boot_main(hart_id: usize, device_tree: usize) -> ! {
    // SAFETY: the boot ROM passes the address of the device tree in a1, in memory nothing
    // writes while the firmware reads it.
    let Some(platform) = (unsafe { Platform::read(device_tree) }) else {
        // Without a device tree there is no console to complain on, nor a finisher.
        arch::halt()
    };
    if let Some((base, reg_shift)) = platform.uart {
        console::init(base, reg_shift);
    }
    if let Some(base) = platform.clint {
        timer::init(base);
    }
    if let Some(base) = platform.finisher {
        reset::init(base);
    }
    print_banner(&platform);
    setup_machine_mode();
    // SAFETY: the S-mode stage was loaded at NEXT_STAGE by the boot loader (QEMU or sv39);
    // `__stack_top` tops the firmware's one stack, whose frames all end with this call.
    unsafe {
        arch::enter_supervisor(
            hart_id,
            device_tree,
            NEXT_STAGE,
            core::ptr::addr_of!(arch::__stack_top) as usize,
        )
    }
}

#[cfg(target_arch = "riscv64")]
/// The banner: deterministic, so it reads the same on sv39 and on QEMU.
fn print_banner(platform: &Platform) {
    println!("sv39-firmware {}", env!("CARGO_PKG_VERSION"));
    match platform.memory {
        Some((base, size)) => println!("memory: {} MiB at {base:#x}", size >> 20),
        None => println!("memory: not in the device tree"),
    }
    match platform.timebase_hz {
        Some(hz) => println!("timebase: {hz} Hz"),
        None => println!("timebase: not in the device tree"),
    }
    if !timer::present() {
        println!("warning: no CLINT in the device tree: set_timer will not fire");
    }
    if !reset::present() {
        println!("warning: no sifive,test0 finisher in the device tree: cannot power off");
    }
    println!("next stage: {NEXT_STAGE:#x} (S-mode)");
    println!();
}

#[cfg(target_arch = "riscv64")]
/// PMP, delegation, counters and interrupt enables for running S-mode below the firmware.
fn setup_machine_mode() {
    // SAFETY: each write only configures what S/U-mode may do or which traps reach it:
    // - PMP entry 0 = NAPOT over the whole address space (pmpaddr all ones), RWX for S/U;
    // - mcounteren all ones and scounteren CY|TM|IR (as OpenSBI) let S/U read the counters;
    // - medeleg/mideleg hand S-mode its own exceptions and interrupts;
    // - mie = 0: the timer interrupt is enabled by `set_timer` only;
    // - mstatus.FS = Initial turns the FPU on, for S-mode as OpenSBI does;
    // - menvcfg.STCE = 0 keeps STIP under the firmware's control.
    unsafe {
        write_csr!("pmpaddr0", usize::MAX >> 10);
        write_csr!("pmpcfg0", PMP_NAPOT_RWX);
        write_csr!("mcounteren", 0xffff_ffff_usize);
        write_csr!("scounteren", 0b111_usize);
        write_csr!("medeleg", MEDELEG);
        write_csr!("mideleg", MIDELEG);
        write_csr!("mie", 0_usize);
        set_csr!("mstatus", mstatus::FS_INITIAL);
        clear_csr!("menvcfg", MENVCFG_STCE);
    }
}

#[cfg(target_arch = "riscv64")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("sv39-firmware: panic: {info}");
    reset::power_off_failure(reset::FIRMWARE_FAULT_STATUS)
}

/// Built for the host outside the tests (`cargo build`, `cargo clippy --all-targets`): the
/// firmware itself runs on RISC-V only.
#[cfg(not(any(test, target_arch = "riscv64")))]
fn main() {
    eprintln!("sv39-firmware runs in M-mode: build it with --target riscv64gc-unknown-none-elf");
    std::process::exit(1);
}
