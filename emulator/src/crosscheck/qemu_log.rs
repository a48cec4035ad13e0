//! QEMU's CPU log, the reference side of a lockstep comparison.
//!
//! `qemu-system-riscv64 -singlestep -d cpu,fpu,nochain` makes every translation block one
//! instruction long, stops QEMU from chaining blocks, and dumps the hart's state before it
//! executes each block: so before every instruction, and at the first instruction of every
//! trap handler (QEMU takes traps between blocks). A dump of QEMU 7.2 (with `-cpu rv64,h=false`)
//! is 35 lines:
//!
//! ```text
//!  pc       0000000080000000
//!  mhartid  0000000000000000
//!  mstatus  0000000a00000000
//!  ...                          (mip, mie, mideleg, medeleg, mtvec, stvec, mepc, sepc, mcause,
//!                                scause, mtval, stval, mscratch, sscratch, satp: one per line)
//!  x0/zero  0000000000000000 x1/ra    0000000000000000 x2/sp    ... x3/gp    ...
//!  ...                          (x4 to x31, four per line)
//!  f0/ft0   0000000000000000 ...  (f0 to f31, four per line)
//! ```
//!
//! The privilege mode is not in QEMU 7.2's dump, nor are `fcsr` and the counters: the
//! comparison follows the mode itself (see `lockstep`) and sees `fcsr` and the counters
//! through the registers they are read into. [`LogParser`] turns lines into [`CpuState`]s;
//! [`LogReader`] runs it over QEMU's log pipe.

use std::io::{BufRead, BufReader, PipeReader};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// The CSRs in QEMU's dump that the comparison reads, in the dump's order.
pub const CSR_NAMES: [&str; CSR_COUNT] = [
    "mhartid", "mstatus", "mip", "mie", "mideleg", "medeleg", "mtvec", "stvec", "mepc", "sepc",
    "mcause", "scause", "mtval", "stval", "mscratch", "sscratch", "satp",
];
/// How many CSRs a [`CpuState`] holds.
pub const CSR_COUNT: usize = 17;

/// Indices into [`CpuState::csr`].
pub mod csr {
    #![allow(missing_docs)]
    pub const MHARTID: usize = 0;
    pub const MSTATUS: usize = 1;
    pub const MIP: usize = 2;
    pub const MIE: usize = 3;
    pub const MIDELEG: usize = 4;
    pub const MEDELEG: usize = 5;
    pub const MTVEC: usize = 6;
    pub const STVEC: usize = 7;
    pub const MEPC: usize = 8;
    pub const SEPC: usize = 9;
    pub const MCAUSE: usize = 10;
    pub const SCAUSE: usize = 11;
    pub const MTVAL: usize = 12;
    pub const STVAL: usize = 13;
    pub const MSCRATCH: usize = 14;
    pub const SSCRATCH: usize = 15;
    pub const SATP: usize = 16;
}

/// A hart's architectural state at an instruction boundary, as QEMU dumps it (and as the
/// comparison snapshots sv39's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuState {
    /// The next instruction's address.
    pub pc: u64,
    /// Privilege mode (0 = U, 1 = S, 3 = M). Not in QEMU's dump: its value there is what
    /// the comparison worked out.
    pub privilege: u8,
    /// The CSRs of [`CSR_NAMES`].
    pub csr: [u64; CSR_COUNT],
    /// Integer registers.
    pub x: [u64; 32],
    /// Floating-point registers, raw bits.
    pub f: [u64; 32],
    /// CSRs (bit `i` for `csr[i]`) the dump did not show: QEMU leaves `satp` out in S-mode
    /// with `mstatus.TVM` (its debug read is refused). Never compared.
    pub missing: u32,
}

impl Default for CpuState {
    fn default() -> Self {
        Self {
            pc: 0,
            privilege: 3,
            csr: [0; CSR_COUNT],
            x: [0; 32],
            f: [0; 32],
            missing: 0,
        }
    }
}

/// Bits of [`LogParser`]'s completeness mask: pc, the CSRs, x0..x31, f0..f31.
const PC_BIT: u32 = 0;
const CSR_BIT: u32 = 1;
const X_BIT: u32 = CSR_BIT + CSR_COUNT as u32;
const F_BIT: u32 = X_BIT + 32;
const ALL_FIELDS: u128 = (1u128 << (F_BIT + 32)) - 1;

/// Turns QEMU's log, line by line, into states.
#[derive(Debug, Default)]
pub struct LogParser {
    state: CpuState,
    seen: u128,
    /// Lines that are not part of a dump (QEMU's own messages), in order.
    pub messages: Vec<String>,
}

