//! Touches more memory than the machine has, so that the kernel must swap: writes a word
//! pattern into every page of an anonymous mapping one and a half times the size of RAM
//! (`MemTotal` in `/proc/meminfo`; or `swap-demo MIB`), reads every page back in reverse
//! order checking each word, and prints the checksums with the fault and swap counters the
//! kernel kept (`/proc/self/stat`, `/proc/vmstat`).
//!
//! Run it with a small RAM, where it takes a second: `sv39 run -m 64M --stats --example
//! swap-demo`.

#![no_std]
#![no_main]

use core::ffi::CStr;

use sv39_user::fs::File;
use sv39_user::mm::{Mapping, PROT_READ, PROT_WRITE};
use sv39_user::{Args, entry, println};

entry!(main);

/// Words written per page: the first, one in the middle, the last.
const WORDS: [usize; 3] = [0, 256, 511];

fn main(args: Args) -> i32 {
    let page = args.page_size();
    let mib = match args.args().nth(1) {
        Some(arg) => match parse(arg.to_bytes()) {
            Some(n) if n > 0 => n,
            _ => {
                println!("usage: swap-demo [MIB]");
                return 2;
            }
        },
        None => match read_file(c"/proc/meminfo").and_then(|t| field(&t.0[..t.1], b"MemTotal:", 1))
        {
            Some(kib) => (kib * 3 / 2).div_ceil(1024),
            None => {
                println!("swap-demo: cannot read MemTotal from /proc/meminfo");
                return 1;
            }
        },
    };
    let pages = (mib << 20) as usize / page;
    let region = match Mapping::anonymous(pages * page, PROT_READ | PROT_WRITE) {
        Ok(region) => region,
        Err(errno) => {
            println!("swap-demo: mmap of {mib} MiB failed: {errno}");
            return 1;
        }
    };
    println!("swap-demo: {mib} MiB ({pages} pages), 1.5 times RAM unless told otherwise");
    let mut written = 0u64;
    for index in 0..pages {
        for word in WORDS {
            let value = pattern(index, word);
            // SAFETY: the mapping is read-write.
            unsafe { region.write_u64(index * page + word * 8, value) };
            written = written.wrapping_add(value);
        }
    }
    println!("written:  every page, checksum {written:016x}");
    let mut read = 0u64;
    let mut wrong = 0usize;
    for index in (0..pages).rev() {
        for word in WORDS {
            let value = region.read_u64(index * page + word * 8);
            if value != pattern(index, word) {
                wrong += 1;
            }
            read = read.wrapping_add(value);
        }
    }
    println!("read back: in reverse, checksum {read:016x}");
    if wrong != 0 || read != written {
        println!("FAIL: {wrong} words differ");
        return 1;
    }
    println!("ok: every page holds what was written");
    // Counters: ours from /proc/self/stat (fields 10 and 12), the system's from /proc/vmstat.
    if let Some((buffer, len)) = read_file(c"/proc/self/stat") {
        let text = &buffer[..len];
        // Fields after the command name, which is in parentheses.
        let after = text
            .iter()
            .rposition(|&b| b == b')')
            .map_or(text, |i| &text[i + 2..]);
        let mut fields = after.split(|&b| b == b' ');
        // `after` starts at field 3 (state): min_flt is field 10, maj_flt field 12.
        let min = fields.nth(7).and_then(parse);
        let maj = fields.nth(1).and_then(parse);
        if let (Some(min), Some(maj)) = (min, maj) {
            println!("faults:   {min} minor, {maj} major (read back from swap)");
        }
    }
    if let Some((buffer, len)) = read_file(c"/proc/vmstat") {
        let text = &buffer[..len];
        for name in [&b"pswpout"[..], b"pswpin"] {
            if let Some(n) = field(text, name, 1) {
                println!("{:<9} {n} pages", core::str::from_utf8(name).unwrap_or("?"));
            }
        }
    }
    0
}

/// The word at `word` of page `index`: distinct for every page and word.
fn pattern(index: usize, word: usize) -> u64 {
    (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (word as u64) << 48 ^ 0x5339
}

/// A whole (small) file.
fn read_file(path: &CStr) -> Option<([u8; 4096], usize)> {
    let file = File::open(path).ok()?;
    let mut buffer = [0u8; 4096];
    let mut len = 0;
    while len < buffer.len() {
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return None,
        }
    }
    Some((buffer, len))
}

/// The `index`-th whitespace-separated number after `name` on the line that starts with it.
fn field(text: &[u8], name: &[u8], index: usize) -> Option<u64> {
    let line = text.split(|&b| b == b'\n').find(|l| l.starts_with(name))?;
    line.split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .nth(index)
        .and_then(parse)
}

/// A decimal number.
fn parse(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}
