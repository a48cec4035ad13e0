//! Executable images: from an ELF file to the areas and values exec needs.
//!
//! Follows the System V ABI "ELF" chapters (file header, program headers, `PT_LOAD`,
//! `PT_INTERP`, `PT_GNU_STACK`), the RISC-V ELF psABI (`EM_RISCV` = 243, 64-bit little-endian)
//! and Linux's `load_elf_binary` (`fs/binfmt_elf.c`) for what is accepted and which errno a
//! rejection gets. Parsing goes through the `object` crate's ELF reader; every check is done
//! with checked arithmetic, so no input makes this module panic.
//!
//! Where static-PIE programs go: Linux gives an `ET_DYN` file *with* `PT_INTERP` a load bias
//! near [`ELF_ET_DYN_BASE`], but loads one *without* `PT_INTERP` (a static PIE, "a loader")
//! in the mmap region, top-down like any mapping ([`ExecImage::choose_bias`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use object::LittleEndian;
use object::ReadRef;
use object::elf::{self, FileHeader64, ProgramHeader64};
use object::read::elf::{FileHeader, ProgramHeader};

use crate::errno::{Errno, KResult};
use crate::vma::{
    Backing, FileId, KERNEL_WINDOW, MmapLayout, PAGE_SIZE, Perms, Sharing, USER_END, Vma, VmaName,
    VmaSet, page_ceil, page_floor,
};

/// Linux riscv64's `ELF_ET_DYN_BASE` on Sv39: two thirds of user space, page aligned
/// (`(DEFAULT_MAP_WINDOW / 3) * 2` = `0x2a_aaaa_aaaa`, then page aligned by the loader).
/// Used for `ET_DYN` programs with an interpreter; static PIEs go to the mmap region.
pub const ELF_ET_DYN_BASE: u64 = page_floor(USER_END / 3 * 2);

/// `e_ident` index of the class byte.
const EI_CLASS: usize = 4;
/// `e_ident` index of the data-encoding byte.
const EI_DATA: usize = 5;
/// `e_ident` index of the version byte.
const EI_VERSION: usize = 6;
/// The size of an ELF64 file header.
const EHDR_SIZE: usize = 64;
/// The size of an ELF64 program header (`e_phentsize` must equal it).
const PHDR_SIZE: usize = 56;
/// Linux refuses a program header table larger than one page.
const MAX_PHNUM: usize = 4096 / PHDR_SIZE;
/// Linux's `PATH_MAX`, the longest `PT_INTERP` it reads.
const PATH_MAX: u64 = 4096;

/// Why an ELF file cannot be executed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ElfError {
    /// The file does not begin with `\x7fELF`.
    NotElf,
    /// The file ends before the named part (header, program headers, a segment's bytes).
    Truncated {
        /// What the file is too short for.
        what: &'static str,
    },
    /// A 32-bit (`ELFCLASS32`) or unknown-class file.
    Not64Bit {
        /// The `EI_CLASS` byte.
        class: u8,
    },
    /// A big-endian or unknown-encoding file.
    NotLittleEndian {
        /// The `EI_DATA` byte.
        data: u8,
    },
    /// An `EI_VERSION` other than 1.
    BadVersion {
        /// The `EI_VERSION` byte.
        version: u8,
    },
    /// Built for another machine.
    WrongMachine {
        /// The `e_machine` field.
        machine: u16,
    },
    /// Neither `ET_EXEC` nor `ET_DYN` (a relocatable object, a core dump, ...).
    NotExecutable {
        /// The `e_type` field.
        e_type: u16,
    },
    /// `e_phentsize` is not 56, or the table is empty or larger than a page.
    BadProgramHeaderTable {
        /// `e_phentsize`.
        phentsize: u16,
        /// `e_phnum`.
        phnum: u16,
    },
    /// A dynamically linked program: it names an interpreter, and this kernel runs only
    /// static programs.
    Dynamic {
        /// The `PT_INTERP` path (lossily decoded).
        interpreter: String,
    },
    /// A `PT_INTERP` whose path is empty, too long or not NUL-terminated.
    BadInterpreter,
    /// No `PT_LOAD` with a non-zero size.
    NoLoadSegments,
    /// A `PT_LOAD` whose `p_filesz` exceeds its `p_memsz`.
    FileSizeAboveMemSize {
        /// The program header index.
        index: usize,
    },
    /// A `PT_LOAD` whose `p_vaddr` and `p_offset` differ modulo the page size.
    MisalignedSegment {
        /// The program header index.
        index: usize,
    },
    /// Two `PT_LOAD` segments that share a page.
    OverlappingSegments {
        /// The lower segment's virtual address.
        first: u64,
        /// The higher segment's virtual address.
        second: u64,
    },
    /// A segment (or the entry point) at or beyond the end of Sv39 user space.
    OutsideUserSpace {
        /// The offending virtual address (after the load bias).
        addr: u64,
    },
    /// A segment overlapping the window the kernel reserves in every process.
    InKernelWindow {
        /// The segment's first virtual address (after the load bias).
        addr: u64,
    },
}

