//! `sv39 bench`: built-in bare-metal programs that measure the interpreter's speed in
//! million guest instructions per second (MIPS) of host time.
//!
//! The programs are assembled in memory with [`crate::hart::encode`], so the benchmark needs
//! no cross toolchain. Host time is read only here, to report speed; the guest never sees it.

use std::time::Instant;

use crate::bus::Bus;
use crate::devices::{BootRom, Uart, UartInput};
use crate::hart::encode::*;
use crate::layout::{DEFAULT_RAM, DRAM_BASE};
use crate::machine::{Machine, RunOutcome};
use crate::ram::Ram;

/// One benchmark's result.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Benchmark name.
    pub name: &'static str,
    /// Guest instructions retired.
    pub instructions: u64,
    /// Host seconds.
    pub seconds: f64,
    /// How the program ended.
    pub outcome: RunOutcome,
}

impl BenchResult {
    /// Million instructions per host second.
    pub fn mips(&self) -> f64 {
        self.instructions as f64 / self.seconds / 1e6
    }
}

// Register numbers, by ABI name.
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const S0: u32 = 8;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const T3: u32 = 28;
const T4: u32 = 29;
const T5: u32 = 30;
const T6: u32 = 31;

/// Ends a program: write "pass" to the sifive_test finisher, then spin.
fn finish() -> Vec<u32> {
    let mut p = vec![lui(T1, 0x0010_0000)];
    p.extend(li32(T2, 0x5555));
    p.push(sw(T2, T1, 0));
    p.push(jal(0, 0));
    p
}

/// An ALU loop: 8 instructions per iteration, one taken branch.
pub fn cpu_loop(iterations: i32) -> Vec<u8> {
    let mut p = li32(T0, iterations);
    p.extend([
        addi(T1, T1, 1),
        xor(T2, T2, T1),
        slli(T3, T2, 3),
        add(T4, T4, T3),
        srli(T5, T4, 7),
        or(T6, T6, T5),
        addi(T0, T0, -1),
        bne(T0, 0, -28),
    ]);
    p.extend(finish());
    assemble(&p)
}

/// A load/store loop over a 64 KiB buffer 1 MiB past the code: 6 instructions per
/// element (load, add, store, two counters, branch).
pub fn load_store_loop(passes: i32) -> Vec<u8> {
    let mut p = li32(S0, passes);
    let outer = p.len() as i32;
    p.push(auipc(A0, 0x10_0000));
    p.extend(li32(A1, 8192));
    let inner = p.len() as i32;
    p.extend([
        ld(A2, A0, 0),
        add(A2, A2, A1),
        sd(A2, A0, 0),
        addi(A0, A0, 8),
        addi(A1, A1, -1),
    ]);
    p.push(bne(A1, 0, (inner - p.len() as i32) * 4));
    p.push(addi(S0, S0, -1));
    p.push(bne(S0, 0, (outer - p.len() as i32) * 4));
    p.extend(finish());
    assemble(&p)
}

/// Runs `program` bare-metal (M-mode at the start of DRAM) and times it.
pub fn run_program(name: &'static str, program: &[u8]) -> BenchResult {
    let mut ram = Ram::new(DRAM_BASE, DEFAULT_RAM).expect("benchmark RAM");
    ram.load(DRAM_BASE, program);
    let uart = Uart::new(UartInput::None, Box::new(std::io::sink()));
    let bus = Bus::new(ram, BootRom::new(DRAM_BASE, 0), uart);
    let mut machine = Machine::new(bus, DRAM_BASE);
    let start = Instant::now();
    let outcome = machine.run(u64::MAX);
    let seconds = start.elapsed().as_secs_f64();
    BenchResult {
        name,
        instructions: machine.hart.instret,
        seconds,
        outcome,
    }
}

/// The standard benchmark set, each program running about `millions` million instructions.
pub fn standard(millions: u32) -> Vec<BenchResult> {
    let m = millions.clamp(1, 10_000) as i32;
    vec![
        // 8 instructions per iteration.
        run_program("cpu-loop", &cpu_loop(125_000 * m)),
        // 6 instructions per element, 8192 elements per pass.
        run_program("load-store", &load_store_loop((m * 20).max(1))),
    ]
}
