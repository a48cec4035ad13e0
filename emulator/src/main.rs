//! The `sv39` command line: parses arguments, starts logging, runs the library, and maps the
//! outcome to an exit status.
//!
//! `sv39 run PROGRAM [ARGS...]` (program mode) boots the embedded firmware and kernel with an
//! initramfs holding PROGRAM, which the kernel runs as its first process (see
//! [`sv39::program`]); the program's stdout and stderr are the host's, and the console
//! (firmware banner, kernel messages) goes to the log. Without PROGRAM, the UART is stdout.
//!
//! Exit status: the guest's own (finisher or HTIF) when it powers off; 124 when it hangs
//! (the `--max-instructions` budget ran out, or it waits for an interrupt that cannot come);
//! 2 for bad arguments or input files; 1 for other host errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sv39::boot::{BootConfig, HostConsole, Initrd, build_machine_with_disk};
use sv39::devices::Transport;
use sv39::machine::RunOutcome;
use sv39::program::{ProgramSource, ProgramSpec};
use sv39::trace::CommitLog;

/// Exit status for a guest that hung.
const EXIT_HANG: u8 = 124;
/// Exit status for bad input.
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "sv39",
    version,
    about = "An emulated RISC-V machine for studying virtual memory"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show info-level logs on stderr, among them the guest console in program mode
    /// (`RUST_LOG`, when set, decides instead).
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run a static Linux riscv64 program (`sv39 run PROGRAM [ARGS...]`), or boot the
    /// machine with firmware, kernel and initrd as on QEMU's `virt`.
    Run(Box<RunArgs>),
    /// Write the embedded firmware and kernel ELF files to a directory, for QEMU or gdb.
    Images {
        /// Directory to write them into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Run the same thing on sv39 and on QEMU and compare (status 0: agree, 1: differ).
    ///
    /// `sv39 crosscheck PROGRAM [ARGS...]` runs a static Linux riscv64 program on sv39 and
    /// under qemu-riscv64 and compares stdout, stderr and exit status. `sv39 crosscheck
    /// --system` boots images on sv39 and on qemu-system-riscv64 and compares the console
    /// transcripts and exit statuses. Status 2: the check could not be made.
    Crosscheck(Box<CrosscheckArgs>),
    /// Print a cost model as a commented timing file, to read or to edit for --timing.
    Timing {
        /// A built-in model, u74 (the default) or unit, or a timing file to check and print in
        /// full.
        #[arg(value_name = "FILE|MODEL", default_value = "u74")]
        spec: String,
    },
    /// Measure interpreter speed on built-in bare-metal loops (million instructions/s).
    Bench {
        /// Approximate length of each benchmark, in millions of guest instructions.
        #[arg(long, default_value_t = 200, value_name = "N")]
        millions: u32,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Firmware image (ELF, or raw binary at 0x8000_0000), or `none` to start the hart at
    /// the kernel's entry point in M-mode (how bare-metal test programs run). Default: the
    /// embedded sv39 firmware.
    #[arg(long, value_name = "PATH|none")]
    bios: Option<String>,
    /// Kernel or bare-metal program (ELF at its physical addresses, or raw binary at
    /// 0x8020_0000, or 0x8000_0000 with `--bios none`). Default: the embedded sv39 kernel.
    #[arg(long, value_name = "PATH")]
    kernel: Option<PathBuf>,
    /// Initial ramdisk, announced in the device tree's /chosen node (not with PROGRAM, which
    /// makes its own).
    #[arg(long, value_name = "PATH")]
    initrd: Option<PathBuf>,
    /// Kernel command line (/chosen/bootargs); --policy and --frames add to it.
    #[arg(long, value_name = "ARGS")]
    append: Option<String>,
    /// RAM size: a number of MiB, or with a suffix K, M, G (e.g. 512M, 2G), as QEMU's -m.
    #[arg(short = 'm', long = "memory", value_name = "SIZE", default_value = "128M",
          value_parser = parse_size)]
    memory: u64,
    /// Disk image (raw, whole 512-byte sectors) for the virtio-blk device on the first
    /// virtio-mmio transport (0x1000_1000, IRQ 1), opened read-write; created sparse when
    /// missing (of --disk-size, by default twice RAM, 256M to 4G). Without it, the embedded
    /// kernel gets a private temporary disk of that size, deleted at exit.
    #[arg(long, value_name = "PATH", conflicts_with = "no_disk")]
    disk: Option<PathBuf>,
    /// Size of a disk sv39 creates (a missing --disk file, or the temporary disk): a
    /// positive multiple of 512 with K, M, G or T as for -m, but a plain number is bytes (as
    /// qemu-img). An existing --disk file keeps its size (a different --disk-size is a
    /// warning).
    #[arg(long, value_name = "SIZE", value_parser = parse_disk_size, conflicts_with = "no_disk")]
    disk_size: Option<u64>,
    /// No disk, not even the temporary one the embedded kernel otherwise gets.
    #[arg(long)]
    no_disk: bool,
    /// The virtio-mmio transport in modern mode (Version 2, FEATURES_OK handshake), as QEMU's
    /// `-global virtio-mmio.force-legacy=false`. Default: legacy (Version 1), QEMU's default.
    #[arg(long)]
    virtio_modern: bool,
    /// Page replacement policy of the embedded kernel: appends `vm.policy=NAME` to the
    /// kernel command line.
    #[arg(long, value_name = "NAME", value_parser = ["fifo", "clock", "lru"])]
    policy: Option<String>,
    /// Physical page frames the embedded kernel may give to programs: appends `vm.frames=N`
    /// to the kernel command line.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    frames: Option<u64>,
    /// Stop after this many instructions (exit status 124).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Write a commit log in Spike's --log-commits format to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// TLB geometry: comma-separated itlb=N, dtlb=N, entries=N (both), ways=N|full,
    /// policy=lru|fifo|random. Default: itlb=32,dtlb=32,ways=full,policy=lru.
    #[arg(long, value_name = "SPEC")]
    tlb: Option<String>,
    /// Accessed/dirty bits: `hardware` (the walker sets them, as QEMU) or `trap` (a page
    /// fault when they need setting, as Spike).
    #[arg(long, value_name = "POLICY", default_value = "hardware", value_parser = ["hardware", "trap"])]
    ad: String,
    /// On every TLB hit, also walk the page table and report hits that no longer match
    /// memory (a missing sfence.vma). Slower.
    #[arg(long)]
    tlb_check: bool,
    /// Print TLB, walk, fence and fault counters to stderr when the machine stops.
    #[arg(long)]
    stats: bool,
    /// The cost model: a built-in model, u74 (a simple in-order core of the SiFive U74 class,
    /// the default) or unit (one cycle per instruction and per trap, as QEMU's -icount
    /// shift=0), or a TOML timing file (see `sv39 timing`; a file named like a model needs a
    /// path, ./unit).
    #[arg(long, value_name = "FILE|MODEL")]
    timing: Option<String>,
    /// Measure every page fault of the program and print, at exit, a table per kind (cycles,
    /// instructions, PTE reads, the kernel functions that took the time) on stderr.
    #[arg(long)]
    faults: bool,
    /// Write one row per page fault to FILE: .csv, or .jsonl for JSON lines.
    #[arg(long, value_name = "FILE")]
    fault_log: Option<PathBuf>,
    /// Write a histogram of cycles per fault, one colour per kind, to FILE (.svg).
    #[arg(long, value_name = "FILE")]
    fault_plot: Option<PathBuf>,
    /// Write the same counters as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// With PROGRAM: also put host file HOST in the guest, at GUEST (default: HOST as typed,
    /// from /). Repeatable.
    #[arg(long = "file", value_name = "HOST[:GUEST]")]
    files: Vec<String>,
    /// With PROGRAM: set an environment variable. The environment is otherwise exactly
    /// PATH=/usr/local/bin:/usr/bin:/bin HOME=/ TERM=dumb. Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Run the example program NAME built into sv39 (as /bin/NAME) instead of PROGRAM;
    /// everything after NAME is its arguments.
    #[arg(long, value_name = "NAME", num_args = 1.., allow_hyphen_values = true)]
    example: Option<Vec<String>>,
    /// A static riscv64 Linux program (ELF) to run, then its arguments: everything after
    /// PROGRAM goes to the program, options too. It is at /PROGRAM in the guest, whose
    /// working directory is /. A PROGRAM that is no host file but names a built-in example
    /// (`sv39 run swap-demo`) runs that example, as --example would.
    #[arg(value_name = "PROGRAM", trailing_var_arg = true)]
    command: Vec<String>,
}

