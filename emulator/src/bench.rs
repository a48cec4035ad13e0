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
    /// Data-TLB misses per lookup, for the translated benchmarks.
    pub dtlb_miss_rate: Option<f64>,
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
    strided_loop(passes, 0x10_0000, 8192, 8)
}

/// `passes` times over `elements` doublewords `stride` bytes apart, starting `offset` bytes
/// past the code (PC-relative, so it runs translated or not): load, add, store, advance.
fn strided_loop(passes: i32, offset: i32, elements: i32, stride: i32) -> Vec<u8> {
    let mut p = li32(S0, passes);
    p.extend(li32(T3, stride));
    let outer = p.len() as i32;
    // a0 = program start + offset, from the auipc's own address.
    let distance = offset - 4 * outer;
    let lo = (distance << 20) >> 20;
    p.push(auipc(A0, distance.wrapping_sub(lo)));
    p.push(addi(A0, A0, lo));
    p.extend(li32(A1, elements));
    let inner = p.len() as i32;
    p.extend([
        ld(A2, A0, 0),
        add(A2, A2, A1),
        sd(A2, A0, 0),
        add(A0, A0, T3),
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
    run_machine(name, bare_machine(program))
}

fn bare_machine(program: &[u8]) -> Machine {
    let mut ram = Ram::new(DRAM_BASE, DEFAULT_RAM).expect("benchmark RAM");
    ram.load(DRAM_BASE, program);
    let uart = Uart::new(UartInput::None, Box::new(std::io::sink()));
    let bus = Bus::new(ram, BootRom::new(DRAM_BASE, 0), uart);
    Machine::new(bus, DRAM_BASE)
}

// The Sv39 benchmarks' address space: the program's code at VA 0x1_0000, the finisher at VA
// 0x10_0000 (so U-mode can stop the machine), data from VA 0x2_0000 (4 KiB pages), and for
// the TLB-miss loop 512 more pages at VA 0x20_0000.
const USER_CODE_VA: u64 = 0x1_0000;
const USER_DATA_VA: u64 = 0x2_0000;
const MISS_DATA_VA: u64 = 0x20_0000;
const PT_ROOT: u64 = DRAM_BASE + 0x10_0000;

/// A machine that runs `program` in U-mode under Sv39, with page tables built by the host.
fn sv39_machine(program: &[u8], data_pages: u64, miss_pages: u64) -> Machine {
    use crate::mmu::pte::{A, D, R, U, V, W, X};
    let mut m = bare_machine(program);
    let (l1, l0_low, l0_miss) = (PT_ROOT + 0x1000, PT_ROOT + 0x2000, PT_ROOT + 0x3000);
    let ram = &mut m.bus.ram;
    let mut put = |table: u64, index: u64, pte: u64| {
        ram.load(table + index * 8, &pte.to_le_bytes());
    };
    let pointer = |pa: u64| ((pa >> 12) << 10) | V;
    let leaf = |pa: u64, flags: u64| ((pa >> 12) << 10) | flags | V | U | A;
    put(PT_ROOT, 0, pointer(l1));
    put(l1, 0, pointer(l0_low));
    put(l1, 1, pointer(l0_miss));
    put(l0_low, USER_CODE_VA >> 12, leaf(DRAM_BASE, R | X));
    put(l0_low, 0x100, leaf(0x10_0000, R | W | D));
    for i in 0..data_pages {
        put(
            l0_low,
            (USER_DATA_VA >> 12) + i,
            leaf(DRAM_BASE + 0x20_0000 + i * 4096, R | W | D),
        );
    }
    for i in 0..miss_pages {
        put(
            l0_miss,
            i,
            leaf(DRAM_BASE + 0x40_0000 + i * 4096, R | W | D),
        );
    }
    let h = &mut m.hart;
    h.csr.satp = (8 << 60) | (1 << 44) | (PT_ROOT >> 12);
    h.privilege = crate::hart::Privilege::User;
    h.pc = USER_CODE_VA;
    h.update_translation();
    m
}

/// Instruction cap for one benchmark, so a broken program reports instead of spinning.
const BENCH_CAP: u64 = 50_000_000_000;

fn run_machine(name: &'static str, mut machine: Machine) -> BenchResult {
    let start = Instant::now();
    let outcome = machine.run(BENCH_CAP);
    let seconds = start.elapsed().as_secs_f64();
    let d = machine.hart.mmu.dtlb.counters;
    let lookups = d.hits + d.misses;
    BenchResult {
        name,
        instructions: machine.hart.instret(),
        seconds,
        outcome,
        dtlb_miss_rate: (lookups > 0).then(|| d.misses as f64 / lookups as f64),
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
        // U-mode under Sv39: the same loop over 8 pages (4096 elements), always TLB hits.
        run_machine(
            "sv39-user",
            sv39_machine(
                &strided_loop(m * 40, (USER_DATA_VA - USER_CODE_VA) as i32, 4096, 8),
                8,
                0,
            ),
        ),
        // U-mode under Sv39, one access per page over 512 pages (2 MiB, 16 times the reach
        // of the default 32-entry dTLB): every access misses and walks.
        run_machine(
            "sv39-tlb-miss",
            sv39_machine(
                &strided_loop(m * 10, (MISS_DATA_VA - USER_CODE_VA) as i32, 512, 4096),
                0,
                512,
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sv39_benchmarks_run_to_completion_in_user_mode() {
        let mut m = sv39_machine(
            &strided_loop(2, (USER_DATA_VA - USER_CODE_VA) as i32, 4096, 8),
            8,
            0,
        );
        assert_eq!(
            m.run(1_000_000),
            RunOutcome::Exit(0),
            "pc {:#x} mcause {:#x} mtval {:#x}",
            m.hart.pc,
            m.hart.csr.mcause,
            m.hart.csr.mtval
        );
        let d = m.hart.mmu.dtlb.counters;
        // 2 passes x 4096 elements x (load + store), after 8 misses (one per data page).
        assert_eq!(
            d.misses,
            8 + 1,
            "dTLB misses (data pages + the finisher page)"
        );
        assert_eq!(d.hits + d.misses, 2 * 4096 * 2 + 1);

        let mut m = sv39_machine(
            &strided_loop(3, (MISS_DATA_VA - USER_CODE_VA) as i32, 512, 4096),
            0,
            512,
        );
        assert_eq!(m.run(1_000_000), RunOutcome::Exit(0));
        let d = m.hart.mmu.dtlb.counters;
        // Cyclic access to 512 pages through a 32-entry LRU TLB: every load misses; the
        // store after it hits the entry the load just filled.
        assert_eq!(d.misses, 3 * 512 + 1);
        assert_eq!(d.hits, 3 * 512);
    }
}
