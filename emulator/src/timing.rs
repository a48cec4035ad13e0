//! The cost model: how many cycles each event costs. One table, charged in one place per
//! event kind, from which `mcycle`, `cycle` and (through the CLINT) `mtime` derive, so the
//! guest's `rdcycle` and the emulator's reports measure the same thing.
//!
//! Where each cost is charged:
//! - an instruction's class cost when it retires (the decoded-block cache holds each
//!   instruction's cost, summed along the block, so the hot loop stores one running total);
//!   a trapping instruction does not retire and costs only the trap;
//! - a taken branch pays `branch_taken` instead of `branch_not_taken`; jumps always pay
//!   `branch_taken`;
//! - a TLB hit costs `tlb_hit` (derived from the TLB counters, so the fast path pays nothing);
//!   a miss costs `tlb_miss` plus `pte_read` per PTE the walker reads and `ad_write` per A/D
//!   update it makes;
//! - every trap taken (exception or interrupt) costs `trap_entry`;
//! - every load or store outside RAM (device registers, the boot ROM) costs `mmio` on top of
//!   its class;
//! - a disk request completes, by interrupt, `disk_request + disk_sector * sectors` cycles
//!   after the driver's notify; waiting for it in `wfi` costs the time that passes;
//! - the modelled clock is 1 GHz ([`crate::layout::CPU_HZ`]): 100 cycles per `mtime` tick.
//!
//! The default model, `u74`, is a simple in-order core of the SiFive U74 class: latencies
//! from GCC's pipeline description of the SiFive 7 series (`gcc/config/riscv/sifive-7.md`:
//! loads 3, multiplies 3, divides 16, single-precision arithmetic 5, single divide and square
//! root 27), charged in full as if every result were used at once (no overlap, no dual issue),
//! and our own estimates for what GCC does not describe (marked so in [`FIELDS`]). The
//! `unit` model charges one cycle per instruction and per trap and nothing else: QEMU's
//! `-icount shift=0` time, for comparisons with QEMU.

use std::path::Path;

use crate::hart::decode::Op;

/// Cycle costs of every modelled event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Timing {
    /// The built-in model this one starts from (`u74` or `unit`).
    pub base: &'static str,
    /// Integer ALU operations, `lui`, `auipc`, `wfi`.
    pub integer: u32,
    /// `mul*`.
    pub multiply: u32,
    /// `div*`, `rem*`.
    pub divide: u32,
    /// Integer and floating-point loads.
    pub load: u32,
    /// Integer and floating-point stores.
    pub store: u32,
    /// `lr`, `sc` and AMOs.
    pub amo: u32,
    /// Floating-point arithmetic, conversions, moves and compares.
    pub float: u32,
    /// `fdiv`, `fsqrt`.
    pub float_divide: u32,
    /// A conditional branch that falls through.
    pub branch_not_taken: u32,
    /// A taken conditional branch, `jal`, `jalr`.
    pub branch_taken: u32,
    /// CSR instructions.
    pub csr: u32,
    /// `fence`, `fence.i`, `sfence.vma`.
    pub fence: u32,
    /// `mret`, `sret`.
    pub xret: u32,
    /// Extra cycles per TLB hit.
    pub tlb_hit: u32,
    /// Extra cycles per TLB miss, before the walk's memory accesses.
    pub tlb_miss: u32,
    /// Per PTE read by the page-table walker.
    pub pte_read: u32,
    /// Per A/D update written by the walker.
    pub ad_write: u32,
    /// Per trap taken (exception or interrupt).
    pub trap_entry: u32,
    /// Per load or store outside RAM.
    pub mmio: u32,
    /// Fixed latency of a disk request.
    pub disk_request: u64,
    /// Per 512-byte sector of a disk request.
    pub disk_sector: u64,
}

impl Default for Timing {
    /// The `u74` model.
    fn default() -> Self {
        Self::u74()
    }
}

/// One entry of the table: where it lives in a timing file, what it means and where the
/// default comes from.
pub struct Field {
    /// The TOML section.
    pub section: &'static str,
    /// The key within it.
    pub key: &'static str,
    /// What the cost covers, and the source of the `u74` value.
    pub doc: &'static str,
    get: fn(&Timing) -> u64,
    set: fn(&mut Timing, u64) -> Result<(), String>,
}

impl Field {
    /// This field's value in `t`.
    pub fn get(&self, t: &Timing) -> u64 {
        (self.get)(t)
    }
}

fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::Integer(i) => i.to_string(),
        other => {
            let kind = other.type_str();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {kind}")
        }
    }
}