#[derive(clap::Args)]
struct CrosscheckArgs {
    /// Boot images on both machines (qemu-system-riscv64 -M virt -icount shift=0) and compare
    /// the console transcripts line by line, instead of running a Linux program.
    #[arg(long)]
    system: bool,
    /// Run both machines (qemu-system-riscv64 -singlestep -d cpu,fpu) one instruction at a
    /// time and compare pc, privilege mode, registers and trap CSRs after every instruction:
    /// the images of --system, or the embedded firmware and kernel running PROGRAM (or
    /// --example NAME) as their first process. Counter and MMIO reads take QEMU's value and
    /// interrupts are injected where QEMU took them, all counted.
    #[arg(long, conflicts_with = "system")]
    lockstep: bool,
    /// With --lockstep: stop, agreeing, at the first instruction in user mode.
    #[arg(long)]
    until_user: bool,
    /// With --lockstep: QEMU's RAM size, when it should differ from sv39's (-m) on purpose.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    qemu_memory: Option<u64>,
    /// With --lockstep: sv39's accessed/dirty policy. `trap` differs from QEMU on purpose.
    #[arg(long, value_name = "POLICY", default_value = "hardware",
          value_parser = ["hardware", "trap"])]
    ad: String,
    /// With --system or --lockstep: firmware image, or `none`. Default: the embedded sv39 firmware.
    #[arg(long, value_name = "PATH|none", conflicts_with_all = ["command", "example"])]
    bios: Option<String>,
    /// With --system or --lockstep: kernel image. Default: the embedded sv39 kernel.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["command", "example"])]
    kernel: Option<PathBuf>,
    /// With --system or --lockstep: initial ramdisk.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["command", "example"])]
    initrd: Option<PathBuf>,
    /// With --system or --lockstep: kernel command line.
    #[arg(long, value_name = "ARGS", conflicts_with_all = ["command", "example"])]
    append: Option<String>,
    /// With --system or --lockstep: RAM size for both machines, as QEMU's -m [default: 128M].
    #[arg(short = 'm', long = "memory", value_name = "SIZE", value_parser = parse_size,
          conflicts_with_all = ["command", "example"])]
    memory: Option<u64>,
    /// With --system: a disk image for the virtio-blk device of both machines (QEMU gets a
    /// copy, attached as `-drive file=COPY,if=none,format=raw,id=d0 -device
    /// virtio-blk-device,drive=d0`).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["command", "example"])]
    disk: Option<PathBuf>,
    /// With --system: leave console lines matching this regular expression out of the
    /// comparison, on both sides. Repeatable.
    #[arg(long, value_name = "REGEX", conflicts_with_all = ["command", "example"])]
    ignore: Vec<String>,
    /// Kill QEMU if it has not finished after this many seconds (with --lockstep: if it has
    /// produced no instruction for this many seconds).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Stop sv39 after this many instructions (it then counts as not having exited; with
    /// --lockstep, the comparison stops there, agreeing).
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Also put host file HOST in the guest at GUEST, on both sides. Repeatable.
    #[arg(long = "file", value_name = "HOST[:GUEST]", conflicts_with = "system")]
    files: Vec<String>,
    /// Set an environment variable, on both sides (the environment is otherwise exactly
    /// PATH=/usr/local/bin:/usr/bin:/bin HOME=/ TERM=dumb). Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", conflicts_with = "system")]
    env: Vec<String>,
    /// Check the example program NAME built into sv39 (as /bin/NAME) instead of PROGRAM;
    /// everything after NAME is its arguments.
    #[arg(long, value_name = "NAME", num_args = 1.., allow_hyphen_values = true,
          conflicts_with = "system")]
    example: Option<Vec<String>>,
    /// The static riscv64 Linux program and its arguments, as for `sv39 run`. Both sides read
    /// the same stdin (read to its end first; empty when it is a terminal).
    #[arg(value_name = "PROGRAM", trailing_var_arg = true, conflicts_with = "system",
          required_unless_present_any = ["system", "example", "lockstep"])]
    command: Vec<String>,
}

