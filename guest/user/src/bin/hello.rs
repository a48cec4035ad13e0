//! Prints a greeting and its arguments, one per line: the smallest test of a kernel's
//! `execve` stack layout and `write`.

#![no_std]
#![no_main]

use sv39_user::{Args, entry, println};

entry!(main);

fn main(args: Args) -> i32 {
    println!("hello from sv39");
    for (index, arg) in args.args().enumerate() {
        println!("argv[{index}] = {}", arg.to_str().unwrap_or("(not UTF-8)"));
    }
    0
}