impl ElfError {
    /// The errno execve(2) returns, as Linux does: `EIO` when the program headers lie beyond
    /// the end of the file (a short read), `EINVAL` for the segment checks Linux makes with
    /// `EINVAL`, `ENOENT` for a dynamic program (its interpreter is not in the initramfs),
    /// `ENOEXEC` otherwise.
    pub fn errno(&self) -> Errno {
        match self {
            ElfError::Truncated {
                what: "program headers" | "interpreter path",
            } => Errno::EIO,
            ElfError::FileSizeAboveMemSize { .. }
            | ElfError::MisalignedSegment { .. }
            | ElfError::OutsideUserSpace { .. }
            | ElfError::NoLoadSegments => Errno::EINVAL,
            ElfError::Dynamic { .. } => Errno::ENOENT,
            _ => Errno::ENOEXEC,
        }
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file (no \\x7fELF magic)"),
            ElfError::Truncated { what } => write!(f, "truncated ELF file: {what} beyond its end"),
            ElfError::Not64Bit { class: 1 } => f.write_str("32-bit ELF file (ELFCLASS32)"),
            ElfError::Not64Bit { class } => write!(f, "unknown ELF class {class}"),
            ElfError::NotLittleEndian { data: 2 } => f.write_str("big-endian ELF file"),
            ElfError::NotLittleEndian { data } => write!(f, "unknown ELF data encoding {data}"),
            ElfError::BadVersion { version } => write!(f, "unknown ELF version {version}"),
            ElfError::WrongMachine { machine } => {
                write!(
                    f,
                    "ELF file for {} (e_machine {machine}), not RISC-V",
                    machine_name(*machine)
                )
            }
            ElfError::NotExecutable { e_type } => {
                let kind = match *e_type {
                    elf::ET_REL => "a relocatable object (ET_REL)",
                    elf::ET_CORE => "a core dump (ET_CORE)",
                    elf::ET_NONE => "of no type (ET_NONE)",
                    _ => "of an unknown type",
                };
                write!(f, "not an executable: {kind}, e_type {e_type}")
            }
            ElfError::BadProgramHeaderTable { phentsize, phnum } => {
                write!(
                    f,
                    "bad program header table: {phnum} entries of {phentsize} bytes"
                )
            }
            ElfError::Dynamic { interpreter } => {
                write!(
                    f,
                    "dynamically linked (interpreter {interpreter}); only static programs run"
                )
            }
            ElfError::BadInterpreter => f.write_str("malformed PT_INTERP"),
            ElfError::NoLoadSegments => f.write_str("no loadable segment"),
            ElfError::FileSizeAboveMemSize { index } => {
                write!(f, "program header {index}: p_filesz exceeds p_memsz")
            }
            ElfError::MisalignedSegment { index } => {
                write!(
                    f,
                    "program header {index}: p_vaddr and p_offset differ modulo the page size"
                )
            }
            ElfError::OverlappingSegments { first, second } => {
                write!(f, "segments at {first:#x} and {second:#x} share a page")
            }
            ElfError::OutsideUserSpace { addr } => {
                write!(
                    f,
                    "address {addr:#x} is outside user space (below {USER_END:#x})"
                )
            }
            ElfError::InKernelWindow { addr } => write!(
                f,
                "segment at {addr:#x} overlaps the kernel window {:#x}..{:#x}",
                KERNEL_WINDOW.start, KERNEL_WINDOW.end
            ),
        }
    }
}

