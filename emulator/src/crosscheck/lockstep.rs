//! Instruction level (lockstep): sv39 and `qemu-system-riscv64` run the same images one
//! instruction at a time, and their whole architectural state is compared after each.
//!
//! QEMU runs with `-singlestep -d cpu,fpu,nochain` and writes its CPU log into a pipe
//! ([`super::qemu_log`]): a dump of pc, the trap CSRs, `satp`, x0..x31 and f0..f31 before
//! every instruction and at the first instruction of every trap handler. sv39 takes one step
//! ([`Machine::step_one`]: an instruction retires, or raises its exception and the trap is
//! taken) per dump, and the two states must be equal: pc, the privilege mode, the 32 integer
//! and 32 float registers, and `mstatus`, `mie`, `mideleg`, `medeleg`, `mtvec`, `stvec`,
//! `mepc`, `sepc`, `mcause`, `scause`, `mtval`, `stval`, `mscratch`, `sscratch`, `satp`,
//! `mhartid`.
//!
//! What legitimately differs is synchronised the way co-simulation tools do it, and counted:
//!
//! - **counters**: a CSR read of `cycle`, `time`, `instret`, the `hpmcounter`s, their M-mode
//!   twins, `mip` or `sip` writes QEMU's value into the destination register;
//! - **MMIO**: a load from a device register (not RAM, not the boot ROM) takes QEMU's value;
//! - **interrupts**: sv39 never takes an interrupt by itself; when QEMU's next state shows an
//!   interrupt trap taken at sv39's pc, sv39 takes the same one there
//!   ([`Machine::inject_interrupt`]). `mip` itself is therefore not compared;
//! - **known differences**: where sv39 follows the specification and QEMU 7.2 does not (the
//!   `.deviations` files of the ISA tests), the step is recognised by its instruction and the
//!   exact fields it changed, named in the report, and QEMU's state is adopted.
//!
//! QEMU 7.2's dump has no privilege mode: the comparison follows QEMU's mode from its own
//! states (a trap into M or S is visible in that mode's trap CSRs and `mstatus`; `mret` and
//! `sret` return to the MPP or SPP QEMU had) and compares it with sv39's.
//!
//! Both machines get the same device tree: sv39's, built without its own devices (host I/O,
//! fault trace), passed to QEMU with `-dtb`, so both memories hold the same bytes. QEMU's hart
//! is configured as sv39's (`-cpu rv64,h=false,zba=false,...`: RV64GC with S and U, Sv39,
//! `marchid` and `mimpid` 0) and its clock is `-icount shift=0,sleep=off`.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::qemu::{self, QEMU_SYSTEM, Running, Workspace};
use super::qemu_log::{CpuState, LogReader, Next};
use super::system::{SystemCheck, resolve_images};
use super::{Capture, CrosscheckError, Status};
use crate::boot::{BootConfig, HostConsole, Initrd, build_machine, human_size};
use crate::devices::{HostInput, HostIo, UartInput};
use crate::hart::decode::{Insn, Op, ZERO_SINK};
use crate::hart::trap::CAUSE_INTERRUPT;
use crate::hart::{Hart, Privilege};
use crate::machine::{Machine, RunOutcome};
use crate::program::ProgramSpec;
use crate::trace::Observer;

pub use super::lockstep_report::{Divergence, End, Field, LockstepReport, StepRecord, Syncs};
use super::lockstep_rules::*;
pub use super::lockstep_rules::{Known, differences, follow_privilege, snapshot};

/// QEMU's hart, made to match sv39's: RV64GC with S and U (no hypervisor, no bit
/// manipulation, no Sstc), and the identification CSRs sv39 reads as 0.
pub const QEMU_CPU: &str =
    "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,sstc=false,marchid=0,mimpid=0";

/// The file descriptor QEMU writes its CPU log to (`-D /dev/fd/3`).
const LOG_FD: i32 = 3;

/// Identical QEMU states in a row taken as one (see [`Run::next_state`]).
const MAX_REPEATS: usize = 64;

/// How many steps of history a divergence report shows.
pub const HISTORY: usize = 20;

