//! The sv39 host I/O device at `0x1002_0000` (compatible `"sv39,hostio"`): how a guest
//! kernel gives a Linux program the host's standard input, output and error.
//!
//! QEMU has no such device (the page is free in its `virt` map), so a kernel probes the
//! device tree for it and falls back to the UART when it is absent. sv39 always has it.
//!
//! # Registers (little-endian)
//!
//! ```text
//! off    name     access  meaning
//! 0x000  MAGIC    RO u32  0x3933_5653, the bytes "SV39"
//! 0x004  VERSION  RO u32  1
//! 0x008  ADDR     RW u64  guest *physical* address of the buffer
//! 0x010  LEN      RW u64  length of the buffer in bytes
//! 0x018  COMMAND  WO u32  writing runs a command at once (synchronously):
//!                         1 = write LEN bytes at ADDR to the host's stdout
//!                         2 = the same to the host's stderr
//!                         3 = the same to the log (line-buffered, `log::info!`, target `guest`)
//!                         4 = read the host's stdin into the buffer, up to LEN bytes
//!                         5 = the guest kernel's statistics (see below); replaces the
//!                             previous report
//! 0x020  RESULT   RO u64  bytes transferred (for 4, 0 means end of file), or a negative
//!                         errno in two's complement: -14 EFAULT when [ADDR, ADDR+LEN) is not
//!                         all RAM, -22 EINVAL for an unknown command (or a command 5 report
//!                         longer than 64 KiB), -5 EIO when the host's I/O failed
//! ```
//!
//! Command 5 takes text: lines `name value\n`, a counter name without spaces and a decimal
//! u64, the kernel's `/proc/vmstat`-style counters, written just before it powers off. The
//! device keeps the last report (LEN at most 64 KiB; RESULT = LEN), in order, and `sv39 run
//! --stats` prints it after the machine's own counters (`--stats-json`: an object `"guest"`).
//! Lines that are not `name value` are skipped (a debug log says so).
//!
//! 64-bit registers take aligned 64-bit accesses and 32-bit accesses to either half; MAGIC
//! and VERSION read as one 64-bit word too. Any other size or offset reads 0 and ignores
//! writes (never an access fault), and COMMAND reads 0. An empty buffer (LEN = 0) transfers
//! nothing and returns 0 wherever ADDR points.
//!
//! # Determinism
//!
//! When the host's stdin is not a terminal ([`HostInput::Stream`]), command 4 keeps reading
//! until LEN bytes or end of file, so it returns min(LEN, bytes left) and the guest sees the
//! same chunks whatever the pipe's timing. From a terminal ([`HostInput::Terminal`]) it does
//! one host read, which returns a line. Either way the read blocks the whole machine, and
//! guest time (derived from instructions) does not advance meanwhile.
//!
//! Stdout and stderr writes are written in full and flushed at once, so a prompt without
//! a newline appears before the program reads, and the two streams interleave as the
//! program wrote them.
//!
//! # Guest memory
//!
//! A device only sees its own registers, so a COMMAND write leaves the command pending and
//! the bus, which holds RAM, runs it right after the write through [`HostIo::execute`]. RAM
//! accesses of the hart never pass through here: the fast path is unchanged.

use std::io::{ErrorKind, Read, Write};

use super::guest_log::GuestLog;
use crate::bus::{Device, DeviceError};
use crate::ram::Ram;

/// `MAGIC`: the bytes "SV39" read as a little-endian u32.
pub const MAGIC: u32 = 0x3933_5653;
/// `VERSION` of the register interface.
pub const VERSION: u32 = 1;

/// Register offsets.
pub mod reg {
    /// MAGIC (RO u32).
    pub const MAGIC: u64 = 0x000;
    /// VERSION (RO u32).
    pub const VERSION: u64 = 0x004;
    /// ADDR (RW u64).
    pub const ADDR: u64 = 0x008;
    /// LEN (RW u64).
    pub const LEN: u64 = 0x010;
    /// COMMAND (WO u32).
    pub const COMMAND: u64 = 0x018;
    /// RESULT (RO u64).
    pub const RESULT: u64 = 0x020;
}

