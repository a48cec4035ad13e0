/* Sv39 and privilege (privileged spec 3.1.6.3, 4.1.11, 4.3.1): the U bit
 * (U-mode only on U pages; S-mode on U pages only with SUM, and never a
 * fetch), MPRV with MPP = S / U / M (loads and stores translated, fetches
 * not), and satp as a WARL register: unsupported modes and the ASID width.
 *
 * Page faults are not delegated: M-mode records them (mcause, mtval, and the
 * mode they came from) and skips the access. */
#include "sv39_mmu.h"

static page_table root_s __attribute__((aligned(4096)));  /* code identity-mapped, U=0 */
static page_table root_u __attribute__((aligned(4096)));  /* code identity-mapped, U=1 */
static page_table root_t __attribute__((aligned(4096)));  /* test pages only: no identity mapping */
static page_table l1 __attribute__((aligned(4096)));
static page_table l0 __attribute__((aligned(4096)));

#define VA_USER_DATA 0x1000UL   /* -> PA_DATA,  RW, U=1 */
#define VA_SUPV_DATA 0x2000UL   /* -> PA_DATA2, RW, U=0 */
#define VA_USER_CODE 0x3000UL   /* -> PA_CODE,  X,  U=1 */
#define VA_SUPV_CODE 0x4000UL   /* -> PA_CODE,  X,  U=0 */

static void build_tables(void) {
  root_s[0] = root_u[0] = root_t[0] = pte_table(l1);
  root_s[2] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD);
  root_u[2] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD | PTE_U);
  l1[0] = pte_table(l0);
  l0[1] = pte_leaf(PA_DATA, PTE_RW | PTE_AD | PTE_U);
  l0[2] = pte_leaf(PA_DATA2, PTE_RW | PTE_AD);
  l0[3] = pte_leaf(PA_CODE, PTE_X | PTE_A | PTE_U);
  l0[4] = pte_leaf(PA_CODE, PTE_X | PTE_A);
  for (uint64_t i = 0; i < 512; i++) {
    ((volatile uint64_t *)PA_DATA)[i] = 0x7573657200000000UL | (i * 8);    /* "user" */
    ((volatile uint64_t *)PA_DATA2)[i] = 0x7375707200000000UL | (i * 8);   /* "supr" */
  }
  write_stub(PA_CODE);
}

static void use_root(const void *root) {
  write_csr(satp, satp_sv39(0, root));
  sfence_all();
}

static void load(const char *what, int mode, uint64_t va) { report_run(what, mode, probe_load, (long)va); }
static void store(const char *what, int mode, uint64_t va, uint64_t v) {
  probe_store_value = v;
  report_run(what, mode, probe_store, (long)va);
}
static void fetch(const char *what, int mode, uint64_t va) { report_run(what, mode, probe_fetch, (long)va); }

/* ---- M-mode with MPRV ----------------------------------------------------- */

static uint64_t mprv_bits;   /* MPRV | MPP | SUM | MXR for the next access */
#define MPRV_FIELDS (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR)

/* One load with mstatus = mprv_bits, everything else in registers: with
 * MPRV=1 and no identity mapping, any other data access would fault. */
static long mprv_load(long va) {
  long v = NO_VALUE;
  __asm__ volatile("csrc mstatus, %[clr]\n csrs mstatus, %[set]\n"
                   "ld %[v], 0(%[va])\n"
                   "csrc mstatus, %[clr]"
                   : [v] "+r"(v) : [clr] "r"(MPRV_FIELDS), [set] "r"(mprv_bits), [va] "r"(va) : "memory");
  return v;
}

static long mprv_store(long va) {
  uint64_t val = probe_store_value;
  __asm__ volatile("csrc mstatus, %[clr]\n csrs mstatus, %[set]\n"
                   "sd %[val], 0(%[va])\n"
                   "csrc mstatus, %[clr]"
                   :: [clr] "r"(MPRV_FIELDS), [set] "r"(mprv_bits), [va] "r"(va), [val] "r"(val) : "memory");
  return (long)val;
}

/* Instruction fetches (a jump forward and back) with MPRV=1, MPP=U while
 * satp maps no code at all: fetches stay untranslated, so this completes. */
static long mprv_fetch(long arg) {
  long v = 0;
  __asm__ volatile("csrc mstatus, %[clr]\n csrs mstatus, %[set]\n"
                   "j 2f\n"
                   "1: addi %[v], %[v], 1\n j 3f\n"
                   "2: addi %[v], %[v], 0x10\n j 1b\n"
                   "3: csrc mstatus, %[clr]"
                   : [v] "+r"(v) : [clr] "r"(MPRV_FIELDS), [set] "r"(mprv_bits) : "memory");
  return v + arg;
}

static void mprv(const char *what, uint64_t bits, long (*fn)(long), uint64_t va) {
  mprv_bits = MSTATUS_MPRV | bits;
  report_run(what, 3, fn, (long)va);
}

/* ---- satp WARL ------------------------------------------------------------- */

static void satp_write(const char *what, uint64_t mode, uint64_t asid) {
  uint64_t root_ppn = (uint64_t)root_s >> 12;
  write_csr(satp, (mode << 60) | (asid << 44) | root_ppn);
  uint64_t s = read_csr(satp);
  printf("%-52s mode=%lu asid=%lx ppn=", what, s >> 60, (s >> 44) & 0xffff);
  if ((s & ((1UL << 44) - 1)) == root_ppn) printf("root\n");
  else printf("%lx\n", s & ((1UL << 44) - 1));
}

