/* Privileged architecture, synchronous traps: ecall from M/S/U, delegation,
 * mret/sret state, illegal instructions and their mtval, CSR permission
 * checks, counter enables, TVM/TW/TSR, FS, ebreak, misaligned accesses,
 * identification CSRs, satp modes. Each line says what trapped and how. */
#include "runtime.h"

#define MSTATUS_SIE (1UL << 1)
#define MSTATUS_MIE (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP (1UL << 8)
#define MSTATUS_MPP (3UL << 11)
#define MSTATUS_FS (3UL << 13)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_TVM (1UL << 20)
#define MSTATUS_TW (1UL << 21)
#define MSTATUS_TSR (1UL << 22)
#define MSTATUS_SD (1UL << 63)

static uint64_t base_addr;   /* tval is printed relative to this when close */

static void show_tval(uint64_t tval, uint64_t epc) {
  if (tval == 0) printf("0");
  else if (tval == epc) printf("pc");
  else if (base_addr && tval >= base_addr && tval < base_addr + 64) printf("base+%lu", tval - base_addr);
  else printf("%lx", tval);
}

/* Print what the last M trap (or S trap) was, if one happened since `before`. */
static void report(const char *what, uint64_t before, uint64_t sbefore) {
  printf("%-34s ", what);
  if (last_trap.count != before) {
    printf("M-trap cause=%lx from=%lu tval=", last_trap.cause, last_trap.mode);
    show_tval(last_trap.tval, last_trap.epc);
  } else if (last_strap.count != sbefore) {
    printf("S-trap cause=%lx from=%lu tval=", last_strap.cause, last_strap.mode);
    show_tval(last_strap.tval, last_strap.epc);
  } else {
    printf("no trap");
  }
  printf("\n");
}
#define TRY(what, stmt) do { uint64_t b_ = last_trap.count, s_ = last_strap.count; stmt; report(what, b_, s_); } while (0)
#define TRY_IN(mode, what, fn) TRY(what, run_in_mode(mode, fn, 0))
#define ASM_FN(name, body) static long name(long a) { __asm__ volatile(body ::: "memory", "t0", "t1"); return a; }

ASM_FN(do_ecall, "li a7, 0\n ecall")
ASM_FN(do_illegal32, ".word 0x1234500b")
ASM_FN(do_ebreak, "ebreak")
ASM_FN(read_mstatus, "csrr t0, mstatus")
ASM_FN(write_mscratch, "csrw mscratch, t0")
ASM_FN(read_sstatus, "csrr t0, sstatus")
ASM_FN(write_sscratch, "csrw sscratch, t0")
ASM_FN(read_satp, "csrr t0, satp")
ASM_FN(write_satp, "csrw satp, zero")
ASM_FN(do_sfence, "sfence.vma")
ASM_FN(do_wfi, "wfi")
ASM_FN(do_mret, "mret")
ASM_FN(read_cycle, "csrr t0, cycle")
ASM_FN(read_instret, "csrr t0, instret")

static void identification(void) {
  /* marchid / mimpid and misa.H are QEMU's own (7.2 sets H, 0x70216): not printed. */
  printf("misa&~H=%lx mvendorid=%lx mhartid=%lx\n", read_csr(misa) & ~(1UL << 7), read_csr(mvendorid), read_csr(mhartid));
  printf("mstatus=%lx (after reset and crt)\n", read_csr(mstatus));
  /* misa.MXL = 2, extensions ACDFIMSU present */
  uint64_t misa = read_csr(misa);
  CHECK_EQ(misa >> 62, 2);
  CHECK_EQ(misa & 0x14112d, 0x14112d);
  /* read-only CSRs: writes trap, reads (including csrrs with x0) do not */
  TRY("csrw mhartid", __asm__ volatile("csrw mhartid, zero"));
  TRY("csrw mvendorid", __asm__ volatile("csrw mvendorid, zero"));
  TRY("csrrs t0, mhartid, x0", __asm__ volatile("csrrs t0, mhartid, x0" ::: "t0"));
  TRY("csrrsi t0, mimpid, 0", __asm__ volatile("csrrsi t0, mimpid, 0" ::: "t0"));
  TRY("csrrc t0, marchid, t0(=1)", __asm__ volatile("li t0, 1\n csrrc t0, marchid, t0" ::: "t0"));
  TRY("csrw cycle (user counter, ro)", __asm__ volatile("csrw cycle, zero"));
  TRY("csrr 0x7ff (no such CSR)", __asm__ volatile("csrr t0, 0x7ff" ::: "t0"));
  TRY("csrr 0x5c0 (no such CSR)", __asm__ volatile("csrr t0, 0x5c0" ::: "t0"));
}

