//! Kernel function names for the cycles spent inside fault handlers: the function symbols
//! of the kernel ELF (the embedded kernel, or `--kernel FILE`), sorted by address, with Rust
//! names demangled and their hashes dropped.

use goblin::elf::{Elf, sym};

/// The function symbols of one ELF file.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    /// `(start, end, index into names)`, sorted by start, not overlapping.
    ranges: Vec<(u64, u64, u32)>,
    names: Vec<String>,
}

impl Symbols {
    /// Reads the function symbols of an ELF image; `None` when it is no ELF file or has no
    /// symbol table (a stripped kernel).
    pub fn from_elf(bytes: &[u8]) -> Option<Self> {
        let elf = Elf::parse(bytes).ok()?;
        let mut ranges = Vec::new();
        let mut names = Vec::new();
        for s in elf.syms.iter() {
            if s.st_type() != sym::STT_FUNC || s.st_size == 0 || s.st_value == 0 {
                continue;
            }
            let Some(raw) = elf.strtab.get_at(s.st_name) else {
                continue;
            };
            let name = format!("{:#}", rustc_demangle::demangle(raw));
            let start = s.st_value;
            ranges.push((start, start.saturating_add(s.st_size), names.len() as u32));
            names.push(name);
        }
        if ranges.is_empty() {
            return None;
        }
        ranges.sort_unstable();
        // Aliases (two names for one address) keep the first; overlaps are cut short.
        let mut kept: Vec<(u64, u64, u32)> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match kept.last_mut() {
                Some(last) if last.0 == r.0 => {}
                Some(last) if last.1 > r.0 => {
                    last.1 = r.0;
                    kept.push(r);
                }
                _ => kept.push(r),
            }
        }
        Some(Self {
            ranges: kept,
            names,
        })
    }

    /// The function holding `pc`, as an index for [`Symbols::name`].
    pub fn lookup(&self, pc: u64) -> Option<u32> {
        let i = self.ranges.partition_point(|r| r.0 <= pc);
        let (start, end, name) = *self.ranges.get(i.checked_sub(1)?)?;
        (start <= pc && pc < end).then_some(name)
    }

    /// A function's name.
    pub fn name(&self, index: u32) -> &str {
        &self.names[index as usize]
    }

    /// How many functions are known.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether no function is known.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_kernel_has_its_fault_handler() {
        let syms = Symbols::from_elf(crate::images::KERNEL).expect("kernel symbols");
        assert!(syms.len() > 100, "{} functions", syms.len());
        let elf = Elf::parse(crate::images::KERNEL).unwrap();
        let handler = elf
            .syms
            .iter()
            .find(|s| {
                elf.strtab.get_at(s.st_name).is_some_and(|n| {
                    format!("{:#}", rustc_demangle::demangle(n)).ends_with("::handle_fault")
                })
            })
            .expect("a handle_fault function");
        let index = syms.lookup(handler.st_value + 2).unwrap();
        assert!(
            syms.name(index).ends_with("::handle_fault"),
            "{}",
            syms.name(index)
        );
        assert!(
            !syms.name(index).contains("::h"),
            "hash dropped: {}",
            syms.name(index)
        );
        assert_eq!(syms.lookup(0), None);
        assert_eq!(syms.lookup(u64::MAX), None);
    }

    #[test]
    fn not_an_elf_file_has_no_symbols() {
        assert!(Symbols::from_elf(b"not an ELF file").is_none());
    }
}
