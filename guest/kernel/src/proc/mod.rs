//! Processes: the table, the round-robin scheduler, and the trap handler that ties them to
//! system calls, page faults and the timer.
//!
//! One kernel stack serves everyone because the kernel never blocks in the middle of a
//! call: a system call that must wait leaves `sepc` on its `ecall`, marks the process
//! blocked with a [`WaitReason`], and runs again from the start when woken (the restart
//! model). Timer interrupts taken in U-mode preempt the running process.

pub mod exec;
pub mod exit;
pub mod signal;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use core::sync::atomic::{AtomicU32, Ordering};

use sv39_policy::fault::Access;

use crate::arch::cpu;
use crate::arch::trap::{self, TrapFrame};
use crate::drivers::fault_trace;
use crate::fs::FdTable;
use crate::mm::space::{AddressSpace, FaultError};
use crate::sbi;
use crate::sync::KernelCell;

/// Why a process waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// wait4: a child to change state.
    Child = 0,
    /// A pipe to gain data, room, or lose its other end.
    Pipe = 1,
    /// nanosleep: a deadline (in the process's `sleep_until`).
    Sleep = 2,
    /// futex: a FUTEX_WAKE on `futex_addr`.
    Futex = 3,
    /// Console input to arrive (QEMU's UART; sv39's host channel never makes one wait).
    Stdin = 4,
    /// vfork: the child to exec or exit and hand the address space back.
    Vfork = 5,
    /// The disk: a page coming back from swap, or frames being written out.
    Disk = 6,
}

/// Wake-ups raised where the process table is out of reach (a pipe end dropped); the
/// scheduler applies them.
static PENDING_WAKEUPS: AtomicU32 = AtomicU32::new(0);

/// Makes every process waiting for `reason` runnable (they re-check their condition).
pub fn wake_all(reason: WaitReason) {
    PENDING_WAKEUPS.fetch_or(1 << reason as u32, Ordering::Relaxed);
}

/// A process's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Ready to run (or running).
    Runnable,
    /// Waiting; its system call restarts when woken.
    Blocked(WaitReason),
    /// Exited; the wait status waits for the parent.
    Zombie(i32),
}

