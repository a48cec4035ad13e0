//! Forks three children that each change their copy of a shared-looking counter and exit
//! with a distinct status; the parent waits for each in order and prints what it saw, then
//! checks that its own counter was left alone (the copies are private after fork).

#![no_std]
#![no_main]

use sv39_user::process::{self, Fork, WaitStatus};
use sv39_user::{Args, entry, println};

entry!(main);

/// How many children to fork.
const CHILDREN: usize = 3;

fn main(_args: Args) -> i32 {
    // A stack page and a data page the children write after fork.
    let mut counter = [0u8; 64];
    let mut pids = [0usize; CHILDREN];
    for (index, pid) in pids.iter_mut().enumerate() {
        let number = index + 1;
        match process::fork() {
            Ok(Fork::Child) => {
                counter[0] = 10 + number as u8;
                // SAFETY: only this process touches SCRATCH, and only here.
                unsafe { SCRATCH = number as u8 };
                process::exit(i32::from(counter[0]));
            }
            Ok(Fork::Parent { child }) => *pid = child,
            Err(errno) => {
                println!("fork of child {number} failed: {errno}");
                return 1;
            }
        }
    }
    for (index, &pid) in pids.iter().enumerate() {
        let number = index + 1;
        match process::wait_pid(pid) {
            Ok((reaped, _)) if reaped != pid => println!("child {number}: wait4 reaped another"),
            Ok((_, WaitStatus::Exited(code))) => println!("child {number} exited with {code}"),
            Ok((_, WaitStatus::Signaled { signal, .. })) => {
                println!("child {number} killed by signal {signal}")
            }
            Ok((_, WaitStatus::Other(raw))) => println!("child {number}: status {raw:#x}"),
            Err(errno) => println!("child {number}: wait4 failed: {errno}"),
        }
    }
    // SAFETY: the children wrote their own copies; the parent only reads its own.
    let scratch = unsafe { SCRATCH };
    println!(
        "parent's counters after the children wrote theirs: {} {scratch}",
        counter[0]
    );
    match process::wait_pid(usize::MAX) {
        Err(errno) => println!("no more children: {errno}"),
        Ok((_, status)) => println!("an unexpected child: {status:?}"),
    }
    0
}

/// A byte in `.data`/`.bss` that each child overwrites.
static mut SCRATCH: u8 = 0;
