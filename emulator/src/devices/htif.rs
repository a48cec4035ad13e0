//! The host-target interface of Spike and the riscv-tests environment: two 64-bit words in
//! guest RAM, `tohost` and `fromhost`, found by their ELF symbols. The protocol is Spike's
//! front-end server (riscv-isa-sim `fesvr/htif.cc`, `fesvr/device.cc`, `fesvr/syscall.cc`);
//! a command is
//!
//! ```text
//! tohost = device << 56 | command << 48 | payload (48 bits)
//! ```
//!
//! - device 0 (syscall proxy), command 0: if `payload & 1`, the program exits with status
//!   `payload >> 1` (riscv-tests write 1 for pass and `n << 1 | 1` for failure `n`); otherwise
//!   `payload` is the address of a `magic_mem` block `[which, a0, a1, a2, ...]` of u64s. The
//!   result is written back into `magic_mem[0]` and `fromhost` is set to 1, which is what the
//!   guest spins on (riscv-tests `benchmarks/common/syscalls.c`, riscv-pk).
//! - device 1 (console), command 1: print the low byte of the payload. Spike does not answer
//!   this command (no `fromhost` write), and neither does sv39.
//!
//! The host acts when the store to `tohost` completes and the whole 64-bit value is non-zero
//! (a 32-bit guest writing the low half first would otherwise be read half-written); it then
//! clears `tohost`, as Spike's `htif_t::run` does, so the guest may send the next command.

use crate::ram::Ram;

/// `SYS_write` in the RISC-V Linux (and newlib / riscv-pk) syscall numbering.
const SYS_WRITE: u64 = 64;
/// `SYS_exit`.
const SYS_EXIT: u64 = 93;
const EBADF: i64 = 9;
const EFAULT: i64 = 14;
const ENOSYS: i64 = 38;
const DEVICE_SYSCALL: u64 = 0;
const DEVICE_CONSOLE: u64 = 1;
const CONSOLE_PUTCHAR: u64 = 1;

/// What the host must do after a `tohost` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtifEvent {
    /// The program finished with this exit status (0 = pass).
    Exit(u32),
    /// Bytes for the console (standard output and standard error share it).
    Output(Vec<u8>),
}

/// The HTIF mailbox of one program.
pub struct Htif {
    tohost: u64,
    fromhost: Option<u64>,
}

impl Htif {
    /// An HTIF whose `tohost` word is at physical address `tohost` and whose `fromhost`
    /// word, if the program has one, is at `fromhost`.
    pub fn new(tohost: u64, fromhost: Option<u64>) -> Self {
        Self { tohost, fromhost }
    }

    /// Physical address of `tohost`.
    pub fn tohost(&self) -> u64 {
        self.tohost
    }

    /// Whether a store of `len` bytes at `paddr` touches `tohost`.
    pub fn watches(&self, paddr: u64, len: u64) -> bool {
        paddr < self.tohost.saturating_add(8) && self.tohost < paddr.saturating_add(len)
    }

    /// Handles a store to `tohost`: decodes the command in RAM, clears `tohost`, answers in
    /// `fromhost` where the protocol does, and returns what the host must do.
    pub fn on_tohost_write(&mut self, ram: &mut Ram) -> Option<HtifEvent> {
        let value = read_u64(ram, self.tohost)?;
        if value == 0 {
            return None;
        }
        write_u64(ram, self.tohost, 0);
        let device = value >> 56;
        let command = (value >> 48) & 0xff;
        let payload = value & ((1 << 48) - 1);
        match (device, command) {
            (DEVICE_SYSCALL, 0) if payload & 1 != 0 => Some(HtifEvent::Exit((payload >> 1) as u32)),
            (DEVICE_SYSCALL, 0) => self.syscall(ram, payload),
            (DEVICE_CONSOLE, CONSOLE_PUTCHAR) => Some(HtifEvent::Output(vec![payload as u8])),
            _ => {
                log::debug!("htif: unsupported command {value:#018x} ignored");
                None
            }
        }
    }

    /// Runs the proxied system call whose `magic_mem` block is at `block`.
    fn syscall(&mut self, ram: &mut Ram, block: u64) -> Option<HtifEvent> {
        let mut args = [0u64; 4];
        for (i, arg) in args.iter_mut().enumerate() {
            let Some(v) = read_u64(ram, block.wrapping_add(8 * i as u64)) else {
                log::debug!("htif: syscall block at {block:#x} is not in RAM");
                return None;
            };
            *arg = v;
        }
        let [which, a0, a1, a2] = args;
        let (ret, event) = match which {
            SYS_WRITE if a0 == 1 || a0 == 2 => match ram.offset(a1, a2) {
                Some(_) => {
                    let mut bytes = vec![0u8; a2 as usize];
                    ram.dump(a1, &mut bytes);
                    (a2 as i64, Some(HtifEvent::Output(bytes)))
                }
                None => (-EFAULT, None),
            },
            SYS_WRITE => (-EBADF, None),
            SYS_EXIT => return Some(HtifEvent::Exit(a0 as u32)),
            _ => {
                log::debug!("htif: unsupported syscall {which} ignored");
                (-ENOSYS, None)
            }
        };
        write_u64(ram, block, ret as u64);
        if let Some(fromhost) = self.fromhost {
            write_u64(ram, fromhost, 1);
        }
        event
    }
}