/// The largest cost of one event that is not a disk latency (10 µs at 1 GHz). Far above any
/// real core, and low enough that the kernel's 10 ms time slice still runs many
/// instructions: costlier events would make the guest livelock in timer interrupts.
pub const MAX_EVENT_COST: u64 = 10_000;

fn small(v: u64) -> Result<u32, String> {
    if v > MAX_EVENT_COST {
        return Err(format!("{v} is too large (at most {MAX_EVENT_COST})"));
    }
    Ok(v as u32)
}

macro_rules! fields {
    ($( $section:literal, $field:ident, $ty:ident, $doc:literal; )+) => {
        /// Every cost, in the order `sv39 timing` prints them.
        pub const FIELDS: &[Field] = &[$(
            Field {
                section: $section,
                key: stringify!($field),
                doc: $doc,
                get: |t| t.$field as u64,
                set: |t, v| {
                    t.$field = fields!(@convert $ty, v);
                    Ok(())
                },
            },
        )+];
    };
    (@convert u32, $v:ident) => { small($v)? };
    (@convert u64, $v:ident) => { $v };
}

fields! {
    "instruction", integer, u32, "ALU operations, lui, auipc, wfi: one per cycle";
    "instruction", multiply, u32, "mul*: 3 (GCC sifive-7.md)";
    "instruction", divide, u32, "div*, rem*: 16 (GCC sifive-7.md)";
    "instruction", load, u32, "loads, integer and float: 3, the load-to-use latency (GCC sifive-7.md)";
    "instruction", store, u32, "stores: 1 (GCC sifive-7.md)";
    "instruction", amo, u32, "lr, sc, AMOs: a load and a store plus one (our estimate)";
    "instruction", float, u32, "FP arithmetic, converts, moves, compares: 5 (GCC sifive-7.md, single precision)";
    "instruction", float_divide, u32, "fdiv, fsqrt: 27 (GCC sifive-7.md, single precision)";
    "instruction", branch_not_taken, u32, "a conditional branch that falls through: 1";
    "instruction", branch_taken, u32, "a taken branch, jal, jalr: one bubble to redirect fetch (our estimate)";
    "instruction", csr, u32, "CSR reads and writes: 3, as SiFive documents for its cores' CSR reads";
    "instruction", fence, u32, "fence, fence.i, sfence.vma: drain the pipeline (our estimate)";
    "instruction", xret, u32, "mret, sret: drain and redirect (our estimate)";
    "mmu", tlb_hit, u32, "extra per TLB hit: 0, the L1 TLB answers inside the access's own cycles";
    "mmu", tlb_miss, u32, "extra per TLB miss before the walk (our estimate)";
    "mmu", pte_read, u32, "per PTE the walker reads: an L2-cache hit (our estimate)";
    "mmu", ad_write, u32, "per A/D bit update the walker writes back (our estimate)";
    "trap", trap_entry, u32, "per trap taken, exception or interrupt: flush and redirect (our estimate)";
    "device", mmio, u32, "extra per load or store outside RAM: an uncached bus round trip (our estimate)";
    "device", disk_request, u64, "fixed latency of a virtio-blk request: 20 us at 1 GHz, a fast SSD";
    "device", disk_sector, u64, "per 512-byte sector: about 5 GB/s";
}

/// The built-in models, by name.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "u74",
        "a simple in-order core of the SiFive U74 class (the default)",
    ),
    (
        "unit",
        "one cycle per instruction and per trap, nothing else: QEMU's -icount shift=0 time",
    ),
];