impl RunArgs {
    /// The program to run, if any (program mode).
    fn program(&self) -> anyhow::Result<Option<ProgramSpec>> {
        let (program, args) = match (&self.example, self.command.split_first()) {
            (Some(example), _) => {
                let Some((name, args)) = example.split_first() else {
                    anyhow::bail!("--example needs a NAME");
                };
                (ProgramSource::Example(name.clone()), args.to_vec())
            }
            (None, Some((path, args))) => (program_source(path), args.to_vec()),
            (None, None) => {
                if !self.files.is_empty() || !self.env.is_empty() {
                    anyhow::bail!("--file and --env need a PROGRAM (or --example NAME) to run");
                }
                return Ok(None);
            }
        };
        if let Some(initrd) = &self.initrd {
            anyhow::bail!(
                "--initrd {}: not with a PROGRAM, whose initramfs sv39 builds; \
                 add files with --file HOST[:GUEST]",
                initrd.display()
            );
        }
        Ok(Some(ProgramSpec {
            program,
            args,
            files: self.files.clone(),
            env: self.env.clone(),
        }))
    }
}

/// PROGRAM as typed: a host file, or, when no such file exists and the name is one of the
/// built-in examples (`sv39 run swap-demo`), that example.
fn program_source(typed: &str) -> ProgramSource {
    if !std::path::Path::new(typed).exists() && sv39::images::example(typed).is_some() {
        ProgramSource::Example(typed.to_string())
    } else {
        ProgramSource::Path(typed.to_string())
    }
}

