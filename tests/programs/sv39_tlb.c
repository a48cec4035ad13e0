/* Sv39 address-translation caching (privileged spec 4.2.1 SFENCE.VMA, 4.1.11
 * satp, 4.3.1 G bit). A TLB is visible only through a missing fence: after
 * a PTE is rewritten without sfence.vma, a hart may keep using the old
 * translation until an sfence.vma that covers it. sv39 keeps stale entries
 * until such a fence (and `--tlb-check` reports each stale hit on stderr);
 * QEMU 7.2 flushes its whole TLB on every sfence.vma and on every satp
 * write that changes the ASID, so where the spec allows both results the
 * lines differ (tests/expected/sv39_tlb.deviations).
 *
 * All accesses run in one S-mode call without touching mstatus (QEMU
 * flushes when SUM, MXR, MPRV or MPP change, as run_in_mode's MPP write
 * does); results are collected and printed by M-mode afterwards. Values are the contents of three physical pages:
 * PA1 = 1111.., PA2 = 2222.., PA3 = 3333.. */
#include "sv39_mmu.h"

static page_table root_a __attribute__((aligned(4096)));   /* ASID 1 */
static page_table root_b __attribute__((aligned(4096)));   /* ASID 2 */
static page_table l1_a __attribute__((aligned(4096)));
static page_table l1_b __attribute__((aligned(4096)));
static page_table l0_a __attribute__((aligned(4096)));
static page_table l0_b __attribute__((aligned(4096)));

#define PA1 PA_DATA
#define PA2 PA_DATA2
#define PA3 PA_DATA3
#define PA_CODE_A PA_CODE              /* li a0, 0xa; ret */
#define PA_CODE_B (PA_CODE + 0x1000)   /* li a0, 0xb; ret */

/* Test pages (VA 0x1b8000..0x1bf000; tests/isa.rs names VA_STALE). */
#define VA_STALE  0x1b8000UL   /* fence by VA */
#define VA_OTHER  0x1b9000UL   /* another VA, for a fence that must not cover VA_STALE */
#define VA_ASID   0x1ba000UL   /* fence by ASID */
#define VA_BOTH   0x1bb000UL   /* fence by VA and ASID */
#define VA_GLOBAL 0x1bc000UL   /* G=1 */
#define VA_LOCAL  0x1bd000UL   /* G=0, same ASID */
#define VA_SWITCH 0x1be000UL   /* PA1 in ASID 1, PA3 in ASID 2 */
#define VA_CODE   0x1bf000UL   /* code: PA_CODE_A, then PA_CODE_B */

#define ASID_A 1UL
#define ASID_B 2UL

#define MAX_RESULTS 48
static const char *labels[MAX_RESULTS];
static uint64_t values[MAX_RESULTS];
static int n_results;

static void record(const char *label, uint64_t v) {
  if (n_results < MAX_RESULTS) { labels[n_results] = label; values[n_results] = v; }
  n_results++;
}