static void satp_warl(void) {
  satp_write("satp := Sv39 (8), asid 5", 8, 5);
  satp_write("satp := Sv48 (9), asid 6", 9, 6);
  satp_write("satp := Sv39 (8), asid 5", 8, 5);
  satp_write("satp := Sv57 (10), asid 7", 10, 7);
  satp_write("satp := Sv39 (8), asid 5", 8, 5);
  satp_write("satp := Sv39 (8), asid ffff", 8, 0xffff);
  satp_write("satp := Sv39 (8), asid 8000", 8, 0x8000);
  satp_write("satp := Sv39 (8), asid 0", 8, 0);
  write_csr(satp, 0);
  printf("%-52s %lx\n", "satp := 0 (Bare)", read_csr(satp));
}

int main(void) {
  printf("sv39_priv\n");
  pmp_allow_all();
  build_tables();
  expect_trap = 1;
  trap_hook = fetch_fault_hook;

  printf("-- U-mode (code on U pages)\n");
  use_root(root_u);
  load("U load  U page      VA 1000", 0, VA_USER_DATA);
  store("U store U page      VA 1000", 0, VA_USER_DATA, 0x7573657255555555UL);
  fetch("U fetch U page      VA 3000", 0, VA_USER_CODE);
  load("U load  non-U page  VA 2000", 0, VA_SUPV_DATA);
  store("U store non-U page  VA 2000", 0, VA_SUPV_DATA, 1);
  fetch("U fetch non-U page  VA 4000", 0, VA_SUPV_CODE);
  set_csr(mstatus, MSTATUS_SUM);
  load("U load  non-U page, SUM=1 VA 2000", 0, VA_SUPV_DATA);
  clear_csr(mstatus, MSTATUS_SUM);

  printf("-- S-mode (code on non-U pages)\n");
  use_root(root_s);
  load("S load  non-U page  VA 2000", 1, VA_SUPV_DATA);
  store("S store non-U page  VA 2000", 1, VA_SUPV_DATA, 0x7375707253535353UL);
  fetch("S fetch non-U page  VA 4000", 1, VA_SUPV_CODE);
  load("S load  U page, SUM=0 VA 1000", 1, VA_USER_DATA);
  store("S store U page, SUM=0 VA 1000", 1, VA_USER_DATA, 1);
  fetch("S fetch U page, SUM=0 VA 3000", 1, VA_USER_CODE);
  set_csr(mstatus, MSTATUS_SUM);
  load("S load  U page, SUM=1 VA 1000", 1, VA_USER_DATA);
  store("S store U page, SUM=1 VA 1000", 1, VA_USER_DATA, 0x7573657253535353UL);
  fetch("S fetch U page, SUM=1 VA 3000", 1, VA_USER_CODE);
  clear_csr(mstatus, MSTATUS_SUM);
  load("S load  U page, SUM=0 again VA 1008", 1, VA_USER_DATA + 8);
  printf("%-52s %lx %lx\n", "  PA 81000000, PA 81001000:", *(volatile uint64_t *)PA_DATA, *(volatile uint64_t *)PA_DATA2);

  printf("-- M-mode with MPRV=1 (satp maps the test pages only)\n");
  use_root(root_t);
  mprv("M MPRV MPP=S load  non-U page  VA 2008", 1UL << 11, mprv_load, VA_SUPV_DATA + 8);
  mprv("M MPRV MPP=S load  U page, SUM=0 VA 1008", 1UL << 11, mprv_load, VA_USER_DATA + 8);
  mprv("M MPRV MPP=S load  U page, SUM=1 VA 1008", (1UL << 11) | MSTATUS_SUM, mprv_load, VA_USER_DATA + 8);
  mprv("M MPRV MPP=S load  X-only page, MXR=1 VA 4000", (1UL << 11) | MSTATUS_MXR, mprv_load, VA_SUPV_CODE);
  probe_store_value = 0x7375707200004d53UL;
  mprv("M MPRV MPP=S store non-U page  VA 2010", 1UL << 11, mprv_store, VA_SUPV_DATA + 0x10);
  mprv("M MPRV MPP=U load  U page      VA 1010", 0, mprv_load, VA_USER_DATA + 0x10);
  mprv("M MPRV MPP=U load  non-U page  VA 2010", 0, mprv_load, VA_SUPV_DATA + 0x10);
  probe_store_value = 0x7573657200004d55UL;
  mprv("M MPRV MPP=U store U page      VA 1018", 0, mprv_store, VA_USER_DATA + 0x18);
  mprv("M MPRV MPP=U store non-U page  VA 2018", 0, mprv_store, VA_SUPV_DATA + 0x18);
  mprv("M MPRV MPP=M load  PA 81000018 (untranslated)", 3UL << 11, mprv_load, PA_DATA + 0x18);
  mprv("M MPRV MPP=U fetches (jumps, no code mapped)", 0, mprv_fetch, 0x100);
  mprv_bits = 0;
  report_run("M MPRV=0 load  PA 81001010 (untranslated)", 3, mprv_load, PA_DATA2 + 0x10);
  printf("%-52s %lx %lx\n", "  PA 81000018, PA 81001010:", *(volatile uint64_t *)(PA_DATA + 0x18),
         *(volatile uint64_t *)(PA_DATA2 + 0x10));

  printf("-- satp is WARL\n");
  satp_warl();
  sfence_all();

  expect_trap = 0;
  return check_failures();
}