/// One signal's disposition, as rt_sigaction stores it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SigAction {
    /// `sa_handler` (0 = SIG_DFL, 1 = SIG_IGN, else a handler address).
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_mask`.
    pub mask: u64,
}

/// A process.
pub struct Process {
    /// Process id (and thread id: processes are single-threaded).
    pub pid: u32,
    /// Parent's pid (1 for orphans; 0 for init).
    pub ppid: u32,
    /// The user registers.
    pub frame: Box<TrapFrame>,
    /// The address space; `None` once the process has exited.
    pub space: Option<AddressSpace>,
    /// Open files.
    pub files: FdTable,
    /// The working directory (absolute, normalised).
    pub cwd: String,
    /// The executable's absolute path (`/proc/<pid>/exe`).
    pub exe: String,
    /// The command name (`comm`): the executable's base name, at most 15 bytes.
    pub comm: String,
    /// Running, waiting or exited.
    pub state: State,
    /// set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken at exit.
    pub clear_child_tid: u64,
    /// Signal dispositions, indexed by signal number.
    pub sigactions: [SigAction; 65],
    /// The blocked-signal mask.
    pub sigmask: u64,
    /// The file-creation mask.
    pub umask: u32,
    /// Where nanosleep's wait ends (`time` CSR ticks), while sleeping.
    pub sleep_until: Option<u64>,
    /// The futex word address waited on.
    pub futex_addr: u64,
    /// Set by FUTEX_WAKE: the restarted wait returns 0.
    pub futex_woken: bool,
    /// Minor faults (no disk read).
    pub min_flt: u64,
    /// Major faults (ones that waited for the disk).
    pub maj_flt: u64,
    /// The page whose fault waited for it to come back from swap: the fault that maps it
    /// is major (another fault of the retried instruction, say on its evicted text page,
    /// is not).
    pub fault_waited: Option<u64>,
    /// Where the argument strings lie on the initial stack (/proc/<pid>/cmdline).
    pub arg_range: (u64, u64),
    /// A vfork child: the parent whose address space it borrows, until exec or exit.
    pub vfork_parent: Option<u32>,
    /// Bytes of a blocking pipe write already done before the call had to wait.
    pub partial_write: u64,
}

impl Process {
    /// A fresh process with no address space yet.
    pub fn new(pid: u32, ppid: u32) -> Self {
        let mut frame = Box::new(TrapFrame::zeroed());
        frame.kernel_sp = trap::kernel_stack_top();
        Process {
            pid,
            ppid,
            frame,
            space: None,
            files: FdTable::console(),
            cwd: String::from("/"),
            exe: String::new(),
            comm: String::new(),
            state: State::Runnable,
            clear_child_tid: 0,
            sigactions: [SigAction::default(); 65],
            sigmask: 0,
            umask: 0o022,
            sleep_until: None,
            futex_addr: 0,
            futex_woken: false,
            min_flt: 0,
            maj_flt: 0,
            fault_waited: None,
            arg_range: (0, 0),
            vfork_parent: None,
            partial_write: 0,
        }
    }

    /// The address space (present until exit).
    pub fn space(&mut self) -> &mut AddressSpace {
        self.space
            .as_mut()
            .expect("a running process has an address space")
    }
}

/// The length of a time slice, in timebase ticks (10 ms at 10 MHz).
const TIME_SLICE: u64 = 100_000;

/// The process table and the scheduler's state.
pub struct Kernel {
    /// Every process, zombies included, by pid. The running one is taken out while its
    /// trap is handled.
    pub procs: BTreeMap<u32, Box<Process>>,
    /// Runnable processes waiting for the CPU, in order.
    run_queue: VecDeque<u32>,
    /// The process on the CPU.
    current: Option<u32>,
    /// The next pid to hand out.
    next_pid: u32,
    /// Whose float registers the FPU holds.
    fp_owner: Option<u32>,
    /// The deadline the SBI timer is set for.
    timer_deadline: u64,
    /// The timebase frequency (ticks per second).
    pub timebase: u64,
    /// The deterministic random generator's state (getrandom, AT_RANDOM).
    pub random_state: u64,
    /// Set by sched_yield: the caller goes to the back of the queue.
    pub yield_now: bool,
}

static KERNEL: KernelCell<Option<Kernel>> = KernelCell::new(None);

/// Sets up the (empty) process table.
pub fn init(timebase: u64) {
    KERNEL.with(|k| {
        *k = Some(Kernel {
            procs: BTreeMap::new(),
            run_queue: VecDeque::new(),
            current: None,
            next_pid: 1,
            fp_owner: None,
            timer_deadline: u64::MAX,
            timebase,
            random_state: 0x5339_5339_2545_F491,
            yield_now: false,
        })
    });
}

/// Runs `body` with the kernel's process state.
pub fn with_kernel<R>(body: impl FnOnce(&mut Kernel) -> R) -> R {
    KERNEL.with(|k| body(k.as_mut().expect("proc::init first")))
}

/// Starts the first process (`argv[0]` is the program's path) and never returns; if it
/// cannot start, the error goes to standard error and the machine stops with status 126
/// (found but not executable) or 127 (not found), as a shell reports.
pub fn start_init(argv: &[&[u8]], envp: &[&[u8]]) -> ! {
    let frame = with_kernel(|k| {
        let pid = k.alloc_pid();
        let mut p = Box::new(Process::new(pid, 0));
        let path = String::from_utf8_lossy(argv.first().copied().unwrap_or(b"")).into_owned();
        if let Err(error) = exec::exec(k, &mut p, &path, argv, envp) {
            let status = if error.errno == sv39_policy::errno::Errno::ENOENT {
                127
            } else {
                126
            };
            let line = alloc::format!("sv39: {path}: {}\n", error.message);
            crate::drivers::stdio::write_kernel(
                crate::drivers::hostio::Command::Stderr,
                line.as_bytes(),
            );
            crate::power_off_with_status(status);
        }
        let frame: *mut TrapFrame = &mut *p.frame;
        k.procs.insert(pid, p);
        k.current = Some(pid);
        k.prepare_return(pid);
        frame
    });
    // SAFETY: the frame is boxed inside the process table and the process's space is active.
    unsafe { trap::enter_user(frame) }
}

/// Trap causes (privileged spec table 4.2).
mod cause {
    pub const INTERRUPT: u64 = 1 << 63;
    pub const SUPERVISOR_TIMER: u64 = INTERRUPT | 5;
    pub const SUPERVISOR_EXTERNAL: u64 = INTERRUPT | 9;
    pub const INSTRUCTION_MISALIGNED: u64 = 0;
    pub const INSTRUCTION_ACCESS: u64 = 1;
    pub const ILLEGAL_INSTRUCTION: u64 = 2;
    pub const BREAKPOINT: u64 = 3;
    pub const LOAD_MISALIGNED: u64 = 4;
    pub const LOAD_ACCESS: u64 = 5;
    pub const STORE_MISALIGNED: u64 = 6;
    pub const STORE_ACCESS: u64 = 7;
    pub const USER_ECALL: u64 = 8;
    pub const INSTRUCTION_PAGE_FAULT: u64 = 12;
    pub const LOAD_PAGE_FAULT: u64 = 13;
    pub const STORE_PAGE_FAULT: u64 = 15;
}

/// The Rust side of the trap vector: handles a trap from U-mode and returns the frame of
/// the process to resume.
pub extern "C" fn user_trap(frame: *mut TrapFrame) -> *mut TrapFrame {
    let (scause, stval) = cpu::trap_cause();
    with_kernel(|k| k.handle_trap(frame, scause, stval))
}

/// What a system call asks of the trap handler.
pub enum Outcome {
    /// Return this value in a0.
    Return(i64),
    /// Wait, then run the call again.
    Block(WaitReason),
    /// The frame is already what the process resumes with (execve), or the process is gone
    /// (exit).
    Done,
    /// a0 is set; wait, then resume after the call (no restart): vfork's parent.
    Suspend(WaitReason),
}

impl Kernel {
    /// A new pid.
    pub fn alloc_pid(&mut self) -> u32 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// The next deterministic pseudo-random 64 bits (xorshift64*).
    pub fn random_u64(&mut self) -> u64 {
        let mut x = self.random_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random_state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Nanoseconds since boot, from the timebase.
    pub fn now_ns(&self) -> u64 {
        (cpu::time() as u128 * 1_000_000_000 / self.timebase.max(1) as u128) as u64
    }

    fn handle_trap(&mut self, frame: *mut TrapFrame, scause: u64, stval: u64) -> *mut TrapFrame {
        let pid = self
            .current
            .expect("a trap from U-mode has a current process");
        let mut p = self
            .procs
            .remove(&pid)
            .expect("the current process is in the table");
        debug_assert!(core::ptr::eq(frame, &*p.frame));
        if cpu::fp_dirty() {
            cpu::save_fp(&mut p.frame.fregs, &mut p.frame.fcsr);
            cpu::mark_fp_clean();
        }
        let mut preempt = false;
        match scause {
            cause::SUPERVISOR_TIMER => {
                self.timer_deadline = u64::MAX;
                preempt = true;
            }
            cause::SUPERVISOR_EXTERNAL => {
                if crate::drivers::external_interrupts() {
                    wake_all(WaitReason::Disk);
                }
            }
            cause::USER_ECALL => {
                p.frame.sepc += 4;
                match crate::syscall::dispatch(self, &mut p) {
                    Outcome::Return(value) => p.frame.regs[10] = value as u64,
                    Outcome::Block(reason) => {
                        p.frame.sepc -= 4;
                        p.state = State::Blocked(reason);
                    }
                    Outcome::Done => {}
                    Outcome::Suspend(reason) => p.state = State::Blocked(reason),
                }
            }
            cause::INSTRUCTION_PAGE_FAULT | cause::LOAD_PAGE_FAULT | cause::STORE_PAGE_FAULT => {
                let access = match scause {
                    cause::INSTRUCTION_PAGE_FAULT => Access::Execute,
                    cause::LOAD_PAGE_FAULT => Access::Read,
                    _ => Access::Write,
                };
                let result = p.space().handle_fault(stval, access);
                let page = stval & !(crate::mm::phys::PAGE_SIZE - 1);
                // The fault-trace report: once per fault trap, with the same `major` as the
                // process's counters, so the two always agree.
                let (kind, major) = match result {
                    Ok(outcome) => {
                        let major = p.fault_waited == Some(page);
                        if major {
                            p.fault_waited = None;
                        }
                        (outcome.into(), major)
                    }
                    Err(error) => (error.into(), false),
                };
                fault_trace::report(pid, kind, major);
                match result {
                    Ok(outcome) => {
                        if major {
                            p.maj_flt += 1;
                        } else {
                            p.min_flt += 1;
                        }
                        crate::vmstat::count_fault(outcome, major);
                    }
                    Err(FaultError::Wait(read)) => {
                        // The faulting instruction runs again once the disk has answered. Only
                        // a page read back from swap makes the fault major (as Linux counts):
                        // waiting for frames to be written out does not.
                        if read {
                            p.fault_waited = Some(page);
                        }
                        p.state = State::Blocked(WaitReason::Disk);
                    }
                    Err(FaultError::Segv(_)) => {
                        signal::report_fault(&p, "segfault", stval, scause);
                        exit::terminate(self, &mut p, signal::SIGSEGV);
                    }
                    Err(FaultError::Bus) => {
                        signal::report_fault(&p, "bus error", stval, scause);
                        exit::terminate(self, &mut p, signal::SIGBUS);
                    }
                    Err(FaultError::OutOfMemory) => {
                        // Said where the program's errors go, as for a segfault.
                        signal::report_fault(&p, "out of memory (killed)", stval, scause);
                        exit::terminate(self, &mut p, signal::SIGKILL);
                    }
                }
            }
            cause::ILLEGAL_INSTRUCTION => {
                signal::report_fault(&p, "illegal instruction", stval, scause);
                exit::terminate(self, &mut p, signal::SIGILL);
            }
            cause::BREAKPOINT => exit::terminate(self, &mut p, signal::SIGTRAP),
            cause::INSTRUCTION_MISALIGNED | cause::LOAD_MISALIGNED | cause::STORE_MISALIGNED => {
                signal::report_fault(&p, "bus error", stval, scause);
                exit::terminate(self, &mut p, signal::SIGBUS);
            }
            cause::INSTRUCTION_ACCESS | cause::LOAD_ACCESS | cause::STORE_ACCESS => {
                signal::report_fault(&p, "segfault", stval, scause);
                exit::terminate(self, &mut p, signal::SIGSEGV);
            }
            other => {
                crate::klog!(
                    "{}[{}]: unexpected trap cause {other:#x}, killed",
                    p.comm,
                    p.pid
                );
                exit::terminate(self, &mut p, signal::SIGKILL);
            }
        }
        if core::mem::take(&mut self.yield_now) {
            preempt = true;
        }
        let runnable = p.state == State::Runnable;
        self.procs.insert(pid, p);
        if !runnable {
            self.current = None;
        }
        let next = self.schedule(if runnable { Some(pid) } else { None }, preempt);
        self.prepare_return(next);
        &mut *self
            .procs
            .get_mut(&next)
            .expect("scheduled process exists")
            .frame
    }

    /// Makes `pid` runnable and queues it.
    pub fn make_runnable(&mut self, pid: u32) {
        if let Some(p) = self.procs.get_mut(&pid)
            && matches!(p.state, State::Blocked(_) | State::Runnable)
        {
            p.state = State::Runnable;
            if self.current != Some(pid) && !self.run_queue.contains(&pid) {
                self.run_queue.push_back(pid);
            }
        }
    }

    /// Queues a new runnable process.
    pub fn enqueue(&mut self, pid: u32) {
        self.run_queue.push_back(pid);
    }

    /// Applies wake-ups: pending reasons, and sleepers whose deadline passed.
    fn apply_wakeups(&mut self) {
        let reasons = PENDING_WAKEUPS.swap(0, Ordering::Relaxed);
        let now = cpu::time();
        let mut woken = alloc::vec::Vec::new();
        for (pid, p) in &self.procs {
            if let State::Blocked(reason) = p.state {
                let due = match reason {
                    WaitReason::Sleep => p.sleep_until.is_none_or(|t| t <= now),
                    WaitReason::Stdin => true,  // poll again
                    WaitReason::Vfork => false, // only the child wakes it
                    other => reasons & (1 << other as u32) != 0,
                };
                if due {
                    woken.push(*pid);
                }
            }
        }
        for pid in woken {
            self.make_runnable(pid);
        }
    }

    /// Picks the process to run next: `current` unless it blocked, exited or is preempted
    /// by a waiting process; idles (wfi) while nothing can run.
    fn schedule(&mut self, current: Option<u32>, preempt: bool) -> u32 {
        loop {
            self.apply_wakeups();
            if let Some(pid) = current {
                if !preempt || self.run_queue.is_empty() {
                    return pid;
                }
                self.run_queue.push_back(pid);
            }
            while let Some(pid) = self.run_queue.pop_front() {
                if self
                    .procs
                    .get(&pid)
                    .is_some_and(|p| p.state == State::Runnable)
                {
                    return pid;
                }
            }
            self.idle();
        }
    }

    /// Waits for the next interrupt with nothing to run: the next sleeper's deadline, or a
    /// poll tick for console input. With nothing that could ever wake, waits forever (the
    /// emulator reports the deadlock).
    fn idle(&mut self) {
        let now = cpu::time();
        let mut deadline = u64::MAX;
        for p in self.procs.values() {
            match p.state {
                State::Blocked(WaitReason::Sleep) => {
                    deadline = deadline.min(p.sleep_until.unwrap_or(now));
                }
                State::Blocked(WaitReason::Stdin) => deadline = deadline.min(now + TIME_SLICE),
                _ => {}
            }
        }
        let disk = self
            .procs
            .values()
            .any(|p| p.state == State::Blocked(WaitReason::Disk));
        if deadline == u64::MAX && !disk {
            crate::klog!("every process is waiting for another: deadlock");
        }
        sbi::set_timer(deadline);
        self.timer_deadline = deadline;
        const STIP: u64 = 1 << 5;
        const SEIP: u64 = 1 << 9;
        while cpu::sip() & (STIP | SEIP) == 0 {
            crate::arch::wait_for_interrupt();
        }
        if cpu::sip() & SEIP != 0 && crate::drivers::external_interrupts() {
            wake_all(WaitReason::Disk);
        }
        // A fresh time slice is armed for whoever runs next (a sleeper whose deadline has
        // not come is checked again at every scheduling decision).
        self.timer_deadline = u64::MAX;
    }

    /// Gets `pid` ready to resume: its address space, its float registers, the timer.
    fn prepare_return(&mut self, pid: u32) {
        self.current = Some(pid);
        let fp_owner = self.fp_owner;
        let p = self.procs.get_mut(&pid).expect("scheduled process exists");
        p.space().activate();
        if fp_owner != Some(pid) {
            cpu::load_fp(&p.frame.fregs, p.frame.fcsr);
            cpu::mark_fp_clean();
            self.fp_owner = Some(pid);
        }
        if self.timer_deadline == u64::MAX {
            self.timer_deadline = cpu::time() + TIME_SLICE;
            sbi::set_timer(self.timer_deadline);
        }
    }

    /// Gives a borrowed address space back to the vfork parent `ppid` and lets it run.
    pub fn end_vfork(&mut self, ppid: u32, space: AddressSpace) {
        if let Some(parent) = self.procs.get_mut(&ppid) {
            parent.space = Some(space);
            self.make_runnable(ppid);
        } else {
            space.destroy();
        }
    }

    /// Forgets the FPU owner (its process exited).
    pub fn forget_fp_owner(&mut self, pid: u32) {
        if self.fp_owner == Some(pid) {
            self.fp_owner = None;
        }
    }
}
