//! Loading guest images: ELF files at their physical addresses (`p_paddr`, as QEMU's
//! `load_elf` does), anything else as a raw binary at a default address.
//!
//! Every problem is reported with the file and the fact: not a RISC-V 64-bit ELF, a
//! truncated file, a segment outside RAM, two images overlapping.

use std::path::{Path, PathBuf};

use goblin::elf::{Elf, header, program_header::PT_LOAD};

/// One contiguous piece of an image: bytes to place at a physical address, followed by
/// `zero_fill` zero bytes (an ELF segment's `p_memsz - p_filesz`).
#[derive(Debug, Clone)]
pub struct Segment {
    /// Physical load address.
    pub paddr: u64,
    /// The bytes from the file.
    pub data: Vec<u8>,
    /// Zero bytes following `data`.
    pub zero_fill: u64,
}

impl Segment {
    /// End address (exclusive) of the segment in memory.
    pub fn end(&self) -> u64 {
        self.paddr + self.data.len() as u64 + self.zero_fill
    }
}

/// A loaded image, ready to be copied into RAM.
#[derive(Debug, Clone)]
pub struct Image {
    /// The file it came from.
    pub path: PathBuf,
    /// Entry point (ELF `e_entry`, or the load address of a raw binary).
    pub entry: u64,
    /// The pieces to load.
    pub segments: Vec<Segment>,
    /// Address of the `tohost` symbol, if the ELF defines one (HTIF).
    pub tohost: Option<u64>,
    /// Address of the `fromhost` symbol, if the ELF defines one.
    pub fromhost: Option<u64>,
    /// Whether the file was an ELF.
    pub is_elf: bool,
}

impl Image {
    /// Lowest and highest (exclusive) address the image occupies.
    pub fn span(&self) -> (u64, u64) {
        let lo = self.segments.iter().map(|s| s.paddr).min().unwrap_or(0);
        let hi = self.segments.iter().map(|s| s.end()).max().unwrap_or(0);
        (lo, hi)
    }
}

/// Why an image could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {io}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The host's error.
        io: std::io::Error,
    },
    /// The file is an ELF but not one sv39 can run.
    #[error("{path}: {reason}")]
    BadElf {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A segment does not lie inside RAM.
    #[error(
        "{path}: segment at {start:#x}..{end:#x} is outside RAM ({ram_start:#x}..{ram_end:#x})"
    )]
    OutsideRam {
        /// The file.
        path: PathBuf,
        /// Segment start.
        start: u64,
        /// Segment end (exclusive).
        end: u64,
        /// RAM start.
        ram_start: u64,
        /// RAM end (exclusive).
        ram_end: u64,
    },
    /// Two images claim the same memory.
    #[error("{first} ({a_start:#x}..{a_end:#x}) overlaps {second} ({b_start:#x}..{b_end:#x})")]
    Overlap {
        /// The first image.
        first: PathBuf,
        /// Its span start.
        a_start: u64,
        /// Its span end.
        a_end: u64,
        /// The second image.
        second: PathBuf,
        /// Its span start.
        b_start: u64,
        /// Its span end.
        b_end: u64,
    },
}

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// Reads `path`: an ELF is loaded by its program headers; any other file is a raw binary
/// placed at `raw_base`.
pub fn load_image(path: &Path, raw_base: u64) -> Result<Image, LoadError> {
    let bytes = std::fs::read(path).map_err(|io| LoadError::Read {
        path: path.to_owned(),
        io,
    })?;
    parse_image(path, bytes, raw_base)
}

/// Parses image bytes that came from `path` (a file, or the name of an embedded image).
pub fn parse_image(path: &Path, bytes: Vec<u8>, raw_base: u64) -> Result<Image, LoadError> {
    if bytes.starts_with(ELF_MAGIC) {
        parse_elf(path, &bytes)
    } else if let Some(reason) = not_a_raw_image(&bytes) {
        Err(LoadError::BadElf {
            path: path.to_owned(),
            reason,
        })
    } else {
        Ok(Image {
            path: path.to_owned(),
            entry: raw_base,
            segments: vec![Segment {
                paddr: raw_base,
                data: bytes,
                zero_fill: 0,
            }],
            tohost: None,
            fromhost: None,
            is_elf: false,
        })
    }
}

/// Why a non-ELF file cannot be a raw RISC-V image, if it plainly cannot. QEMU would load
/// anything as a raw image and run into garbage; refusing an empty file, a text file or a
/// well-known container format catches the usual mistake (the wrong file) with a clear
/// message. Machine code always contains bytes that are not printable text.
fn not_a_raw_image(bytes: &[u8]) -> Option<String> {
    const FORMATS: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "a gzip file; decompress it first"),
        (b"PK\x03\x04", "a zip archive"),
        (
            b"MZ",
            "a PE/COFF (Windows or EFI) executable, not a RISC-V ELF",
        ),
        (b"#!", "a script, not a RISC-V ELF or raw binary image"),
    ];
    if bytes.is_empty() {
        return Some("is empty".into());
    }
    if let Some((_, what)) = FORMATS.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(format!("is {what}"));
    }
    let is_text = std::str::from_utf8(bytes).is_ok_and(|t| {
        t.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    });
    is_text.then(|| "looks like a text file, not a RISC-V ELF or raw binary image".into())
}