/// A timing file or preset that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TimingError {
    /// The file could not be read.
    #[error("--timing {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// No such file, and no built-in model of that name.
    #[error("--timing {0}: no such file, and no built-in model of that name (u74, unit)")]
    Missing(String),
    /// The file is not valid for the model.
    #[error("--timing {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl Timing {
    /// The default model: a simple in-order core of the SiFive U74 class.
    pub const fn u74() -> Self {
        Self {
            base: "u74",
            integer: 1,
            multiply: 3,
            divide: 16,
            load: 3,
            store: 1,
            amo: 5,
            float: 5,
            float_divide: 27,
            branch_not_taken: 1,
            branch_taken: 2,
            csr: 3,
            fence: 5,
            xret: 5,
            tlb_hit: 0,
            tlb_miss: 2,
            pte_read: 20,
            ad_write: 20,
            trap_entry: 10,
            mmio: 20,
            disk_request: 20_000,
            disk_sector: 100,
        }
    }

    /// One cycle per instruction and per trap, nothing else (the disk keeps its latency).
    pub const fn unit() -> Self {
        Self {
            base: "unit",
            integer: 1,
            multiply: 1,
            divide: 1,
            load: 1,
            store: 1,
            amo: 1,
            float: 1,
            float_divide: 1,
            branch_not_taken: 1,
            branch_taken: 1,
            csr: 1,
            fence: 1,
            xret: 1,
            tlb_hit: 0,
            tlb_miss: 0,
            pte_read: 0,
            ad_write: 0,
            trap_entry: 1,
            mmio: 0,
            disk_request: 20_000,
            disk_sector: 100,
        }
    }

    /// A built-in model by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "u74" => Some(Self::u74()),
            "unit" => Some(Self::unit()),
            _ => None,
        }
    }

    /// `--timing SPEC`: the name of a built-in model, or a TOML file (a file named like a
    /// model is reached by a path, `./unit`).
    pub fn load(spec: &str) -> Result<Self, TimingError> {
        if let Some(t) = Self::preset(spec) {
            return Ok(t);
        }
        let path = Path::new(spec);
        if !path.exists() {
            return Err(TimingError::Missing(spec.to_owned()));
        }
        let text = std::fs::read_to_string(path).map_err(|error| TimingError::Read {
            path: spec.to_owned(),
            error,
        })?;
        Self::from_toml(&text).map_err(|reason| TimingError::Invalid {
            path: spec.to_owned(),
            reason,
        })
    }

    /// Parses a timing file: an optional `base = "u74" | "unit"` (default `u74`), then
    /// sections `[instruction]`, `[mmu]`, `[trap]`, `[device]` whose keys override the base.
    /// Unknown sections or keys, and values that are not non-negative integers, are errors.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            // One line: the parser's message may run over several.
            let msg = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })?;
        let mut timing = match table.get("base") {
            None => Self::u74(),
            Some(toml::Value::String(name)) => Self::preset(name)
                .ok_or_else(|| format!("base = \"{name}\": no such model (u74, unit)"))?,
            Some(other) => {
                return Err(format!(
                    "base: expected a model name, found {}",
                    other.type_str()
                ));
            }
        };
        for (section, value) in &table {
            if section == "base" {
                continue;
            }
            let toml::Value::Table(entries) = value else {
                return Err(format!(
                    "'{section}' is not a section (instruction, mmu, trap, device)"
                ));
            };
            if !FIELDS.iter().any(|f| f.section == section) {
                return Err(format!(
                    "unknown section [{section}] (instruction, mmu, trap, device)"
                ));
            }
            for (key, value) in entries {
                let field = FIELDS
                    .iter()
                    .find(|f| f.section == section && f.key == key)
                    .ok_or_else(|| {
                        let keys: Vec<&str> = FIELDS
                            .iter()
                            .filter(|f| f.section == section)
                            .map(|f| f.key)
                            .collect();
                        format!("unknown key '{key}' in [{section}] ({})", keys.join(", "))
                    })?;
                let v = match value {
                    toml::Value::Integer(v) if *v >= 0 => *v as u64,
                    other => {
                        return Err(format!(
                            "[{section}] {key}: expected a non-negative integer, found {}",
                            describe(other)
                        ));
                    }
                };
                (field.set)(&mut timing, v).map_err(|e| format!("[{section}] {key}: {e}"))?;
            }
        }
        Ok(timing)
    }

    /// The model as a commented timing file (`sv39 timing`), which [`Timing::from_toml`]
    /// reads back to the same model.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# sv39 cost model: cycles per event at 1 GHz (100 cycles per mtime tick).\n\
             # Any key may be left out; it keeps the value of `base`. The comments give the\n\
             # u74 model's reasons.\n\
             base = \"{}\"\n",
            self.base
        );
        let mut section = "";
        for f in FIELDS {
            if f.section != section {
                section = f.section;
                out.push_str(&format!("\n[{section}]\n"));
            }
            let line = format!("{} = {}", f.key, f.get(self));
            out.push_str(&format!("{line:<24}# {}\n", f.doc));
        }
        out
    }

    /// The class cost of an instruction that retires (a taken branch pays
    /// [`Timing::taken_extra`] on top).
    pub fn cost(&self, op: Op) -> u32 {
        use Op::*;
        match op {
            Beq | Bne | Blt | Bge | Bltu | Bgeu => self.branch_not_taken,
            Jal | Jalr => self.branch_taken,
            Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Flw | Fld => self.load,
            Sb | Sh | Sw | Sd | Fsw | Fsd => self.store,
            Mul | Mulh | Mulhsu | Mulhu | Mulw => self.multiply,
            Div | Divu | Rem | Remu | Divw | Divuw | Remw | Remuw => self.divide,
            LrW | ScW | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
            | AmominuW | AmomaxuW | LrD | ScD | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD
            | AmominD | AmomaxD | AmominuD | AmomaxuD => self.amo,
            FdivS | FsqrtS | FdivD | FsqrtD => self.float_divide,
            Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => self.csr,
            Fence | FenceI | SfenceVma => self.fence,
            Mret | Sret => self.xret,
            Illegal | Lui | Auipc | Addi | Slti | Sltiu | Xori | Ori | Andi | Slli | Srli
            | Srai | Add | Sub | Sll | Slt | Sltu | Xor | Srl | Sra | Or | And | Addiw | Slliw
            | Srliw | Sraiw | Addw | Subw | Sllw | Srlw | Sraw | Ecall | Ebreak | Wfi => {
                self.integer
            }
            _ => self.float,
        }
    }

    /// What a taken conditional branch costs beyond its class cost.
    pub fn taken_extra(&self, op: Op) -> u32 {
        use Op::*;
        match op {
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                self.branch_taken.saturating_sub(self.branch_not_taken)
            }
            _ => 0,
        }
    }

    /// The disk's latency parameters.
    pub fn disk(&self) -> crate::devices::DiskTiming {
        crate::devices::DiskTiming {
            request_cycles: self.disk_request,
            sector_cycles: self.disk_sector,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hart::decode::ALL_OPS;

    #[test]
    fn printed_table_reads_back_to_the_same_model() {
        for (name, _) in PRESETS {
            let t = Timing::preset(name).unwrap();
            let text = t.to_toml();
            assert_eq!(Timing::from_toml(&text).unwrap(), t, "{name}");
        }
    }

    #[test]
    fn keys_override_the_base() {
        let t = Timing::from_toml("[mmu]\npte_read = 7\n[device]\ndisk_request = 5").unwrap();
        assert_eq!(t.pte_read, 7);
        assert_eq!(t.disk_request, 5);
        assert_eq!(t.load, Timing::u74().load);
        let t = Timing::from_toml("base = \"unit\"\n[instruction]\nload = 4").unwrap();
        assert_eq!(t.load, 4);
        assert_eq!(t.divide, 1);
        assert_eq!(Timing::from_toml("").unwrap(), Timing::u74());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |s: &str| Timing::from_toml(s).unwrap_err();
        assert!(err("[mmu]\npte_reads = 1").contains("unknown key 'pte_reads' in [mmu]"));
        assert!(err("[cache]\nx = 1").contains("unknown section [cache]"));
        assert!(err("[mmu]\npte_read = -1").contains("non-negative integer"));
        assert!(err("[mmu]\npte_read = 1.5").contains("non-negative integer"));
        assert!(err("[mmu]\npte_read = 99999999999").contains("too large"));
        assert!(err("base = \"x86\"").contains("no such model"));
        assert!(err("[mmu\n").contains("line 1"));
        assert!(err("\n\n[mmu]\npte_read = \n").contains("line 4"));
        assert!(err("[mmu]\npte_read = 1\npte_read = 2").contains("line 3"));
        assert!(err("[mmu]\npte_read = [1]").contains("found an array"));
        assert!(err("[mmu]\npte_read = 10001").contains("at most 10000"));
        assert!(!err("[mmu\n").contains('\n'), "one line");
    }

    #[test]
    fn load_takes_a_file_or_a_preset() {
        assert_eq!(Timing::load("unit").unwrap(), Timing::unit());
        // A key left out of a printed unit model keeps the unit value.
        let text = Timing::unit().to_toml().replace("multiply = 1", "");
        assert_eq!(Timing::from_toml(&text).unwrap().multiply, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "[trap]\ntrap_entry = 99\n").unwrap();
        assert_eq!(Timing::load(path.to_str().unwrap()).unwrap().trap_entry, 99);
        let missing = dir.path().join("missing.toml");
        let e = Timing::load(missing.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--timing ") && e.contains("missing.toml"),
            "{e}"
        );
    }

    #[test]
    fn every_op_has_a_class() {
        let t = Timing::u74();
        for &op in ALL_OPS {
            assert!(t.cost(op) >= 1, "{op:?}");
        }
        assert_eq!(t.cost(Op::Div), 16);
        assert_eq!(t.cost(Op::Fld), 3);
        assert_eq!(t.cost(Op::FmaddD), 5);
        assert_eq!(t.cost(Op::Beq) + t.taken_extra(Op::Beq), t.branch_taken);
        assert_eq!(t.taken_extra(Op::Jal), 0);
        let u = Timing::unit();
        assert!(
            ALL_OPS
                .iter()
                .all(|&op| u.cost(op) == 1 && u.taken_extra(op) == 0)
        );
    }
}
