//! A tour of the kinds of page fault, one step each, with the process's own fault counters
//! from `getrusage` (minor and major) around every step:
//!
//! 1. demand-zero: the first write to each of 64 fresh anonymous pages;
//! 2. file-backed: reads of 8 pages of a private mapping of the program's own file;
//! 3. copy-on-write: after fork the child writes 16 shared pages (copies), then the parent
//!    writes the same pages, which no one else holds any more (reuse, no copy);
//! 4. swap: `madvise(MADV_PAGEOUT)` sends 16 pages to the swap disk, and touching them reads
//!    each one back (major faults);
//! 5. segfault: a child stores to address 0 and dies of SIGSEGV.
//!
//! Only the faults a step means to cause happen inside its measurement: the program's own
//! image and 64 KiB of stack are touched (and written) first, and again by each side after
//! fork. The output has no addresses or times, so every run prints the same lines. Run it
//! with `sv39 run --stats fault-tour` to see the kernel's counters for each kind too.

#![no_std]
#![no_main]

use sv39_user::fs::File;
use sv39_user::mm::{self, MADV_PAGEOUT, Mapping, PROT_READ, PROT_WRITE};
use sv39_user::process::{self, Faults, Fork, WaitStatus};
use sv39_user::{Args, entry, println};

entry!(main);

/// Pages of the anonymous region (step 1).
const PAGES: usize = 64;
/// Pages of the program file read (step 2).
const FILE_PAGES: usize = 8;
/// Pages written after fork (step 3), and paged out (step 4).
const SOME: usize = 16;
/// The first page paged out in step 4: pages the parent did not write in step 3.
const PAGED_OUT: usize = SOME;
/// `SIGSEGV`.
const SIGSEGV: u8 = 11;

