//! The kernel command line (`/chosen/bootargs`): whitespace-separated words, `key=value`
//! for options.

/// The `exit=N` option: what the kernel should report as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitRequest<'a> {
    /// No `exit=` word.
    Absent,
    /// `exit=N` with N a decimal number in 0..=255.
    Code(u8),
    /// `exit=` followed by something else, kept for the message.
    Invalid(&'a str),
}

/// Finds the last `exit=` word in `bootargs` (the last one wins, as on Linux).
pub fn exit_request(bootargs: &str) -> ExitRequest<'_> {
    match bootargs
        .split_ascii_whitespace()
        .filter_map(|word| word.strip_prefix("exit="))
        .next_back()
    {
        None => ExitRequest::Absent,
        Some(value) => match parse_decimal_u8(value) {
            Some(code) => ExitRequest::Code(code),
            None => ExitRequest::Invalid(value),
        },
    }
}

/// Parses plain decimal digits (no sign) into a u8.
fn parse_decimal_u8(text: &str) -> Option<u8> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The first program from `init=PATH` and the words after `--` (its arguments), as Linux
/// reads them; empty when there is no `init=`.
pub fn init_argv(bootargs: &str) -> alloc::vec::Vec<&[u8]> {
    let mut words = bootargs.split_ascii_whitespace();
    let mut argv = alloc::vec::Vec::new();
    for word in words.by_ref() {
        if word == "--" {
            break;
        }
        if let Some(path) = word.strip_prefix("init=") {
            argv.clear();
            argv.push(path.as_bytes());
        }
    }
    if !argv.is_empty() {
        argv.extend(words.map(str::as_bytes));
    }
    argv
}