static void ecalls_and_illegal(void) {
  TRY("ecall from M", do_ecall(0));
  TRY_IN(1, "ecall from S", do_ecall);
  TRY_IN(0, "ecall from U", do_ecall);
  TRY("illegal 32-bit 0x1234500b in M", do_illegal32(0));
  TRY_IN(0, "illegal 32-bit 0x1234500b in U", do_illegal32);
  TRY("all-zero instruction", __asm__ volatile(".hword 0"));
  TRY("c.addi4spn imm=0 (0x0004)", __asm__ volatile(".hword 0x0004"));
  TRY("c.lwsp rd=0 (0x4002)", __asm__ volatile(".hword 0x4002"));
  TRY("unimp (assembles to c.unimp 0x0000)", __asm__ volatile("unimp"));
  TRY("ebreak in M", do_ebreak(0));
  TRY_IN(0, "ebreak in U", do_ebreak);
  TRY("mret in U", run_in_mode(0, do_mret, 0));
  TRY_IN(1, "mret in S", do_mret);
}

static void csr_permissions(void) {
  TRY_IN(1, "S reads mstatus", read_mstatus);
  TRY_IN(1, "S writes mscratch", write_mscratch);
  TRY_IN(1, "S reads sstatus", read_sstatus);
  TRY_IN(0, "U reads sstatus", read_sstatus);
  TRY_IN(0, "U writes sscratch", write_sscratch);
  TRY_IN(0, "U reads mstatus", read_mstatus);
  TRY_IN(0, "U reads satp", read_satp);
  /* counters: gated by mcounteren for S and U, and by scounteren for U */
  write_csr(mcounteren, 0); write_csr(scounteren, 0);
  TRY("M reads cycle, mcounteren=0", read_cycle(0));
  TRY_IN(1, "S reads cycle, mcounteren=0", read_cycle);
  TRY_IN(0, "U reads cycle, mcounteren=0", read_cycle);
  write_csr(mcounteren, 5);
  TRY_IN(1, "S reads cycle, mcounteren=5", read_cycle);
  TRY_IN(1, "S reads instret, mcounteren=5", read_instret);
  TRY_IN(0, "U reads cycle, mcounteren=5 sc=0", read_cycle);
  write_csr(scounteren, 1);
  TRY_IN(0, "U reads cycle, mcounteren=5 sc=1", read_cycle);
  TRY_IN(0, "U reads instret, mcounteren=5 sc=1", read_instret);
  write_csr(mcounteren, 7); write_csr(scounteren, 7);
  TRY_IN(0, "U reads cycle, both=7", read_cycle);
  printf("mcounteren=%lx scounteren=%lx\n", read_csr(mcounteren), read_csr(scounteren));
}

static void trap_virtualization(void) {
  TRY_IN(1, "S reads satp, TVM=0", read_satp);
  TRY_IN(1, "S sfence.vma, TVM=0", do_sfence);
  set_csr(mstatus, MSTATUS_TVM);
  TRY_IN(1, "S reads satp, TVM=1", read_satp);
  TRY_IN(1, "S writes satp, TVM=1", write_satp);
  TRY_IN(1, "S sfence.vma, TVM=1", do_sfence);
  TRY("M reads satp, TVM=1", read_satp(0));
  clear_csr(mstatus, MSTATUS_TVM);
  set_csr(mstatus, MSTATUS_TW);
  TRY_IN(1, "S wfi, TW=1", do_wfi);
  TRY_IN(0, "U wfi, TW=1", do_wfi);
  clear_csr(mstatus, MSTATUS_TW);
  TRY_IN(0, "U wfi, TW=0", do_wfi);
}