impl LogParser {
    /// A parser waiting for the first dump.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (without its newline). Returns the state when the line completes a
    /// dump (the line with `f31`), or an error when a dump is malformed.
    pub fn line(&mut self, line: &[u8]) -> Result<Option<CpuState>, String> {
        if line.first() != Some(&b' ') {
            if !line.is_empty() {
                self.messages
                    .push(String::from_utf8_lossy(line).trim_end().to_string());
            }
            return Ok(None);
        }
        if let Some(result) = self.fixed_width(line) {
            return result;
        }
        let mut tokens = line
            .split(|&b| b == b' ')
            .filter(|t| !t.is_empty())
            .peekable();
        let mut complete = false;
        while let Some(name) = tokens.next() {
            let Some(bit) = field_bit(name) else {
                // A field the comparison does not read (or a line such as QEMU's `V = 0`):
                // skip the rest of the line.
                break;
            };
            let value = tokens.next().and_then(parse_hex16).ok_or_else(|| {
                format!(
                    "unexpected line in QEMU's CPU log: {:?}",
                    String::from_utf8_lossy(line).trim()
                )
            })?;
            complete |= self.store(bit, value)?;
        }
        if !complete {
            return Ok(None);
        }
        self.finish()
    }
}

impl LogParser {
    /// The fast path: QEMU prints every field as `" %-8s %016x"`, 26 bytes, one to four per
    /// line. `None` when `line` is not made of such fields (the general path then reads it).
    fn fixed_width(&mut self, line: &[u8]) -> Option<Result<Option<CpuState>, String>> {
        if line.is_empty() || !line.len().is_multiple_of(FIELD_WIDTH) {
            return None;
        }
        let mut fields = [(0u32, 0u64); 4];
        let n = line.len() / FIELD_WIDTH;
        if n > fields.len() {
            return None;
        }
        for (slot, field) in fields.iter_mut().zip(line.chunks_exact(FIELD_WIDTH)) {
            if field[0] != b' ' || field[9] != b' ' {
                return None;
            }
            let name = field[1..9].split(|&b| b == b' ').next().unwrap_or(&[]);
            *slot = (field_bit(name)?, parse_hex16(&field[10..])?);
        }
        let mut complete = false;
        for &(bit, value) in &fields[..n] {
            match self.store(bit, value) {
                Ok(last) => complete |= last,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(if complete { self.finish() } else { Ok(None) })
    }

    /// Stores one field of the dump; `true` when it is the last (`f31`).
    fn store(&mut self, bit: u32, value: u64) -> Result<bool, String> {
        if bit == PC_BIT {
            // A new dump starts: anything left of an unfinished one is an error.
            if self.seen != 0 {
                return Err(format!(
                    "QEMU's CPU log has an incomplete dump (at pc {value:#018x}): is this QEMU 7.2 with -d cpu,fpu?"
                ));
            }
            self.state.pc = value;
        } else if bit < X_BIT {
            self.state.csr[(bit - CSR_BIT) as usize] = value;
        } else if bit < F_BIT {
            self.state.x[(bit - X_BIT) as usize] = value;
        } else {
            self.state.f[(bit - F_BIT) as usize] = value;
        }
        self.seen |= 1u128 << bit;
        Ok(bit == F_BIT + 31)
    }

    /// The dump is complete (its `f31` was read): the state, if nothing required is missing.
    fn finish(&mut self) -> Result<Option<CpuState>, String> {
        // Only satp can be left out (S-mode with mstatus.TVM: QEMU's debug read is refused).
        let optional = 1u128 << (CSR_BIT + csr::SATP as u32);
        if self.seen | optional != ALL_FIELDS {
            let missing = (0..F_BIT + 32)
                .find(|&b| (self.seen | optional) & (1u128 << b) == 0)
                .map_or_else(String::new, field_name);
            self.seen = 0;
            return Err(format!(
                "QEMU's CPU log dump has no {missing}: is this QEMU 7.2 with -d cpu,fpu?"
            ));
        }
        self.state.missing = (!(self.seen >> CSR_BIT) as u32) & ((1 << CSR_COUNT) - 1);
        self.seen = 0;
        Ok(Some(self.state))
    }
}

/// The width of one `name value` field in QEMU's dump.
const FIELD_WIDTH: usize = 26;

/// The mask bit of a dump field name (`pc`, `mstatus`, `x10/a0`, `f3/ft3`).
fn field_bit(name: &[u8]) -> Option<u32> {
    if name == b"pc" {
        return Some(PC_BIT);
    }
    if let Some(i) = CSR_NAMES.iter().position(|n| n.as_bytes() == name) {
        return Some(CSR_BIT + i as u32);
    }
    let (base, rest) = match name.first()? {
        b'x' => (X_BIT, &name[1..]),
        b'f' => (F_BIT, &name[1..]),
        _ => return None,
    };
    let slash = rest.iter().position(|&b| b == b'/')?;
    let digits = &rest[..slash];
    if digits.is_empty() || digits.len() > 2 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0u32, |n, d| n * 10 + (d - b'0') as u32);
    (n < 32).then_some(base + n)
}

/// The name of mask bit `bit`, for messages.
fn field_name(bit: u32) -> String {
    match bit {
        PC_BIT => "pc".into(),
        b if b < X_BIT => CSR_NAMES[(b - CSR_BIT) as usize].into(),
        b if b < F_BIT => format!("x{}", b - X_BIT),
        b => format!("f{}", b - F_BIT),
    }
}

/// A 64-bit value as QEMU prints it: exactly 16 hex digits.
fn parse_hex16(token: &[u8]) -> Option<u64> {
    if token.len() != 16 {
        return None;
    }
    token.iter().try_fold(0u64, |v, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        Some(v << 4 | d as u64)
    })
}

