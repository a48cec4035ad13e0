//! The policy half of the sv39 guest kernel: plain safe Rust with host unit tests.
//!
//! The kernel (`guest/kernel`) does the mechanism (page tables, frames, traps, copying to
//! and from user memory) and asks this crate what to do:
//!
//! - [`errno`]: Linux error numbers; a failed system call returns `-errno` in `a0`.
//! - [`vma`]: the per-process areas (mmap, munmap, mprotect, brk, stack growth).
//! - [`fault`]: the page-fault decision and PTE permission bits.
//! - [`elf`]: checking an executable and turning it into areas.
//! - [`stack`]: the initial user stack (strings, auxv, argv, envp, argc).
//! - [`cpio`]: the initramfs (newc archives) and a path index over it.
//! - [`path`]: path normalisation.
//! - [`maps`]: `/proc/<pid>/maps` lines.
//! - [`mmap`]: the mmap(2) checks and placement.
//! - [`mremap`]: the mremap(2) system call.
//! - [`signal`]: signal numbers and wait statuses.
//! - [`cow`]: copy-on-write's copy-or-reuse decisions, with a model of fork, write, swap
//!   and exit.
//! - [`replace`]: page replacement (FIFO, Clock, LRU by aging) and a fault simulator.
//! - [`swapslots`]: the swap area's slots with their reference counts.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod cow;
pub mod cpio;
pub mod elf;
pub mod errno;
pub mod fault;
pub mod maps;
pub mod mmap;
pub mod mremap;
pub mod path;
pub mod replace;
pub mod signal;
pub mod stack;
pub mod swapslots;
pub mod vma;
