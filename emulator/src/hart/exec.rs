//! Instruction execution: the integer (RV64I), multiply (M), atomic (A), floating-point
//! memory and system families. F and D arithmetic is in [`super::float`].
//!
//! This is the hot path: one `match` over [`Op`], no allocation, no dynamic dispatch. Faults
//! come back as `Err(Trap)` for the run loop to deliver.

use super::Hart;
use super::csr::{MIP_SEIP, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW};
use super::decode::{ALL_OPS, Insn, Op};
use super::memory::Access;
use super::trap::{Exception, Privilege, Trap};
use crate::bus::Bus;

/// What the run loop does after an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Fall through to the next instruction of the block.
    Next,
    /// Continue at [`Hart::next_pc`] (a taken branch, jump or xRET); ends the block.
    Jump,
    /// Continue with the next instruction, but leave the block first: the instruction had a
    /// side effect (code modified, device state changed, `wfi`) the loop must look at.
    Sync,
    /// The instruction trapped; the trap is in [`Hart::trap`]. It did not retire.
    Trap,
}

/// Unwraps a `Result<T, Trap>` inside `execute`: a trap is parked in `hart.trap` and the
/// instruction returns [`Step::Trap`]. This keeps `execute`'s return value one byte wide, so
/// the hot loop never passes a large `Result` through memory.
macro_rules! tri {
    ($hart:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(trap) => {
                $hart.trap = trap;
                return Step::Trap;
            }
        }
    };
}

/// Executes one instruction whose operation is fixed by the handler (see [`HANDLERS`]).
pub type Handler = fn(&mut Hart, &Insn, u64, &mut Bus) -> Step;

const fn op_at(n: usize) -> Op {
    if n < ALL_OPS.len() {
        ALL_OPS[n]
    } else {
        Op::Illegal
    }
}

fn handler<const N: usize>(hart: &mut Hart, insn: &Insn, pc: u64, bus: &mut Bus) -> Step {
    hart.execute_as(const { op_at(N) }, insn, pc, bus)
}

macro_rules! handler_table {
    ($($n:literal)*) => { [$(handler::<$n> as Handler,)*] };
}

/// One specialised handler per operation, indexed by `Op as usize`: the block cache stores
/// the handler beside each decoded instruction, so dispatch is one indirect call to a small
/// function instead of a jump into one large `match` whose register pressure every
/// instruction would pay for.
pub static HANDLERS: [Handler; 256] = handler_table!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127 128 129 130 131 132 133 134 135 136 137 138 139 140 141 142 143 144 145 146 147 148 149 150 151 152 153 154 155 156 157 158 159 160 161 162 163 164 165 166 167 168 169 170 171 172 173 174 175 176 177 178 179 180 181 182 183 184 185 186 187 188 189 190 191 192 193 194 195 196 197 198 199 200 201 202 203 204 205 206 207 208 209 210 211 212 213 214 215 216 217 218 219 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255);

#[inline(always)]
fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

impl Hart {
    /// Executes `insn` at `pc`. A trap is left in [`Hart::trap`] and reported as
    /// [`Step::Trap`]; a jump target in [`Hart::next_pc`].
    #[inline]
    pub fn execute(&mut self, insn: &Insn, pc: u64, bus: &mut Bus) -> Step {
        HANDLERS[insn.op as usize](self, insn, pc, bus)
    }