/* sret to a label in S-mode, report sstatus there. */
static long sret_probe(long spp) {
  uint64_t st;
  __asm__ volatile("csrr t0, sstatus\n li t1, ~0x122\n and t0, t0, t1\n"   /* clear SIE SPIE SPP */
                   "li t1, 0x20\n or t0, t0, t1\n"                          /* SPIE = 1 */
                   "beqz %1, 1f\n li t1, 0x100\n or t0, t0, t1\n1:"
                   "csrw sstatus, t0\n la t0, 2f\n csrw sepc, t0\n sret\n"
                   "2: csrr %0, sstatus" : "=&r"(st) : "r"(spp) : "t0", "t1");
  return (long)st;
}

static long sret_in_s(long a) { __asm__ volatile("la t0, 1f\n csrw sepc, t0\n sret\n1:" ::: "t0"); return a; }

static void xret_state(void) {
  uint64_t base = read_csr(mstatus) & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPRV | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
  /* mret to S: MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV cleared (new mode != M) */
  run_with_mstatus(base | (1UL << 11) | MSTATUS_MPIE | MSTATUS_MPRV, read_sstatus, 0);
  printf("mret to S, ecall back: mstatus&0x619aa=%lx\n", exit_mstatus & 0x619aa);
  uint64_t st = run_with_mstatus(base | (1UL << 11), sret_probe, 1);
  printf("S: sret SPP=S SPIE=1 -> sstatus&0x122=%lx\n", st & 0x122);
  CHECK_EQ(st & 0x122, 0x22);
  TRY("S: sret to U, then ecall", run_in_mode(1, sret_probe, 0));
  /* mret staying in M: MPRV kept, MPP <- U */
  uint64_t after;
  __asm__ volatile("csrw mstatus, %1\n la t0, 1f\n csrw mepc, t0\n mret\n1: csrr %0, mstatus\n"
                   : "=r"(after) : "r"(base | (3UL << 11) | MSTATUS_MPIE | MSTATUS_MPRV) : "t0");
  clear_csr(mstatus, MSTATUS_MIE | MSTATUS_MPRV);
  printf("mret to M: mstatus&0x619aa=%lx\n", after & 0x619aa);
  CHECK_EQ(after & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV), MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPRV);
  /* TSR */
  set_csr(mstatus, MSTATUS_TSR);
  TRY_IN(1, "S sret, TSR=1", sret_in_s);
  clear_csr(mstatus, MSTATUS_TSR);
  TRY_IN(1, "S sret, TSR=0", sret_in_s);
}

static void delegation(void) {
  write_csr(stvec, (uint64_t)s_trap_entry);
  write_csr(medeleg, (1UL << 2) | (1UL << 3) | (1UL << 8));
  printf("medeleg=%lx (wrote 0x10c)\n", read_csr(medeleg));
  write_csr(medeleg, -1UL);
  printf("medeleg writable bits&0xffff=%lx\n", read_csr(medeleg) & 0xffff);  /* above 15: H extension */
  write_csr(mideleg, -1UL);
  printf("mideleg writable bits&0x222=%lx\n", read_csr(mideleg) & 0x222);
  write_csr(mideleg, 0);
  write_csr(medeleg, (1UL << 2) | (1UL << 3) | (1UL << 8));
  TRY_IN(0, "delegated: ecall from U", do_ecall);
  printf("  sstatus.SPP=%lu sepc-fn=%lx\n", last_strap.mode, last_strap.epc - (uint64_t)do_ecall);
  TRY_IN(0, "delegated: illegal in U", do_illegal32);
  TRY_IN(1, "delegated: illegal in S", do_illegal32);
  TRY_IN(1, "delegated: ebreak in S", do_ebreak);
  TRY_IN(1, "not delegated: ecall from S", do_ecall);
  TRY("delegated cause, but in M", do_illegal32(0));
  write_csr(medeleg, 0);
}