fn main(args: Args) -> i32 {
    let page = args.page_size();
    touch_image(&args);
    touch_stack();
    println!("fault-tour: one page fault of each kind, and this process's counters (getrusage)");
    println!("  minor: the kernel found or made the page in memory; major: it waited for the disk");

    // 1. Demand-zero.
    let Ok(region) = Mapping::anonymous(PAGES * page, PROT_READ | PROT_WRITE) else {
        println!("fault-tour: mmap of {PAGES} pages failed");
        return 1;
    };
    let before = process::faults();
    for index in 0..PAGES {
        // SAFETY: the mapping is read-write.
        unsafe { region.write_u64(index * page, pattern(index)) };
    }
    let step = process::faults().since(before);
    println!("1. demand-zero: wrote one word in each of {PAGES} fresh pages of an anonymous mmap");
    println!(
        "   {}: each first touch got a new page, filled with zeros",
        show(step)
    );

    // 2. File-backed.
    match file_pages(page) {
        Ok((pages, step, elf)) => {
            println!("2. file-backed: read {pages} pages of a private mmap of /proc/self/exe");
            println!(
                "   {}: each page was copied in from the file{}",
                show(step),
                if elf {
                    " (page 0 begins \"\\x7fELF\")"
                } else {
                    ""
                }
            );
        }
        Err(what) => println!("2. file-backed: {what}"),
    }

    // 3. Copy-on-write: copies in the child, reuse in the parent.
    println!("3. copy-on-write: fork; parent and child now share all {PAGES} pages, read-only");
    let child = match process::fork() {
        Ok(Fork::Child) => {
            let step = rewrite_some(&region, page);
            println!(
                "   child: wrote {SOME} of them: {}, each write copied a shared page",
                show(step)
            );
            process::exit(0)
        }
        Ok(Fork::Parent { child }) => child,
        Err(errno) => {
            println!("fault-tour: fork failed: {errno}");
            return 1;
        }
    };
    match process::wait_pid(child) {
        Ok((_, WaitStatus::Exited(code))) => println!("   parent: the child exited with {code}"),
        other => println!("   parent: the child ended unexpectedly: {other:?}"),
    }
    let step = rewrite_some(&region, page);
    println!(
        "   parent: wrote the same {SOME}: {}, no copy: no one else holds them now",
        show(step)
    );

    // 4. Swap: out with madvise, back in by touching.
    let (out_before, in_before) = swap_counters();
    let before = process::faults();
    let advice = region.advise(PAGED_OUT * page, SOME * page, MADV_PAGEOUT);
    let mut wrong = 0;
    for index in PAGED_OUT..PAGED_OUT + SOME {
        wrong += usize::from(region.read_u64(index * page) != pattern(index));
    }
    let step = process::faults().since(before);
    let (out_after, in_after) = swap_counters();
    match advice {
        Ok(()) => println!("4. swap: madvise(MADV_PAGEOUT) of {SOME} pages, then read them again"),
        Err(errno) => println!("4. swap: madvise(MADV_PAGEOUT) of {SOME} pages failed: {errno}"),
    }
    if step.major == 0 {
        println!(
            "   {}: the pages stayed in memory (no swap disk?)",
            show(step)
        );
    } else {
        println!(
            "   {}: each read waited for its page to come back from the disk",
            show(step)
        );
    }
    println!(
        "   disk: {} pages written (pswpout), {} read back (pswpin); {}",
        out_after.wrapping_sub(out_before),
        in_after.wrapping_sub(in_before),
        if wrong == 0 {
            "contents as step 1 wrote them"
        } else {
            "CONTENTS DIFFER"
        }
    );

    // 5. SIGSEGV.
    println!("5. segfault: a child stores to address 0, where nothing is mapped");
    let child = match process::fork() {
        Ok(Fork::Child) => {
            // SAFETY: nothing is mapped at address 0, so the store faults and the child
            // dies; it exits at once were something there.
            unsafe { mm::store_byte(0, 1) };
            process::exit(1)
        }
        Ok(Fork::Parent { child }) => child,
        Err(errno) => {
            println!("fault-tour: fork failed: {errno}");
            return 1;
        }
    };
    match process::wait_pid(child) {
        Ok((_, WaitStatus::Signaled { signal, .. })) => println!(
            "   parent: wait4 says the kernel killed it with signal {signal}{}",
            if signal == SIGSEGV { " (SIGSEGV)" } else { "" }
        ),
        other => println!("   parent: the child ended unexpectedly: {other:?}"),
    }
    if wrong != 0 {
        return 1;
    }
    println!("fault-tour: done");
    0
}

/// Step 2: maps the program's own file, reads up to [`FILE_PAGES`] of its pages; returns how
/// many, the faults that took, and whether page 0 holds the ELF magic number.
fn file_pages(page: usize) -> Result<(usize, Faults, bool), &'static str> {
    let file = File::open(c"/proc/self/exe").map_err(|_| "cannot open /proc/self/exe")?;
    let size = file.size().map_err(|_| "cannot fstat /proc/self/exe")? as usize;
    let pages = FILE_PAGES.min(size / page);
    if pages == 0 {
        return Err("/proc/self/exe is shorter than a page");
    }
    let mapping = Mapping::file(&file, pages * page, PROT_READ).map_err(|_| "mmap failed")?;
    let before = process::faults();
    let mut first = 0;
    for index in 0..pages {
        let byte = mapping.read_byte(index * page);
        if index == 0 {
            first = u32::from_le_bytes([
                byte,
                mapping.read_byte(1),
                mapping.read_byte(2),
                mapping.read_byte(3),
            ]);
        }
    }
    let step = process::faults().since(before);
    Ok((pages, step, first == u32::from_le_bytes(*b"\x7fELF")))
}

/// `+N minor, +M major`.
/// Writes the first `SOME` pages of `region` again (after fork: a copy-on-write fault each)
/// and returns the faults that took.
fn rewrite_some(region: &Mapping, page: usize) -> Faults {
    touch_stack();
    let before = process::faults();
    for index in 0..SOME {
        // SAFETY: the mapping is read-write (the fault copies the page or gives the write
        // back).
        unsafe { region.write_u64(index * page, !pattern(index)) };
    }
    process::faults().since(before)
}

