//! The sv39 guest kernel, first stage: entered in S-mode from SBI firmware (OpenSBI or
//! sv39's own), it reports the hart, RAM, command line and firmware, then powers off.
//!
//! Later stages grow this into the kernel of ARCHITECTURE.md (memory management, processes,
//! system calls).

#![no_std]
#![no_main]

mod arch;
mod cmdline;
mod console;
mod devicetree;
mod sbi;

use cmdline::ExitRequest;

/// The Rust entry point, tail-called by `_start` (`arch/entry.rs`) with the firmware's
/// `a0` = hart id and `a1` = device tree physical address, on the boot stack, `.bss` zeroed.
extern "C" fn kernel_main(hart_id: usize, device_tree: usize) -> ! {
    console::init();
    println!("sv39 kernel: S-mode stage");
    println!("hart {hart_id}");

    // SAFETY: the SBI boot protocol passes the device tree in a1; the firmware keeps it in
    // memory it reserves from the kernel, and nothing in this kernel writes to it.
    let tree = unsafe { devicetree::open(device_tree) }
        .unwrap_or_else(|error| panic!("no device tree at {device_tree:#x}: {error:?}"));
    let info = devicetree::boot_info(&tree);
    match info.memory {
        Some(memory) => println!("memory: {} MiB at {:#x}", memory.size >> 20, memory.base),
        None => panic!("the device tree has no /memory node"),
    }
    println!("bootargs: {}", info.bootargs.unwrap_or("(none)"));

    let (major, minor) = sbi::spec_version();
    println!(
        "sbi: spec {major}.{minor}, implementation {} version {:#x}",
        sbi::impl_id(),
        sbi::impl_version()
    );

    let reason = match cmdline::exit_request(info.bootargs.unwrap_or("")) {
        ExitRequest::Absent => sbi::RESET_REASON_NONE,
        ExitRequest::Code(code) => {
            println!("exit: {code}");
            match code {
                0 => sbi::RESET_REASON_NONE,
                _ => sbi::RESET_REASON_VENDOR_EXIT + u32::from(code),
            }
        }
        ExitRequest::Invalid(value) => {
            println!("exit: ignoring {value:?}, not a number in 0..=255");
            sbi::RESET_REASON_NONE
        }
    };
    power_off(reason)
}

/// Shuts the machine down with SRST `reason`, else the legacy shutdown, else idles forever.
fn power_off(reason: u32) -> ! {
    sbi::system_reset(sbi::ResetType::Shutdown, reason);
    sbi::legacy_shutdown();
    loop {
        arch::wait_for_interrupt();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("sv39 kernel: panic: {}", info.message());
    power_off(sbi::RESET_REASON_SYSTEM_FAILURE)
}