/// What to run on both machines.
#[derive(Debug, Clone)]
pub struct LockstepCheck {
    /// Firmware: `None` for the embedded one, `Some("none")`, or a path.
    pub bios: Option<String>,
    /// Kernel: `None` for the embedded one.
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk (not with `program`).
    pub initrd: Option<PathBuf>,
    /// Kernel command line.
    pub append: Option<String>,
    /// A program for the embedded kernel to run as its first process (its initramfs and
    /// `/chosen` entries are built as `sv39 run PROGRAM` builds them).
    pub program: Option<ProgramSpec>,
    /// RAM size of both machines.
    pub ram_size: u64,
    /// QEMU's RAM size when it should differ from sv39's (a deliberate difference).
    pub qemu_ram_size: Option<u64>,
    /// Stop, agreeing, after this many steps.
    pub max_instructions: Option<u64>,
    /// Stop, agreeing, at the first instruction in user mode.
    pub until_user: bool,
    /// How long QEMU may go without producing a state.
    pub timeout: Duration,
    /// sv39's MMU options (`--ad trap` makes a deliberate difference).
    pub mmu: crate::mmu::MmuConfig,
}

/// What one sv39 step did, as the run loop reports it.
#[derive(Default)]
struct StepProbe {
    retired: Option<Insn>,
    trap: Option<u64>,
}

impl Observer for StepProbe {
    const ACTIVE: bool = true;
    const COMMITS: bool = false;
    fn retire(&mut self, _: &Hart, _: Privilege, _: u64, insn: &Insn) {
        self.retired = Some(*insn);
    }
    fn trap(&mut self, _: &Hart, cause: u64, _: u64, _: u64) {
        self.trap.get_or_insert(cause);
    }
}

/// Builds sv39's machine and QEMU's command line for `check` in `workspace`.
fn prepare(
    check: &LockstepCheck,
    workspace: &Workspace,
) -> Result<(Machine, Vec<String>), CrosscheckError> {
    if check.program.is_some() && (check.bios.is_some() || check.kernel.is_some()) {
        return Err(CrosscheckError::Usage(
            "a PROGRAM runs on the embedded firmware and kernel: not with --bios or --kernel"
                .into(),
        ));
    }
    let prepared = check
        .program
        .as_ref()
        .map(crate::program::prepare)
        .transpose()?;
    if prepared.is_some() && check.initrd.is_some() {
        return Err(CrosscheckError::Usage(
            "--initrd: not with a PROGRAM, whose initramfs sv39 builds".into(),
        ));
    }
    let images = resolve_images(
        &SystemCheck {
            bios: check.bios.clone(),
            kernel: check.kernel.clone(),
            initrd: check.initrd.clone(),
            append: check.append.clone(),
            ram_size: check.ram_size,
            ignore: Vec::new(),
            timeout: check.timeout,
            max_instructions: None,
            disk: None,
        },
        workspace,
    )?;
    let initrd = match &prepared {
        Some(p) => Some(Initrd::Bytes {
            name: "the program's initramfs".into(),
            data: p.initramfs.clone(),
        }),
        None => check.initrd.clone().map(Initrd::File),
    };
    let console = HostConsole {
        uart_input: UartInput::None,
        uart_output: Box::new(Capture::default()),
        hostio: HostIo::new(
            HostInput::Empty,
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        ),
    };
    let mut mmu = check.mmu;
    // Every TLB hit is checked against memory, so a stale one is recognised.
    mmu.tlb_check = true;
    let mut machine = build_machine(BootConfig {
        bios: images.bios,
        kernel: images.kernel,
        initrd,
        append: check.append.clone(),
        init: prepared.as_ref().map(|p| p.init.clone()),
        ram_size: check.ram_size,
        console,
        mmu,
        timing: crate::timing::Timing::unit(),
        sv39_devices: false,
    })?;
    machine.hart.mmu.quiet_stale = true;

    if check.bios.as_deref() == Some("none") {
        let entry = crate::bus::Device::read(&mut machine.bus.rom, 0x18, 8).unwrap_or(0);
        if entry != crate::layout::DRAM_BASE {
            return Err(CrosscheckError::Usage(format!(
                "--bios none with a program whose entry point is {entry:#x}: QEMU 7.2 starts \
                 it at {:#x}, sv39 at its entry, so the two part at the first jump",
                crate::layout::DRAM_BASE
            )));
        }
    }
    let mut args = images.qemu_args;
    for i in 1..args.len() {
        match args[i - 1].as_str() {
            // A deterministic clock that jumps to the next timer when the hart waits.
            "-icount" => args[i] = "shift=0,sleep=off".into(),
            // QEMU's memory size, when it differs on purpose.
            "-m" => {
                if let Some(size) = check.qemu_ram_size {
                    args[i] = human_size(size);
                }
            }
            _ => {}
        }
    }
    let write = |name: &str, data: &[u8]| -> Result<String, CrosscheckError> {
        let path = workspace.path().join(name);
        std::fs::write(&path, data).map_err(|io| CrosscheckError::Workspace {
            what: format!("writing {name}"),
            io,
        })?;
        Ok(path.display().to_string())
    };
    if let Some(p) = &prepared {
        args.extend(["-initrd".into(), write("initramfs.cpio", &p.initramfs)?]);
    }
    // The device tree sv39 built, read back from its RAM (where the boot ROM points a1).
    let fdt_addr = crate::bus::Device::read(&mut machine.bus.rom, 0x20, 8).unwrap_or(0);
    let mut header = [0u8; 8];
    machine.bus.ram.dump(fdt_addr, &mut header);
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut dtb = vec![0u8; total];
    machine.bus.ram.dump(fdt_addr, &mut dtb);
    args.extend(["-dtb".into(), write("sv39.dtb", &dtb)?]);
    args.extend(
        [
            "-cpu",
            QEMU_CPU,
            "-seed",
            "0",
            "-singlestep",
            "-d",
            "cpu,fpu,nochain",
            "-D",
            "/dev/fd/3",
        ]
        .map(String::from),
    );
    Ok((machine, args))
}

