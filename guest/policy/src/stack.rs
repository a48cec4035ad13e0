//! The initial user stack of a new program: strings, auxiliary vector, pointers, `argc`.
//!
//! Follows Linux's exec path (`fs/exec.c`: the file name, environment and arguments are
//! copied below the top of the stack in that order, each string pushed down so they end up
//! in natural order; an empty `argv[0]` is supplied when `argv` is empty; the
//! `bprm_stack_limits` size check) and `create_elf_tables` (`fs/binfmt_elf.c`), with the
//! System V psABI's process-initialisation layout. From high to low addresses:
//!
//! ```text
//! stack_top        ┐ 8 bytes of zeros (the top word Linux never fills)
//!                  │ exec file name, NUL         <- AT_EXECFN
//!                  │ envp strings, NUL each      (envp[0] lowest)
//!                  │ argv strings, NUL each      (argv[0] lowest)
//!                  │ padding to 16 bytes
//!                  │ platform string, if any     <- AT_PLATFORM (riscv64 Linux has none)
//!                  │ 16 random bytes             <- AT_RANDOM
//!                  │ padding so that sp is 16-byte aligned
//!                  │ auxv: (type, value) pairs, ending with AT_NULL
//!                  │ NULL, envp pointers
//!                  │ NULL, argv pointers
//! sp               ┘ argc
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::errno::{Errno, KResult};
use crate::vma::{PAGE_SIZE, page_floor};

/// End of the auxiliary vector.
pub const AT_NULL: u64 = 0;
/// An entry to ignore.
pub const AT_IGNORE: u64 = 1;
/// The program's file descriptor (binfmt_misc).
pub const AT_EXECFD: u64 = 2;
/// The address of the program headers.
pub const AT_PHDR: u64 = 3;
/// The size of one program header.
pub const AT_PHENT: u64 = 4;
/// The number of program headers.
pub const AT_PHNUM: u64 = 5;
/// The page size.
pub const AT_PAGESZ: u64 = 6;
/// The interpreter's load address (0 for a static program).
pub const AT_BASE: u64 = 7;
/// Flags (0).
pub const AT_FLAGS: u64 = 8;
/// The program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Set for a program that is not ELF.
pub const AT_NOTELF: u64 = 10;
/// The real user id.
pub const AT_UID: u64 = 11;
/// The effective user id.
pub const AT_EUID: u64 = 12;
/// The real group id.
pub const AT_GID: u64 = 13;
/// The effective group id.
pub const AT_EGID: u64 = 14;
/// The address of the platform string.
pub const AT_PLATFORM: u64 = 15;
/// The machine's capabilities.
pub const AT_HWCAP: u64 = 16;
/// The frequency of `times(2)`.
pub const AT_CLKTCK: u64 = 17;
/// Whether the program runs set-user-id or otherwise needs secure mode.
pub const AT_SECURE: u64 = 23;
/// The address of the base platform string.
pub const AT_BASE_PLATFORM: u64 = 24;
/// The address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More machine capabilities.
pub const AT_HWCAP2: u64 = 26;
/// rseq's supported feature size.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq's required alignment.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// The address of the exec file name.
pub const AT_EXECFN: u64 = 31;
/// The address of the vDSO.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// The L1 instruction cache size (riscv64).
pub const AT_L1I_CACHESIZE: u64 = 40;
/// The L1 instruction cache geometry (riscv64).
pub const AT_L1I_CACHEGEOMETRY: u64 = 41;
/// The L1 data cache size (riscv64).
pub const AT_L1D_CACHESIZE: u64 = 42;
/// The L1 data cache geometry (riscv64).
pub const AT_L1D_CACHEGEOMETRY: u64 = 43;
/// The L2 cache size (riscv64).
pub const AT_L2_CACHESIZE: u64 = 44;
/// The L2 cache geometry (riscv64).
pub const AT_L2_CACHEGEOMETRY: u64 = 45;
/// The minimal stack size for signal delivery.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// `AT_HWCAP` for RV64IMAFDC: one bit per single-letter extension (`1 << (letter - 'a')`).
pub const HWCAP_RV64IMAFDC: u64 = hwcap_bit(b'i')
    | hwcap_bit(b'm')
    | hwcap_bit(b'a')
    | hwcap_bit(b'f')
    | hwcap_bit(b'd')
    | hwcap_bit(b'c');

/// The `AT_HWCAP` bit of a single-letter ISA extension (`a` to `z`).
pub const fn hwcap_bit(letter: u8) -> u64 {
    1 << (letter - b'a')
}

