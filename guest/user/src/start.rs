//! Process entry: `_start`, the self-relocator, and the arguments the kernel put on the
//! stack.
//!
//! The examples are static position-independent executables (ET_DYN without PT_INTERP, see
//! `link.ld`): nobody relocates them but themselves. The kernel (Linux, `qemu-riscv64` or
//! sv39's) maps the segments at some base, points `sp` at `argc` and jumps to `_start`,
//! which, before any Rust code runs:
//! 1. takes the load bias as the run-time address of `__ehdr_start`, found PC-relatively
//!    (`lla`); the image is linked at 0, so that address is the bias itself;
//! 2. walks `_DYNAMIC` (also found PC-relatively) for `DT_RELA` and `DT_RELASZ`;
//! 3. for each `Elf64_Rela` there, of type `R_RISCV_RELATIVE`, stores `bias + r_addend` at
//!    `bias + r_offset`; any other type is fatal (exit status 127), since a static PIE
//!    linked by lld holds no other;
//! 4. calls [`start_rust`] with the initial `sp`, 16-byte aligned.
//!
//! Only position-independent code runs before step 4: the medium code model makes every
//! address `auipc`-relative, and the loop touches no relocated data.
//!
//! The stack at entry, as Linux lays it out (lowest address first): `argc`, `argv[0..argc]`,
//! NULL, `envp[..]`, NULL, then `auxv` pairs (type, value) up to `AT_NULL`.

use core::arch::global_asm;
use core::ffi::{CStr, c_char};

global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    // No caller: end the frame-pointer chain and keep the initial sp for start_rust.
    "    li fp, 0",
    "    li ra, 0",
    "    mv s1, sp",
    "    lla s2, __ehdr_start", // the load bias (link.ld links at 0)
    "    lla t0, _DYNAMIC",
    "    li a2, 0", // DT_RELA, link-time address
    "    li a3, 0", // DT_RELASZ, bytes
    "1:  ld t1, 0(t0)",
    "    beqz t1, 4f", // DT_NULL
    "    ld t2, 8(t0)",
    "    li t3, 7", // DT_RELA
    "    bne t1, t3, 2f",
    "    mv a2, t2",
    "2:  li t3, 8", // DT_RELASZ
    "    bne t1, t3, 3f",
    "    mv a3, t2",
    "3:  addi t0, t0, 16",
    "    j 1b",
    "4:  beqz a3, 7f",
    "    add a2, a2, s2", // run-time address of the first entry
    "    add a3, a3, a2", // one past the last
    "5:  ld t1, 8(a2)",   // r_info: the type is its low 32 bits
    "    slli t1, t1, 32",
    "    srli t1, t1, 32",
    "    li t3, 3", // R_RISCV_RELATIVE
    "    bne t1, t3, 6f",
    "    ld t1, 0(a2)",  // r_offset
    "    ld t2, 16(a2)", // r_addend
    "    add t1, t1, s2",
    "    add t2, t2, s2",
    "    sd t2, 0(t1)",
    "    addi a2, a2, 24",
    "    bltu a2, a3, 5b",
    "    j 7f",
    "6:  li a0, 127", // a relocation this loader does not know: exit_group(127)
    "    li a7, 94",
    "    ecall",
    "7:  mv a0, s1",
    "    andi sp, sp, -16",
    "    call {start_rust}",
    "    unimp",
    ".size _start, . - _start",
    start_rust = sym start_rust,
);

/// What the kernel passed to the program: the arguments, the environment and the
/// auxiliary vector, all still where it put them on the initial stack.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
    envp: *const *const c_char,
    auxv: *const usize,
}

/// Auxiliary-vector keys (`linux/auxvec.h`).
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: usize = 0;
    /// Address of the program headers.
    pub const AT_PHDR: usize = 3;
    /// Page size in bytes.
    pub const AT_PAGESZ: usize = 6;
    /// Entry point of the program.
    pub const AT_ENTRY: usize = 9;
}

impl Args {
    /// Reads the layout starting at `sp`.
    ///
    /// # Safety
    /// `sp` must be the stack pointer the kernel handed to `_start`, and the memory it
    /// describes must stay untouched for the rest of the program.
    unsafe fn from_initial_stack(sp: *const usize) -> Args {
        // SAFETY: the caller guarantees the Linux initial-stack layout: argc, then argc
        // argument pointers and a NULL, then environment pointers up to a NULL, then auxv.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const c_char;
            let envp = argv.add(argc + 1);
            let mut end = envp;
            while !(*end).is_null() {
                end = end.add(1);
            }
            Args {
                argc,
                argv,
                envp,
                auxv: end.add(1) as *const usize,
            }
        }
    }

    /// The number of arguments, `argv[0]` included.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// True if the kernel passed no argument at all, not even the program name.
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// The arguments, `argv[0]` first, as NUL-terminated strings.
    pub fn args(&self) -> impl Iterator<Item = &'static CStr> {
        let argv = self.argv;
        // SAFETY: argv holds argc valid pointers to NUL-terminated strings that live as
        // long as the process (from_initial_stack's contract).
        (0..self.argc).map(move |i| unsafe { CStr::from_ptr(*argv.add(i)) })
    }

    /// The environment strings (`NAME=value`).
    pub fn env(&self) -> impl Iterator<Item = &'static CStr> {
        let mut next = self.envp;
        core::iter::from_fn(move || {
            // SAFETY: envp is a NULL-terminated array of valid string pointers that live as
            // long as the process; `next` never moves past the NULL.
            unsafe {
                if (*next).is_null() {
                    return None;
                }
                let entry = CStr::from_ptr(*next);
                next = next.add(1);
                Some(entry)
            }
        })
    }

    /// The value of auxiliary-vector entry `key` (see [`auxv`]), if the kernel gave one.
    pub fn aux(&self, key: usize) -> Option<usize> {
        let mut entry = self.auxv;
        // SAFETY: auxv is a sequence of (key, value) pairs ending with AT_NULL, valid for
        // the life of the process; the loop stops at AT_NULL.
        unsafe {
            loop {
                match *entry {
                    auxv::AT_NULL => return None,
                    k if k == key => return Some(*entry.add(1)),
                    _ => entry = entry.add(2),
                }
            }
        }
    }

    /// The page size from `AT_PAGESZ`, 4096 if the kernel did not say.
    pub fn page_size(&self) -> usize {
        self.aux(auxv::AT_PAGESZ).unwrap_or(4096)
    }
}

unsafe extern "Rust" {
    /// The program's main function, defined by [`entry!`](crate::entry) in the binary.
    safe fn __sv39_user_main(args: Args) -> i32;
}

/// Called by `_start` once the image is relocated: gathers the arguments, runs the
/// program's main function and exits with its status.
///
/// # Safety
/// Only `_start` calls it, with the initial stack pointer.
unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: `_start` passes the kernel's initial sp, and nothing else writes that area.
    let args = unsafe { Args::from_initial_stack(sp) };
    let status = __sv39_user_main(args);
    crate::process::exit(status)
}

/// Names the function that `_start` runs once the program is relocated:
/// `entry!(main)` with `fn main(args: Args) -> i32`; the result is the exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(export_name = "__sv39_user_main")]
        fn __sv39_user_entry(args: $crate::Args) -> i32 {
            let main: fn($crate::Args) -> i32 = $main;
            main(args)
        }
    };
}