/// Starts QEMU with its CPU log on a pipe, and the thread that reads it.
fn start_qemu(
    args: &[String],
    workspace: &Workspace,
    timeout: Duration,
) -> Result<(Running, LogReader), CrosscheckError> {
    let program = qemu::locate(QEMU_SYSTEM)?;
    let (reader, writer) = std::io::pipe().map_err(|io| CrosscheckError::Spawn {
        program: QEMU_SYSTEM.program.into(),
        io,
    })?;
    let fd = writer.as_raw_fd();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(workspace.path());
    // SAFETY: between fork and exec the closure calls only async-signal-safe functions
    // (prctl, dup2, fcntl) on a descriptor this process owns, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            // QEMU dies with sv39, even when sv39 is killed outright (SIGKILL).
            nix::libc::prctl(nix::libc::PR_SET_PDEATHSIG, nix::libc::SIGKILL);
            let r = if fd == LOG_FD {
                nix::libc::fcntl(LOG_FD, nix::libc::F_SETFD, 0)
            } else {
                nix::libc::dup2(fd, LOG_FD)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let running = Running::spawn(cmd, &[], QEMU_SYSTEM.program)?;
    // QEMU holds the only writer now: the log ends when QEMU does.
    drop(writer);
    Ok((running, LogReader::new(reader, timeout)))
}

/// Runs the comparison.
pub fn check_lockstep(check: &LockstepCheck) -> Result<LockstepReport, CrosscheckError> {
    qemu::locate(QEMU_SYSTEM)?;
    let workspace = Workspace::new()?;
    let (mut machine, args) = prepare(check, &workspace)?;
    let (running, mut qemu) = start_qemu(&args, &workspace, check.timeout)?;
    let spawned = Instant::now();
    let mut run = Run {
        machine: &mut machine,
        history: std::collections::VecDeque::with_capacity(HISTORY + 1),
        syncs: Syncs::default(),
        steps: 0,
        started: None,
    };
    let end = run.compare(check, &mut qemu);
    let (steps, syncs) = (run.steps, run.syncs.clone());
    // The speed counts from QEMU's first state, not its start-up, nor the idle limit spent
    // waiting when both machines wait for good.
    let mut elapsed = run.started.map_or(Duration::ZERO, |t| t.elapsed());
    if matches!(end, End::BothWait { .. }) {
        elapsed = elapsed.saturating_sub(check.timeout);
    }
    let started = spawned;
    // Running::wait counts its deadline from QEMU's start.
    // QEMU is stopped at once unless its log ended (then it is exiting by itself).
    let grace = if qemu.ended() {
        started.elapsed() + check.timeout
    } else {
        Duration::ZERO
    };
    let finished = running.wait(grace)?;
    let mut messages = qemu.messages().to_vec();
    messages.extend(qemu.error.take());
    let end = match end {
        End::Exited { sv39, .. } => {
            let qemu_status = finished.status.clone();
            if qemu_status == Status::Exited(sv39) {
                End::Exited {
                    sv39,
                    qemu: qemu_status,
                }
            } else {
                End::StatusDiffers {
                    sv39,
                    qemu: qemu_status,
                }
            }
        }
        other => other,
    };
    messages.extend(
        String::from_utf8_lossy(&finished.stderr)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from),
    );
    // Nothing to compare is not a difference: the check could not be made.
    if let Some(error) = &qemu.error {
        return Err(CrosscheckError::Qemu(format!(
            "{}: {error}",
            QEMU_SYSTEM.program
        )));
    }
    if matches!(end, End::NoStates) {
        let why = messages.first().map_or(String::new(), |m| format!(": {m}"));
        return Err(CrosscheckError::Qemu(format!(
            "{} produced no CPU state{why}",
            QEMU_SYSTEM.program
        )));
    }
    Ok(LockstepReport {
        steps,
        instret: machine.hart.instret(),
        elapsed,
        syncs,
        end,
        qemu_messages: messages,
    })
}

