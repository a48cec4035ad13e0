/* Sv39 accessed and dirty bits (privileged spec 4.3.1, 4.3.2 step 7).
 *
 * The spec allows two policies: the hardware sets A (any access) and D
 * (stores) in the leaf PTE itself, or an access that needs A or D set raises
 * a page fault and software sets them. QEMU (and sv39 by default,
 * `--ad hardware`) update the PTE; sv39 `--ad trap` and Spike fault.
 *
 * This program works under both: its M-mode page-fault handler walks the
 * tables, and when the access is permitted and only A/D are missing it sets
 * them, executes sfence.vma and retries the access, counting such faults.
 * The PTEs it prints are therefore the same under both policies; only the
 * count (and the policy line) differ: 0 under hardware update, > 0 under
 * `--ad trap` (sv39-only golden tests/expected/sv39_ad.trap.out). */
#include "sv39_mmu.h"

static page_table root __attribute__((aligned(4096)));
static page_table l1 __attribute__((aligned(4096)));
static page_table l0 __attribute__((aligned(4096)));

#define PA_2M 0x81200000UL

static uint64_t ad_faults;   /* page faults that only needed A/D, fixed by the handler */

/* The leaf PTE that maps `va` under the current satp, or 0 (no leaf). */
static volatile uint64_t *leaf_pte(uint64_t va) {
  uint64_t table = (read_csr(satp) & ((1UL << 44) - 1)) << 12;
  for (int level = 2; level >= 0; level--) {
    volatile uint64_t *pte = (volatile uint64_t *)table + vpn(va, level);
    uint64_t v = *pte;
    if (!(v & PTE_V) || ((v & PTE_W) && !(v & PTE_R))) return 0;
    if (v & (PTE_R | PTE_X)) return pte;
    table = (v >> 10) << 12;
  }
  return 0;
}

/* M-mode page-fault hook: the software half of the "A/D faults" policy. */
static int ad_fault_hook(struct trap_frame *f) {
  int fetch = f->cause == CAUSE_FETCH_PAGE_FAULT, store = f->cause == CAUSE_STORE_PAGE_FAULT;
  if (!fetch && !store && f->cause != CAUSE_LOAD_PAGE_FAULT) return 0;
  volatile uint64_t *pte = leaf_pte(f->tval);
  if (pte) {
    uint64_t v = *pte;
    int mxr = (f->status & MSTATUS_MXR) != 0;
    int permitted = fetch ? (v & PTE_X) != 0 : store ? (v & PTE_W) != 0 : (v & PTE_R) || (mxr && (v & PTE_X));
    uint64_t need = PTE_A | (store ? PTE_D : 0);
    if (permitted && (v & need) != need) {
      *pte = v | need;
      sfence_all();
      ad_faults++;
      last_trap.count--;   /* not a trap the test reports: the access is retried */
      return 1;            /* mepc unchanged: the access runs again */
    }
  }
  return fetch_fault_hook(f);   /* a real fault: loads and stores are skipped */
}

static void show_pte(uint64_t va) {
  uint64_t v = *leaf_pte(va);
  printf("  leaf PTE for VA %-8lx = %016lx A=%lu D=%lu\n", va, v, (v >> 6) & 1, (v >> 7) & 1);
}
static void load(const char *what, uint64_t va) { report_run(what, 1, probe_load, (long)va); show_pte(va); }
static void store(const char *what, uint64_t va, uint64_t v) {
  probe_store_value = v;
  report_run(what, 1, probe_store, (long)va);
  show_pte(va);
}
static void fetch(const char *what, uint64_t va) { report_run(what, 1, probe_fetch, (long)va); show_pte(va); }

int main(void) {
  printf("sv39_ad\n");
  pmp_allow_all();
  for (uint64_t i = 0; i < 512; i++) {
    ((volatile uint64_t *)PA_DATA)[i] = 0xad00000000000000UL | (i * 8);
    ((volatile uint64_t *)PA_2M)[i] = 0xad20000000000000UL | (i * 8);
  }
  write_stub(PA_CODE);
  root[0] = pte_table(l1);
  root[2] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD);   /* the program: A and D already set */
  l1[0] = pte_table(l0);
  l1[1] = pte_leaf(PA_2M, PTE_RW);                      /* VA 200000: 2 MiB, A=0 D=0 */
  l0[1] = pte_leaf(PA_DATA, PTE_RW);                    /* A=0 D=0 */
  l0[2] = pte_leaf(PA_DATA, PTE_RW);                    /* A=0 D=0 */
  l0[3] = pte_leaf(PA_DATA, PTE_RW | PTE_A);            /* A=1 D=0 */
  l0[4] = pte_leaf(PA_DATA, PTE_RW);                    /* A=0 D=0 */
  l0[5] = pte_leaf(PA_CODE, PTE_X);                     /* execute-only, A=0 */
  l0[6] = pte_leaf(PA_DATA, PTE_R);                     /* read-only, A=0 */
  l0[7] = pte_leaf(PA_DATA, PTE_X);                     /* execute-only data, A=0 */
  l0[8] = pte_leaf(PA_DATA, PTE_RW | PTE_AD);           /* A=1 D=1 already */
  write_csr(satp, satp_sv39(0, root));
  sfence_all();
  expect_trap = 1;
  trap_hook = ad_fault_hook;

  load("load  A=0 D=0 page       VA 1000", 0x1000);
  store("store A=0 D=0 page       VA 2000", 0x2000, 0xad0000000000d001UL);
  load("load  A=1 D=0 page       VA 3000", 0x3000);
  store("store A=1 D=0 page       VA 3008", 0x3008, 0xad0000000000d002UL);
  load("load  A=0 D=0 page       VA 4010", 0x4010);
  store("then store               VA 4010", 0x4010, 0xad0000000000d003UL);
  fetch("fetch X-only A=0 page    VA 5000", 0x5000);
  store("store read-only A=0 page VA 6000 (faults)", 0x6000, 1);
  load("then load                VA 6000", 0x6000);
  load("load  X-only A=0, MXR=0  VA 7000 (faults)", 0x7000);
  set_csr(mstatus, MSTATUS_MXR);
  load("load  X-only A=0, MXR=1  VA 7000", 0x7000);
  clear_csr(mstatus, MSTATUS_MXR);
  store("store A=1 D=1 page       VA 8018", 0x8018, 0xad0000000000d004UL);
  store("store 2 MiB A=0 D=0 leaf VA 200020", 0x200020, 0xad2000000000d005UL);
  printf("%-52s %lx %lx\n", "PA 81000000+8/+10:", *(volatile uint64_t *)(PA_DATA + 8), *(volatile uint64_t *)(PA_DATA + 0x10));
  printf("%-52s %lx\n", "PA 81200020:", *(volatile uint64_t *)(PA_2M + 0x20));
  printf("non-leaf PTE flags (A/D untouched): root[0]=%lx l1[0]=%lx\n", root[0] & 0x3ff, l1[0] & 0x3ff);

  write_csr(satp, 0);
  sfence_all();
  expect_trap = 0;
  printf("A/D page faults fixed by the M-mode handler: %lu\n", ad_faults);
  printf("A/D policy seen: %s\n", ad_faults ? "page fault, software sets A/D" : "hardware sets A/D");
  return check_failures();
}
