/* Sv39 page-table walk (privileged spec 4.3/4.4): 4 KiB, 2 MiB and 1 GiB
 * leaves with identity and offset mappings, a store through one virtual
 * alias read back through others, fetches through each leaf size, and the
 * page faults: V=0, reserved encodings (W without R, bits 63:54, a pointer
 * at level 0), misaligned superpages, non-canonical addresses, permission
 * faults (X, W, MXR) and an instruction straddling two pages.
 *
 * Everything runs in S-mode with page faults delegated (scause/stval are
 * printed); M-mode only builds the tables and reads physical memory. */
#include "sv39_mmu.h"

#define PA_2M   0x81200000UL   /* 2 MiB-aligned region for the 2 MiB leaf */
#define PA_STR  0x81010000UL   /* two pages for the straddling instruction */

static page_table root __attribute__((aligned(4096)));
static page_table l1 __attribute__((aligned(4096)));       /* VA 0 .. 1 GiB */
static page_table l0 __attribute__((aligned(4096)));       /* VA 0 .. 2 MiB */
static page_table l0_bad __attribute__((aligned(4096)));   /* VA 6 MiB: a pointer at level 0 */

/* Fills a page with 64-bit words `tag | offset`, so a load shows where it landed. */
static void fill_tagged(uint64_t pa, uint64_t tag) {
  for (uint64_t i = 0; i < 512; i++) ((volatile uint64_t *)pa)[i] = tag | (i * 8);
}

static void build_tables(void) {
  root[0] = pte_table(l1);
  root[1] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD);   /* VA 0x4000_0000: 1 GiB offset mapping */
  root[2] = pte_leaf(0x80000000UL, PTE_RWX | PTE_AD);   /* VA 0x8000_0000: 1 GiB identity */
  root[3] = pte_leaf(0x80200000UL, PTE_RWX | PTE_AD);   /* VA 0xc000_0000: ppn[1] != 0, misaligned */
  root[4] = pte_table(l1) & ~PTE_V;                     /* VA 0x1_0000_0000: V=0 at level 2 */
  root[511] = pte_leaf(0x80000000UL, PTE_RW | PTE_AD);  /* VA 0xffff_ffff_c000_0000: top 1 GiB */

  l1[0] = pte_table(l0);
  l1[1] = pte_leaf(PA_2M, PTE_RWX | PTE_AD);             /* VA 0x20_0000: 2 MiB leaf */
  l1[2] = pte_leaf(PA_2M + 0x1000, PTE_RWX | PTE_AD);    /* VA 0x40_0000: ppn[0] != 0, misaligned */
  l1[3] = pte_table(l0_bad);                             /* VA 0x60_0000 */
  l0_bad[0] = pte_table(l0_bad);                         /* a pointer where a leaf must be */

  l0[0x0] = pte_leaf(PA_DATA, PTE_RW | PTE_AD);          /* what a truncated non-canonical VA would hit */
  l0[0x1] = pte_leaf(PA_DATA, PTE_RW | PTE_AD);          /* read/write */
  l0[0x2] = pte_leaf(PA_DATA, PTE_R | PTE_A);            /* read-only alias */
  l0[0x3] = pte_leaf(PA_CODE, PTE_X | PTE_A);            /* execute-only code */
  l0[0x4] = pte_leaf(PA_DATA, PTE_RW | PTE_AD) & ~PTE_V; /* V=0 */
  l0[0x5] = pte_leaf(PA_DATA, PTE_W | PTE_AD);           /* W without R: reserved */
  l0[0x6] = pte_leaf(PA_DATA, PTE_W | PTE_X | PTE_AD);   /* W+X without R: reserved */
  l0[0x7] = pte_leaf(PA_DATA, PTE_RW | PTE_AD) | (1UL << 54);
  l0[0x8] = pte_leaf(PA_DATA, PTE_RW | PTE_AD) | (1UL << 63);   /* N (Svnapot) */
  l0[0x9] = pte_leaf(PA_DATA, PTE_RW | PTE_AD) | (1UL << 61);   /* PBMT (Svpbmt) */
  l0[0xa] = pte_leaf(PA_DATA, PTE_X | PTE_A);            /* execute-only data, for MXR */
  /* straddling instruction at page offset 0xffe */
  l0[0x10] = pte_leaf(PA_STR, PTE_X | PTE_R | PTE_A);    /* second page (0x11000) unmapped */
  l0[0x12] = pte_leaf(PA_STR, PTE_X | PTE_R | PTE_A);
  l0[0x13] = pte_leaf(PA_STR + 0x1000, PTE_X | PTE_R | PTE_A);
  l0[0x14] = pte_leaf(PA_STR, PTE_X | PTE_R | PTE_A);
  l0[0x15] = pte_leaf(PA_STR + 0x1000, PTE_RW | PTE_AD); /* second page not executable */
}

static void fill_memory(void) {
  fill_tagged(PA_DATA, 0xda7a000000000000UL);
  fill_tagged(PA_2M, 0x2000000000000000UL);
  fill_tagged(PA_2M + 0x1ff000, 0x2000000000000000UL | 0x1ff000);
  write_stub(PA_CODE);
  write_stub(PA_2M + 0x3000);
  /* addi a0, zero, 7 (0x00700513) across PA_STR+0xffe | PA_STR+0x1000, then ret */
  volatile uint16_t *h = (volatile uint16_t *)(PA_STR + 0xffe);
  h[0] = 0x0513; h[1] = 0x0070; h[2] = 0x8067; h[3] = 0x0000;
  fence_i();
}