/// The comparison in progress.
struct Run<'a> {
    machine: &'a mut Machine,
    history: std::collections::VecDeque<StepRecord>,
    syncs: Syncs,
    steps: u64,
    /// When QEMU's first state arrived.
    started: Option<Instant>,
}

impl Run<'_> {
    fn compare(&mut self, check: &LockstepCheck, qemu: &mut LogReader) -> End {
        let mut q_prev = match qemu.next_state() {
            Next::State(s) => s,
            Next::End | Next::Stalled => return End::NoStates,
        };
        self.started = Some(Instant::now());
        q_prev.privilege = Privilege::Machine as u8;
        let mut s_prev = snapshot(&self.machine.hart);
        let fields = differences(&q_prev, &s_prev);
        if !fields.is_empty() {
            return self.diverge("the reset states differ", fields, &q_prev, &s_prev);
        }
        loop {
            if check.max_instructions.is_some_and(|m| self.steps >= m) {
                return End::Limit;
            }
            if check.until_user && s_prev.privilege == Privilege::User as u8 && self.steps > 0 {
                return End::FirstUser { pc: s_prev.pc };
            }
            let pc = self.machine.hart.pc;
            let raw = self
                .machine
                .hart
                .peek_instruction(&mut self.machine.bus, pc);
            let mut record = StepRecord {
                step: self.steps + 1,
                pc,
                privilege: s_prev.privilege,
                insn: raw.map(crate::hart::decode::decode),
                sv39: s_prev,
                qemu: q_prev,
                sv39_after: s_prev,
                qemu_after: q_prev,
                trap: None,
                stale: false,
                notes: Vec::new(),
            };
            let q = match self.next_state(qemu, &q_prev) {
                Next::State(q) => q,
                Next::End => {
                    // QEMU powers off in the middle of the finisher store, without a state
                    // after it: sv39 must power off at the same instruction.
                    let outcome = self.machine.step_one(&mut StepProbe::default());
                    self.steps += 1;
                    return self.qemu_stopped(Next::End, outcome, record, check.timeout);
                }
                stop => return self.qemu_stopped(stop, None, record, check.timeout),
            };
            let interrupted = interrupt_before(&q, pc);
            let (outcome, q) = if let Some(cause) = interrupted {
                // QEMU's clock ran out before the instruction (-icount checks it at the start
                // of every block): the interrupt comes first, the instruction later.
                // QEMU dumped a state for the trap: a step of its own.
                self.steps += 1;
                self.inject(cause, &mut record, "before the instruction, which waits");
                (None, q)
            } else {
                self.step(&mut record, q)
            };
            let mut q = q;
            let ran = record.insn.filter(|_| interrupted.is_none());
            q.privilege = follow_privilege(&q_prev, &q, ran.map(|i| i.op));
            record.qemu_after = q;
            let mut s = snapshot(&self.machine.hart);
            let mut fields = differences(&q, &s);
            // Interrupts QEMU took right after the instruction (at most two: an S-level trap
            // and the M-level one right after it).
            for _ in 0..2 {
                let Some(cause) = injected_interrupt(&q, &s).filter(|_| !fields.is_empty()) else {
                    break;
                };
                if !self.inject(cause, &mut record, "after the instruction") {
                    break;
                }
                s = snapshot(&self.machine.hart);
                fields = differences(&q, &s);
            }
            if !fields.is_empty() {
                let insn = ran;
                if let Some(known) = known_difference(
                    insn.as_ref(),
                    record.trap,
                    record.stale,
                    &record.sv39,
                    &s,
                    &q,
                    &fields,
                ) {
                    adopt(&mut self.machine.hart, &q);
                    *self.syncs.known.entry(known).or_default() += 1;
                    record
                        .notes
                        .push(format!("known difference: {}", known.name));
                    s = snapshot(&self.machine.hart);
                    fields = differences(&q, &s);
                }
            }
            record.sv39_after = s;
            self.push(record);
            if !fields.is_empty() {
                return self.diverge("the states differ", fields, &q, &s);
            }
            if outcome.is_some() {
                // sv39 powered off; QEMU must end here too.
                return match qemu.next_state() {
                    Next::End => match outcome {
                        Some(RunOutcome::Exit(code)) => End::Exited {
                            sv39: i32::from(code as u8),
                            qemu: Status::Exited(0),
                        },
                        _ => End::Limit,
                    },
                    _ => self.diverge_at_end("sv39 powered off; QEMU went on"),
                };
            }
            q_prev = q;
            s_prev = s;
        }
    }

    /// sv39 takes interrupt `cause` now (where QEMU took it), if sv39 has it enabled here;
    /// otherwise the states stay apart and the report says why.
    fn inject(&mut self, cause: u64, record: &mut StepRecord, when: &str) -> bool {
        if !self.machine.hart.interrupt_enabled(cause) {
            record.notes.push(format!(
                "QEMU took interrupt {} {when}; sv39 has it disabled here",
                cause & !CAUSE_INTERRUPT
            ));
            return false;
        }
        self.machine
            .inject_interrupt(cause, &mut StepProbe::default());
        self.syncs.interrupts += 1;
        record.notes.push(format!(
            "interrupt {} injected {when}",
            cause & !CAUSE_INTERRUPT
        ));
        true
    }

    /// sv39 runs the instruction of `record`; `q` is QEMU's next state. Returns how sv39's
    /// machine stopped, if it did, and the QEMU state to compare with (the next one, when
    /// QEMU dumped this one twice).
    fn step(&mut self, record: &mut StepRecord, q: CpuState) -> (Option<RunOutcome>, CpuState) {
        let hart = &self.machine.hart;
        let (reads, stale, stale_data) = (
            hart.device_reads,
            hart.mmu.counters.stale_hits,
            hart.mmu.stale_data_hits,
        );
        let mut probe = StepProbe::default();
        let mut outcome = self.machine.step_one(&mut probe);
        self.steps += 1;
        if let Some(insn) = probe.retired {
            record.insn = Some(insn);
        }
        record.trap = probe.trap;
        if let Some(RunOutcome::Exit(code)) = outcome {
            record
                .notes
                .push(format!("sv39 powered off (status {code})"));
        }
        self.synchronise(record, &q, probe.retired.is_some(), reads);
        // QEMU dumps no state for an instruction whose fetch faults (the fault comes before
        // its block exists): its next state is already in the handler. sv39 takes the fetch
        // fault as a step of its own, here.
        let next_pc = self.machine.hart.pc;
        if outcome.is_none() && fetch_fault_at(&q, next_pc) {
            let mut fetch = StepProbe::default();
            outcome = self.machine.step_one(&mut fetch);
            self.steps += 1;
            record.trap = fetch.trap;
            record.notes.push(if matches!(fetch.trap, Some(1 | 12)) {
                format!("then the fetch fault at {next_pc:#x} (QEMU dumps no state for it)")
            } else {
                format!("QEMU shows a fetch fault at {next_pc:#x}; sv39 ran what is there")
            });
        }
        let mmu = &self.machine.hart.mmu;
        record.stale = mmu.stale_data_hits != stale_data;
        if mmu.counters.stale_hits != stale {
            record
                .notes
                .push("a TLB hit whose PTE has changed in memory".into());
        }
        (outcome, q)
    }

    /// QEMU's next state that is not a repeat of `q_prev`. Under -icount QEMU dumps a state
    /// and then may not run the instruction: its block budget ran out (then an interrupt
    /// may come first), or the instruction touches a device in the middle of its block and
    /// is abandoned to be run again. Either way the same state is dumped again, and the
    /// repeat is skipped. A jump to itself also repeats its state: after [`MAX_REPEATS`]
    /// repeats the state is taken as the next step's.
    fn next_state(&mut self, qemu: &mut LogReader, q_prev: &CpuState) -> Next {
        for _ in 0..MAX_REPEATS {
            match qemu.next_state() {
                Next::State(mut q) => {
                    q.privilege = q_prev.privilege;
                    if !differences(&q, q_prev).is_empty() {
                        return Next::State(q);
                    }
                    self.syncs.qemu_repeats += 1;
                }
                stop => return stop,
            }
        }
        let mut q = *q_prev;
        q.privilege = q_prev.privilege;
        Next::State(q)
    }

    /// QEMU's log ended (or stalled) after sv39's step `record`, which ended with `outcome`.
    fn qemu_stopped(
        &mut self,
        stop: Next,
        outcome: Option<RunOutcome>,
        mut record: StepRecord,
        timeout: Duration,
    ) -> End {
        if let (Next::End, Some(RunOutcome::Exit(code))) = (&stop, outcome) {
            return End::Exited {
                sv39: i32::from(code as u8),
                qemu: Status::Exited(0),
            };
        }
        // QEMU halted in a wfi no interrupt can end: if sv39, running the same wfi, can never
        // wake either, the machines agree to the end; they both wait for good.
        if matches!(stop, Next::Stalled)
            && outcome.is_none()
            && record.insn.is_some_and(|i| i.op == Op::Wfi)
        {
            let pc = record.pc;
            self.machine.step_one(&mut StepProbe::default());
            if !self.machine.can_wake() {
                self.steps += 1;
                return End::BothWait { pc };
            }
        }
        record.sv39_after = snapshot(&self.machine.hart);
        self.push(record);
        let what = match stop {
            Next::Stalled => format!(
                "QEMU produced no state for {} s after this instruction (its hart waiting in wfi for an interrupt that never comes?)",
                timeout.as_secs()
            ),
            _ => "QEMU stopped (its log ended) after this instruction; sv39 did not".into(),
        };
        self.diverge_at_end(&what)
    }

    /// Copies QEMU's value of a counter or MMIO read into sv39's destination register.
    fn synchronise(&mut self, record: &mut StepRecord, q: &CpuState, retired: bool, reads: u64) {
        let Some(insn) = record.insn.filter(|_| retired) else {
            return;
        };
        let hart = &mut self.machine.hart;
        let counter = is_csr_op(insn.op) && synchronised_csr((insn.imm as u32 & 0xfff) as u16);
        let mmio = is_load(insn.op)
            && hart.device_reads != reads
            && !(crate::layout::BOOTROM_BASE..crate::layout::BOOTROM_BASE + 0x1_0000)
                .contains(&hart.last_device_read);
        if !counter && !mmio {
            return;
        }
        let rd = insn.rd as usize;
        let changed = if matches!(insn.op, Op::Flw | Op::Fld) {
            let changed = hart.f[rd] != q.f[rd];
            hart.f[rd] = q.f[rd];
            changed
        } else if rd != ZERO_SINK as usize && rd < 32 {
            let changed = hart.x[rd] != q.x[rd];
            hart.x[rd] = q.x[rd];
            changed
        } else {
            false
        };
        let (count, differed, what) = if counter {
            (
                &mut self.syncs.counter_reads,
                &mut self.syncs.counter_changed,
                "counter read",
            )
        } else {
            (
                &mut self.syncs.mmio_reads,
                &mut self.syncs.mmio_changed,
                "MMIO read",
            )
        };
        *count += 1;
        if changed {
            *differed += 1;
            record.notes.push(format!("{what}: QEMU's value taken"));
        }
    }

    fn push(&mut self, record: StepRecord) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(record);
    }

    fn diverge(&mut self, what: &str, fields: Vec<Field>, q: &CpuState, s: &CpuState) -> End {
        End::Diverged(Box::new(Divergence {
            step: self.history.back().map_or(self.steps, |r| r.step),
            instret: self.machine.hart.instret(),
            what: what.to_string(),
            fields: fields
                .into_iter()
                .map(|f| (f, f.get(q), f.get(s)))
                .collect(),
            history: std::mem::take(&mut self.history).into(),
        }))
    }

    fn diverge_at_end(&mut self, what: &str) -> End {
        let s = snapshot(&self.machine.hart);
        self.diverge(what, Vec::new(), &s, &s)
    }
}

#[cfg(test)]
#[path = "lockstep_tests.rs"]
mod tests;
