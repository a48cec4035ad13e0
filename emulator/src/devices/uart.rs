//! The NS16550A UART at `0x1000_0000` (PLIC source 10), register for register as QEMU 7.2
//! `hw/char/serial.c` models it; the register map is the one of the National Semiconductor
//! PC16550D datasheet (Table II, "Summary of Registers"):
//!
//! ```text
//! off  DLAB=0 read / write      DLAB=1
//! 0    RBR / THR                DLL (divisor low)
//! 1    IER (4 bits)             DLM (divisor high)
//! 2    IIR / FCR
//! 3    LCR (bit 7 = DLAB)
//! 4    MCR (5 bits; bit 4 = loopback)
//! 5    LSR (DR, OE, THRE, TEMT)
//! 6    MSR (DCD, DSR, CTS at reset, as QEMU)
//! 7    SCR
//! ```
//!
//! QEMU's region is 8 bytes long (`virt` gives no `reg-shift`), so offsets 8 and up fault,
//! and an access of 1, 2, 4 or 8 bytes reads or writes the one register at its offset
//! (observed: a 4-byte read at offset 4 returns MCR alone). Transmission is instantaneous,
//! as in QEMU: THRE and TEMT are always set, and THR-empty interrupts follow every write.
//!
//! Input comes from one of three places ([`UartInput`]):
//! - `None`: nothing ever arrives.
//! - `Reader`: deterministic. No thread and no host timing: a byte is read synchronously
//!   from the reader when the guest looks (reads LSR or IIR) and the receive buffer is empty,
//!   and, while the guest has the receive interrupt enabled, as soon as the buffer empties.
//!   Data is therefore always ready until end of file, and a run with piped standard input
//!   depends only on the bytes piped in and the guest's own accesses, never on when the
//!   host delivered them. (A guest that reads RBR after seeing DR and throws the byte away,
//!   as Linux's 8250 start-up does once, loses that byte, as it would on hardware.)
//! - `Interactive`: a host thread reads standard input into a channel; bytes become visible
//!   to the guest when [`Uart::poll_input`] runs (the run loop calls it at least every
//!   [`INTERACTIVE_POLL_CYCLES`]), so the guest sees keystrokes at a host-dependent moment.
//!
//! Host bytes wait in a backlog until the 16-byte FIFO (1-byte holding register with the FIFO
//! off) has room, the way QEMU's character backend waits for `can_receive`; so a FIFO reset
//! never loses host input (it is returned to the backlog), unlike hardware.
//!
//! The character-timeout interrupt (IIR = 0x0c), which QEMU raises after four character times
//! when fewer bytes than the trigger level wait, is taken as already elapsed: with data below
//! the trigger level, IIR reports the timeout at once. sv39 has no host timers to wait on.
//!
//! Output is buffered and written to the sink at each newline, when the buffer grows large,
//! on [`Uart::flush`], and (interactively) at each poll, so large outputs are cheap.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use crate::bus::{Device, DeviceError};

/// Cycles between two looks at interactive input (1 ms of guest time at 1 GHz).
pub const INTERACTIVE_POLL_CYCLES: u64 = 1_000_000;

/// Output is written to the sink once this many bytes are buffered.
const OUTPUT_CHUNK: usize = 8192;
/// The 16550A receive FIFO depth.
const FIFO_LEN: usize = 16;

const IER_RDI: u8 = 0x01;
const IER_THRI: u8 = 0x02;
const IER_RLSI: u8 = 0x04;
const IIR_NO_INT: u8 = 0x01;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_RLSI: u8 = 0x06;
const IIR_CTI: u8 = 0x0c;
const IIR_FIFO_ENABLED: u8 = 0xc0;
const FCR_FE: u8 = 0x01;
const FCR_RFR: u8 = 0x02;
const FCR_XFR: u8 = 0x04;
const LCR_DLAB: u8 = 0x80;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
const MSR_RESET: u8 = 0xb0; // DCD | DSR | CTS

/// Where the UART's receive data comes from.
pub enum UartInput {
    /// No input.
    None,
    /// Bytes read synchronously from a reader when the guest looks (deterministic).
    Reader(Box<dyn Read + Send>),
    /// Host standard input, read by a background thread and polled by the run loop.
    Interactive,
}

