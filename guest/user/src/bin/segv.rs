//! Prints a line, then stores through a null pointer: the kernel finds no mapping at
//! address 0 and kills the process with `SIGSEGV` (a shell reports status 139).

#![no_std]
#![no_main]

use sv39_user::{Args, entry, mm, println};

entry!(main);

fn main(_args: Args) -> i32 {
    println!("segv: writing to address 0");
    // SAFETY: nothing is mapped at address 0, so this store faults and the process dies;
    // were something there, changing a byte of it would not matter, as we exit just after.
    unsafe { mm::store_byte(0, 1) };
    println!("segv: the write did not fault");
    1
}