static inline uint64_t ld(uint64_t va) { return *(volatile uint64_t *)va; }
static inline void set_pte(page_table t, uint64_t va, uint64_t pa, uint64_t flags) {
  ((volatile uint64_t *)t)[vpn(va, 0)] = pte_leaf(pa, flags);
}
static inline void remap(uint64_t va, uint64_t pa) { set_pte(l0_a, va, pa, PTE_RW | PTE_AD); }
static inline void sfence_va(uint64_t va) { __asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory"); }
static inline void sfence_asid(uint64_t asid) { __asm__ volatile("sfence.vma zero, %0" :: "r"(asid) : "memory"); }
static inline void sfence_va_asid(uint64_t va, uint64_t asid) {
  __asm__ volatile("sfence.vma %0, %1" :: "r"(va), "r"(asid) : "memory");
}
static inline void set_satp(uint64_t v) { __asm__ volatile("csrw satp, %0" :: "r"(v) : "memory"); }
static inline uint64_t call(uint64_t va) {
  uint64_t r;
  __asm__ volatile("jalr ra, 0(%1)\n mv %0, a0" : "=r"(r) : "r"(va) : "ra", "a0", "memory");
  return r;
}

/* Runs in S-mode with satp = (ASID 1, root_a). */
static long tlb_tests(long unused) {
  uint64_t satp_a = satp_sv39(ASID_A, root_a), satp_b = satp_sv39(ASID_B, root_b);
  sfence_all();

  record("fence by VA: load VA_STALE (PTE -> PA1)", ld(VA_STALE));
  remap(VA_STALE, PA2);
  record("  PTE -> PA2, no fence: load", ld(VA_STALE));
  sfence_va(VA_OTHER);
  record("  after sfence.vma VA_OTHER, x0: load", ld(VA_STALE));
  sfence_va(VA_STALE);
  record("  after sfence.vma VA_STALE, x0: load", ld(VA_STALE));

  record("fence by ASID: load VA_ASID (PTE -> PA1)", ld(VA_ASID));
  remap(VA_ASID, PA2);
  record("  PTE -> PA2, no fence: load", ld(VA_ASID));
  sfence_asid(ASID_B);
  record("  after sfence.vma x0, ASID 2: load", ld(VA_ASID));
  sfence_asid(ASID_A);
  record("  after sfence.vma x0, ASID 1: load", ld(VA_ASID));

  record("fence by VA+ASID: load VA_BOTH (PTE -> PA1)", ld(VA_BOTH));
  remap(VA_BOTH, PA2);
  record("  PTE -> PA2, no fence: load", ld(VA_BOTH));
  sfence_va_asid(VA_BOTH, ASID_B);
  record("  after sfence.vma VA_BOTH, ASID 2: load", ld(VA_BOTH));
  sfence_va_asid(VA_OTHER, ASID_A);
  record("  after sfence.vma VA_OTHER, ASID 1: load", ld(VA_BOTH));
  sfence_va_asid(VA_BOTH, ASID_A);
  record("  after sfence.vma VA_BOTH, ASID 1: load", ld(VA_BOTH));

  record("global: load VA_GLOBAL (G=1, PTE -> PA1)", ld(VA_GLOBAL));
  record("global: load VA_LOCAL (G=0, PTE -> PA1)", ld(VA_LOCAL));
  set_pte(l0_a, VA_GLOBAL, PA2, PTE_RW | PTE_AD | PTE_G);
  remap(VA_LOCAL, PA2);
  sfence_asid(ASID_A);
  record("  both PTEs -> PA2, sfence.vma x0, ASID 1: VA_GLOBAL", ld(VA_GLOBAL));
  record("  ... VA_LOCAL", ld(VA_LOCAL));
  sfence_va_asid(VA_GLOBAL, ASID_A);
  record("  after sfence.vma VA_GLOBAL, ASID 1: VA_GLOBAL", ld(VA_GLOBAL));
  sfence_va(VA_GLOBAL);
  record("  after sfence.vma VA_GLOBAL, x0: VA_GLOBAL", ld(VA_GLOBAL));

  record("ASID switch: ASID 1 load VA_SWITCH (-> PA1)", ld(VA_SWITCH));
  set_satp(satp_b);
  record("  satp := ASID 2, no fence: load (-> PA3)", ld(VA_SWITCH));
  set_satp(satp_a);
  record("  satp := ASID 1, no fence: load", ld(VA_SWITCH));
  remap(VA_SWITCH, PA2);
  set_satp(satp_b);
  record("  ASID 1 PTE -> PA2; satp := ASID 2: load", ld(VA_SWITCH));
  set_satp(satp_a);
  record("  satp := ASID 1, no fence: load", ld(VA_SWITCH));
  sfence_all();
  record("  after sfence.vma x0, x0: load", ld(VA_SWITCH));

  record("fetch: call VA_CODE (PTE -> code A)", call(VA_CODE));
  set_pte(l0_a, VA_CODE, PA_CODE_B, PTE_X | PTE_A);
  record("  PTE -> code B, no fence: call", call(VA_CODE));
  sfence_va(VA_CODE);
  record("  after sfence.vma VA_CODE, x0: call", call(VA_CODE));
  return unused;
}

static void write_li_ret(uint64_t pa, uint32_t imm) {
  ((volatile uint32_t *)pa)[0] = (imm << 20) | 0x513;   /* addi a0, zero, imm */
  ((volatile uint32_t *)pa)[1] = 0x00008067;            /* ret */
}

int main(void) {
  printf("sv39_tlb\n");
  pmp_allow_all();
  fill_page(PA1, 0x1111111111111111UL);
  fill_page(PA2, 0x2222222222222222UL);
  fill_page(PA3, 0x3333333333333333UL);
  write_li_ret(PA_CODE_A, 0xa);
  write_li_ret(PA_CODE_B, 0xb);
  fence_i();

  root_a[0] = pte_table(l1_a);
  root_b[0] = pte_table(l1_b);
  root_a[2] = root_b[2] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD);   /* the program, not global */
  l1_a[0] = pte_table(l0_a);
  l1_b[0] = pte_table(l0_b);
  uint64_t data_va[] = {VA_STALE, VA_OTHER, VA_ASID, VA_BOTH, VA_LOCAL, VA_SWITCH};
  for (unsigned i = 0; i < sizeof data_va / sizeof data_va[0]; i++) set_pte(l0_a, data_va[i], PA1, PTE_RW | PTE_AD);
  set_pte(l0_a, VA_GLOBAL, PA1, PTE_RW | PTE_AD | PTE_G);
  set_pte(l0_a, VA_CODE, PA_CODE_A, PTE_X | PTE_A);
  set_pte(l0_b, VA_SWITCH, PA3, PTE_RW | PTE_AD);

  write_csr(satp, satp_sv39(ASID_A, root_a));
  sfence_all();
  run_in_mode(1, tlb_tests, 0);
  write_csr(satp, 0);
  sfence_all();

  CHECK(n_results <= MAX_RESULTS);
  for (int i = 0; i < n_results && i < MAX_RESULTS; i++) printf("%-56s %lx\n", labels[i], values[i]);
  return check_failures();
}