static void load(const char *what, uint64_t va) { report_run(what, 1, probe_load, (long)va); }
static void store(const char *what, uint64_t va, uint64_t v) {
  probe_store_value = v;
  report_run(what, 1, probe_store, (long)va);
}
static void fetch(const char *what, uint64_t va) {
  uint64_t s0 = last_strap.count;
  report_run(what, 1, probe_fetch, (long)va);
  if (last_strap.count != s0) printf("  sepc=%lx\n", last_strap.epc);
}
static void phys(uint64_t pa) {
  printf("%-52s %lx\n", "  M-mode reads the physical address:", *(volatile uint64_t *)pa);
}

int main(void) {
  printf("sv39_walk\n");
  pmp_allow_all();
  build_tables();
  fill_memory();
  write_csr(stvec, (uint64_t)s_trap_entry);
  write_csr(medeleg, (1UL << 12) | (1UL << 13) | (1UL << 15));
  s_trap_hook = fetch_fault_hook;
  write_csr(satp, satp_sv39(0, root));
  sfence_all();

  printf("-- 4 KiB leaves\n");
  store("store 4K RW      VA 1000 (PA 81000000)", 0x1000, 0x4b4b4b4b00000001UL);
  load("load  4K R alias VA 2000", 0x2000);
  load("load  1G alias   VA 41000000", 0x41000000);
  load("load  top alias  VA ffffffffc1000000", 0xffffffffc1000000UL);
  load("load  identity   VA 81000000", 0x81000000);
  phys(PA_DATA);
  load("load  4K RW      VA 1ff8", 0x1ff8);
  fetch("fetch 4K X-only  VA 3000 (PA 81008000)", 0x3000);

  printf("-- 2 MiB leaf (VA 200000 -> PA 81200000)\n");
  store("store 2M         VA 200010", 0x200010, 0x2b2b2b2b00000002UL);
  load("load  1G alias   VA 41200010", 0x41200010);
  phys(PA_2M + 0x10);
  load("load  2M         VA 3ffff8 (last word)", 0x3ffff8);
  fetch("fetch 2M         VA 203000", 0x203000);

  printf("-- 1 GiB leaves (VA 40000000 -> PA 80000000)\n");
  store("store 1G         VA 41000008", 0x41000008, 0x1b1b1b1b00000003UL);
  load("load  4K alias   VA 1008", 0x1008);
  phys(PA_DATA + 8);
  fetch("fetch 1G         VA 41008000", 0x41008000);
  fetch("fetch identity   VA 81008000", 0x81008000);

  printf("-- invalid and reserved PTEs\n");
  load("load  V=0 leaf              VA 4000", 0x4000);
  store("store V=0 leaf              VA 4008", 0x4008, 1);
  fetch("fetch V=0 leaf              VA 4000", 0x4000);
  load("load  V=0 at level 2        VA 100000000", 0x100000000UL);
  load("load  W without R           VA 5000", 0x5000);
  store("store W without R           VA 5000", 0x5000, 1);
  load("load  W+X without R         VA 6000", 0x6000);
  load("load  bit 54 set            VA 7000", 0x7000);
  store("store bit 54 set            VA 7000", 0x7000, 1);
  load("load  bit 63 (N) set        VA 8000", 0x8000);
  load("load  bit 61 (PBMT) set     VA 9000", 0x9000);
  load("load  pointer at level 0    VA 600000", 0x600000);
  fetch("fetch pointer at level 0    VA 600000", 0x600000);

  printf("-- misaligned superpages\n");
  load("load  2M leaf, ppn[0]!=0    VA 400000", 0x400000);
  fetch("fetch 2M leaf, ppn[0]!=0    VA 400000", 0x400000);
  load("load  1G leaf, ppn[1]!=0    VA c0000000", 0xc0000000UL);

  printf("-- non-canonical virtual addresses\n");
  load("load  VA 0 (control: mapped)", 0);
  load("load  VA 8000000000", 0x8000000000UL);
  store("store VA 8000000000", 0x8000000000UL, 1);
  fetch("fetch VA 8000000000", 0x8000000000UL);
  load("load  VA ffffff7ffffff000", 0xffffff7ffffff000UL);
  store("store VA ffffff7ffffff000", 0xffffff7ffffff000UL, 1);
  load("load  VA ffffffc000001000 (canonical, unmapped)", 0xffffffc000001000UL);
  load("load  VA 3ffffff000 (canonical, unmapped)", 0x3ffffff000UL);

  printf("-- permissions\n");
  fetch("fetch non-X page (RW)       VA 1000", 0x1000);
  store("store read-only page        VA 2000", 0x2000, 1);
  load("load  X-only page, MXR=0    VA a000", 0xa000);
  store("store X-only page, MXR=0    VA a000", 0xa000, 1);
  set_csr(mstatus, MSTATUS_MXR);
  load("load  X-only page, MXR=1    VA a000", 0xa000);
  store("store X-only page, MXR=1    VA a000", 0xa000, 1);
  load("load  R page, MXR=1         VA 2000", 0x2000);
  clear_csr(mstatus, MSTATUS_MXR);
  load("load  X-only page, MXR=0 again VA a008", 0xa008);

  printf("-- 4-byte instruction at page offset ffe\n");
  fetch("fetch both pages mapped     VA 12ffe", 0x12ffe);
  fetch("fetch second page unmapped  VA 10ffe", 0x10ffe);
  fetch("fetch second page not X     VA 14ffe", 0x14ffe);

  write_csr(satp, 0);
  sfence_all();
  write_csr(medeleg, 0);
  printf("M-mode reads PA 81000000 at the end: %lx\n", *(volatile uint64_t *)PA_DATA);
  return check_failures();
}
