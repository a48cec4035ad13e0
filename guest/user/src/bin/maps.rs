//! Prints `/proc/self/maps`, maps an anonymous region, touches a few of its pages, makes
//! part of it read-only, and prints the maps again: the region appears, split in two by the
//! `mprotect`.

#![no_std]
#![no_main]

use core::ffi::CStr;

use sv39_user::fs::File;
use sv39_user::io::STDOUT;
use sv39_user::mm::{Mapping, PROT_READ, PROT_WRITE};
use sv39_user::{Args, entry, println};

entry!(main);

/// Pages in the anonymous region.
const PAGES: usize = 8;

fn main(args: Args) -> i32 {
    let page = args.page_size();
    println!("== /proc/self/maps at start");
    if let Err(code) = print_maps() {
        return code;
    }

    let region = match Mapping::anonymous(PAGES * page, PROT_READ | PROT_WRITE) {
        Ok(region) => region,
        Err(errno) => {
            println!("mmap failed: {errno}");
            return 1;
        }
    };
    println!(
        "== mmap {PAGES} pages at {:#x}, touch pages 0, 2, 4, 6, mprotect pages 4..8 read-only",
        region.address()
    );
    for index in (0..PAGES).step_by(2) {
        // SAFETY: the whole region is still writable.
        unsafe { region.write_byte(index * page, index as u8 + 1) };
    }
    // SAFETY: nothing writes pages 4..8 after this.
    if let Err(errno) = unsafe { region.protect(4 * page, 4 * page, PROT_READ) } {
        println!("mprotect failed: {errno}");
        return 1;
    }
    let sum: usize = (0..PAGES)
        .map(|index| usize::from(region.read_byte(index * page)))
        .sum();
    println!("sum of the first byte of each page: {sum}");
    println!("== /proc/self/maps after");
    match print_maps() {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// Copies `/proc/self/maps` to standard output; the error is the exit status to return.
fn print_maps() -> Result<(), i32> {
    const PATH: &CStr = c"/proc/self/maps";
    let file = File::open(PATH).map_err(|errno| {
        println!("cannot open {}: {errno}", PATH.to_str().unwrap_or("?"));
        1
    })?;
    let mut buffer = [0u8; 512];
    file.copy_to(STDOUT, &mut buffer).map_err(|errno| {
        println!("cannot read maps: {errno}");
        1
    })
}
