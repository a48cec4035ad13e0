//! The sv39 guest kernel: entered in S-mode from SBI firmware (OpenSBI or sv39's own) with
//! `a0` = hart id and `a1` = the device tree. It reports the machine, sets up memory
//! (frames, its own page table, a heap), reads the initramfs, and runs the first program
//! (`/chosen/sv39,init-argv`, or `init=` on the command line) as a Linux process; when
//! that program exits, the machine powers off with its exit status. Without a program it
//! powers off at once (status `exit=N` from the command line).

#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod cmdline;
mod console;
mod devicetree;
mod drivers;
mod fs;
mod klog;
mod mm;
mod proc;
mod sbi;
mod sync;
mod syscall;
mod vmstat;

use alloc::vec::Vec;

use cmdline::ExitRequest;

/// The environment of the first program when the boot chain names none.
const DEFAULT_ENV: [&[u8]; 3] = [
    b"PATH=/usr/local/bin:/usr/bin:/bin",
    b"HOME=/",
    b"TERM=dumb",
];

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
    let (memory, initrd) = devicetree::memory_and_initrd(&tree);
    let Some(memory) = memory else {
        panic!("the device tree has no /memory node")
    };
    println!("memory: {} MiB at {:#x}", memory.size >> 20, memory.base);
    // The device tree and the initramfs stay where the boot chain put them.
    let round = |(s, e): (u64, u64)| (s & !0xFFF, (e + 0xFFF) & !0xFFF);
    let dtb = device_tree as u64;
    let reserved = [
        round((dtb, dtb + tree.total_size() as u64)),
        initrd.map_or((0, 0), round),
    ];
    let ram_start = memory.base as u64;
    mm::init(ram_start, ram_start + memory.size as u64, &reserved);

    let info = devicetree::boot_info(&tree);
    println!("bootargs: {}", info.bootargs.unwrap_or("(none)"));

    let (major, minor) = sbi::spec_version();
    println!(
        "sbi: spec {major}.{minor}, implementation {} version {:#x}",
        sbi::impl_id(),
        sbi::impl_version()
    );

    let bootargs = info.bootargs.unwrap_or("");
    let mut argv: Vec<&[u8]> = info.init_argv.clone();
    if argv.is_empty() {
        argv = cmdline::init_argv(bootargs);
    }
    if argv.is_empty() {
        power_off(exit_reason(bootargs));
    }

    if let Some(pa) = info.hostio {
        drivers::hostio::probe(pa);
    }
    if let Some(pa) = info.fault_trace {
        drivers::fault_trace::probe(pa);
    }
    setup_swap(&info);
    match initrd {
        Some((start, end)) => {
            // SAFETY: the boot chain placed the initramfs there and the frame allocator
            // never hands those pages out; nothing writes them.
            let bytes = unsafe { mm::phys::bytes(start, (end - start) as usize) };
            if let Err(error) = fs::initramfs::init(bytes) {
                klog!("initramfs at {start:#x}: {error}; starting with an empty one");
                fs::initramfs::init_empty();
            }
        }
        None => fs::initramfs::init_empty(),
    }
    let (free, total) = mm::frame::usage();
    klog!(
        "{free} of {total} frames free; starting {}",
        alloc::string::String::from_utf8_lossy(argv[0])
    );

    arch::cpu::init_sstatus();
    arch::trap::install();
    proc::init(info.timebase);
    let envp: Vec<&[u8]> = if info.init_argv.is_empty() {
        DEFAULT_ENV.to_vec()
    } else {
        info.init_envp.clone()
    };
    proc::start_init(&argv, &envp)
}

/// Finds the swap disk among the virtio-mmio transports, and sets up its interrupt and the
/// replacement policy (`vm.policy=`, `vm.frames=`). Without a disk, memory is all there is.
fn setup_swap(info: &devicetree::BootInfo<'_>) {
    mm::swap::configure(info.bootargs.unwrap_or(""));
    if let Some(plic) = info.plic {
        drivers::plic::init(plic);
    }
    for &(pa, irq) in &info.virtio_mmio {
        match drivers::virtio_blk::probe(pa, irq) {
            Ok(capacity) => {
                let slots = mm::swap::init(capacity);
                drivers::plic::enable(irq);
                arch::cpu::enable_external_interrupts();
                let (_, legacy, _) = drivers::virtio_blk::describe().unwrap_or((irq, true, 0));
                klog!(
                    "swap: virtio-blk at {pa:#x} (irq {irq}, {}), {} MiB, {slots} slots",
                    if legacy { "legacy" } else { "modern" },
                    (capacity * drivers::virtio_blk::SECTOR) >> 20,
                );
                break;
            }
            Err(drivers::virtio_blk::ProbeError::NotBlock) => {}
            Err(drivers::virtio_blk::ProbeError::Refused(why)) => {
                klog!("virtio-blk at {pa:#x}: {why}; no swap");
            }
        }
    }
    let (policy, budget) = mm::frame::policy();
    match budget {
        Some(n) => klog!(
            "vm: policy {}, at most {n} evictable user frames",
            policy.name()
        ),
        None => klog!("vm: policy {}", policy.name()),
    }
}

/// The shutdown reason for the command line's `exit=N`.
fn exit_reason(bootargs: &str) -> u32 {
    match cmdline::exit_request(bootargs) {
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
    }
}

/// Powers off with host exit status `code` (sv39's firmware maps the vendor reason), after
/// handing the host the kernel's counters (`/proc/vmstat`) for `sv39 run --stats`.
pub fn power_off_with_status(code: u8) -> ! {
    if drivers::hostio::present() {
        let stats = vmstat::render();
        drivers::hostio::transfer(
            drivers::hostio::Command::Stats,
            stats.as_ptr() as u64,
            stats.len() as u64,
        );
    }
    match code {
        0 => power_off(sbi::RESET_REASON_NONE),
        _ => power_off(sbi::RESET_REASON_VENDOR_EXIT + u32::from(code)),
    }
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
    // In program mode the console is a log: say it where the user looks too.
    // The heap may be what ran out, so the line is formatted on the stack.
    if drivers::hostio::present() {
        let mut line = StackLine {
            bytes: [0; 256],
            len: 0,
        };
        let _ = core::fmt::Write::write_fmt(
            &mut line,
            format_args!("sv39 kernel: panic: {}\n", info.message()),
        );
        drivers::stdio::write_kernel(drivers::hostio::Command::Stderr, &line.bytes[..line.len]);
    }
    power_off(sbi::RESET_REASON_SYSTEM_FAILURE)
}

/// A line formatted into a fixed buffer (cut at 256 bytes).
struct StackLine {
    bytes: [u8; 256],
    len: usize,
}

impl core::fmt::Write for StackLine {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let n = text.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&text.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