enum Source {
    None,
    Reader {
        reader: Box<dyn Read + Send>,
        eof: bool,
    },
    Interactive {
        rx: Receiver<u8>,
        eof: bool,
    },
}

/// The 16550A UART.
pub struct Uart {
    source: Source,
    /// Host bytes that arrived but do not fit the receive FIFO yet.
    backlog: VecDeque<u8>,
    out: Box<dyn Write + Send>,
    out_buf: Vec<u8>,
    rx_fifo: VecDeque<u8>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    fcr: u8,
    scr: u8,
    divisor: u16,
    overrun: bool,
    /// QEMU's `thr_ipending`: a THR-empty interrupt is owed (cleared by reading it in IIR).
    thr_ipending: bool,
}

impl Uart {
    /// A UART in its reset state (QEMU `serial_reset`) reading from `input` and writing
    /// to `output`. `Interactive` starts the host standard-input thread.
    pub fn new(input: UartInput, output: Box<dyn Write + Send>) -> Self {
        let source = match input {
            UartInput::None => Source::None,
            UartInput::Reader(reader) => Source::Reader { reader, eof: false },
            UartInput::Interactive => spawn_reader(Box::new(std::io::stdin())),
        };
        Self {
            source,
            backlog: VecDeque::new(),
            out: output,
            out_buf: Vec::with_capacity(OUTPUT_CHUNK),
            rx_fifo: VecDeque::with_capacity(FIFO_LEN),
            ier: 0,
            lcr: 0,
            mcr: MCR_OUT2,
            fcr: 0,
            scr: 0,
            divisor: 0x0c, // 9600 baud, QEMU's reset value
            overrun: false,
            thr_ipending: false,
        }
    }