fn read_u64(ram: &Ram, paddr: u64) -> Option<u64> {
    let mut buf = [0u8; 8];
    ram.dump(paddr, &mut buf).then(|| u64::from_le_bytes(buf))
}

fn write_u64(ram: &mut Ram, paddr: u64, value: u64) {
    if !ram.load(paddr, &value.to_le_bytes()) {
        log::debug!("htif: {paddr:#x} is not in RAM");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x8000_0000;
    const TOHOST: u64 = BASE + 0x1000;
    const FROMHOST: u64 = BASE + 0x1040;
    const MAGIC: u64 = BASE + 0x2000;

    fn setup() -> (Htif, Ram) {
        (
            Htif::new(TOHOST, Some(FROMHOST)),
            Ram::new(BASE, 1 << 16).unwrap(),
        )
    }

    fn send(htif: &mut Htif, ram: &mut Ram, value: u64) -> Option<HtifEvent> {
        write_u64(ram, TOHOST, value);
        htif.on_tohost_write(ram)
    }

    #[test]
    fn riscv_tests_exit_codes() {
        let (mut h, mut ram) = setup();
        assert_eq!(send(&mut h, &mut ram, 1), Some(HtifEvent::Exit(0)));
        assert_eq!(read_u64(&ram, TOHOST), Some(0), "tohost is cleared");
        assert_eq!(
            send(&mut h, &mut ram, (5 << 1) | 1),
            Some(HtifEvent::Exit(5))
        );
        assert_eq!(read_u64(&ram, FROMHOST), Some(0), "exit is not answered");
    }

    #[test]
    fn zero_is_not_a_command() {
        let (mut h, mut ram) = setup();
        assert_eq!(send(&mut h, &mut ram, 0), None);
    }

    #[test]
    fn putchar() {
        let (mut h, mut ram) = setup();
        let cmd = 1 << 56 | 1 << 48 | u64::from(b'A');
        assert_eq!(
            send(&mut h, &mut ram, cmd),
            Some(HtifEvent::Output(vec![b'A']))
        );
        assert_eq!(read_u64(&ram, TOHOST), Some(0));
        assert_eq!(
            read_u64(&ram, FROMHOST),
            Some(0),
            "Spike does not answer putchar"
        );
    }

    #[test]
    fn sys_write_and_exit() {
        let (mut h, mut ram) = setup();
        let buf = BASE + 0x3000;
        assert!(ram.load(buf, b"hello\n"));
        for (i, v) in [SYS_WRITE, 1, buf, 6].into_iter().enumerate() {
            write_u64(&mut ram, MAGIC + 8 * i as u64, v);
        }
        assert_eq!(
            send(&mut h, &mut ram, MAGIC),
            Some(HtifEvent::Output(b"hello\n".to_vec()))
        );
        assert_eq!(
            read_u64(&ram, MAGIC),
            Some(6),
            "return value in magic_mem[0]"
        );
        assert_eq!(read_u64(&ram, FROMHOST), Some(1));
        assert_eq!(read_u64(&ram, TOHOST), Some(0));

        // A bad fd and a buffer outside RAM fail with an errno, still answered.
        write_u64(&mut ram, FROMHOST, 0);
        for (i, v) in [SYS_WRITE, 7, buf, 6].into_iter().enumerate() {
            write_u64(&mut ram, MAGIC + 8 * i as u64, v);
        }
        assert_eq!(send(&mut h, &mut ram, MAGIC), None);
        assert_eq!(read_u64(&ram, MAGIC), Some(-EBADF as u64));
        assert_eq!(read_u64(&ram, FROMHOST), Some(1));
        for (i, v) in [SYS_WRITE, 2, 0x10, u64::MAX].into_iter().enumerate() {
            write_u64(&mut ram, MAGIC + 8 * i as u64, v);
        }
        assert_eq!(send(&mut h, &mut ram, MAGIC), None);
        assert_eq!(read_u64(&ram, MAGIC), Some(-EFAULT as u64));

        for (i, v) in [SYS_EXIT, 3, 0, 0].into_iter().enumerate() {
            write_u64(&mut ram, MAGIC + 8 * i as u64, v);
        }
        assert_eq!(send(&mut h, &mut ram, MAGIC), Some(HtifEvent::Exit(3)));
    }

    #[test]
    fn unknown_commands_are_ignored() {
        let (mut h, mut ram) = setup();
        assert_eq!(send(&mut h, &mut ram, 3 << 56 | 5), None);
        assert_eq!(read_u64(&ram, TOHOST), Some(0));
        for (i, v) in [1234, 0, 0, 0].into_iter().enumerate() {
            write_u64(&mut ram, MAGIC + 8 * i as u64, v);
        }
        assert_eq!(send(&mut h, &mut ram, MAGIC), None);
        assert_eq!(read_u64(&ram, MAGIC), Some(-ENOSYS as u64));
        // A syscall block outside RAM.
        assert_eq!(send(&mut h, &mut ram, 0x10), None);
    }

    #[test]
    fn watch_window() {
        let h = Htif::new(TOHOST, None);
        assert!(h.watches(TOHOST, 8));
        assert!(h.watches(TOHOST + 4, 4));
        assert!(h.watches(TOHOST - 4, 8));
        assert!(!h.watches(TOHOST - 4, 4));
        assert!(!h.watches(TOHOST + 8, 8));
        assert!(Htif::new(u64::MAX - 3, None).watches(u64::MAX - 1, 2));
    }
}
