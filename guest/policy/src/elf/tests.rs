//! Tests of ELF checking and mapping, on files built here in the shape the riscv64 GNU
//! toolchain gives static programs.

use super::*;
use crate::vma::PageContent;
use alloc::string::ToString;
use alloc::vec;

/// One program header to write.
#[derive(Clone, Copy)]
struct Ph {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

const RX: u32 = elf::PF_R | elf::PF_X;
const RW: u32 = elf::PF_R | elf::PF_W;

fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        p_type: elf::PT_LOAD,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
    }
}

/// Writes an ELF64 little-endian RISC-V file of `size` bytes with these program headers at
/// offset 64, `payload` copied at its offset.
fn build(e_type: u16, entry: u64, phs: &[Ph], size: usize, payload: &[(u64, &[u8])]) -> Vec<u8> {
    let mut f = vec![0u8; size];
    f[..4].copy_from_slice(&elf::ELFMAG);
    f[4] = elf::ELFCLASS64;
    f[5] = elf::ELFDATA2LSB;
    f[6] = elf::EV_CURRENT;
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&elf::EM_RISCV.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
    for (i, ph) in phs.iter().enumerate() {
        let at = 64 + 56 * i;
        let h = &mut f[at..at + 56];
        h[0..4].copy_from_slice(&ph.p_type.to_le_bytes());
        h[4..8].copy_from_slice(&ph.flags.to_le_bytes());
        h[8..16].copy_from_slice(&ph.offset.to_le_bytes());
        h[16..24].copy_from_slice(&ph.vaddr.to_le_bytes());
        h[24..32].copy_from_slice(&ph.vaddr.to_le_bytes());
        h[32..40].copy_from_slice(&ph.filesz.to_le_bytes());
        h[40..48].copy_from_slice(&ph.memsz.to_le_bytes());
        h[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    for (offset, bytes) in payload {
        f[*offset as usize..*offset as usize + bytes.len()].copy_from_slice(bytes);
    }
    f
}

/// The program headers of a typical static glibc program: text, data+bss, note, TLS,
/// GNU_STACK, GNU_RELRO and RISCV_ATTRIBUTES.
fn static_phs(base: u64) -> Vec<Ph> {
    vec![
        load(RX, 0, base + 0x10000, 0x2300, 0x2300),
        load(RW, 0x2e50, base + 0x13e50, 0x300, 0x1200),
        Ph {
            p_type: elf::PT_NOTE,
            flags: elf::PF_R,
            offset: 0x200,
            vaddr: base + 0x10200,
            filesz: 0x44,
            memsz: 0x44,
        },
        Ph {
            p_type: elf::PT_TLS,
            flags: elf::PF_R,
            offset: 0x2e50,
            vaddr: base + 0x13e50,
            filesz: 0x10,
            memsz: 0x50,
        },
        Ph {
            p_type: elf::PT_GNU_STACK,
            flags: RW,
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
        },
        Ph {
            p_type: elf::PT_GNU_RELRO,
            flags: elf::PF_R,
            offset: 0x2e50,
            vaddr: base + 0x13e50,
            filesz: 0x1b0,
            memsz: 0x1b0,
        },
        Ph {
            p_type: 0x7000_0003,
            flags: elf::PF_R,
            offset: 0x3100,
            vaddr: 0,
            filesz: 0x50,
            memsz: 0,
        },
    ]
}

fn static_exec() -> Vec<u8> {
    build(elf::ET_EXEC, 0x10120, &static_phs(0), 0x3150, &[])
}

fn static_pie() -> Vec<u8> {
    build(elf::ET_DYN, 0x10120, &static_phs(0), 0x3150, &[])
}

fn file_name() -> VmaName {
    VmaName::File {
        path: "/bin/hello".into(),
        dev_major: 0,
        dev_minor: 1,
        inode: 5,
    }
}

#[test]
fn parses_a_static_executable() {
    let image = parse(&static_exec()).unwrap();
    assert_eq!(image.kind, ExecKind::Exec);
    assert_eq!(image.entry, 0x10120);
    assert_eq!(image.phdr_vaddr, 0x10040);
    assert_eq!((image.phent, image.phnum), (56, 7));
    assert!(!image.stack_exec);
    assert_eq!(image.segments.len(), 2);
    assert_eq!(
        image.segments[1],
        LoadSegment {
            vaddr: 0x13e50,
            memsz: 0x1200,
            filesz: 0x300,
            offset: 0x2e50,
            perms: Perms::RW
        }
    );
    assert_eq!(image.span(), 0x10000..0x16000);
    assert_eq!(image.brk_start(0), 0x16000);
    assert_eq!(
        image.choose_bias(
            &VmaSet::new(),
            &MmapLayout::linux_default(USER_END, 8 << 20)
        ),
        Ok(0)
    );
    assert_eq!((image.entry_at(0), image.phdr_at(0)), (0x10120, 0x10040));
}

#[test]
fn segments_become_file_and_anonymous_areas() {
    let image = parse(&static_exec()).unwrap();
    let vmas = image.vmas(0, 3, &file_name()).unwrap();
    assert_eq!(vmas.len(), 3);
    assert_eq!(
        (vmas[0].start, vmas[0].end, vmas[0].perms),
        (0x10000, 0x13000, Perms::RX)
    );
    assert_eq!(
        vmas[0].backing,
        Backing::File {
            file: 3,
            offset: 0,
            file_end: 0x2300
        }
    );
    assert_eq!(vmas[0].name, file_name());
    assert_eq!(
        (vmas[1].start, vmas[1].end, vmas[1].perms),
        (0x13000, 0x15000, Perms::RW)
    );
    assert_eq!(
        vmas[1].backing,
        Backing::File {
            file: 3,
            offset: 0x2000,
            file_end: 0x3150
        }
    );
    assert_eq!(vmas[2], Vma::anonymous(0x15000, 0x16000, Perms::RW));
    // The data page holding the end of the file bytes: 0x150 bytes of file, then zeros.
    assert_eq!(
        vmas[1].page_content(0x14000),
        PageContent::File {
            file: 3,
            offset: 0x3000,
            len: 0x150
        }
    );
    assert_eq!(vmas[2].page_content(0x15000), PageContent::Zero);
    let mut set = VmaSet::new();
    for vma in vmas {
        set.insert(vma).unwrap();
    }
    assert_eq!(set.len(), 3);
}

#[test]
fn bss_only_segment_is_anonymous() {
    let phs = [
        load(RX, 0, 0x10000, 0x1000, 0x1000),
        load(RW, 0, 0x20000, 0, 0x3000),
    ];
    let image = parse(&build(elf::ET_EXEC, 0x10000, &phs, 0x1000, &[])).unwrap();
    let vmas = image.vmas(0, 0, &VmaName::None).unwrap();
    assert_eq!(vmas[1], Vma::anonymous(0x20000, 0x23000, Perms::RW));
    assert_eq!(image.phdr_vaddr, 0x10040);
}

#[test]
fn static_pie_goes_to_the_top_of_the_mmap_region() {
    let image = parse(&static_pie()).unwrap();
    assert_eq!(image.kind, ExecKind::StaticPie);
    let layout = MmapLayout::linux_default(USER_END, 8 << 20);
    let bias = image.choose_bias(&VmaSet::new(), &layout).unwrap();
    assert_eq!(bias + 0x16000, layout.ceiling, "the span ends at mmap_base");
    assert_eq!(bias % PAGE_SIZE, 0);
    let vmas = image.vmas(bias, 1, &VmaName::None).unwrap();
    assert_eq!(vmas[0].start, bias + 0x10000);
    assert_eq!(image.entry_at(bias), bias + 0x10120);
    assert_eq!(image.phdr_at(bias), bias + 0x10040);
    // A bias that puts it in the kernel window or past user space is refused.
    assert_eq!(
        image.vmas(0x8000_0000 - 0x10000, 1, &VmaName::None),
        Err(ElfError::InKernelWindow { addr: 0x8000_0000 })
    );
    assert!(matches!(
        image.vmas(USER_END, 1, &VmaName::None),
        Err(ElfError::OutsideUserSpace { .. })
    ));
    assert_eq!(ELF_ET_DYN_BASE, 0x2a_aaaa_a000);
}

#[test]
fn executable_stack() {
    let mut phs = static_phs(0);
    phs[4].flags = RW | elf::PF_X;
    assert!(
        parse(&build(elf::ET_EXEC, 0x10120, &phs, 0x3150, &[]))
            .unwrap()
            .stack_exec
    );
}

#[test]
fn rejections_name_the_reason() {
    let good = static_exec();
    let check = |bytes: &[u8], expected: ElfError, errno: Errno, text: &str| {
        let error = parse(bytes).unwrap_err();
        assert_eq!(error, expected);
        assert_eq!(error.errno(), errno, "{error}");
        assert!(error.to_string().contains(text), "{error}");
    };
    check(
        b"#!/bin/sh\n",
        ElfError::NotElf,
        Errno::ENOEXEC,
        "not an ELF",
    );
    check(b"", ElfError::NotElf, Errno::ENOEXEC, "magic");
    let mut f = good.clone();
    f[4] = elf::ELFCLASS32;
    check(
        &f,
        ElfError::Not64Bit { class: 1 },
        Errno::ENOEXEC,
        "32-bit",
    );
    let mut f = good.clone();
    f[5] = elf::ELFDATA2MSB;
    check(
        &f,
        ElfError::NotLittleEndian { data: 2 },
        Errno::ENOEXEC,
        "big-endian",
    );
    let mut f = good.clone();
    f[18..20].copy_from_slice(&elf::EM_X86_64.to_le_bytes());
    check(
        &f,
        ElfError::WrongMachine { machine: 62 },
        Errno::ENOEXEC,
        "x86-64",
    );
    let mut f = good.clone();
    f[16] = elf::ET_REL as u8;
    check(
        &f,
        ElfError::NotExecutable { e_type: 1 },
        Errno::ENOEXEC,
        "relocatable",
    );
    f[16] = elf::ET_CORE as u8;
    check(
        &f,
        ElfError::NotExecutable { e_type: 4 },
        Errno::ENOEXEC,
        "core",
    );
    check(
        &good[..40],
        ElfError::Truncated { what: "ELF header" },
        Errno::ENOEXEC,
        "header",
    );
    check(
        &good[..200],
        ElfError::Truncated {
            what: "program headers",
        },
        Errno::EIO,
        "program headers",
    );
    check(
        &good[..0x3000],
        ElfError::Truncated {
            what: "a segment's file bytes",
        },
        Errno::ENOEXEC,
        "segment",
    );
    let mut f = good.clone();
    f[54] = 32;
    check(
        &f,
        ElfError::BadProgramHeaderTable {
            phentsize: 32,
            phnum: 7,
        },
        Errno::ENOEXEC,
        "32 bytes",
    );
}

#[test]
fn dynamic_programs_name_their_interpreter() {
    let interp = b"/lib/ld-linux-riscv64-lp64d.so.1\0";
    let mut phs = static_phs(0);
    phs.insert(
        0,
        Ph {
            p_type: elf::PT_INTERP,
            flags: elf::PF_R,
            offset: 0x300,
            vaddr: 0x10300,
            filesz: interp.len() as u64,
            memsz: interp.len() as u64,
        },
    );
    let f = build(elf::ET_DYN, 0x10120, &phs, 0x3150, &[(0x300, interp)]);
    let error = parse(&f).unwrap_err();
    assert_eq!(
        error,
        ElfError::Dynamic {
            interpreter: "/lib/ld-linux-riscv64-lp64d.so.1".to_string()
        }
    );
    assert_eq!(error.errno(), Errno::ENOENT);
    assert!(error.to_string().contains("ld-linux-riscv64"));
    phs[0].filesz = 1;
    assert_eq!(
        parse(&build(elf::ET_DYN, 0, &phs, 0x3150, &[])),
        Err(ElfError::BadInterpreter)
    );
}

#[test]
fn segment_checks() {
    let bad = |phs: &[Ph]| parse(&build(elf::ET_EXEC, 0x10000, phs, 0x3000, &[])).unwrap_err();
    let e = bad(&[load(RX, 0, 0x10000, 0x2000, 0x1000)]);
    assert_eq!(
        (e.clone(), e.errno()),
        (ElfError::FileSizeAboveMemSize { index: 0 }, Errno::EINVAL)
    );
    let e = bad(&[load(RX, 0x10, 0x10000, 0x100, 0x100)]);
    assert_eq!(
        (e.clone(), e.errno()),
        (ElfError::MisalignedSegment { index: 0 }, Errno::EINVAL)
    );
    let e = bad(&[
        load(RX, 0, 0x10000, 0x1800, 0x1800),
        load(RW, 0x1800, 0x11800, 0x100, 0x100),
    ]);
    assert_eq!(
        e,
        ElfError::OverlappingSegments {
            first: 0x10000,
            second: 0x11800
        }
    );
    let e = bad(&[load(RX, 0, USER_END - 0x1000, 0x100, 0x2000)]);
    assert_eq!(
        (e.clone(), e.errno()),
        (
            ElfError::OutsideUserSpace {
                addr: USER_END - 0x1000
            },
            Errno::EINVAL
        )
    );
    let e = bad(&[load(RX, 0, u64::MAX - 0xfff, 0x100, 0x2000)]);
    assert!(matches!(e, ElfError::OutsideUserSpace { .. }));
    let e = bad(&[load(RX, 0, 0x8000_0000, 0x100, 0x100)]);
    assert_eq!(e, ElfError::InKernelWindow { addr: 0x8000_0000 });
    let e = bad(&[load(RX, 0, 0x7fff_f000, 0x100, 0x2000)]);
    assert_eq!(e, ElfError::InKernelWindow { addr: 0x7fff_f000 });
    let e = bad(&[Ph {
        p_type: elf::PT_NOTE,
        flags: 0,
        offset: 0,
        vaddr: 0,
        filesz: 0,
        memsz: 0,
    }]);
    assert_eq!(
        (e.clone(), e.errno()),
        (ElfError::NoLoadSegments, Errno::EINVAL)
    );
    let e = bad(&[load(RX, 0, 0x10000, 0, 0)]);
    assert_eq!(e, ElfError::NoLoadSegments, "empty segments do not count");
    let e = bad(&[]);
    assert_eq!(
        e,
        ElfError::BadProgramHeaderTable {
            phentsize: 56,
            phnum: 0
        }
    );
    let e = parse(&build(
        elf::ET_EXEC,
        USER_END,
        &[load(RX, 0, 0x10000, 0x100, 0x100)],
        0x1000,
        &[],
    ));
    assert_eq!(e, Err(ElfError::OutsideUserSpace { addr: USER_END }));
}

#[test]
fn segments_out_of_order_are_sorted() {
    let phs = [
        load(RW, 0x1000, 0x21000, 0x100, 0x100),
        load(RX, 0, 0x10000, 0x1000, 0x1000),
    ];
    let image = parse(&build(elf::ET_EXEC, 0x10000, &phs, 0x2000, &[])).unwrap();
    assert_eq!(image.segments[0].vaddr, 0x10000);
    assert_eq!(image.span(), 0x10000..0x22000);
}

/// A small deterministic random sequence.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// Parses and, on success, maps: neither may panic.
fn exercise(bytes: &[u8]) {
    if let Ok(image) = parse(bytes) {
        let layout = MmapLayout::linux_default(USER_END, 8 << 20);
        let bias = image.choose_bias(&VmaSet::new(), &layout).unwrap_or(0);
        let _ = image.vmas(bias, 0, &VmaName::None);
        let _ = (
            image.span(),
            image.brk_start(bias),
            image.entry_at(bias),
            image.phdr_at(bias),
        );
    }
}

#[test]
fn never_panics_on_prefixes_or_garbled_bytes() {
    for original in [static_exec(), static_pie()] {
        for len in 0..=original.len() {
            exercise(&original[..len]);
        }
        // Every header and program-header byte set to interesting values.
        let table_end = 64 + 56 * 7;
        for at in 0..table_end {
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut f = original.clone();
                f[at] = value;
                exercise(&f);
            }
        }
        // Random multi-byte damage.
        let mut seed = 99;
        for _ in 0..20_000 {
            let mut f = original.clone();
            for _ in 0..1 + lcg(&mut seed) % 8 {
                let at = (lcg(&mut seed) as usize) % table_end;
                f[at] = lcg(&mut seed) as u8;
            }
            let len = if lcg(&mut seed).is_multiple_of(4) {
                (lcg(&mut seed) as usize) % f.len()
            } else {
                f.len()
            };
            exercise(&f[..len]);
        }
    }
}