    /// Moves interactive input that arrived since the last call into the UART, and pushes
    /// buffered output to the terminal. A no-op for the other input kinds.
    pub fn poll_input(&mut self) {
        let Source::Interactive { rx, eof } = &mut self.source else {
            return;
        };
        loop {
            match rx.try_recv() {
                Ok(byte) => self.backlog.push_back(byte),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    *eof = true;
                    break;
                }
            }
        }
        self.deliver(false);
        self.flush();
    }

    /// The cycle at which [`Uart::poll_input`] should run next: `now` plus
    /// [`INTERACTIVE_POLL_CYCLES`] while interactive input is open, else `u64::MAX`.
    pub fn next_poll_cycle(&self, now: u64) -> u64 {
        match self.source {
            Source::Interactive { eof: false, .. } => now.saturating_add(INTERACTIVE_POLL_CYCLES),
            _ => u64::MAX,
        }
    }

    /// Blocks until interactive input arrives (for a guest waiting in `wfi`). Returns `false`
    /// at end of input, and always for non-interactive input, which never arrives later.
    pub fn wait_input(&mut self) -> bool {
        self.flush();
        let Source::Interactive { rx, eof } = &mut self.source else {
            return false;
        };
        if !self.backlog.is_empty() {
            return true;
        }
        if *eof {
            return false;
        }
        match rx.recv() {
            Ok(byte) => {
                self.backlog.push_back(byte);
                self.deliver(false);
                true
            }
            Err(_) => {
                *eof = true;
                false
            }
        }
    }

    /// The UART's interrupt line: an interrupt enabled in IER is pending (QEMU
    /// `serial_update_irq`).
    pub fn irq(&self) -> bool {
        self.interrupt_id() != IIR_NO_INT
    }

    /// Console output from elsewhere (HTIF), into the same stream as the UART's.
    pub fn write_host(&mut self, bytes: &[u8]) {
        self.out_buf.extend_from_slice(bytes);
        if self.out_buf.len() >= OUTPUT_CHUNK || bytes.contains(&b'\n') {
            self.flush();
        }
    }

    /// Writes buffered output to the sink.
    pub fn flush(&mut self) {
        if self.out_buf.is_empty() {
            return;
        }
        let result = self
            .out
            .write_all(&self.out_buf)
            .and_then(|()| self.out.flush());
        if let Err(e) = result {
            log::warn!("uart: console output lost: {e}");
        }
        self.out_buf.clear();
    }

    fn transmit(&mut self, byte: u8) {
        self.out_buf.push(byte);
        if byte == b'\n' || self.out_buf.len() >= OUTPUT_CHUNK {
            self.flush();
        }
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_FE != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() { FIFO_LEN } else { 1 }
    }

    /// The receive trigger level from FCR bits 7:6 (1, 4, 8 or 14 bytes).
    fn trigger_level(&self) -> usize {
        [1, 4, 8, 14][usize::from(self.fcr >> 6)]
    }

    /// Moves host input into the receive FIFO. Interactive bytes have already arrived and
    /// move whenever there is room; a reader is only read when the guest is `looking` and the
    /// FIFO is empty, one byte at a time (see the module documentation).
    fn deliver(&mut self, looking: bool) {
        let capacity = self.rx_capacity();
        match &mut self.source {
            Source::None | Source::Interactive { .. } => {
                while self.rx_fifo.len() < capacity {
                    let Some(byte) = self.backlog.pop_front() else {
                        break;
                    };
                    self.rx_fifo.push_back(byte);
                }
            }
            Source::Reader { reader, eof } => {
                if !looking || !self.rx_fifo.is_empty() {
                    return;
                }
                let byte = match self.backlog.pop_front() {
                    Some(byte) => Some(byte),
                    None if *eof => None,
                    None => read_byte(reader.as_mut()),
                };
                match byte {
                    Some(byte) => self.rx_fifo.push_back(byte),
                    None => *eof = true,
                }
            }
        }
    }

    /// A byte looped back from THR (MCR loopback mode).
    fn receive_loopback(&mut self, byte: u8) {
        if self.rx_fifo.len() < self.rx_capacity() {
            self.rx_fifo.push_back(byte);
        } else if self.fifo_enabled() {
            // A full FIFO keeps its contents (QEMU `recv_fifo_put`).
            self.overrun = true;
        } else {
            // The holding register is overwritten.
            self.rx_fifo.clear();
            self.rx_fifo.push_back(byte);
            self.overrun = true;
        }
    }

    /// The interrupt identification, by the 16550's priority order.
    fn interrupt_id(&self) -> u8 {
        if self.ier & IER_RLSI != 0 && self.overrun {
            IIR_RLSI
        } else if self.ier & IER_RDI != 0 && !self.rx_fifo.is_empty() {
            if self.fifo_enabled() && self.rx_fifo.len() < self.trigger_level() {
                IIR_CTI
            } else {
                IIR_RDI
            }
        } else if self.ier & IER_THRI != 0 && self.thr_ipending {
            IIR_THRI
        } else {
            // Modem-status interrupts need delta bits in MSR, which never change here.
            IIR_NO_INT
        }
    }

    fn lsr(&self) -> u8 {
        let mut lsr = LSR_THRE | LSR_TEMT;
        if !self.rx_fifo.is_empty() {
            lsr |= LSR_DR;
        }
        if self.overrun {
            lsr |= LSR_OE;
        }
        lsr
    }

    fn msr(&self) -> u8 {
        if self.mcr & MCR_LOOP != 0 {
            // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
            ((self.mcr & 0x0c) << 4) | ((self.mcr & 0x02) << 3) | ((self.mcr & 0x01) << 5)
        } else {
            MSR_RESET
        }
    }

    fn read_register(&mut self, reg: u64) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match reg {
            0 if dlab => self.divisor as u8,
            0 => {
                let byte = self.rx_fifo.pop_front().unwrap_or(0);
                let rx_interrupts = self.ier & IER_RDI != 0;
                self.deliver(rx_interrupts);
                byte
            }
            1 if dlab => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                self.deliver(true);
                let id = self.interrupt_id();
                if id == IIR_THRI {
                    // Reading IIR acknowledges the THR-empty interrupt.
                    self.thr_ipending = false;
                }
                let fifo = if self.fifo_enabled() {
                    IIR_FIFO_ENABLED
                } else {
                    0
                };
                id | fifo
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                self.deliver(true);
                let lsr = self.lsr();
                self.overrun = false;
                lsr
            }
            6 => self.msr(),
            _ => self.scr,
        }
    }

    fn write_register(&mut self, reg: u64, value: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match reg {
            0 if dlab => self.divisor = (self.divisor & 0xff00) | u16::from(value),
            0 => {
                if self.mcr & MCR_LOOP != 0 {
                    self.receive_loopback(value);
                } else {
                    self.transmit(value);
                }
                // The byte leaves at once, so THR is empty again and owes its interrupt.
                self.thr_ipending = true;
            }
            1 if dlab => self.divisor = (self.divisor & 0x00ff) | (u16::from(value) << 8),
            1 => {
                let changed = (self.ier ^ value) & 0x0f;
                self.ier = value & 0x0f;
                // QEMU 7.2: enabling THRI with THR empty raises it (THR is always empty here).
                if changed & IER_THRI != 0 {
                    self.thr_ipending = self.ier & IER_THRI != 0;
                }
                self.deliver(self.ier & IER_RDI != 0);
            }
            2 => self.write_fcr(value),
            3 => self.lcr = value,
            4 => self.mcr = value & 0x1f,
            5 | 6 => {} // LSR and MSR are read-only.
            _ => self.scr = value,
        }
    }

    fn write_fcr(&mut self, mut value: u8) {
        // Switching the FIFO on or off flushes both FIFOs.
        if (value ^ self.fcr) & FCR_FE != 0 {
            value |= FCR_RFR | FCR_XFR;
        }
        if value & FCR_RFR != 0 {
            // Host input is not lost: it goes back to the backlog, in order.
            while let Some(byte) = self.rx_fifo.pop_back() {
                self.backlog.push_front(byte);
            }
        }
        if value & FCR_XFR != 0 {
            self.thr_ipending = true;
        }
        self.fcr = value & 0xc9;
        self.deliver(self.ier & IER_RDI != 0);
    }
}