fn parse_elf(path: &Path, bytes: &[u8]) -> Result<Image, LoadError> {
    let bad = |reason: String| LoadError::BadElf {
        path: path.to_owned(),
        reason,
    };
    // Check the identification bytes ourselves first, for precise messages.
    if bytes.len() < 20 {
        return Err(bad("truncated ELF header".into()));
    }
    match bytes[header::EI_CLASS] {
        header::ELFCLASS64 => {}
        header::ELFCLASS32 => return Err(bad("is a 32-bit ELF; sv39 runs RV64 only".into())),
        c => return Err(bad(format!("unknown ELF class {c}"))),
    }
    if bytes[header::EI_DATA] != header::ELFDATA2LSB {
        return Err(bad("is a big-endian ELF; RISC-V is little-endian".into()));
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    if machine != header::EM_RISCV {
        return Err(bad(format!(
            "is an ELF for {}, not RISC-V",
            header::machine_to_str(machine)
        )));
    }
    let elf = Elf::parse(bytes).map_err(|e| bad(format!("malformed ELF: {e}")))?;
    if !matches!(elf.header.e_type, header::ET_EXEC | header::ET_DYN) {
        return Err(bad(format!(
            "is an ELF of type {}, not an executable",
            header::et_to_str(elf.header.e_type)
        )));
    }
    let mut segments = Vec::new();
    for ph in elf.program_headers.iter().filter(|ph| ph.p_type == PT_LOAD) {
        if ph.p_memsz == 0 {
            continue;
        }
        let off = ph.p_offset as usize;
        let len = ph.p_filesz as usize;
        let data = off
            .checked_add(len)
            .and_then(|end| bytes.get(off..end))
            .ok_or_else(|| {
                bad(format!(
                    "truncated: segment at {:#x} runs past the end of the file",
                    ph.p_paddr
                ))
            })?;
        if ph.p_filesz > ph.p_memsz {
            return Err(bad(format!(
                "segment at {:#x} has p_filesz > p_memsz",
                ph.p_paddr
            )));
        }
        if ph.p_paddr.checked_add(ph.p_memsz).is_none() {
            return Err(bad(format!(
                "segment at {:#x} wraps the address space",
                ph.p_paddr
            )));
        }
        segments.push(Segment {
            paddr: ph.p_paddr,
            data: data.to_vec(),
            zero_fill: ph.p_memsz - ph.p_filesz,
        });
    }
    if segments.is_empty() {
        return Err(bad("has no loadable segment".into()));
    }
    let symbol = |name: &str| {
        elf.syms
            .iter()
            .find(|s| elf.strtab.get_at(s.st_name) == Some(name))
            .map(|s| s.st_value)
    };
    Ok(Image {
        path: path.to_owned(),
        entry: elf.entry,
        segments,
        tohost: symbol("tohost"),
        fromhost: symbol("fromhost"),
        is_elf: true,
    })
}

/// Checks that every segment of `image` lies in `[ram_start, ram_end)`.
pub fn check_in_ram(image: &Image, ram_start: u64, ram_end: u64) -> Result<(), LoadError> {
    for s in &image.segments {
        if s.paddr < ram_start || s.end() > ram_end {
            return Err(LoadError::OutsideRam {
                path: image.path.clone(),
                start: s.paddr,
                end: s.end(),
                ram_start,
                ram_end,
            });
        }
    }
    Ok(())
}

/// Checks that no segment of `a` overlaps a segment of `b`.
pub fn check_disjoint(a: &Image, b: &Image) -> Result<(), LoadError> {
    for x in &a.segments {
        for y in &b.segments {
            if x.paddr < y.end() && y.paddr < x.end() {
                return Err(LoadError::Overlap {
                    first: a.path.clone(),
                    a_start: x.paddr,
                    a_end: x.end(),
                    second: b.path.clone(),
                    b_start: y.paddr,
                    b_end: y.end(),
                });
            }
        }
    }
    Ok(())
}

/// Copies `image` into RAM (the caller checked it fits).
pub fn place(image: &Image, ram: &mut crate::ram::Ram) {
    for s in &image.segments {
        ram.load(s.paddr, &s.data);
        let zeros = vec![0u8; s.zero_fill as usize];
        ram.load(s.paddr + s.data.len() as u64, &zeros);
    }
}