/// `AT_CLKTCK`: Linux's `USER_HZ`.
pub const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// The longest single argument or environment string, NUL included (`MAX_ARG_STRLEN`).
pub const MAX_ARG_STRLEN: usize = 32 * PAGE_SIZE as usize;

/// The least room Linux allows for strings and pointers whatever the stack limit (`ARG_MAX`).
pub const ARG_MAX: u64 = 32 * PAGE_SIZE;

/// How far below the strings Linux's initial stack area reaches (`stack_expand` in
/// `setup_arg_pages`): 128 KiB.
pub const STACK_EXPAND: u64 = 128 * 1024;

/// The auxiliary-vector values the kernel supplies; the addresses of the random bytes and
/// the file name are filled in by [`build`].
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct AuxValues {
    /// `AT_PHDR`: where the program headers are mapped.
    pub phdr: u64,
    /// `AT_PHENT`: 56.
    pub phent: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_PAGESZ`: 4096.
    pub pagesz: u64,
    /// `AT_BASE`: 0 without an interpreter.
    pub base: u64,
    /// `AT_FLAGS`: 0.
    pub flags: u64,
    /// `AT_ENTRY`: the entry point after the load bias.
    pub entry: u64,
    /// `AT_UID`.
    pub uid: u64,
    /// `AT_EUID`.
    pub euid: u64,
    /// `AT_GID`.
    pub gid: u64,
    /// `AT_EGID`.
    pub egid: u64,
    /// `AT_SECURE`.
    pub secure: u64,
    /// `AT_HWCAP` (see [`HWCAP_RV64IMAFDC`]).
    pub hwcap: u64,
    /// `AT_CLKTCK` (see [`CLOCK_TICKS_PER_SECOND`]).
    pub clktck: u64,
    /// `AT_MINSIGSTKSZ`, placed first as riscv64 Linux's `ARCH_DLINFO` does; omitted if `None`.
    pub minsigstksz: Option<u64>,
    /// `AT_HWCAP2`, after `AT_RANDOM`; omitted if `None`.
    pub hwcap2: Option<u64>,
    /// The platform string for `AT_PLATFORM`; riscv64 Linux has none (`None`).
    pub platform: Option<Vec<u8>>,
    /// Extra entries placed first (where `ARCH_DLINFO` puts `AT_SYSINFO_EHDR` and the cache
    /// entries), in order.
    pub arch_entries: Vec<(u64, u64)>,
}

impl AuxValues {
    /// The values for a static program with user and group 0, no secure mode, RV64IMAFDC.
    pub fn new(phdr: u64, phnum: u64, entry: u64) -> AuxValues {
        AuxValues {
            phdr,
            phent: 56,
            phnum,
            pagesz: PAGE_SIZE,
            entry,
            hwcap: HWCAP_RV64IMAFDC,
            clktck: CLOCK_TICKS_PER_SECOND,
            ..AuxValues::default()
        }
    }
}

/// What [`build`] needs.
#[derive(Clone, Copy, Debug)]
pub struct StackRequest<'a> {
    /// The top of the stack (exclusive), 16-byte aligned: Linux's `STACK_TOP`.
    pub stack_top: u64,
    /// The file name exec was given (`AT_EXECFN` points at it), without its NUL.
    pub execfn: &'a [u8],
    /// The arguments, without NULs.
    pub argv: &'a [&'a [u8]],
    /// The environment, without NULs.
    pub envp: &'a [&'a [u8]],
    /// The auxiliary values.
    pub aux: &'a AuxValues,
    /// The 16 bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
    /// `RLIMIT_STACK` (see [`crate::vma::DEFAULT_STACK_RLIMIT`]): strings and pointers may
    /// take a quarter of it (at least [`ARG_MAX`], at most 6 MiB).
    pub stack_rlimit: u64,
}

/// The built stack.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InitialStack {
    /// The initial `sp` (16-byte aligned), which points at `argc`.
    pub sp: u64,
    /// The bytes of `[sp, stack_top)`.
    pub bytes: Vec<u8>,
    /// Where the argument strings begin (`mm->arg_start`, for `/proc/<pid>/cmdline`).
    pub arg_start: u64,
    /// Where they end (after the last NUL).
    pub arg_end: u64,
    /// Where the environment strings begin.
    pub env_start: u64,
    /// Where they end (after the last NUL).
    pub env_end: u64,
    /// `AT_EXECFN`: the file name's address.
    pub execfn_addr: u64,
    /// `AT_RANDOM`: the random bytes' address.
    pub random_addr: u64,
    /// The start of the `[stack]` area Linux creates: [`STACK_EXPAND`] below the page
    /// holding the lowest string (and never above the page holding `sp`).
    pub vma_start: u64,
}

/// Lays out the initial stack as Linux does. `E2BIG` when a string is longer than
/// [`MAX_ARG_STRLEN`] or the strings and pointers exceed the limit; `EINVAL` when
/// `stack_top` is not 16-byte aligned or the stack would not fit below it.
pub fn build(req: &StackRequest<'_>) -> KResult<InitialStack> {
    if !req.stack_top.is_multiple_of(16) || req.stack_top < PAGE_SIZE {
        return Err(Errno::EINVAL);
    }
    let empty_argv: [&[u8]; 1] = [b""];
    let argv: &[&[u8]] = if req.argv.is_empty() {
        &empty_argv
    } else {
        req.argv
    };
    let envp = req.envp;

    // Linux's bprm_stack_limits: a quarter of the stack limit, capped at 3/4 of 8 MiB,
    // never below ARG_MAX, less the pointers (counted with at least one argument).
    let limit = (req.stack_rlimit / 4).clamp(ARG_MAX, (8 << 20) / 4 * 3);
    let pointer_bytes = (argv.len() as u64 + envp.len() as u64).saturating_mul(8);
    let mut string_bytes: u64 = 0;
    for s in core::iter::once(&req.execfn).chain(argv).chain(envp) {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        string_bytes += s.len() as u64 + 1;
    }
    if string_bytes.saturating_add(pointer_bytes) > limit {
        return Err(Errno::E2BIG);
    }

    let top = req.stack_top;
    // Keep every subtraction below in range: the strings fit below the top with a page spare.
    let platform_len = req.aux.platform.as_ref().map_or(0, |p| p.len() as u64 + 1);
    if top < string_bytes + platform_len + 8 + 16 + 15 + PAGE_SIZE {
        return Err(Errno::EINVAL);
    }
    let execfn_addr = top - 8 - (req.execfn.len() as u64 + 1);
    let env_end = execfn_addr;
    let env_bytes: u64 = envp.iter().map(|s| s.len() as u64 + 1).sum();
    let env_start = env_end - env_bytes;
    let arg_end = env_start;
    let arg_bytes: u64 = argv.iter().map(|s| s.len() as u64 + 1).sum();
    let arg_start = arg_end - arg_bytes;

    let mut p = arg_start & !15;
    let platform_addr = req.aux.platform.as_ref().map(|platform| {
        p -= platform.len() as u64 + 1;
        p
    });
    p -= 16;
    let random_addr = p;

    let auxv = aux_entries(req.aux, random_addr, execfn_addr, platform_addr);
    let auxv_words = auxv.len() as u64 * 2;
    let items = argv.len() as u64 + 1 + envp.len() as u64 + 1 + 1;
    let sp = p
        .checked_sub((auxv_words + items) * 8)
        .map(|sp| sp & !15)
        .filter(|&sp| sp >= PAGE_SIZE)
        .ok_or(Errno::EINVAL)?;

    let mut bytes = vec![0u8; (top - sp) as usize];
    let mut put = |addr: u64, data: &[u8]| {
        let at = (addr - sp) as usize;
        bytes[at..at + data.len()].copy_from_slice(data);
    };
    put(execfn_addr, req.execfn);
    let mut argv_ptrs = Vec::with_capacity(argv.len());
    let mut cursor = arg_start;
    for s in argv {
        argv_ptrs.push(cursor);
        put(cursor, s);
        cursor += s.len() as u64 + 1;
    }
    let mut envp_ptrs = Vec::with_capacity(envp.len());
    for s in envp {
        envp_ptrs.push(cursor);
        put(cursor, s);
        cursor += s.len() as u64 + 1;
    }
    if let (Some(addr), Some(platform)) = (platform_addr, &req.aux.platform) {
        put(addr, platform);
    }
    put(random_addr, &req.random);

    let mut word_addr = sp;
    let mut put_word = |value: u64| {
        put(word_addr, &value.to_le_bytes());
        word_addr += 8;
    };
    put_word(argv.len() as u64);
    argv_ptrs.iter().for_each(|&a| put_word(a));
    put_word(0);
    envp_ptrs.iter().for_each(|&a| put_word(a));
    put_word(0);
    for (kind, value) in auxv {
        put_word(kind);
        put_word(value);
    }

    let vma_start = page_floor(arg_start)
        .saturating_sub(STACK_EXPAND)
        .min(page_floor(sp));
    Ok(InitialStack {
        sp,
        bytes,
        arg_start,
        arg_end,
        env_start,
        env_end,
        execfn_addr,
        random_addr,
        vma_start,
    })
}

/// The auxiliary vector in Linux's order, ending with `AT_NULL`.
fn aux_entries(
    aux: &AuxValues,
    random_addr: u64,
    execfn_addr: u64,
    platform_addr: Option<u64>,
) -> Vec<(u64, u64)> {
    let mut v = aux.arch_entries.clone();
    if let Some(size) = aux.minsigstksz {
        v.push((AT_MINSIGSTKSZ, size));
    }
    v.extend_from_slice(&[
        (AT_HWCAP, aux.hwcap),
        (AT_PAGESZ, aux.pagesz),
        (AT_CLKTCK, aux.clktck),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, aux.phent),
        (AT_PHNUM, aux.phnum),
        (AT_BASE, aux.base),
        (AT_FLAGS, aux.flags),
        (AT_ENTRY, aux.entry),
        (AT_UID, aux.uid),
        (AT_EUID, aux.euid),
        (AT_GID, aux.gid),
        (AT_EGID, aux.egid),
        (AT_SECURE, aux.secure),
        (AT_RANDOM, random_addr),
    ]);
    if let Some(hwcap2) = aux.hwcap2 {
        v.push((AT_HWCAP2, hwcap2));
    }
    v.push((AT_EXECFN, execfn_addr));
    if let Some(addr) = platform_addr {
        v.push((AT_PLATFORM, addr));
    }
    v.push((AT_NULL, 0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vma::{DEFAULT_STACK_RLIMIT, USER_END};

    fn word(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    fn aux() -> AuxValues {
        AuxValues::new(0x10040, 7, 0x10120)
    }

    fn request<'a>(
        argv: &'a [&'a [u8]],
        envp: &'a [&'a [u8]],
        aux: &'a AuxValues,
    ) -> StackRequest<'a> {
        StackRequest {
            stack_top: USER_END,
            execfn: b"/bin/a",
            argv,
            envp,
            aux,
            random: *b"0123456789abcdef",
            stack_rlimit: DEFAULT_STACK_RLIMIT,
        }
    }

    #[test]
    fn layout_byte_by_byte() {
        let aux = aux();
        let stack = build(&request(&[b"a", b"bc"], &[b"X=1"], &aux)).unwrap();
        let top = USER_END;
        assert_eq!(stack.sp, top - 368);
        assert_eq!(stack.sp % 16, 0);
        assert_eq!(stack.bytes.len(), 368);

        // Build the expected image independently, word by word from sp.
        let mut expected: Vec<u8> = Vec::new();
        let mut push = |v: u64| expected.extend_from_slice(&v.to_le_bytes());
        push(2); // argc
        push(top - 24); // argv[0] "a"
        push(top - 22); // argv[1] "bc"
        push(0);
        push(top - 19); // envp[0] "X=1"
        push(0);
        for (kind, value) in [
            (AT_HWCAP, HWCAP_RV64IMAFDC),
            (AT_PAGESZ, 4096),
            (AT_CLKTCK, 100),
            (AT_PHDR, 0x10040),
            (AT_PHENT, 56),
            (AT_PHNUM, 7),
            (AT_BASE, 0),
            (AT_FLAGS, 0),
            (AT_ENTRY, 0x10120),
            (AT_UID, 0),
            (AT_EUID, 0),
            (AT_GID, 0),
            (AT_EGID, 0),
            (AT_SECURE, 0),
            (AT_RANDOM, top - 48),
            (AT_EXECFN, top - 15),
            (AT_NULL, 0),
        ] {
            push(kind);
            push(value);
        }
        expected.extend_from_slice(b"0123456789abcdef"); // at top - 48
        expected.extend_from_slice(&[0; 8]); // padding from top - 32 to the strings
        expected.extend_from_slice(b"a\0bc\0X=1\0/bin/a\0");
        expected.extend_from_slice(&[0; 8]); // the top word
        assert_eq!(stack.bytes, expected);

        assert_eq!((stack.arg_start, stack.arg_end), (top - 24, top - 19));
        assert_eq!((stack.env_start, stack.env_end), (top - 19, top - 15));
        assert_eq!((stack.execfn_addr, stack.random_addr), (top - 15, top - 48));
        assert_eq!(stack.vma_start, top - PAGE_SIZE - STACK_EXPAND);
        assert_eq!(HWCAP_RV64IMAFDC, 0x112d);
    }

    #[test]
    fn padding_sits_between_auxv_and_random_bytes() {
        let aux = aux();
        let stack = build(&request(&[b"prog"], &[], &aux)).unwrap();
        let top = USER_END;
        // Strings: "/bin/a\0" (7) + "prog\0" (5) below the top word.
        assert_eq!(stack.arg_start, top - 20);
        assert_eq!(stack.random_addr, top - 48);
        // 17 auxv pairs (34 words) + argc, argv, NULL, NULL = 38 words = 304 bytes; from
        // top - 48 that is top - 352, already aligned.
        assert_eq!(stack.sp, top - 352);
        let b = &stack.bytes;
        assert_eq!(word(b, 0), 1);
        assert_eq!(word(b, 8), top - 20);
        assert_eq!((word(b, 16), word(b, 24)), (0, 0));
        assert_eq!(word(b, 32), AT_HWCAP);
        // With an extra envp entry (39 words), sp moves down 16 and 8 bytes of padding appear
        // after AT_NULL.
        let stack = build(&request(&[b"prog"], &[b""], &aux)).unwrap();
        assert_eq!(stack.sp, top - 368);
        let b = &stack.bytes;
        let null_at = 8 * (1 + 2 + 2) + 16 * 16;
        assert_eq!((word(b, null_at), word(b, null_at + 8)), (AT_NULL, 0));
        assert_eq!(word(b, null_at + 16), 0, "padding");
        assert_eq!(&b[null_at + 24..null_at + 40], b"0123456789abcdef");
    }

    #[test]
    fn optional_entries_and_empty_argv() {
        let mut aux = aux();
        aux.minsigstksz = Some(0x1000);
        aux.hwcap2 = Some(2);
        aux.platform = Some(b"riscv64".to_vec());
        aux.arch_entries = alloc::vec![(AT_SYSINFO_EHDR, 0x1234)];
        let stack = build(&request(&[], &[], &aux)).unwrap();
        let b = &stack.bytes;
        // Linux supplies an empty argv[0] when argv is empty.
        assert_eq!(word(b, 0), 1);
        let argv0 = word(b, 8);
        assert_eq!(b[(argv0 - stack.sp) as usize], 0);
        assert_eq!(argv0, stack.arg_start);
        let auxv_at = 8 * 4;
        let pairs: Vec<(u64, u64)> = (0..)
            .map(|i| (word(b, auxv_at + 16 * i), word(b, auxv_at + 16 * i + 8)))
            .take_while(|&(k, _)| k != AT_NULL)
            .collect();
        assert_eq!(pairs[0], (AT_SYSINFO_EHDR, 0x1234));
        assert_eq!(pairs[1], (AT_MINSIGSTKSZ, 0x1000));
        assert_eq!(pairs[2].0, AT_HWCAP);
        let kinds: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        let random = kinds.iter().position(|&k| k == AT_RANDOM).unwrap();
        assert_eq!(&kinds[random + 1..], &[AT_HWCAP2, AT_EXECFN, AT_PLATFORM]);
        let platform = pairs.last().unwrap().1;
        let at = (platform - stack.sp) as usize;
        assert_eq!(&b[at..at + 8], b"riscv64\0");
        assert_eq!(platform, stack.random_addr + 16);
    }

    #[test]
    fn too_big() {
        let aux = aux();
        let long = alloc::vec![b'x'; MAX_ARG_STRLEN];
        assert_eq!(build(&request(&[&long], &[], &aux)), Err(Errno::E2BIG));
        let fits = alloc::vec![b'x'; MAX_ARG_STRLEN - 1];
        assert!(build(&request(&[&fits], &[], &aux)).is_ok());
        // 2 MiB of strings: over a quarter of 8 MiB.
        let many: Vec<&[u8]> = (0..17).map(|_| &fits[..]).collect();
        assert_eq!(build(&request(&many, &[], &aux)), Err(Errno::E2BIG));
        let mut small = request(&many, &[], &aux);
        small.stack_rlimit = 64 << 20;
        assert!(build(&small).is_ok(), "a bigger stack limit allows more");
        let mut low = request(&[b"a"], &[], &aux);
        low.stack_top = 0x1000;
        assert_eq!(build(&low), Err(Errno::EINVAL));
        low.stack_top = USER_END - 8;
        assert_eq!(build(&low), Err(Errno::EINVAL), "misaligned top");
    }
}