    /// Executes `insn` as operation `op`. Inlined into one [`Handler`] per operation with
    /// `op` a constant, so each handler keeps only its own arm of the `match`.
    #[inline(always)]
    fn execute_as(&mut self, op: Op, insn: &Insn, pc: u64, bus: &mut Bus) -> Step {
        use Op::*;
        // Register indices are masked to the array size: the decoder never produces more
        // than 32, and the mask spares a bounds check on every access.
        let rs1 = self.x[insn.rs1 as usize & 63];
        let rs2 = self.x[insn.rs2 as usize & 63];
        let imm = insn.imm as i64 as u64;
        let rd = insn.rd as usize & 63;
        match op {
            Lui => self.x[rd] = imm,
            Auipc => self.x[rd] = pc.wrapping_add(imm),
            Jal => {
                self.x[rd] = pc.wrapping_add(insn.len as u64);
                return self.jump(pc.wrapping_add(imm));
            }
            Jalr => {
                let target = rs1.wrapping_add(imm) & !1;
                self.x[rd] = pc.wrapping_add(insn.len as u64);
                return self.jump(target);
            }
            Beq => return self.branch(rs1 == rs2, pc, imm),
            Bne => return self.branch(rs1 != rs2, pc, imm),
            Blt => return self.branch((rs1 as i64) < (rs2 as i64), pc, imm),
            Bge => return self.branch((rs1 as i64) >= (rs2 as i64), pc, imm),
            Bltu => return self.branch(rs1 < rs2, pc, imm),
            Bgeu => return self.branch(rs1 >= rs2, pc, imm),
            Lb => {
                self.x[rd] =
                    i8::from_le_bytes(tri!(self, self.load::<1>(bus, rs1.wrapping_add(imm)))) as u64
            }
            Lh => {
                self.x[rd] =
                    i16::from_le_bytes(tri!(self, self.load::<2>(bus, rs1.wrapping_add(imm))))
                        as u64
            }
            Lw => {
                self.x[rd] =
                    i32::from_le_bytes(tri!(self, self.load::<4>(bus, rs1.wrapping_add(imm))))
                        as u64
            }
            Ld => {
                self.x[rd] =
                    u64::from_le_bytes(tri!(self, self.load::<8>(bus, rs1.wrapping_add(imm))))
            }
            Lbu => {
                self.x[rd] =
                    u8::from_le_bytes(tri!(self, self.load::<1>(bus, rs1.wrapping_add(imm)))) as u64
            }
            Lhu => {
                self.x[rd] =
                    u16::from_le_bytes(tri!(self, self.load::<2>(bus, rs1.wrapping_add(imm))))
                        as u64
            }
            Lwu => {
                self.x[rd] =
                    u32::from_le_bytes(tri!(self, self.load::<4>(bus, rs1.wrapping_add(imm))))
                        as u64
            }
            Sb => return self.store_step(bus, rs1.wrapping_add(imm), (rs2 as u8).to_le_bytes()),
            Sh => return self.store_step(bus, rs1.wrapping_add(imm), (rs2 as u16).to_le_bytes()),
            Sw => return self.store_step(bus, rs1.wrapping_add(imm), (rs2 as u32).to_le_bytes()),
            Sd => return self.store_step(bus, rs1.wrapping_add(imm), rs2.to_le_bytes()),
            Addi => self.x[rd] = rs1.wrapping_add(imm),
            Slti => self.x[rd] = ((rs1 as i64) < (imm as i64)) as u64,
            Sltiu => self.x[rd] = (rs1 < imm) as u64,
            Xori => self.x[rd] = rs1 ^ imm,
            Ori => self.x[rd] = rs1 | imm,
            Andi => self.x[rd] = rs1 & imm,
            Slli => self.x[rd] = rs1 << (imm & 63),
            Srli => self.x[rd] = rs1 >> (imm & 63),
            Srai => self.x[rd] = ((rs1 as i64) >> (imm & 63)) as u64,
            Add => self.x[rd] = rs1.wrapping_add(rs2),
            Sub => self.x[rd] = rs1.wrapping_sub(rs2),
            Sll => self.x[rd] = rs1 << (rs2 & 63),
            Slt => self.x[rd] = ((rs1 as i64) < (rs2 as i64)) as u64,
            Sltu => self.x[rd] = (rs1 < rs2) as u64,
            Xor => self.x[rd] = rs1 ^ rs2,
            Srl => self.x[rd] = rs1 >> (rs2 & 63),
            Sra => self.x[rd] = ((rs1 as i64) >> (rs2 & 63)) as u64,
            Or => self.x[rd] = rs1 | rs2,
            And => self.x[rd] = rs1 & rs2,
            Addiw => self.x[rd] = sext32(rs1.wrapping_add(imm)),
            Slliw => self.x[rd] = sext32(((rs1 as u32) << (imm & 31)) as u64),
            Srliw => self.x[rd] = sext32(((rs1 as u32) >> (imm & 31)) as u64),
            Sraiw => self.x[rd] = ((rs1 as i32) >> (imm & 31)) as i64 as u64,
            Addw => self.x[rd] = sext32(rs1.wrapping_add(rs2)),
            Subw => self.x[rd] = sext32(rs1.wrapping_sub(rs2)),
            Sllw => self.x[rd] = sext32(((rs1 as u32) << (rs2 & 31)) as u64),
            Srlw => self.x[rd] = sext32(((rs1 as u32) >> (rs2 & 31)) as u64),
            Sraw => self.x[rd] = ((rs1 as i32) >> (rs2 & 31)) as i64 as u64,
            Mul => self.x[rd] = rs1.wrapping_mul(rs2),
            Mulh => self.x[rd] = ((rs1 as i64 as i128 * rs2 as i64 as i128) >> 64) as u64,
            Mulhsu => self.x[rd] = ((rs1 as i64 as i128).wrapping_mul(rs2 as i128) >> 64) as u64,
            Mulhu => self.x[rd] = ((rs1 as u128 * rs2 as u128) >> 64) as u64,
            Div => self.x[rd] = div_signed(rs1 as i64, rs2 as i64) as u64,
            Divu => self.x[rd] = rs1.checked_div(rs2).unwrap_or(u64::MAX),
            Rem => self.x[rd] = rem_signed(rs1 as i64, rs2 as i64) as u64,
            Remu => self.x[rd] = rs1.checked_rem(rs2).unwrap_or(rs1),
            Mulw => self.x[rd] = sext32(rs1.wrapping_mul(rs2)),
            Divw => {
                self.x[rd] = div_signed(rs1 as i32 as i64, rs2 as i32 as i64) as i32 as i64 as u64
            }
            Divuw => {
                let (a, b) = (rs1 as u32, rs2 as u32);
                self.x[rd] = sext32(a.checked_div(b).unwrap_or(u32::MAX) as u64)
            }
            Remw => {
                self.x[rd] = rem_signed(rs1 as i32 as i64, rs2 as i32 as i64) as i32 as i64 as u64
            }
            Remuw => {
                let (a, b) = (rs1 as u32, rs2 as u32);
                self.x[rd] = sext32(a.checked_rem(b).unwrap_or(a) as u64)
            }
            Fence => {}
            FenceI => {
                // Drop every decoded block: the run loop flushes before the next fetch.
                bus.code_written = true;
                return Step::Sync;
            }
            Ecall => {
                let cause = match self.privilege {
                    Privilege::User => Exception::EcallFromU,
                    Privilege::Supervisor => Exception::EcallFromS,
                    Privilege::Machine => Exception::EcallFromM,
                };
                return self.raise(Trap::new(cause, 0));
            }
            // mtval for EBREAK: the spec allows zero or the pc; QEMU writes zero, and so do we.
            Ebreak => return self.raise(Trap::new(Exception::Breakpoint, 0)),
            Mret => {
                if self.privilege != Privilege::Machine {
                    return self.raise(Trap::illegal(insn.raw));
                }
                let target = self.mret();
                return self.jump(target);
            }
            Sret => {
                let tsr = self.csr.mstatus & MSTATUS_TSR != 0;
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && tsr)
                {
                    return self.raise(Trap::illegal(insn.raw));
                }
                let target = self.sret();
                return self.jump(target);
            }
            Wfi => {
                // QEMU's choice, which the spec allows: wfi in U-mode is always illegal, in
                // S-mode illegal when mstatus.TW is set.
                let tw = self.csr.mstatus & MSTATUS_TW != 0;
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor && tw)
                {
                    return self.raise(Trap::illegal(insn.raw));
                }
                self.waiting = true;
                return Step::Sync;
            }
            SfenceVma => {
                if self.privilege == Privilege::User
                    || (self.privilege == Privilege::Supervisor
                        && self.csr.mstatus & MSTATUS_TVM != 0)
                {
                    return self.raise(Trap::illegal(insn.raw));
                }
                let vaddr = (insn.rs1 != 0).then_some(rs1);
                let asid = (insn.rs2 != 0).then_some(rs2 as u16);
                self.mmu.fence(vaddr, asid);
                return Step::Sync;
            }
            Csrrw | Csrrwi => {
                let csr = insn.imm as u16;
                let value = if insn.op == Csrrw {
                    rs1
                } else {
                    insn.rs1 as u64
                };
                // With rd = x0 the CSR is not read, so read side effects do not happen.
                let old = if insn.rd_is_x0() {
                    0
                } else {
                    tri!(self, self.csr_read(csr, insn.raw, bus))
                };
                tri!(self, self.csr_write(csr, value, insn.raw));
                self.x[rd] = old;
                self.trace_csr(csr, bus);
                return Step::Sync;
            }
            Csrrs | Csrrc | Csrrsi | Csrrci => {
                let csr = insn.imm as u16;
                let old = tri!(self, self.csr_read(csr, insn.raw, bus));
                let operand = if matches!(insn.op, Csrrs | Csrrc) {
                    rs1
                } else {
                    insn.rs1 as u64
                };
                // With rs1 = x0 (or uimm = 0) the CSR is not written, so no write checks apply.
                if insn.rs1 != 0 {
                    // Privileged spec 3.1.9: only the software-writable SEIP bit takes part in
                    // a read-modify-write of mip, not the interrupt controller's line that
                    // the read ORs in (else a csrs of another bit would latch the line).
                    let base = if csr == super::csr::addr::MIP {
                        (old & !MIP_SEIP) | (self.csr.mip_sw & MIP_SEIP)
                    } else {
                        old
                    };
                    let new = if matches!(insn.op, Csrrs | Csrrsi) {
                        base | operand
                    } else {
                        base & !operand
                    };
                    tri!(self, self.csr_write(csr, new, insn.raw));
                    self.trace_csr(csr, bus);
                }
                self.x[rd] = old;
                return Step::Sync;
            }
            LrW | LrD => {
                let size = if insn.op == LrW { 4 } else { 8 };
                tri!(self, self.check_atomic_alignment(rs1, size, true));
                let paddr = tri!(self, self.translate(bus, rs1, Access::Load));
                self.x[rd] = if size == 4 {
                    let v = tri!(self, self.read_physical::<4>(bus, paddr, rs1, Access::Load));
                    i32::from_le_bytes(v) as i64 as u64
                } else {
                    u64::from_le_bytes(tri!(
                        self,
                        self.read_physical::<8>(bus, paddr, rs1, Access::Load)
                    ))
                };
                self.reservation = paddr & !7;
            }
            ScW | ScD => {
                let size = if insn.op == ScW { 4 } else { 8 };
                tri!(self, self.check_atomic_alignment(rs1, size, false));
                let paddr = tri!(self, self.translate(bus, rs1, Access::Store));
                let reserved = self.reservation == paddr & !7;
                self.reservation = u64::MAX;
                if !reserved {
                    self.x[rd] = 1;
                    return Step::Next;
                }
                let sync = if size == 4 {
                    tri!(
                        self,
                        self.store_physical::<4>(bus, paddr, rs1, (rs2 as u32).to_le_bytes())
                    )
                } else {
                    tri!(
                        self,
                        self.store_physical::<8>(bus, paddr, rs1, rs2.to_le_bytes())
                    )
                };
                self.x[rd] = 0;
                return if sync { Step::Sync } else { Step::Next };
            }
            AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
            | AmomaxuW => return self.amo_w(insn, bus, rs1, rs2),
            AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD | AmominuD
            | AmomaxuD => return self.amo_d(insn, bus, rs1, rs2),
            Flw | Fld | Fsw | Fsd => return self.fp_memory(insn, bus, rs1.wrapping_add(imm)),
            Illegal => return self.raise(Trap::illegal(insn.raw)),
            _ => {
                if !self.csr.fp_enabled() {
                    return self.raise(Trap::illegal(insn.raw));
                }
                tri!(self, self.exec_fp(insn));
            }
        }
        Step::Next
    }

    #[inline(always)]
    fn jump(&mut self, target: u64) -> Step {
        self.next_pc = target;
        Step::Jump
    }

    #[inline(always)]
    fn branch(&mut self, taken: bool, pc: u64, imm: u64) -> Step {
        if taken {
            self.jump(pc.wrapping_add(imm))
        } else {
            Step::Next
        }
    }

    #[cold]
    fn raise(&mut self, trap: Trap) -> Step {
        self.trap = trap;
        Step::Trap
    }

    #[inline(always)]
    fn store_step<const N: usize>(&mut self, bus: &mut Bus, vaddr: u64, data: [u8; N]) -> Step {
        if tri!(self, self.store::<N>(bus, vaddr, data)) {
            Step::Sync
        } else {
            Step::Next
        }
    }

    fn fp_memory(&mut self, insn: &Insn, bus: &mut Bus, addr: u64) -> Step {
        if !self.csr.fp_enabled() {
            return self.raise(Trap::illegal(insn.raw));
        }
        let rd = insn.rd as usize;
        match insn.op {
            Op::Flw => {
                let v = u32::from_le_bytes(tri!(self, self.load::<4>(bus, addr)));
                self.f[rd] = super::float::nan_box(v);
                self.csr.set_fs_dirty();
            }
            Op::Fld => {
                self.f[rd] = u64::from_le_bytes(tri!(self, self.load::<8>(bus, addr)));
                self.csr.set_fs_dirty();
            }
            Op::Fsw => {
                let v = self.f[insn.rs2 as usize] as u32;
                return self.store_step(bus, addr, v.to_le_bytes());
            }
            _ => {
                let v = self.f[insn.rs2 as usize];
                return self.store_step(bus, addr, v.to_le_bytes());
            }
        }
        Step::Next
    }

    fn amo_w(&mut self, insn: &Insn, bus: &mut Bus, addr: u64, src: u64) -> Step {
        use Op::*;
        tri!(self, self.check_atomic_alignment(addr, 4, false));
        // The read half of an AMO reports store/AMO faults (privileged spec 3.7).
        let paddr = tri!(self, self.translate(bus, addr, Access::Store));
        let old = i32::from_le_bytes(tri!(
            self,
            self.read_physical::<4>(bus, paddr, addr, Access::Store)
        ));
        let b = src as i32;
        let new = match insn.op {
            AmoswapW => b,
            AmoaddW => old.wrapping_add(b),
            AmoxorW => old ^ b,
            AmoandW => old & b,
            AmoorW => old | b,
            AmominW => old.min(b),
            AmomaxW => old.max(b),
            AmominuW => (old as u32).min(b as u32) as i32,
            _ => (old as u32).max(b as u32) as i32,
        };
        let sync = tri!(
            self,
            self.store_physical::<4>(bus, paddr, addr, new.to_le_bytes())
        );
        self.x[insn.rd as usize & 63] = old as i64 as u64;
        if sync { Step::Sync } else { Step::Next }
    }

    fn amo_d(&mut self, insn: &Insn, bus: &mut Bus, addr: u64, src: u64) -> Step {
        use Op::*;
        tri!(self, self.check_atomic_alignment(addr, 8, false));
        let paddr = tri!(self, self.translate(bus, addr, Access::Store));
        let old = u64::from_le_bytes(tri!(
            self,
            self.read_physical::<8>(bus, paddr, addr, Access::Store)
        ));
        let new = match insn.op {
            AmoswapD => src,
            AmoaddD => old.wrapping_add(src),
            AmoxorD => old ^ src,
            AmoandD => old & src,
            AmoorD => old | src,
            AmominD => (old as i64).min(src as i64) as u64,
            AmomaxD => (old as i64).max(src as i64) as u64,
            AmominuD => old.min(src),
            _ => old.max(src),
        };
        let sync = tri!(
            self,
            self.store_physical::<8>(bus, paddr, addr, new.to_le_bytes())
        );
        self.x[insn.rd as usize & 63] = old;
        if sync { Step::Sync } else { Step::Next }
    }

    fn trace_csr(&mut self, csr: u16, bus: &mut Bus) {
        if self.tracing {
            let saved = self.privilege;
            self.privilege = Privilege::Machine;
            let value = self.csr_read(csr, 0, bus).unwrap_or(0);
            self.privilege = saved;
            self.commit.csr_write = Some((csr, value));
        }
    }
}

/// Signed division with the RISC-V results for the two cases the spec defines (M extension
/// 13.2): division by zero gives -1, and the overflow MIN / -1 gives MIN.
#[inline(always)]
fn div_signed(a: i64, b: i64) -> i64 {
    if b == 0 { -1 } else { a.wrapping_div(b) }
}

/// Signed remainder: by zero gives the dividend, MIN % -1 gives 0.
#[inline(always)]
fn rem_signed(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { a.wrapping_rem(b) }
}