/// What [`LogReader::next_state`] found.
// A state is moved once per step; boxing it would allocate once per step instead.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Next {
    /// The next state.
    State(CpuState),
    /// The log ended (QEMU exited or closed it), or could not be read on.
    End,
    /// Nothing arrived for the reader's timeout.
    Stalled,
}

/// Reads QEMU's log from a pipe, one state at a time, on the caller's thread (a thread of
/// its own would only add a hand-over per state on a machine whose cores QEMU and the
/// comparison already keep busy).
pub struct LogReader {
    reader: BufReader<PipeReader>,
    parser: LogParser,
    line: Vec<u8>,
    timeout: Duration,
    ended: bool,
    /// What went wrong, if the log could not be read to its end (a malformed dump, a read
    /// error).
    pub error: Option<String>,
}

impl LogReader {
    /// Reads `pipe`; [`LogReader::next_state`] gives up waiting after `timeout`.
    pub fn new(pipe: PipeReader, timeout: Duration) -> Self {
        Self {
            reader: BufReader::with_capacity(1 << 20, pipe),
            parser: LogParser::new(),
            line: Vec::with_capacity(256),
            timeout,
            ended: false,
            error: None,
        }
    }

    /// QEMU's messages so far (log lines that were not part of a dump).
    pub fn messages(&self) -> &[String] {
        &self.parser.messages
    }