static void float_state(void) {
  clear_csr(mstatus, MSTATUS_FS);
  TRY("fadd.s with FS=Off", __asm__ volatile("fadd.s ft0, ft1, ft2"));
  TRY("csrr fcsr with FS=Off", __asm__ volatile("csrr t0, fcsr" ::: "t0"));
  TRY("fld with FS=Off", __asm__ volatile("fld ft0, 0(sp)"));
  TRY("c.fldsp with FS=Off", __asm__ volatile("c.fldsp ft0, 0(sp)"));
  TRY("fmv.x.d with FS=Off", __asm__ volatile("fmv.x.d t0, ft0" ::: "t0"));
  set_csr(mstatus, 1UL << 13);   /* Initial */
  uint64_t st0 = read_csr(mstatus);
  __asm__ volatile("fadd.d ft0, ft1, ft2");
  uint64_t st1 = read_csr(mstatus);
  printf("FS before=%lu SD=%lu, after fadd.d FS=%lu SD=%lu\n", (st0 >> 13) & 3, st0 >> 63, (st1 >> 13) & 3, st1 >> 63);
  CHECK_EQ((st1 >> 13) & 3, 3); CHECK_EQ(st1 >> 63, 1);
  uint64_t sst = read_csr(sstatus);
  printf("sstatus.FS=%lu SD=%lu\n", (sst >> 13) & 3, sst >> 63);
  /* FS = Clean, then a write: Dirty again */
  clear_csr(mstatus, MSTATUS_FS); set_csr(mstatus, 2UL << 13);
  __asm__ volatile("fmv.w.x ft0, zero");
  printf("FS after fmv.w.x from Clean=%lu\n", (read_csr(mstatus) >> 13) & 3);
}

static volatile uint64_t mis[4] __attribute__((aligned(16)));

static void misaligned(void) {
  base_addr = (uint64_t)mis;
  for (int i = 0; i < 4; i++) mis[i] = 0x0807060504030201UL + i * 0x0808080808080808UL;
  uint64_t r = 0, p = (uint64_t)mis;
#define MIS_L(insn, off) do { r = 0xdead; TRY(insn " at +" #off, __asm__ volatile(insn " %0, " #off "(%1)" : "+r"(r) : "r"(p))); printf("  value %lx\n", r); } while (0)
#define MIS_S(insn, off) do { TRY(insn " at +" #off, __asm__ volatile(insn " %0, " #off "(%1)" :: "r"(0xa1a2a3a4a5a6a7a8UL), "r"(p) : "memory")); \
    printf("  memory %016lx %016lx\n", mis[0], mis[1]); } while (0)
  MIS_L("lh", 1); MIS_L("lhu", 3); MIS_L("lw", 1); MIS_L("lw", 2); MIS_L("lwu", 3); MIS_L("ld", 1); MIS_L("ld", 4); MIS_L("ld", 7);
  MIS_S("sh", 1); MIS_S("sw", 2); MIS_S("sw", 3); MIS_S("sd", 4); MIS_S("sd", 1);
  TRY("flw at +2", __asm__ volatile("flw ft0, 2(%0)" :: "r"(p)));
  TRY("fsd at +4", __asm__ volatile("fsd ft0, 4(%0)" :: "r"(p) : "memory"));
  p = (uint64_t)mis + 2;
  TRY("lr.w at +2", __asm__ volatile("lr.w t0, (%0)" :: "r"(p) : "t0"));
  TRY("sc.w at +2", __asm__ volatile("sc.w t0, zero, (%0)" :: "r"(p) : "t0", "memory"));
  TRY("amoadd.w at +2", __asm__ volatile("amoadd.w t0, zero, (%0)" :: "r"(p) : "t0", "memory"));
  p = (uint64_t)mis + 4;
  TRY("lr.d at +4", __asm__ volatile("lr.d t0, (%0)" :: "r"(p) : "t0"));
  TRY("sc.d at +4", __asm__ volatile("sc.d t0, zero, (%0)" :: "r"(p) : "t0", "memory"));
  TRY("amoswap.d at +4", __asm__ volatile("amoswap.d t0, zero, (%0)" :: "r"(p) : "t0", "memory"));
  printf("  memory %016lx %016lx\n", mis[0], mis[1]);
  base_addr = 0;
}

static void satp_modes(void) {
  /* QEMU 7.2 also accepts 9 (Sv48) and 10 (Sv57): not tested here. */
  static const uint64_t modes[] = {0, 1, 7, 8, 11, 15};
  for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    write_csr(satp, 0);
    write_csr(satp, (modes[i] << 60) | (0x1234UL << 44) | 0x80123);
    printf("satp write mode %lu -> %lx\n", modes[i], read_csr(satp));
  }
  write_csr(satp, 0);
}

int main(void) {
  printf("priv_traps\n");
  pmp_allow_all();
  expect_trap = 1;
  identification();
  ecalls_and_illegal();
  csr_permissions();
  trap_virtualization();
  xret_state();
  delegation();
  float_state();
  misaligned();
  satp_modes();
  expect_trap = 0;
  return check_failures();
}