/// A short name for an `e_machine` value, for error messages.
pub fn machine_name(machine: u16) -> &'static str {
    match machine {
        elf::EM_386 => "x86",
        elf::EM_X86_64 => "x86-64",
        elf::EM_ARM => "ARM",
        elf::EM_AARCH64 => "AArch64",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC => "PowerPC",
        elf::EM_PPC64 => "PowerPC64",
        elf::EM_MIPS => "MIPS",
        elf::EM_S390 => "S/390",
        elf::EM_SPARCV9 => "SPARC V9",
        elf::EM_LOONGARCH => "LoongArch",
        _ => "another machine",
    }
}

/// How the image is placed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ExecKind {
    /// `ET_EXEC`: loaded at its link addresses (bias 0).
    Exec,
    /// `ET_DYN` without `PT_INTERP`: position independent, loaded at a bias.
    StaticPie,
}

/// One `PT_LOAD` segment, at its link address (before any bias).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct LoadSegment {
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_memsz`: bytes of memory, zeros past `filesz`.
    pub memsz: u64,
    /// `p_filesz`: bytes taken from the file.
    pub filesz: u64,
    /// `p_offset`: the file offset of the byte at `vaddr`.
    pub offset: u64,
    /// The rights from `p_flags`.
    pub perms: Perms,
}

/// An executable, checked and ready to map.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ExecImage {
    /// `e_entry` (before the bias).
    pub entry: u64,
    /// Fixed or position independent.
    pub kind: ExecKind,
    /// The non-empty `PT_LOAD` segments, ordered by address, no two sharing a page.
    pub segments: Vec<LoadSegment>,
    /// Where the program headers are in memory (before the bias): the address of `e_phoff`
    /// inside the segment whose file bytes contain it, or 0 if none does (as Linux).
    pub phdr_vaddr: u64,
    /// `e_phentsize` (`AT_PHENT`).
    pub phent: u16,
    /// `e_phnum` (`AT_PHNUM`).
    pub phnum: u16,
    /// Whether `PT_GNU_STACK` asks for an executable stack.
    pub stack_exec: bool,
}

/// Parses and checks an executable. See [`ElfError`] for what is refused.
pub fn parse(data: &[u8]) -> Result<ExecImage, ElfError> {
    if data.len() < 4 || data[..4] != elf::ELFMAG {
        return Err(ElfError::NotElf);
    }
    let ident = |i: usize| data.get(i).copied();
    match ident(EI_CLASS) {
        None => return Err(ElfError::Truncated { what: "ELF header" }),
        Some(elf::ELFCLASS64) => {}
        Some(class) => return Err(ElfError::Not64Bit { class }),
    }
    match ident(EI_DATA) {
        None => return Err(ElfError::Truncated { what: "ELF header" }),
        Some(elf::ELFDATA2LSB) => {}
        Some(encoding) => return Err(ElfError::NotLittleEndian { data: encoding }),
    }
    match ident(EI_VERSION) {
        None => return Err(ElfError::Truncated { what: "ELF header" }),
        Some(elf::EV_CURRENT) => {}
        Some(version) => return Err(ElfError::BadVersion { version }),
    }
    if data.len() < EHDR_SIZE {
        return Err(ElfError::Truncated { what: "ELF header" });
    }
    let endian = LittleEndian;
    let header = FileHeader64::<LittleEndian>::parse(data)
        .map_err(|_| ElfError::Truncated { what: "ELF header" })?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_RISCV {
        return Err(ElfError::WrongMachine { machine });
    }
    let kind = match header.e_type(endian) {
        elf::ET_EXEC => ExecKind::Exec,
        elf::ET_DYN => ExecKind::StaticPie,
        e_type => return Err(ElfError::NotExecutable { e_type }),
    };
    let phentsize = header.e_phentsize(endian);
    let phnum = header.e_phnum(endian);
    if usize::from(phentsize) != PHDR_SIZE || phnum == 0 || usize::from(phnum) > MAX_PHNUM {
        return Err(ElfError::BadProgramHeaderTable { phentsize, phnum });
    }
    let phoff = header.e_phoff(endian);
    let headers: &[ProgramHeader64<LittleEndian>] = data
        .read_slice_at(phoff, usize::from(phnum))
        .map_err(|_| ElfError::Truncated {
        what: "program headers",
    })?;

    let mut segments = Vec::new();
    let mut stack_exec = false;
    for (index, ph) in headers.iter().enumerate() {
        match ph.p_type(endian) {
            elf::PT_INTERP => return Err(interpreter_error(ph, data)),
            elf::PT_GNU_STACK => stack_exec = ph.p_flags(endian) & elf::PF_X != 0,
            elf::PT_LOAD => {
                let segment = LoadSegment {
                    vaddr: ph.p_vaddr(endian),
                    memsz: ph.p_memsz(endian),
                    filesz: ph.p_filesz(endian),
                    offset: ph.p_offset(endian),
                    perms: perms_from_flags(ph.p_flags(endian)),
                };
                check_segment(index, &segment, data.len())?;
                if segment.memsz != 0 {
                    segments.push(segment);
                }
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        // check_segment guarantees vaddr + memsz fits below USER_END, so no overflow here.
        let first_end = page_ceil(pair[0].vaddr + pair[0].memsz).unwrap_or(u64::MAX);
        if first_end > page_floor(pair[1].vaddr) {
            return Err(ElfError::OverlappingSegments {
                first: pair[0].vaddr,
                second: pair[1].vaddr,
            });
        }
    }
    let entry = header.e_entry(endian);
    if entry >= USER_END {
        return Err(ElfError::OutsideUserSpace { addr: entry });
    }
    let phdr_vaddr = segments
        .iter()
        .find(|s| s.offset <= phoff && phoff - s.offset < s.filesz)
        .map_or(0, |s| s.vaddr + (phoff - s.offset));
    let image = ExecImage {
        entry,
        kind,
        segments,
        phdr_vaddr,
        phent: phentsize,
        phnum,
        stack_exec,
    };
    if kind == ExecKind::Exec {
        for segment in &image.segments {
            check_window(segment, 0)?;
        }
    }
    Ok(image)
}

/// The error for a `PT_INTERP`: the interpreter's path if it can be read.
fn interpreter_error(ph: &ProgramHeader64<LittleEndian>, data: &[u8]) -> ElfError {
    let endian = LittleEndian;
    let (offset, size) = (ph.p_offset(endian), ph.p_filesz(endian));
    if !(2..=PATH_MAX).contains(&size) {
        return ElfError::BadInterpreter;
    }
    let Ok(bytes) = data.read_bytes_at(offset, size) else {
        return ElfError::Truncated {
            what: "interpreter path",
        };
    };
    match bytes.split_last() {
        Some((0, path)) => ElfError::Dynamic {
            interpreter: String::from_utf8_lossy(path).into_owned(),
        },
        _ => ElfError::BadInterpreter,
    }
}

/// The rights of a segment's `p_flags`.
fn perms_from_flags(flags: u32) -> Perms {
    Perms {
        read: flags & elf::PF_R != 0,
        write: flags & elf::PF_W != 0,
        exec: flags & elf::PF_X != 0,
    }
}

/// Linux's per-segment checks, plus the file range lying inside the file.
fn check_segment(index: usize, s: &LoadSegment, file_len: usize) -> Result<(), ElfError> {
    if s.filesz > s.memsz {
        return Err(ElfError::FileSizeAboveMemSize { index });
    }
    if s.vaddr % PAGE_SIZE != s.offset % PAGE_SIZE {
        return Err(ElfError::MisalignedSegment { index });
    }
    match s.vaddr.checked_add(s.memsz).and_then(page_ceil) {
        Some(end) if end <= USER_END => {}
        _ => return Err(ElfError::OutsideUserSpace { addr: s.vaddr }),
    }
    match s.offset.checked_add(s.filesz) {
        Some(end) if end <= file_len as u64 => Ok(()),
        _ => Err(ElfError::Truncated {
            what: "a segment's file bytes",
        }),
    }
}

/// Checks that a segment, moved by `bias`, stays in user space and off the kernel window.
fn check_window(s: &LoadSegment, bias: u64) -> Result<(), ElfError> {
    let start = s
        .vaddr
        .checked_add(bias)
        .ok_or(ElfError::OutsideUserSpace { addr: s.vaddr })?;
    let end = start
        .checked_add(s.memsz)
        .and_then(page_ceil)
        .filter(|&end| end <= USER_END)
        .ok_or(ElfError::OutsideUserSpace { addr: start })?;
    if page_floor(start) < KERNEL_WINDOW.end && KERNEL_WINDOW.start < end {
        return Err(ElfError::InKernelWindow { addr: start });
    }
    Ok(())
}

impl ExecImage {
    /// The page-aligned range the segments span, at link addresses.
    pub fn span(&self) -> core::ops::Range<u64> {
        let start = self.segments.first().map_or(0, |s| page_floor(s.vaddr));
        let end = self
            .segments
            .iter()
            .filter_map(|s| page_ceil(s.vaddr.saturating_add(s.memsz)))
            .max()
            .unwrap_or(start);
        start..end
    }

    /// The load bias: 0 for `ET_EXEC`; for a static PIE, the offset that puts its whole span
    /// at the highest free place of the mmap region (Linux maps it with a load bias of 0
    /// and no `MAP_FIXED`, so `get_unmapped_area` places it top-down). `ENOMEM` if it fits
    /// nowhere.
    pub fn choose_bias(&self, vmas: &VmaSet, layout: &MmapLayout) -> KResult<u64> {
        match self.kind {
            ExecKind::Exec => Ok(0),
            ExecKind::StaticPie => {
                let span = self.span();
                let start = vmas
                    .find_free(span.end - span.start, None, layout)
                    .ok_or(Errno::ENOMEM)?;
                Ok(start - span.start)
            }
        }
    }

    /// `AT_ENTRY`: the entry point moved by `bias`.
    pub fn entry_at(&self, bias: u64) -> u64 {
        self.entry.wrapping_add(bias)
    }

    /// `AT_PHDR`: the program headers' address moved by `bias`.
    pub fn phdr_at(&self, bias: u64) -> u64 {
        self.phdr_vaddr.wrapping_add(bias)
    }

    /// `start_brk`: the page-aligned end of the highest segment, moved by `bias`.
    pub fn brk_start(&self, bias: u64) -> u64 {
        self.span().end.wrapping_add(bias)
    }

    /// The areas exec creates, in address order: for each segment a private file-backed
    /// area for the pages holding file bytes (the last one zero past `p_filesz`, which
    /// [`Backing::File`]'s `file_end` records) named `name`, then an unnamed anonymous area
    /// for the whole pages past the file bytes. Fails if a biased segment leaves user space
    /// or enters the kernel window.
    pub fn vmas(&self, bias: u64, file: FileId, name: &VmaName) -> Result<Vec<Vma>, ElfError> {
        let mut out = Vec::new();
        for s in &self.segments {
            check_window(s, bias)?;
            // check_window proved that every sum below stays under USER_END.
            let start = s.vaddr + bias;
            let page_start = page_floor(start);
            let file_pages_end = page_ceil(start + s.filesz).unwrap_or(USER_END);
            let mem_end = page_ceil(start + s.memsz).unwrap_or(USER_END);
            if s.filesz > 0 {
                out.push(Vma {
                    start: page_start,
                    end: file_pages_end,
                    perms: s.perms,
                    sharing: Sharing::Private,
                    backing: Backing::File {
                        file,
                        offset: s.offset - (start - page_start),
                        file_end: s.offset + s.filesz,
                    },
                    name: name.clone(),
                });
            }
            let anon_start = if s.filesz > 0 {
                file_pages_end
            } else {
                page_start
            };
            if mem_end > anon_start {
                out.push(Vma::anonymous(anon_start, mem_end, s.perms));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