impl Drop for Uart {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One byte from `reader`, retrying interrupted reads; `None` at end of input or on error.
fn read_byte(reader: &mut dyn Read) -> Option<u8> {
    let mut buf = [0u8; 1];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return None,
            Ok(_) => return Some(buf[0]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                log::warn!("uart: input error, treated as end of input: {e}");
                return None;
            }
        }
    }
}

/// Starts a thread that forwards `reader`'s bytes to a channel, closed at end of input.
fn spawn_reader(mut reader: Box<dyn Read + Send>) -> Source {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("uart-input".into())
        .spawn(move || {
            let mut buf = [0u8; 256];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if buf[..n].iter().any(|&b| tx.send(b).is_err()) {
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        log::warn!("uart: input error, treated as end of input: {e}");
                        return;
                    }
                }
            }
        });
    let eof = match spawned {
        Ok(_) => false,
        Err(e) => {
            log::warn!("uart: cannot start the input thread: {e}");
            true
        }
    };
    Source::Interactive { rx, eof }
}

impl Device for Uart {
    fn read(&mut self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        check_uart_access(offset, size)?;
        Ok(u64::from(self.read_register(offset)))
    }

    fn write(&mut self, offset: u64, size: u8, value: u64) -> Result<(), DeviceError> {
        check_uart_access(offset, size)?;
        self.write_register(offset, value as u8);
        Ok(())
    }
}

