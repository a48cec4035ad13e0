//! Showing where two outputs differ: the first differing line, and a unified diff (the
//! format of `diff -u`, through the `similar` crate) kept to a readable length.
//!
//! The outputs are compared as bytes; the diff shows them as text, with invalid UTF-8
//! replaced by U+FFFD. When that replacement hides the only difference, the diff says so
//! and gives the byte offset instead.

use similar::TextDiff;

/// Lines of context around each change, as `diff -u`.
pub const CONTEXT_LINES: usize = 3;

/// A diff longer than this many lines is cut, with a note of how much was left out.
pub const MAX_DIFF_LINES: usize = 200;

/// The 1-based number of the first line on which `old` and `new` differ (a missing line and
/// a missing final newline count as differences), or `None` when they are equal.
pub fn first_differing_line(old: &[u8], new: &[u8]) -> Option<usize> {
    if old == new {
        return None;
    }
    let mut old_lines = old.split_inclusive(|&b| b == b'\n');
    let mut new_lines = new.split_inclusive(|&b| b == b'\n');
    let mut line = 1;
    loop {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            _ => return Some(line),
        }
    }
}

/// A unified diff turning `old` (named `old_name` in the `---` header) into `new` (`+++`),
/// with [`CONTEXT_LINES`] of context, cut after [`MAX_DIFF_LINES`] lines. Empty when the two
/// are equal.
pub fn unified(old_name: &str, new_name: &str, old: &[u8], new: &[u8]) -> String {
    if old == new {
        return String::new();
    }
    let (old_text, new_text) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    if old_text == new_text {
        let offset = old
            .iter()
            .zip(new)
            .position(|(a, b)| a != b)
            .unwrap_or(old.len().min(new.len()));
        return format!(
            "--- {old_name}\n+++ {new_name}\n(the two differ only in bytes that are not UTF-8, \
             first at byte offset {offset})\n"
        );
    }
    let diff = TextDiff::from_lines(old_text.as_ref(), new_text.as_ref());
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(old_name, new_name)
        .to_string();
    let total = text.lines().count();
    if total <= MAX_DIFF_LINES {
        return text;
    }
    let mut cut: String = text
        .split_inclusive('\n')
        .take(MAX_DIFF_LINES)
        .collect::<String>();
    cut.push_str(&format!(
        "... ({} more lines of diff not shown)\n",
        total - MAX_DIFF_LINES
    ));
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_differing_line_counts_from_one() {
        assert_eq!(first_differing_line(b"a\nb\n", b"a\nb\n"), None);
        assert_eq!(first_differing_line(b"a\nb\n", b"a\nc\n"), Some(2));
        assert_eq!(first_differing_line(b"x\n", b"y\n"), Some(1));
        assert_eq!(first_differing_line(b"a\n", b"a\nb\n"), Some(2));
        assert_eq!(first_differing_line(b"a\nb", b"a\nb\n"), Some(2));
        assert_eq!(first_differing_line(b"", b"a"), Some(1));
    }

    #[test]
    fn unified_diffs_name_both_sides_and_show_the_change() {
        let old = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";
        let new = b"one\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\n";
        let diff = unified("qemu stdout", "sv39 stdout", old, new);
        assert_eq!(
            diff,
            "--- qemu stdout\n+++ sv39 stdout\n@@ -2,7 +2,7 @@\n two\n three\n four\n-five\n\
             +FIVE\n six\n seven\n eight\n"
        );
        assert_eq!(unified("a", "b", old, old), "");
    }

    #[test]
    fn a_missing_final_newline_is_shown() {
        let diff = unified("a", "b", b"x\n", b"x");
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }

    #[test]
    fn differences_hidden_by_lossy_text_are_given_by_offset() {
        let diff = unified("a", "b", b"ok\xff\n", b"ok\xfe\n");
        assert!(diff.contains("first at byte offset 2"), "{diff}");
    }

    #[test]
    fn long_diffs_are_cut_with_a_note() {
        let old: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..1000).map(|i| format!("LINE {i}\n")).collect();
        let diff = unified("a", "b", old.as_bytes(), new.as_bytes());
        assert_eq!(diff.lines().count(), MAX_DIFF_LINES + 1);
        assert!(diff.ends_with("more lines of diff not shown)\n"), "{diff}");
    }
}