/// Parses a memory size as QEMU's `-m` does: plain numbers are MiB.
fn parse_size(s: &str) -> Result<u64, String> {
    parse_size_in(s, 20)
}

/// Parses a disk size: suffixes as for `-m`, but plain numbers are bytes (as `qemu-img`),
/// and the size must be whole 512-byte sectors.
fn parse_disk_size(s: &str) -> Result<u64, String> {
    let size = parse_size_in(s, 0)?;
    if size == 0 || !size.is_multiple_of(512) {
        return Err(format!(
            "a disk size must be a positive multiple of 512 bytes, not {size}"
        ));
    }
    Ok(size)
}

/// Parses a size with an optional K, M, G or T suffix; a plain number is shifted left by
/// `plain_shift`.
fn parse_size_in(s: &str, plain_shift: u32) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() && t[..i].bytes().all(|b| b.is_ascii_digit()) => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => {
                    return Err(format!(
                        "unknown size suffix '{c}' in '{s}' (use K, M, G or T)"
                    ));
                }
            };
            (&t[..i], shift)
        }
        _ => (t, plain_shift),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (examples: 128M, 2G, 512)"))?;
    n.checked_mul(1 << shift)
        .filter(|&v| v >> shift == n)
        .ok_or_else(|| format!("size '{s}' is too large"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap does.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line naming the problem, as for every other bad input.
            // clap's message runs until its first blank line; join it into one line.
            let text = e.to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            eprintln!(
                "sv39: {} (see sv39 --help)",
                message.trim_start_matches("error: ")
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let default_filter = if cli.verbose { "info" } else { "warn" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
        .format_timestamp(None)
        .init();
    match cli.command {
        Command::Run(args) => match run(*args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("sv39: {e:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Images { out } => match sv39::images::write_all(&out) {
            Ok(paths) => {
                for p in paths {
                    println!("{}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sv39: cannot write images to {}: {e}", out.display());
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Crosscheck(args) => match crosscheck(*args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("sv39 crosscheck: {e:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Timing { spec } => match sv39::timing::Timing::load(&spec) {
            Ok(t) => {
                print!("{}", t.to_toml());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sv39: {e}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Bench { millions } => {
            for r in sv39::bench::standard(millions) {
                let misses = r
                    .dtlb_miss_rate
                    .map(|m| format!(", dTLB miss rate {:.2}%", m * 100.0))
                    .unwrap_or_default();
                println!(
                    "{:<14} {:>11} instructions in {:.3} s: {:>8.1} MIPS ({:?}{misses})",
                    r.name,
                    r.instructions,
                    r.seconds,
                    r.mips(),
                    r.outcome
                );
            }
            ExitCode::SUCCESS
        }
    }
}

/// Runs the cross-check, prints its report, and says whether the two sides agree.
fn crosscheck(args: CrosscheckArgs) -> anyhow::Result<bool> {
    use sv39::crosscheck::{ProgramCheck, SystemCheck, check_program, check_system};
    let timeout = std::time::Duration::from_secs(args.timeout);
    if args.lockstep {
        return crosscheck_lockstep(args, timeout);
    }
    // clap counts a flag's default as present, so `requires` cannot say this.
    if args.until_user || args.qemu_memory.is_some() || args.ad != "hardware" {
        anyhow::bail!("--until-user, --qemu-memory and --ad need --lockstep");
    }
    if args.system {
        let report = check_system(&SystemCheck {
            bios: args.bios,
            kernel: args.kernel,
            initrd: args.initrd,
            append: args.append,
            ram_size: args.memory.unwrap_or(sv39::layout::DEFAULT_RAM),
            ignore: args.ignore,
            timeout,
            max_instructions: args.max_instructions,
            disk: args.disk,
        })?;
        print_report(&report);
        return Ok(report.agrees());
    }
    let (program, program_args) = match (&args.example, args.command.split_first()) {
        (Some(example), _) => {
            let Some((name, rest)) = example.split_first() else {
                anyhow::bail!("--example needs a NAME");
            };
            (ProgramSource::Example(name.clone()), rest.to_vec())
        }
        (None, Some((path, rest))) => (program_source(path), rest.to_vec()),
        (None, None) => anyhow::bail!("give a PROGRAM to run, or --system"),
    };
    let stdin = {
        use std::io::{IsTerminal, Read};
        let mut bytes = Vec::new();
        let mut input = std::io::stdin();
        if !input.is_terminal() {
            input
                .read_to_end(&mut bytes)
                .context("reading stdin for both sides")?;
        }
        bytes
    };
    let report = check_program(&ProgramCheck {
        spec: ProgramSpec {
            program,
            args: program_args,
            files: args.files,
            env: args.env,
        },
        stdin,
        timeout,
        max_instructions: args.max_instructions,
    })?;
    print_report(&report);
    Ok(report.agrees())
}

/// `sv39 crosscheck --lockstep`.
fn crosscheck_lockstep(args: CrosscheckArgs, timeout: std::time::Duration) -> anyhow::Result<bool> {
    use sv39::crosscheck::{LockstepCheck, check_lockstep};
    let program = match (&args.example, args.command.split_first()) {
        (Some(example), _) => {
            let Some((name, rest)) = example.split_first() else {
                anyhow::bail!("--example needs a NAME");
            };
            Some((ProgramSource::Example(name.clone()), rest.to_vec()))
        }
        (None, Some((path, rest))) => Some((program_source(path), rest.to_vec())),
        (None, None) => None,
    };
    if args.disk.is_some() {
        anyhow::bail!(
            "--lockstep does not take --disk: QEMU's disk completes its requests on host \
             threads, at no fixed instruction"
        );
    }
    if !args.ignore.is_empty() {
        anyhow::bail!("--ignore is for --system: --lockstep compares states, not consoles");
    }
    if program.is_none() && (!args.files.is_empty() || !args.env.is_empty()) {
        anyhow::bail!("--file and --env need a PROGRAM (or --example NAME) to run");
    }
    if let Some(size) = args.qemu_memory
        && !(sv39::layout::MIN_RAM..=sv39::layout::MAX_RAM).contains(&size)
    {
        anyhow::bail!(
            "--qemu-memory {}: out of range ({} to {})",
            sv39::boot::human_size(size),
            sv39::boot::human_size(sv39::layout::MIN_RAM),
            sv39::boot::human_size(sv39::layout::MAX_RAM)
        );
    }
    let mut mmu = sv39::mmu::MmuConfig::default();
    if args.ad == "trap" {
        mmu.ad = sv39::mmu::AdPolicy::Trap;
    }
    let report = check_lockstep(&LockstepCheck {
        bios: args.bios,
        kernel: args.kernel,
        initrd: args.initrd,
        append: args.append,
        program: program.map(|(program, args_)| ProgramSpec {
            program,
            args: args_,
            files: args.files,
            env: args.env,
        }),
        ram_size: args.memory.unwrap_or(sv39::layout::DEFAULT_RAM),
        qemu_ram_size: args.qemu_memory,
        max_instructions: args.max_instructions,
        until_user: args.until_user,
        timeout,
        mmu,
    })?;
    print_report(&report);
    Ok(report.agrees())
}

/// A crosscheck report on stdout; a closed stdout (`| head`) is no reason to fail.
fn print_report(report: &impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(std::io::stdout().lock(), "{report}");
}

/// A line on stderr after the run; a closed stderr is no reason to fail.
fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Refuses two report options naming one file (the second would overwrite the first).
fn check_distinct_outputs(outputs: &[(&str, Option<&PathBuf>)]) -> anyhow::Result<()> {
    let named: Vec<(&str, PathBuf)> = outputs
        .iter()
        .filter_map(|(option, path)| {
            let path = (*path)?;
            Some((
                *option,
                std::path::absolute(path).unwrap_or_else(|_| path.clone()),
            ))
        })
        .collect();
    for (i, (first, a)) in named.iter().enumerate() {
        if let Some((second, _)) = named[i + 1..].iter().find(|(_, b)| a == b) {
            anyhow::bail!(
                "{first} and {second} both write {}: give each its own file",
                a.display()
            );
        }
    }
    Ok(())
}

/// Flushes the commit log and reports its first write error.
fn finish_trace<W: std::io::Write>(
    log: CommitLog<W>,
    path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let shown = path.map(|p| p.display().to_string()).unwrap_or_default();
    log.finish()
        .with_context(|| format!("writing trace file {shown}"))
}

/// The kernel command line: `--append`, then the words `--policy` and `--frames` stand for.
fn bootargs(args: &RunArgs) -> Option<String> {
    let policy = args.policy.as_ref().map(|p| format!("vm.policy={p}"));
    let frames = args.frames.map(|n| format!("vm.frames={n}"));
    let mut line = args.append.clone();
    for word in policy.into_iter().chain(frames) {
        line = Some(match line {
            Some(l) if !l.is_empty() => format!("{l} {word}"),
            _ => word,
        });
    }
    line
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    use sv39::boot::{DiskConfig, DiskSource, ImageSource, default_disk_size};
    use sv39::images;
    let timing = match &args.timing {
        Some(spec) => sv39::timing::Timing::load(spec)?,
        None => sv39::timing::Timing::default(),
    };
    // Bad report files are found before the run, not after it.
    check_distinct_outputs(&[
        ("--fault-log", args.fault_log.as_ref()),
        ("--fault-plot", args.fault_plot.as_ref()),
        ("--stats-json", args.stats_json.as_ref()),
        ("--trace", args.trace.as_ref()),
    ])?;
    if let Some(path) = &args.fault_log {
        sv39::observe::report::check_log_path(path).context("--fault-log")?;
    }
    if let Some(path) = &args.fault_plot {
        sv39::observe::report::check_plot_path(path).context("--fault-plot")?;
    }
    let append = bootargs(&args);
    let program = match args.program()? {
        Some(spec) => Some(sv39::program::prepare(&spec)?),
        None => None,
    };
    let bios = match args.bios.as_deref() {
        Some("none") => None,
        Some(path) => Some(ImageSource::File(PathBuf::from(path))),
        None => Some(ImageSource::Embedded(
            images::FIRMWARE_NAME,
            images::FIRMWARE,
        )),
    };
    // Without --kernel the embedded kernel runs, except bare-metal (--bios none) without a
    // PROGRAM, which needs a program of its own.
    let kernel = match (args.kernel.clone(), &bios) {
        (Some(path), _) => Some(ImageSource::File(path)),
        (None, None) if program.is_none() => None,
        (None, _) => Some(ImageSource::Embedded(images::KERNEL_NAME, images::KERNEL)),
    };
    // The embedded kernel gets a scratch disk unless told otherwise.
    let embedded_kernel = matches!(kernel, Some(ImageSource::Embedded(..)));
    let disk_source = match &args.disk {
        Some(path) => Some(DiskSource::File {
            path: path.clone(),
            size: args.disk_size,
        }),
        None if embedded_kernel && !args.no_disk => Some(DiskSource::Temporary {
            size: args
                .disk_size
                .unwrap_or_else(|| default_disk_size(args.memory)),
        }),
        None => {
            if let Some(size) = args.disk_size {
                anyhow::bail!("--disk-size {size}: there is no disk to size; add --disk PATH");
            }
            None
        }
    };
    let (initrd, init) = match program {
        Some(p) => {
            let initrd = Initrd::Bytes {
                name: "the program's initramfs".into(),
                data: p.initramfs,
            };
            (Some(initrd), Some(p.init))
        }
        None => (args.initrd.map(Initrd::File), None),
    };
    let console = if init.is_some() {
        HostConsole::program()
    } else {
        HostConsole::uart()
    };
    let mut mmu = sv39::mmu::MmuConfig::default();
    if let Some(spec) = &args.tlb {
        mmu.apply_tlb_spec(spec)?;
    }
    mmu.ad = if args.ad == "trap" {
        sv39::mmu::AdPolicy::Trap
    } else {
        sv39::mmu::AdPolicy::Hardware
    };
    mmu.tlb_check = args.tlb_check;
    let disk = match disk_source {
        Some(source) => {
            let transport = if args.virtio_modern {
                Transport::Modern
            } else {
                Transport::Legacy
            };
            let cfg = DiskConfig { source, transport };
            Some(sv39::boot::open_disk(&cfg, args.memory)?)
        }
        None => None,
    };
    let mut machine = build_machine_with_disk(
        BootConfig {
            bios,
            kernel,
            initrd,
            append,
            init,
            ram_size: args.memory,
            console,
            mmu,
            timing,
            sv39_devices: true,
        },
        disk,
    )?;
    let limit = args.max_instructions.unwrap_or(u64::MAX);
    let want_faults = args.faults || args.fault_log.is_some() || args.fault_plot.is_some();
    let mut accountant = want_faults.then(|| {
        let symbols = match &args.kernel {
            Some(path) => std::fs::read(path)
                .ok()
                .and_then(|b| sv39::observe::symbols::Symbols::from_elf(&b)),
            None => sv39::observe::symbols::Symbols::from_elf(images::KERNEL),
        };
        let mut a = sv39::observe::faults::FaultAccountant::new(symbols);
        a.attach(&mut machine.bus);
        a
    });
    let trace = match &args.trace {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create trace file {}", path.display()))?;
            Some(CommitLog::new(std::io::BufWriter::new(file)))
        }
        None => None,
    };
    let outcome = match (trace, accountant.as_mut()) {
        (Some(mut log), Some(acc)) => {
            let mut both = (log, acc);
            let outcome = machine.run_observed(limit, &mut both);
            log = both.0;
            finish_trace(log, args.trace.as_deref())?;
            outcome
        }
        (Some(mut log), None) => {
            let outcome = machine.run_observed(limit, &mut log);
            finish_trace(log, args.trace.as_deref())?;
            outcome
        }
        (None, Some(acc)) => machine.run_observed(limit, acc),
        (None, None) => machine.run(limit),
    };
    // The program's own output comes first, whole, before any report.
    machine.bus.hostio.finish();
    machine.bus.uart.flush();
    let stats = machine.stats();
    if args.stats {
        note(&format!("{stats}"));
    }
    if let Some(acc) = accountant {
        let profile = acc.finish(&machine.hart);
        if args.faults {
            // A closed stderr loses the table, not the program's status.
            let mut err = std::io::stderr().lock();
            let _ = sv39::observe::report::write_table(&profile, &mut err);
        }
        if let Some(path) = &args.fault_log {
            sv39::observe::report::write_log(&profile, path)?;
        }
        if let Some(path) = &args.fault_plot {
            sv39::observe::report::write_plot(&profile, path)?;
        }
    }
    if let Some(path) = &args.stats_json {
        let json = serde_json::to_string_pretty(&stats)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write statistics to {}", path.display()))?;
    }
    Ok(match outcome {
        // A failure code that is a multiple of 256 must not read as success.
        RunOutcome::Exit(code) if code != 0 && code.is_multiple_of(256) => ExitCode::from(1),
        RunOutcome::Exit(code) => ExitCode::from(code as u8),
        RunOutcome::InstructionLimit => {
            note(&format!(
                "sv39: stopped after {} instructions (--max-instructions); pc = {:#x}",
                machine.hart.instret(),
                machine.hart.pc
            ));
            ExitCode::from(EXIT_HANG)
        }
        RunOutcome::TrapLoop { cause, tval, pc } => {
            note(&format!(
                "sv39: the hart is stuck in a trap loop (no instruction retires): \
                 cause {cause} at pc {pc:#x}, tval {tval:#x}"
            ));
            ExitCode::from(EXIT_HANG)
        }
        RunOutcome::Deadlock => {
            note(&format!(
                "sv39: the hart waits (wfi at pc {:#x}) for an interrupt that can never arrive",
                machine.hart.pc
            ));
            ExitCode::from(EXIT_HANG)
        }
    })
}