/// QEMU's 8-byte register window, any naturally aligned access of up to 8 bytes.
fn check_uart_access(offset: u64, size: u8) -> Result<(), DeviceError> {
    if offset >= 8 {
        return Err(DeviceError::Unmapped(offset));
    }
    super::check_access(offset, size, &[1, 2, 4, 8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;
    use std::io::Cursor;

    const RBR: u64 = 0;
    const IER: u64 = 1;
    const IIR: u64 = 2;
    const FCR: u64 = 2;
    const LCR: u64 = 3;
    const MCR: u64 = 4;
    const LSR: u64 = 5;
    const MSR: u64 = 6;
    const SCR: u64 = 7;

    fn uart(input: UartInput) -> (Uart, Capture) {
        let sink = Capture::default();
        (Uart::new(input, Box::new(sink.clone())), sink)
    }
    fn reader(bytes: &'static [u8]) -> UartInput {
        UartInput::Reader(Box::new(Cursor::new(bytes)))
    }
    fn r(u: &mut Uart, reg: u64) -> u8 {
        u.read(reg, 1).unwrap() as u8
    }
    fn w(u: &mut Uart, reg: u64, value: u8) {
        u.write(reg, 1, u64::from(value)).unwrap();
    }

    #[test]
    fn reset_values_as_qemu() {
        // Observed in QEMU 7.2: LSR 0x60, IIR 0x01, MSR 0xb0, MCR 0x08, LCR 0, DLL 0x0c.
        let (mut u, _) = uart(UartInput::None);
        assert_eq!(r(&mut u, LSR), 0x60);
        assert_eq!(r(&mut u, IIR), 0x01);
        assert_eq!(r(&mut u, MSR), 0xb0);
        assert_eq!(r(&mut u, MCR), 0x08);
        assert_eq!(r(&mut u, LCR), 0);
        assert_eq!(r(&mut u, IER), 0);
        w(&mut u, LCR, 0x80);
        assert_eq!(r(&mut u, RBR), 0x0c);
        assert_eq!(r(&mut u, IER), 0);
        assert!(!u.irq());
    }

    #[test]
    fn dlab_switches_registers() {
        let (mut u, sink) = uart(UartInput::None);
        w(&mut u, LCR, 0x83);
        w(&mut u, RBR, 0x01);
        w(&mut u, IER, 0x02);
        assert_eq!(r(&mut u, RBR), 0x01);
        assert_eq!(r(&mut u, IER), 0x02);
        w(&mut u, LCR, 0x03);
        assert_eq!(r(&mut u, IER), 0, "IER untouched by DLM writes");
        assert_eq!(r(&mut u, LCR), 0x03);
        u.flush();
        assert!(sink.take().is_empty(), "DLL writes are not output");
        w(&mut u, LCR, 0x80);
        assert_eq!(r(&mut u, IER), 0x02);
    }

    #[test]
    fn output_is_buffered_until_newline_or_flush() {
        let (mut u, sink) = uart(UartInput::None);
        for &b in b"hi" {
            w(&mut u, RBR, b);
        }
        assert!(sink.take().is_empty());
        w(&mut u, RBR, b'\n');
        assert_eq!(sink.take(), b"hi\n");
        u.write_host(b"htif");
        w(&mut u, RBR, b'!');
        u.flush();
        assert_eq!(sink.take(), b"htif!");
        w(&mut u, RBR, b'x');
        drop(u);
        assert_eq!(sink.take(), b"x", "dropping the UART flushes");
    }

    #[test]
    fn thr_empty_interrupt() {
        // QEMU 7.2: IER = THRI raises IIR 0x02; reading IIR acknowledges it.
        let (mut u, _) = uart(UartInput::None);
        w(&mut u, IER, 0xff);
        assert_eq!(r(&mut u, IER), 0x0f);
        w(&mut u, IER, IER_THRI);
        assert!(u.irq());
        assert_eq!(r(&mut u, IIR), 0x02);
        assert!(!u.irq());
        assert_eq!(r(&mut u, IIR), 0x01);
        w(&mut u, RBR, b'a');
        assert!(u.irq(), "each transmitted byte empties THR again");
        w(&mut u, IER, 0);
        assert!(!u.irq());
    }

    #[test]
    fn fifo_control() {
        // QEMU 7.2: FCR = 7 makes IIR read 0xc1.
        let (mut u, _) = uart(UartInput::None);
        w(&mut u, FCR, 0x07);
        assert_eq!(r(&mut u, IIR), 0xc1);
        w(&mut u, FCR, 0x00);
        assert_eq!(r(&mut u, IIR), 0x01);
    }

    #[test]
    fn reader_input_is_ready_when_the_guest_looks() {
        let (mut u, _) = uart(reader(b"ab"));
        assert_eq!(r(&mut u, LSR), 0x61);
        assert_eq!(r(&mut u, LSR), 0x61, "looking twice reads no more input");
        assert_eq!(r(&mut u, RBR), b'a');
        assert_eq!(r(&mut u, LSR), 0x61);
        assert_eq!(r(&mut u, RBR), b'b');
        assert_eq!(r(&mut u, LSR), 0x60, "end of input");
        assert_eq!(r(&mut u, RBR), 0);
        assert!(!u.wait_input());
        assert_eq!(u.next_poll_cycle(5), u64::MAX);
    }

    #[test]
    fn reader_input_with_rx_interrupts() {
        let (mut u, _) = uart(reader(b"xyz"));
        w(&mut u, FCR, 0x01); // FIFO on, trigger level 1
        assert!(!u.irq(), "nothing read before the guest asks for it");
        w(&mut u, IER, IER_RDI);
        assert!(u.irq());
        assert_eq!(r(&mut u, IIR), 0xc4);
        let mut got = Vec::new();
        while u.irq() {
            got.push(r(&mut u, RBR));
        }
        assert_eq!(got, b"xyz");
        assert_eq!(r(&mut u, IIR), 0xc1);
    }

    #[test]
    fn timeout_interrupt_below_trigger_level() {
        let (mut u, _) = uart(reader(b"q"));
        w(&mut u, FCR, 0x81); // trigger level 8
        w(&mut u, IER, IER_RDI);
        assert_eq!(r(&mut u, IIR), 0xcc);
        assert_eq!(r(&mut u, RBR), b'q');
        assert_eq!(r(&mut u, IIR), 0xc1);
    }

    #[test]
    fn fifo_reset_keeps_host_input() {
        let (mut u, _) = uart(reader(b"12"));
        assert_eq!(r(&mut u, LSR) & LSR_DR, LSR_DR);
        w(&mut u, FCR, 0x07);
        assert_eq!(r(&mut u, RBR), 0, "the FIFO was emptied");
        assert_eq!(r(&mut u, LSR) & LSR_DR, LSR_DR);
        assert_eq!(r(&mut u, RBR), b'1');
        assert_eq!(r(&mut u, LSR) & LSR_DR, LSR_DR);
        assert_eq!(r(&mut u, RBR), b'2');
    }

    #[test]
    fn loopback() {
        let (mut u, sink) = uart(UartInput::None);
        w(&mut u, MCR, MCR_LOOP | 0x0f);
        assert_eq!(r(&mut u, MSR), 0xf0);
        w(&mut u, RBR, b'L');
        assert_eq!(r(&mut u, LSR), 0x61);
        w(&mut u, RBR, b'M');
        assert_eq!(r(&mut u, LSR), 0x63, "overrun of the holding register");
        assert_eq!(r(&mut u, LSR), 0x61, "reading LSR clears OE");
        assert_eq!(r(&mut u, RBR), b'M');
        u.flush();
        assert!(sink.take().is_empty());
    }

    #[test]
    fn scratch_and_access_rules() {
        let (mut u, _) = uart(UartInput::None);
        w(&mut u, SCR, 0x41);
        assert_eq!(r(&mut u, SCR), 0x41);
        // QEMU: a wider access touches only the register at its offset.
        assert_eq!(u.read(4, 4), Ok(0x08));
        u.write(6, 2, 0x1234).unwrap();
        assert_eq!(r(&mut u, SCR), 0x41);
        assert_eq!(u.read(0, 8), Ok(0));
        assert_eq!(u.read(8, 1), Err(DeviceError::Unmapped(8)));
        assert!(u.read(7, 4).is_err());
        assert!(u.read(1, 2).is_err());
        assert!(u.read(0, 3).is_err());
    }

    #[test]
    fn interactive_input_arrives_on_poll() {
        let sink = Capture::default();
        let mut u = Uart::new(UartInput::None, Box::new(sink.clone()));
        u.source = spawn_reader(Box::new(Cursor::new(b"hey".to_vec())));
        assert_eq!(u.next_poll_cycle(10), 10 + INTERACTIVE_POLL_CYCLES);
        assert!(u.wait_input());
        // Whatever the thread delivered so far is visible without a poll; the rest after.
        let mut got = Vec::new();
        while got.len() < 3 {
            if r(&mut u, LSR) & LSR_DR != 0 {
                got.push(r(&mut u, RBR));
            } else if !u.wait_input() {
                break;
            }
        }
        assert_eq!(got, b"hey");
        while u.wait_input() {}
        u.poll_input();
        assert_eq!(u.next_poll_cycle(10), u64::MAX);
    }
}