/// Command numbers written to COMMAND.
pub mod command {
    /// Write the buffer to the host's stdout.
    pub const STDOUT: u32 = 1;
    /// Write the buffer to the host's stderr.
    pub const STDERR: u32 = 2;
    /// Write the buffer to the log (target `guest`).
    pub const LOG: u32 = 3;
    /// Read the host's stdin into the buffer.
    pub const STDIN: u32 = 4;
    /// Store the buffer as the guest kernel's statistics report.
    pub const STATS: u32 = 5;
}

/// Errno values RESULT carries, negated.
pub mod errno {
    /// I/O error on the host.
    pub const EIO: u64 = 5;
    /// Bad address: the buffer is not all RAM.
    pub const EFAULT: u64 = 14;
    /// Unknown command.
    pub const EINVAL: u64 = 22;
}

/// Host reads and RAM copies go in pieces of this size, so a huge LEN never allocates
/// more than this on the host.
const CHUNK: usize = 64 << 10;
/// The longest statistics report command 5 takes.
pub const MAX_STATS_REPORT: u64 = 64 << 10;

/// The guest kernel's counters from its last command-5 report, in the order it gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestStats {
    /// `(name, value)` pairs.
    pub counters: Vec<(String, u64)>,
}

impl GuestStats {
    /// Parses `name value` lines; others are skipped.
    pub fn parse(text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text);
        let mut counters = Vec::new();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match (
                words.next(),
                words.next().map(str::parse::<u64>),
                words.next(),
            ) {
                (Some(name), Some(Ok(value)), None) => counters.push((name.to_owned(), value)),
                (None, ..) => {}
                _ => log::debug!("hostio: statistics line {line:?} skipped"),
            }
        }
        Self { counters }
    }
}

