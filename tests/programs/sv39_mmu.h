/* Helpers shared by the sv39_*.c programs (Sv39 MMU tests): PTE and satp
 * encodings, fixed physical scratch pages outside the program image, code
 * stubs written at run time, and lower-mode load/store/fetch probes whose
 * faults are recorded (by the runtime's trap handlers) and reported.
 *
 * Page tables live in static 4 KiB-aligned arrays; the pages the tests map
 * and touch are at fixed physical addresses above the 16 MiB image
 * (0x8100_0000..), so every address and PTE the programs print is a
 * constant, independent of the compiler's layout. */
#ifndef SV39_MMU_H
#define SV39_MMU_H

#include "runtime.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_RW (PTE_R | PTE_W)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_AD (PTE_A | PTE_D)

#define MSTATUS_SUM (1UL << 18)
#define MSTATUS_MXR (1UL << 19)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_MPP (3UL << 11)

#define SATP_SV39 (8UL << 60)
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

/* Physical scratch pages (RAM is 128 MiB from 0x8000_0000 on both machines). */
#define PA_DATA  0x81000000UL   /* data page */
#define PA_DATA2 0x81001000UL   /* second data page */
#define PA_DATA3 0x81002000UL   /* third data page */
#define PA_CODE  0x81008000UL   /* stub: auipc a0, 0; ret */

/* What a probe returns when the access trapped and was skipped. */
#define NO_VALUE 0xbadUL

typedef uint64_t page_table[512];

/* Leaf PTE for physical address `pa` with `flags` (V added). */
static inline uint64_t pte_leaf(uint64_t pa, uint64_t flags) { return ((pa >> 12) << 10) | flags | PTE_V; }
/* Pointer PTE to the next-level table. */
static inline uint64_t pte_table(const void *table) { return (((uint64_t)table >> 12) << 10) | PTE_V; }
static inline uint64_t satp_sv39(uint64_t asid, const void *root) { return SATP_SV39 | (asid << 44) | ((uint64_t)root >> 12); }
static inline uint64_t vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 0x1ff; }
static inline void sfence_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }
static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

/* Fills a physical page with copies of `v`. */
static inline void fill_page(uint64_t pa, uint64_t v) {
  for (int i = 0; i < 512; i++) ((volatile uint64_t *)pa)[i] = v;
}

/* Writes the stub `auipc a0, 0; ret` at `pa`: called through a virtual
 * address it returns that address, which shows where it was fetched from. */
static inline void write_stub(uint64_t pa) {
  ((volatile uint32_t *)pa)[0] = 0x00000517;   /* auipc a0, 0 */
  ((volatile uint32_t *)pa)[1] = 0x00008067;   /* ret */
  fence_i();
}

/* ---- probes, run in S- or U-mode through run_in_mode ---------------------
 * A faulting load or store is skipped by the trap handler (the result stays
 * NO_VALUE); a faulting fetch returns to the caller through `fetch_fault_hook`. */

static volatile uint64_t probe_store_value __attribute__((unused));

static __attribute__((unused)) long probe_load(long va) {
  long v = NO_VALUE;
  __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(va) : "memory");
  return v;
}

static __attribute__((unused)) long probe_store(long va) {
  uint64_t val = probe_store_value;
  __asm__ volatile("sd %0, 0(%1)" :: "r"(val), "r"(va) : "memory");
  return (long)val;
}

/* Calls the code at `va` (jalr, so ra = the return point); returns its a0. */
static __attribute__((unused)) long probe_fetch(long va) {
  long r;
  __asm__ volatile("li a0, %2\n jalr ra, 0(%1)\n mv %0, a0"
                   : "=r"(r) : "r"(va), "i"(NO_VALUE) : "ra", "a0", "memory");
  return r;
}

/* Trap hook (M or S): a fetch page fault returns from the jalr of
 * probe_fetch with a0 = NO_VALUE instead of skipping an instruction. */
static inline int fetch_fault_hook(struct trap_frame *f) {
  if (f->cause != CAUSE_FETCH_PAGE_FAULT) return 0;
  f->epc = f->x[1];
  f->x[10] = NO_VALUE;
  return 1;
}

/* ---- reporting ----------------------------------------------------------- */

/* Runs fn(arg) in `mode` (0 = U, 1 = S, 3 = M: called directly) and prints
 * one line: what was tried, then the value or the trap (cause, tval, and
 * the privilege mode it came from). */
static __attribute__((unused)) long report_run(const char *what, int mode, long (*fn)(long), long arg) {
  uint64_t m0 = last_trap.count, s0 = last_strap.count;
  long v = mode == 3 ? fn(arg) : run_in_mode(mode, fn, arg);
  printf("%-52s ", what);
  if (last_trap.count != m0)
    printf("M-trap cause=%lu from=%lu tval=%lx\n", last_trap.cause, last_trap.mode, last_trap.tval);
  else if (last_strap.count != s0)
    printf("S-trap cause=%lu from=%lu tval=%lx\n", last_strap.cause, last_strap.mode, last_strap.tval);
  else
    printf("ok %lx\n", v);
  return v;
}

#endif
