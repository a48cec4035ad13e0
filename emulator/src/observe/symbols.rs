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
        // Functions, and the labels of hand-written assembly (the trap vector), which have no
        // size: a label runs to the next symbol or the end of its section.
        let mut found: Vec<(u64, u64, u64, String)> = Vec::new();
        for s in elf.syms.iter() {
            let kind = s.st_type();
            if kind != sym::STT_FUNC && kind != sym::STT_NOTYPE || s.st_value == 0 {
                continue;
            }
            let Some(section) = elf.section_headers.get(s.st_shndx) else {
                continue;
            };
            if section.sh_flags & u64::from(goblin::elf::section_header::SHF_EXECINSTR) == 0 {
                continue;
            }
            let Some(raw) = elf.strtab.get_at(s.st_name) else {
                continue;
            };
            if raw.is_empty() || raw.starts_with('$') || raw.starts_with(".L") {
                continue;
            }
            let section_end = section.sh_addr + section.sh_size;
            let name = format!("{:#}", rustc_demangle::demangle(raw));
            found.push((s.st_value, s.st_size, section_end, name));
        }
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| (a.0, a.3.as_str()).cmp(&(b.0, b.3.as_str())));
        let mut names = Vec::new();
        let mut kept: Vec<(u64, u64, u32)> = Vec::with_capacity(found.len());
        for i in 0..found.len() {
            let (start, size, section_end, _) = &found[i];
            // Aliases (two names for one address) keep the one that sorts first.
            if kept.last().is_some_and(|last| last.0 == *start) {
                continue;
            }
            let next = found[i + 1..]
                .iter()
                .map(|f| f.0)
                .find(|&a| a > *start)
                .unwrap_or(*section_end);
            let end = if *size == 0 {
                next.min(*section_end)
            } else {
                start.saturating_add(*size).min(next)
            };
            if end <= *start {
                continue;
            }
            kept.push((*start, end, names.len() as u32));
            names.push(found[i].3.clone());
        }
        Some(Self {
            ranges: kept,
            names,
        })
    }

    /// The function holding `pc`, as an index for [`Symbols::name`].
    pub fn lookup(&self, pc: u64) -> Option<u32> {
        self.lookup_range(pc).map(|r| r.2)
    }

    /// The function holding `pc` with its address range: `(start, end, index)`.
    pub fn lookup_range(&self, pc: u64) -> Option<(u64, u64, u32)> {
        let i = self.ranges.partition_point(|r| r.0 <= pc);
        let range = *self.ranges.get(i.checked_sub(1)?)?;
        (range.0 <= pc && pc < range.1).then_some(range)
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
        // The last path segment is the function, not a hash.
        let last = syms.name(index).rsplit("::").next().unwrap();
        assert_eq!(last, "handle_fault", "{}", syms.name(index));
        let vector = elf
            .syms
            .iter()
            .find(|s| elf.strtab.get_at(s.st_name) == Some("trap_vector"))
            .expect("the trap vector's label");
        let index = syms.lookup(vector.st_value + 4).unwrap();
        assert_eq!(syms.name(index), "trap_vector");
        assert_eq!(syms.lookup(0), None);
        assert_eq!(syms.lookup(u64::MAX), None);
    }

    #[test]
    fn not_an_elf_file_has_no_symbols() {
        assert!(Symbols::from_elf(b"not an ELF file").is_none());
    }
}