impl std::fmt::Display for GuestStats {
    /// A `guest kernel:` heading, then one indented `name value` line per counter.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "guest kernel:")?;
        for (name, value) in &self.counters {
            write!(f, "\n  {name} {value}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for GuestStats {
    /// An object `{"name": value, ...}` in report order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.counters.len()))?;
        for (name, value) in &self.counters {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Where command 4 reads from.
pub enum HostInput {
    /// Nothing: every read is at end of file.
    Empty,
    /// A pipe or file: each command fills the buffer unless end of file comes first.
    Stream(Box<dyn Read + Send>),
    /// A terminal: each command is one host read (a line, typically).
    Terminal(Box<dyn Read + Send>),
}

/// The host I/O device.
pub struct HostIo {
    addr: u64,
    len: u64,
    result: u64,
    pending: Option<u32>,
    input: HostInput,
    at_eof: bool,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
    log: GuestLog,
    guest_stats: Option<GuestStats>,
}

impl Default for HostIo {
    /// No input; the host's stdout and stderr.
    fn default() -> Self {
        Self::new(
            HostInput::Empty,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }
}

impl HostIo {
    /// A device reading `input` and writing to `stdout` and `stderr`.
    pub fn new(
        input: HostInput,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Self {
        Self {
            addr: 0,
            len: 0,
            result: 0,
            pending: None,
            input,
            at_eof: false,
            stdout,
            stderr,
            log: GuestLog::new(),
            guest_stats: None,
        }
    }

    /// Whether a COMMAND write is waiting for [`HostIo::execute`].
    #[inline]
    pub fn command_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The guest kernel's last statistics report (command 5), if one arrived.
    pub fn guest_stats(&self) -> Option<&GuestStats> {
        self.guest_stats.as_ref()
    }

    /// Runs the pending command, if any, against guest RAM and sets RESULT. Returns the
    /// RAM range `(offset, len)` the command wrote (command 4), for the caller to drop
    /// decoded instructions it overwrote.
    pub fn execute(&mut self, ram: &mut Ram) -> Option<(usize, usize)> {
        let command = self.pending.take()?;
        let (result, written) = self.run(command, ram);
        self.result = match result {
            Ok(n) => n,
            Err(errno) => errno.wrapping_neg(),
        };
        written
    }

    fn run(&mut self, command: u32, ram: &mut Ram) -> (Result<u64, u64>, Option<(usize, usize)>) {
        if !matches!(
            command,
            command::STDOUT | command::STDERR | command::LOG | command::STDIN | command::STATS
        ) || (command == command::STATS && self.len > MAX_STATS_REPORT)
        {
            return (Err(errno::EINVAL), None);
        }
        if self.len == 0 {
            if command == command::STATS {
                self.guest_stats = Some(GuestStats::default());
            }
            return (Ok(0), None);
        }
        let Some(off) = ram.offset(self.addr, self.len) else {
            return (Err(errno::EFAULT), None);
        };
        // `offset` succeeded, so LEN is at most the RAM size, which is a host mapping.
        let len = self.len as usize;
        if command == command::STATS {
            self.guest_stats = Some(GuestStats::parse(&ram.slice_from(off)[..len]));
            return (Ok(len as u64), None);
        }
        if command == command::STDIN {
            let n = self.read_input(ram, self.addr, len);
            let written = match n {
                Ok(n) if n > 0 => Some((off, n as usize)),
                _ => None,
            };
            return (n, written);
        }
        let bytes = &ram.slice_from(off)[..len];
        let sink = match command {
            command::STDOUT => &mut self.stdout,
            command::STDERR => &mut self.stderr,
            _ => {
                self.log.push(bytes);
                return (Ok(len as u64), None);
            }
        };
        match sink.write_all(bytes).and_then(|()| sink.flush()) {
            Ok(()) => (Ok(len as u64), None),
            Err(e) => {
                log::debug!("hostio: command {command}: host write failed: {e}");
                (Err(errno::EIO), None)
            }
        }
    }

    /// Reads up to `len` bytes of input into RAM at `paddr` (already checked to be RAM).
    fn read_input(&mut self, ram: &mut Ram, paddr: u64, len: usize) -> Result<u64, u64> {
        let (reader, fill) = match &mut self.input {
            HostInput::Empty => return Ok(0),
            HostInput::Stream(r) => (r, true),
            HostInput::Terminal(r) => (r, false),
        };
        if self.at_eof && fill {
            return Ok(0);
        }
        let mut chunk = vec![0u8; len.min(CHUNK)];
        let mut done = 0usize;
        while done < len {
            let want = (len - done).min(chunk.len());
            match reader.read(&mut chunk[..want]) {
                Ok(0) => {
                    // A terminal's end of file (^D) ends this read only; a stream's is final.
                    self.at_eof = fill;
                    break;
                }
                Ok(n) => {
                    ram.load(paddr + done as u64, &chunk[..n]);
                    done += n;
                    if !fill {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("hostio: stdin read failed: {e}");
                    // Bytes already delivered count, as a short read; the error comes next time.
                    return if done > 0 {
                        Ok(done as u64)
                    } else {
                        Err(errno::EIO)
                    };
                }
            }
        }
        Ok(done as u64)
    }

    /// Emits a partial last line of the log channel (the machine stopped).
    pub fn finish(&mut self) {
        self.log.finish();
        let _ = self.stdout.flush();
        let _ = self.stderr.flush();
    }

    /// The 64-bit register word at the 8-byte-aligned offset `offset`.
    fn word(&self, offset: u64) -> u64 {
        match offset {
            reg::MAGIC => u64::from(MAGIC) | (u64::from(VERSION) << 32),
            reg::ADDR => self.addr,
            reg::LEN => self.len,
            reg::RESULT => self.result,
            _ => 0,
        }
    }

    /// Writes `value` under `mask` into the word at the 8-byte-aligned `offset`.
    fn set_word(&mut self, offset: u64, mask: u64, value: u64) {
        let merge = |old: u64| (old & !mask) | (value & mask);
        match offset {
            reg::ADDR => self.addr = merge(self.addr),
            reg::LEN => self.len = merge(self.len),
            // COMMAND is the low half of its word; the high half is nothing.
            reg::COMMAND if mask & 0xffff_ffff != 0 => self.pending = Some(value as u32),
            _ => {}
        }
    }
}

impl Drop for HostIo {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Device for HostIo {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        let word = offset & !7;
        Ok(match (size, offset & 7) {
            (8, 0) if word != reg::COMMAND => self.word(word),
            (4, 0) if word != reg::COMMAND => self.word(word) & 0xffff_ffff,
            (4, 4) => self.word(word) >> 32,
            _ => 0,
        })
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        let word = offset & !7;
        match (size, offset & 7) {
            (8, 0) => self.set_word(word, u64::MAX, value),
            (4, 0) => self.set_word(word, 0xffff_ffff, value & 0xffff_ffff),
            (4, 4) => self.set_word(word, 0xffff_ffff << 32, value << 32),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;

    const BASE: u64 = 0x8000_0000;
    const RAM_SIZE: u64 = 1 << 20;

    /// A reader that hands out at most `step` bytes per call, like a slow pipe.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("broken"))
        }
    }

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct Rig {
        dev: HostIo,
        ram: Ram,
        out: Capture,
        err: Capture,
    }

    fn rig(input: HostInput) -> Rig {
        let (out, err) = (Capture::default(), Capture::default());
        Rig {
            dev: HostIo::new(input, Box::new(out.clone()), Box::new(err.clone())),
            ram: Ram::new(BASE, RAM_SIZE).unwrap(),
            out,
            err,
        }
    }

    impl Rig {
        /// Programs ADDR and LEN with 64-bit writes, runs `cmd`, returns RESULT as signed.
        fn command(&mut self, cmd: u32, addr: u64, len: u64) -> i64 {
            self.dev.write(reg::ADDR, 8, addr).unwrap();
            self.dev.write(reg::LEN, 8, len).unwrap();
            self.dev.write(reg::COMMAND, 4, u64::from(cmd)).unwrap();
            assert!(self.dev.command_pending());
            self.dev.execute(&mut self.ram);
            assert!(!self.dev.command_pending());
            self.dev.read(reg::RESULT, 8).unwrap() as i64
        }

        fn ram_bytes(&self, addr: u64, len: usize) -> Vec<u8> {
            let mut out = vec![0; len];
            assert!(self.ram.dump(addr, &mut out));
            out
        }
    }

    #[test]
    fn identifies_itself() {
        let mut r = rig(HostInput::Empty);
        assert_eq!(r.dev.read(reg::MAGIC, 4).unwrap(), 0x3933_5653);
        assert_eq!(&(MAGIC.to_le_bytes()), b"SV39");
        assert_eq!(r.dev.read(reg::VERSION, 4).unwrap(), 1);
        assert_eq!(r.dev.read(reg::MAGIC, 8).unwrap(), 0x1_3933_5653);
        // Read-only.
        r.dev.write(reg::MAGIC, 4, 0).unwrap();
        assert_eq!(r.dev.read(reg::MAGIC, 4).unwrap(), u64::from(MAGIC));
    }

    #[test]
    fn sixty_four_bit_registers_take_halves() {
        let mut r = rig(HostInput::Empty);
        r.dev.write(reg::ADDR, 4, 0xdead_beef).unwrap();
        r.dev.write(reg::ADDR + 4, 4, 0x1234_5678).unwrap();
        assert_eq!(r.dev.read(reg::ADDR, 8).unwrap(), 0x1234_5678_dead_beef);
        r.dev.write(reg::LEN, 8, 0xaaaa_bbbb_cccc_dddd).unwrap();
        assert_eq!(r.dev.read(reg::LEN, 4).unwrap(), 0xcccc_dddd);
        assert_eq!(r.dev.read(reg::LEN + 4, 4).unwrap(), 0xaaaa_bbbb);
        // Writing one half keeps the other.
        r.dev.write(reg::LEN + 4, 4, 0).unwrap();
        assert_eq!(r.dev.read(reg::LEN, 8).unwrap(), 0xcccc_dddd);
        // A 32-bit write's value is its low 32 bits.
        r.dev.write(reg::ADDR, 4, 0xffff_ffff_0000_0001).unwrap();
        assert_eq!(r.dev.read(reg::ADDR, 8).unwrap(), 0x1234_5678_0000_0001);
    }

    #[test]
    fn other_sizes_and_offsets_are_harmless() {
        let mut r = rig(HostInput::Empty);
        r.dev.write(reg::ADDR, 8, 0x1122_3344_5566_7788).unwrap();
        for (offset, size) in [(reg::ADDR, 1), (reg::ADDR, 2), (reg::ADDR + 2, 4), (0xc, 8)] {
            assert_eq!(r.dev.read(offset, size).unwrap(), 0, "{offset:#x}/{size}");
            r.dev.write(offset, size, 0).unwrap();
        }
        assert_eq!(r.dev.read(reg::ADDR, 8).unwrap(), 0x1122_3344_5566_7788);
        for offset in [0x28, 0x100, 0xff8, 0xfff] {
            assert_eq!(r.dev.read(offset, 8).unwrap(), 0);
            r.dev.write(offset, 8, u64::MAX).unwrap();
        }
        assert!(!r.dev.command_pending());
        // COMMAND is write-only, and its high half is not a command.
        assert_eq!(r.dev.read(reg::COMMAND, 4).unwrap(), 0);
        r.dev.write(reg::COMMAND + 4, 4, 1).unwrap();
        assert!(!r.dev.command_pending());
        // RESULT is read-only.
        r.dev.write(reg::RESULT, 8, 7).unwrap();
        assert_eq!(r.dev.read(reg::RESULT, 8).unwrap(), 0);
    }

    #[test]
    fn writes_reach_stdout_and_stderr() {
        let mut r = rig(HostInput::Empty);
        assert!(r.ram.load(BASE + 0x100, b"hello, world\n"));
        assert_eq!(r.command(command::STDOUT, BASE + 0x100, 13), 13);
        assert_eq!(r.command(command::STDERR, BASE + 0x107, 5), 5);
        assert_eq!(r.command(command::LOG, BASE + 0x100, 13), 13);
        assert_eq!(r.out.contents(), b"hello, world\n");
        assert_eq!(r.err.contents(), b"world");
        // A 64-bit COMMAND write counts too.
        r.dev
            .write(reg::COMMAND, 8, u64::from(command::STDOUT))
            .unwrap();
        r.dev.execute(&mut r.ram);
        assert_eq!(r.dev.read(reg::RESULT, 8).unwrap(), 13);
        assert_eq!(r.out.contents().len(), 26);
    }

    #[test]
    fn buffers_outside_ram_fault() {
        let mut r = rig(HostInput::Empty);
        let efault = -(errno::EFAULT as i64);
        let end = BASE + RAM_SIZE;
        for (addr, len) in [
            (0x1000, 4),
            (BASE - 1, 2),
            (end - 4, 5),
            (end, 1),
            (BASE, RAM_SIZE + 1),
            (u64::MAX - 1, 4),
            (BASE + 8, u64::MAX),
        ] {
            for cmd in [
                command::STDOUT,
                command::STDERR,
                command::LOG,
                command::STDIN,
            ] {
                assert_eq!(
                    r.command(cmd, addr, len),
                    efault,
                    "{cmd} {addr:#x}+{len:#x}"
                );
            }
        }
        assert_eq!(r.command(command::STDOUT, end - 4, 4), 4);
        // Nothing to transfer: no fault, wherever ADDR points.
        assert_eq!(r.command(command::STDOUT, 0, 0), 0);
        assert!(r.err.contents().is_empty());
    }

    #[test]
    fn unknown_commands_are_einval() {
        let mut r = rig(HostInput::Empty);
        for cmd in [0, 6, 0xffff_ffff] {
            assert_eq!(r.command(cmd, BASE, 4), -(errno::EINVAL as i64));
            // Even with a bad buffer: the command is judged first.
            assert_eq!(r.command(cmd, 0, 4), -22);
        }
    }

    #[test]
    fn host_write_errors_are_eio() {
        let mut dev = HostIo::new(HostInput::Empty, Box::new(Failing), Box::new(Failing));
        let mut ram = Ram::new(BASE, RAM_SIZE).unwrap();
        for cmd in [command::STDOUT, command::STDERR] {
            dev.write(reg::ADDR, 8, BASE).unwrap();
            dev.write(reg::LEN, 8, 3).unwrap();
            dev.write(reg::COMMAND, 4, u64::from(cmd)).unwrap();
            dev.execute(&mut ram);
            assert_eq!(dev.read(reg::RESULT, 8).unwrap(), (-5i64) as u64);
        }
    }

    #[test]
    fn piped_stdin_fills_each_request_until_eof() {
        let data: Vec<u8> = (0..25u8).collect();
        // However the pipe trickles, the guest sees the same chunks.
        for step in [1, 3, 7, 100] {
            let reader = Trickle {
                data: data.clone(),
                pos: 0,
                step,
            };
            let mut r = rig(HostInput::Stream(Box::new(reader)));
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            loop {
                let n = r.command(command::STDIN, BASE + 0x40, 10);
                sizes.push(n);
                if n <= 0 {
                    break;
                }
                got.extend(r.ram_bytes(BASE + 0x40, n as usize));
            }
            assert_eq!(sizes, [10, 10, 5, 0], "step {step}");
            assert_eq!(got, data);
            // End of file stays end of file.
            assert_eq!(r.command(command::STDIN, BASE, 10), 0);
        }
    }

    #[test]
    fn terminal_stdin_is_one_read_per_request() {
        let reader = Trickle {
            data: b"line one\nline two\n".to_vec(),
            pos: 0,
            step: 9,
        };
        let mut r = rig(HostInput::Terminal(Box::new(reader)));
        assert_eq!(r.command(command::STDIN, BASE, 100), 9);
        assert_eq!(r.ram_bytes(BASE, 9), b"line one\n");
        assert_eq!(r.command(command::STDIN, BASE, 4), 4);
        assert_eq!(r.command(command::STDIN, BASE, 100), 5);
        assert_eq!(r.ram_bytes(BASE, 5), b" two\n");
        assert_eq!(r.command(command::STDIN, BASE, 100), 0);
    }

    #[test]
    fn stdin_errors_and_no_input() {
        let mut r = rig(HostInput::Stream(Box::new(Failing)));
        assert_eq!(r.command(command::STDIN, BASE, 8), -5);
        let mut r = rig(HostInput::Empty);
        assert_eq!(r.command(command::STDIN, BASE, 8), 0);
    }

    #[test]
    fn reports_the_ram_it_wrote() {
        let reader = Trickle {
            data: vec![7; 20],
            pos: 0,
            step: 20,
        };
        let mut r = rig(HostInput::Stream(Box::new(reader)));
        r.dev.write(reg::ADDR, 8, BASE + 0x2ff0).unwrap();
        r.dev.write(reg::LEN, 8, 32).unwrap();
        r.dev
            .write(reg::COMMAND, 4, u64::from(command::STDIN))
            .unwrap();
        assert_eq!(r.dev.execute(&mut r.ram), Some((0x2ff0, 20)));
        // Nothing pending: nothing done.
        assert_eq!(r.dev.execute(&mut r.ram), None);
        assert_eq!(r.dev.read(reg::RESULT, 8).unwrap(), 20);
    }

    #[test]
    fn statistics_reports_are_kept() {
        let mut r = rig(HostInput::Empty);
        assert!(r.dev.guest_stats().is_none());
        let text = b"pgfault 12\npgmajfault 3\nnot a counter line\n\nswap_out x\npswpin 0\n";
        assert!(r.ram.load(BASE + 0x200, text));
        let n = text.len() as u64;
        assert_eq!(r.command(command::STATS, BASE + 0x200, n), n as i64);
        let stats = r.dev.guest_stats().unwrap().clone();
        assert_eq!(
            stats.counters,
            [
                ("pgfault".to_string(), 12),
                ("pgmajfault".to_string(), 3),
                ("pswpin".to_string(), 0)
            ]
        );
        assert_eq!(
            stats.to_string(),
            "guest kernel:\n  pgfault 12\n  pgmajfault 3\n  pswpin 0"
        );
        assert_eq!(
            serde_json::to_string(&stats).unwrap(),
            r#"{"pgfault":12,"pgmajfault":3,"pswpin":0}"#
        );
        // The last report wins; too long is EINVAL and keeps the old one; outside RAM is
        // EFAULT.
        assert!(r.ram.load(BASE + 0x200, b"a 1\n"));
        assert_eq!(r.command(command::STATS, BASE + 0x200, 4), 4);
        assert_eq!(
            r.dev.guest_stats().unwrap().counters,
            [("a".to_string(), 1)]
        );
        let too_long = MAX_STATS_REPORT + 1;
        assert_eq!(r.command(command::STATS, BASE, too_long), -22);
        assert_eq!(r.command(command::STATS, 0x10, 4), -14);
        assert_eq!(r.dev.guest_stats().unwrap().counters.len(), 1);
        // The longest report: 64 KiB (of zeros here, which hold no counter).
        let at = BASE + 0x1_0000;
        assert_eq!(r.command(command::STATS, at, MAX_STATS_REPORT), 65536);
        assert!(r.dev.guest_stats().unwrap().counters.is_empty());
        assert!(r.out.contents().is_empty() && r.err.contents().is_empty());
    }
}
