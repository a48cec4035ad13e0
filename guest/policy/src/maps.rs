//! `/proc/<pid>/maps` lines.
//!
//! Follows proc(5) and Linux's `show_map_vma` / `show_vma_header_prefix`
//! (`fs/proc/task_mmu.c`). Each line is
//!
//! ```text
//! start-end perms offset major:minor inode
//! ```
//!
//! with `start`, `end` and `offset` in lower-case hex of at least 8 digits, the device
//! numbers in hex of at least 2 digits, the inode in decimal, and a space after the inode.
//! Then, only when the area has a name, the line is padded with spaces to 72 bytes
//! (`seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)`), one more space is written (`seq_pad(m,
//! ' ')`), and the name follows: it starts in column 73 (0-based) whenever the prefix is at
//! most 72 bytes, else after two spaces. An unnamed area's line ends with the inode, a space
//! and the newline. Anonymous areas show offset 0, device `00:00` and inode 0. A newline in a
//! path is shown as `\012`, as `seq_file_path` escapes it.

use alloc::string::String;
use core::fmt::Write;

use crate::vma::{Sharing, Vma, VmaName, VmaSet};

/// The width Linux pads the prefix of a named line to, before the extra space.
pub const NAME_PAD_WIDTH: usize = 72;

/// Appends the maps line of `vma` (with its newline) to `out`.
pub fn write_line(out: &mut String, vma: &Vma) {
    let line_start = out.len();
    let (major, minor, inode) = match &vma.name {
        VmaName::File {
            dev_major,
            dev_minor,
            inode,
            ..
        } => (*dev_major, *dev_minor, *inode),
        _ => (0, 0, 0),
    };
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        vma.start,
        vma.end,
        if vma.perms.read { 'r' } else { '-' },
        if vma.perms.write { 'w' } else { '-' },
        if vma.perms.exec { 'x' } else { '-' },
        if vma.sharing == Sharing::Shared {
            's'
        } else {
            'p'
        },
        vma.file_offset(),
        major,
        minor,
        inode,
    );
    let name: Option<&str> = match &vma.name {
        VmaName::None => None,
        VmaName::Heap => Some("[heap]"),
        VmaName::Stack => Some("[stack]"),
        VmaName::File { path, .. } => Some(path),
    };
    if let Some(name) = name {
        while out.len() - line_start < NAME_PAD_WIDTH {
            out.push(' ');
        }
        out.push(' ');
        for c in name.chars() {
            if c == '\n' {
                out.push_str("\\012")
            } else {
                out.push(c)
            }
        }
    }
    out.push('\n');
}

/// The whole maps file of a process: one line per area, in address order.
pub fn render(vmas: &VmaSet) -> String {
    let mut out = String::new();
    for vma in vmas.iter() {
        write_line(&mut out, vma);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vma::{Backing, Perms};
    use alloc::sync::Arc;

    fn line(vma: &Vma) -> String {
        let mut s = String::new();
        write_line(&mut s, vma);
        s
    }

    #[test]
    fn anonymous_line_ends_with_space() {
        let vma = Vma::anonymous(0x2000, 0x5000, Perms::RW);
        assert_eq!(line(&vma), "00002000-00005000 rw-p 00000000 00:00 0 \n");
    }

    #[test]
    fn named_lines_pad_to_column_73() {
        let mut heap = Vma::anonymous(0x76000, 0x98000, Perms::RW);
        heap.name = VmaName::Heap;
        let text = line(&heap);
        assert_eq!(
            text,
            "00076000-00098000 rw-p 00000000 00:00 0                                  [heap]\n"
        );
        assert_eq!(text.find('[').unwrap(), 73);

        let file = Vma {
            start: 0x10000,
            end: 0x72000,
            perms: Perms::RX,
            sharing: Sharing::Private,
            backing: Backing::File {
                file: 3,
                offset: 0x1000,
                file_end: 0x70000,
            },
            name: VmaName::File {
                path: Arc::from("/bin/hello"),
                dev_major: 0,
                dev_minor: 0x1f,
                inode: 1234,
            },
        };
        let text = line(&file);
        assert_eq!(&text[..45], "00010000-00072000 r-xp 00001000 00:1f 1234   ");
        assert_eq!(text.find('/').unwrap(), 73);
        assert!(text.ends_with(" /bin/hello\n"));
    }

    #[test]
    fn wide_addresses_and_shared() {
        let mut stack = Vma::anonymous(0x3f_fffd_e000, 0x40_0000_0000, Perms::RW);
        stack.name = VmaName::Stack;
        stack.sharing = Sharing::Shared;
        let text = line(&stack);
        assert!(text.starts_with("3ffffde000-4000000000 rw-s 00000000 00:00 0 "));
        assert_eq!(text.find('[').unwrap(), 73);
        assert_eq!(text.len(), 73 + "[stack]\n".len());
    }

    #[test]
    fn long_prefix_gets_two_spaces() {
        let vma = Vma {
            start: 0x3f_ffff_f000,
            end: 0x40_0000_0000,
            perms: Perms::NONE,
            sharing: Sharing::Private,
            backing: Backing::File {
                file: 0,
                offset: 0xffff_ffff_ffff_f000,
                file_end: 0,
            },
            name: VmaName::File {
                path: Arc::from("/x\ny"),
                dev_major: 0xfff,
                dev_minor: 0xfffff,
                inode: u64::MAX,
            },
        };
        let text = line(&vma);
        assert_eq!(
            text,
            "3ffffff000-4000000000 ---p fffffffffffff000 fff:fffff 18446744073709551615  /x\\012y\n"
        );
    }

    #[test]
    fn render_in_order() {
        let mut set = VmaSet::new();
        set.insert(Vma::anonymous(0x5000, 0x6000, Perms::R))
            .unwrap();
        set.insert(Vma::anonymous(0x1000, 0x2000, Perms::RW))
            .unwrap();
        assert_eq!(
            render(&set),
            "00001000-00002000 rw-p 00000000 00:00 0 \n00005000-00006000 r--p 00000000 00:00 0 \n"
        );
    }
}