fn show(faults: Faults) -> ShowFaults {
    ShowFaults(faults)
}

/// Formats a step's fault counts.
struct ShowFaults(Faults);

impl core::fmt::Display for ShowFaults {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "+{} minor, +{} major", self.0.minor, self.0.major)
    }
}

/// The word step 1 writes in page `index`.
fn pattern(index: usize) -> u64 {
    (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5339
}

/// `pswpout` and `pswpin` from /proc/vmstat (0 when missing): pages written to and read
/// from the swap disk, by the whole system.
fn swap_counters() -> (u64, u64) {
    let mut buffer = [0u8; 1024];
    let mut len = 0;
    if let Ok(file) = File::open(c"/proc/vmstat") {
        while len < buffer.len() {
            match file.read(&mut buffer[len..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
    }
    let text = &buffer[..len];
    (counter(text, b"pswpout"), counter(text, b"pswpin"))
}

/// The number on the line `NAME N` of `text`, 0 when there is none.
fn counter(text: &[u8], name: &[u8]) -> u64 {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(b" "))
        .map_or(0, |digits| {
            digits
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .fold(0, |n: u64, &d| n * 10 + u64::from(d - b'0'))
        })
}

/// Touches every page of the program's loaded segments, writing back each byte read in the
/// writable one, so that running its code and reaching its data fault no more.
fn touch_image(args: &Args) {
    const AT_PHDR: usize = 3;
    const AT_PHNUM: usize = 5;
    const PT_LOAD: u32 = 1;
    const PF_W: u32 = 2;
    unsafe extern "C" {
        /// The ELF header: the image is linked at 0, so its address is the load bias.
        static __ehdr_start: u8;
    }
    let bias = &raw const __ehdr_start as usize;
    let page = args.page_size();
    let (Some(phdr), Some(count)) = (args.aux(AT_PHDR), args.aux(AT_PHNUM)) else {
        return;
    };
    for index in 0..count {
        // Elf64_Phdr: p_type, p_flags (u32), then p_offset, p_vaddr, p_paddr, p_filesz,
        // p_memsz, p_align (u64).
        let entry = phdr + index * 56;
        // SAFETY: AT_PHDR and AT_PHNUM describe the program headers, which the headers
        // segment maps readable for the life of the process.
        let (kind, flags, vaddr, memsz) = unsafe {
            (
                core::ptr::read_volatile(entry as *const u32),
                core::ptr::read_volatile((entry + 4) as *const u32),
                core::ptr::read_volatile((entry + 16) as *const u64) as usize,
                core::ptr::read_volatile((entry + 40) as *const u64) as usize,
            )
        };
        if kind != PT_LOAD {
            continue;
        }
        let start = (bias + vaddr) & !(page - 1);
        let end = bias + vaddr + memsz;
        for address in (start..end).step_by(page) {
            // SAFETY: a page of a loaded segment, readable; a writable one gets back the
            // byte it holds, and nothing else runs meanwhile.
            unsafe {
                let byte = core::ptr::read_volatile(address as *const u8);
                if flags & PF_W != 0 {
                    core::ptr::write_volatile(address as *mut u8, byte);
                }
            }
        }
    }
}

/// Writes 64 KiB of stack below the caller's frame, deeper than any step goes, so that
/// stack pages neither appear nor are copied inside a measurement.
#[inline(never)]
fn touch_stack() {
    let mut area = [0u8; 64 * 1024];
    for offset in (0..area.len()).step_by(4096) {
        // SAFETY: a byte of a live local array.
        unsafe { core::ptr::write_volatile(&raw mut area[offset], 0) };
    }
    core::hint::black_box(&area);
}