    /// Whether the log has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next state.
    pub fn next_state(&mut self) -> Next {
        loop {
            if self.ended {
                return Next::End;
            }
            if self.reader.buffer().is_empty() && !self.readable() {
                return Next::Stalled;
            }
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => self.ended = true,
                Ok(_) => {
                    if self.line.last() == Some(&b'\n') {
                        self.line.pop();
                    }
                    match self.parser.line(&self.line) {
                        Ok(Some(state)) => return Next::State(state),
                        Ok(None) => {}
                        Err(e) => {
                            self.error = Some(e);
                            self.ended = true;
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(format!("reading QEMU's CPU log: {e}"));
                    self.ended = true;
                }
            }
        }
    }

    /// Waits up to the timeout for the pipe to have data (or to be closed).
    fn readable(&self) -> bool {
        let fd = self.reader.get_ref().as_fd();
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        let ms = self.timeout.as_millis().min(i32::MAX as u128) as i32;
        loop {
            match poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(nix::errno::Errno::EINTR) => {}
                // Let the read report it.
                Err(_) => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump as QEMU 7.2 prints it, with `pc` and `a0` given.
    fn dump(pc: u64, a0: u64) -> String {
        let mut s = format!(" pc       {pc:016x}\n");
        for (i, name) in CSR_NAMES.iter().enumerate() {
            s += &format!(" {name:<8} {:016x}\n", i as u64 * 0x11);
        }
        for row in 0..8 {
            for col in 0..4 {
                let n = row * 4 + col;
                let v = if n == 10 { a0 } else { n as u64 };
                s += &format!(" x{n}/r{n:<4} {v:016x}");
            }
            s += "\n";
        }
        for row in 0..8 {
            for col in 0..4 {
                let n = row * 4 + col;
                s += &format!(" f{n}/ft{n:<3} {:016x}", 0x100 + n as u64);
            }
            s += "\n";
        }
        s
    }

    /// The first error a fresh parser finds in `text`.
    fn first_error(text: &str) -> Option<String> {
        let mut p = LogParser::new();
        text.lines()
            .map(|l| p.line(l.as_bytes()))
            .find_map(Result::err)
    }

    fn parse(text: &str) -> (Vec<CpuState>, LogParser) {
        let mut p = LogParser::new();
        let states = text
            .lines()
            .filter_map(|l| p.line(l.as_bytes()).unwrap())
            .collect();
        (states, p)
    }

    #[test]
    fn dumps_become_states() {
        let text = format!(
            "{}qemu-system-riscv64: a message\n{}",
            dump(0x1000, 7),
            dump(0x1004, 9)
        );
        let (states, parser) = parse(&text);
        assert_eq!(states.len(), 2);
        assert_eq!(states[0].pc, 0x1000);
        assert_eq!(states[0].x[10], 7);
        assert_eq!(states[1].x[10], 9);
        assert_eq!(states[1].x[31], 31);
        assert_eq!(states[1].f[31], 0x11f);
        assert_eq!(states[0].csr[csr::SATP], 16 * 0x11);
        assert_eq!(states[0].csr[csr::MSTATUS], 0x11);
        assert_eq!(parser.messages, ["qemu-system-riscv64: a message"]);
    }

    #[test]
    fn the_real_format_parses() {
        // The first lines of a real dump (QEMU 7.2, -cpu rv64,h=false), then the rest.
        let mut text = String::from(
            " pc       0000000000001000\n mhartid  0000000000000000\n mstatus  0000000a00000000\n",
        );
        for name in &CSR_NAMES[2..] {
            text += &format!(" {name:<8} 0000000000000000\n");
        }
        text += " x0/zero  0000000000000000 x1/ra    0000000000000000 x2/sp    0000000000000000 x3/gp    0000000000000000\n";
        for row in 1..8 {
            for col in 0..4 {
                text += &format!(" x{}/t0    00000000000000{:02x}", row * 4 + col, row);
            }
            text += "\n";
        }
        text += " f0/ft0   0000000000000000 f1/ft1   0000000000000000 f2/ft2   0000000000000000 f3/ft3   0000000000000000\n";
        for row in 1..7 {
            for col in 0..4 {
                text += &format!(" f{}/fs0   0000000000000000", row * 4 + col);
            }
            text += "\n";
        }
        text += " f28/ft8  0000000000000000 f29/ft9  0000000000000000 f30/ft10 0000000000000000 f31/ft11 ffffffff3f800000\n";
        let (states, _) = parse(&text);
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].csr[csr::MSTATUS], 0xa_0000_0000);
        assert_eq!(states[0].x[7], 1);
        assert_eq!(states[0].f[31], 0xffff_ffff_3f80_0000);
    }

    #[test]
    fn unknown_fields_are_skipped_and_missing_ones_named() {
        // satp, which QEMU cannot read in S-mode under TVM, may be left out: marked missing.
        let text = dump(0x1000, 1).replace(" satp ", " hstatus ");
        let (states, _) = parse(&text);
        assert_eq!(states[0].missing, 1 << csr::SATP);
        assert_eq!(parse(&dump(0x1000, 1)).0[0].missing, 0);
        // Any other CSR must be there.
        let text = dump(0x1000, 1).replace(" mepc ", " vsepc");
        let err = first_error(&text).unwrap();
        assert!(err.contains("has no mepc"), "{err}");
        // A register is never left out.
        let text = dump(0x1000, 1).replace(" x7/", " y7/");
        let err = first_error(&text).unwrap();
        assert!(err.contains("has no x7"), "{err}");
        let cut = dump(0x1000, 1);
        let half: String = cut.lines().take(10).map(|l| format!("{l}\n")).collect();
        let err = first_error(&format!("{half}{}", dump(0x2000, 1))).unwrap();
        assert!(err.contains("incomplete dump"), "{err}");
    }

    #[test]
    fn a_bad_value_is_an_error() {
        let text = dump(0x1000, 1).replace(" mie      ", " mie      zz");
        let err = first_error(&text).unwrap();
        assert!(err.contains("unexpected line"), "{err}");
    }

    #[test]
    fn the_reader_gives_every_state_then_the_end() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let text: String = (0..600u64).map(|i| dump(0x8000_0000 + 4 * i, i)).collect();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            writer.write_all(format!("{text}bye\n").as_bytes()).unwrap();
        });
        let mut log = LogReader::new(reader, Duration::from_secs(30));
        let mut states = Vec::new();
        while let Next::State(s) = log.next_state() {
            states.push(s);
        }
        feeder.join().unwrap();
        assert!(log.ended());
        assert_eq!(log.error, None);
        assert_eq!(log.messages(), ["bye"]);
        assert_eq!(states.len(), 600);
        assert_eq!(states[599].x[10], 599);
    }

    #[test]
    fn a_silent_writer_is_a_stall_and_a_bad_dump_an_error() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        {
            use std::io::Write;
            writer.write_all(dump(0x1000, 1).as_bytes()).unwrap();
        }
        let mut log = LogReader::new(reader, Duration::from_millis(50));
        assert!(matches!(log.next_state(), Next::State(_)));
        assert!(matches!(log.next_state(), Next::Stalled));
        {
            use std::io::Write;
            let bad = dump(0x1004, 1).replace(" mie      ", " mie      zz");
            writer.write_all(bad.as_bytes()).unwrap();
        }
        assert!(matches!(log.next_state(), Next::End));
        assert!(log.error.as_deref().unwrap().contains("unexpected line"));
    }
}
