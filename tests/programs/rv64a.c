/* RV64A: lr/sc success and failure, every AMO in .w and .d form, signed vs
 * unsigned min/max, sign extension of .w results, aq/rl encodings. */
#include "runtime.h"

static volatile uint64_t mem[4] __attribute__((aligned(64)));

static const uint64_t V[] = {
  0, 1, -1UL, 0x7fffffffUL, 0x80000000UL, 0xffffffffUL, 0x7fffffffffffffffUL,
  0x8000000000000000UL, 0x1234567880000001UL,
};
#define NV (sizeof V / sizeof V[0])

#define AMO(op) do { for (unsigned i = 0; i < NV; i++) for (unsigned j = 0; j < NV; j++) { \
    uint64_t old; mem[0] = V[i]; mem[1] = 0x5a5a5a5a5a5a5a5aUL; \
    __asm__ volatile(op " %0, %2, (%1)" : "=r"(old) : "r"(&mem[0]), "r"(V[j]) : "memory"); \
    printf(op " [%lx] %lx -> rd %lx mem %lx %lx\n", V[i], V[j], old, mem[0], mem[1]); } } while (0)

/* .w on the upper word of a dword: the lower word must be untouched. */
#define AMOW_HI(op) do { uint64_t old; mem[0] = 0x8000000011111111UL; \
    __asm__ volatile(op " %0, %2, (%1)" : "=r"(old) : "r"((uintptr_t)&mem[0] + 4), "r"(0x7fffffffUL) : "memory"); \
    printf(op " hi-word -> rd %lx mem %lx\n", old, mem[0]); } while (0)

static void lrsc(void) {
  uint64_t v, r, r2;
  /* success */
  mem[0] = 10;
  __asm__ volatile("lr.d %0, (%2)\n addi %0, %0, 1\n sc.d %1, %0, (%2)" : "=&r"(v), "=&r"(r) : "r"(&mem[0]) : "memory");
  printf("lr.d/sc.d: sc -> %lx mem %lx\n", r, mem[0]);
  CHECK_EQ(r, 0); CHECK_EQ(mem[0], 11);
  /* sc without a reservation (the previous sc consumed it) */
  __asm__ volatile("sc.d %0, %1, (%2)" : "=&r"(r) : "r"(99UL), "r"(&mem[0]) : "memory");
  printf("sc.d without lr -> %lx mem %lx\n", r, mem[0]);
  CHECK(r != 0); CHECK_EQ(mem[0], 11);
  /* a second sc after a successful one */
  __asm__ volatile("lr.d %0, (%3)\n sc.d %1, %4, (%3)\n sc.d %2, %5, (%3)"
                   : "=&r"(v), "=&r"(r), "=&r"(r2) : "r"(&mem[0]), "r"(20UL), "r"(30UL) : "memory");
  printf("lr.d, sc.d, sc.d -> %lx %lx mem %lx\n", r, r2, mem[0]);
  CHECK_EQ(r, 0); CHECK(r2 != 0); CHECK_EQ(mem[0], 20);
  /* sc to a different address than the lr */
  mem[1] = 7;
  __asm__ volatile("lr.d %0, (%2)\n sc.d %1, %4, (%3)" : "=&r"(v), "=&r"(r)
                   : "r"(&mem[0]), "r"(&mem[1]), "r"(40UL) : "memory");
  printf("lr.d a, sc.d b -> %lx mem %lx %lx\n", r, mem[0], mem[1]);
  CHECK(r != 0); CHECK_EQ(mem[1], 7);
  /* ... and the failed sc still consumed the reservation */
  __asm__ volatile("sc.d %0, %1, (%2)" : "=&r"(r) : "r"(50UL), "r"(&mem[0]) : "memory");
  CHECK(r != 0); CHECK_EQ(mem[0], 20);
  /* lr.w sign-extends; sc.w writes 32 bits only */
  mem[0] = 0x0123456780000000UL;
  __asm__ volatile("lr.w %0, (%2)\n sc.w %1, %3, (%2)" : "=&r"(v), "=&r"(r) : "r"(&mem[0]), "r"(-1UL) : "memory");
  printf("lr.w/sc.w: lr -> %lx sc -> %lx mem %lx\n", v, r, mem[0]);
  CHECK_EQ(v, 0xffffffff80000000UL); CHECK_EQ(r, 0); CHECK_EQ(mem[0], 0x01234567ffffffffUL);
  __asm__ volatile("sc.w %0, %1, (%2)" : "=&r"(r) : "r"(0UL), "r"(&mem[0]) : "memory");
  printf("sc.w without lr -> %lx mem %lx\n", r, mem[0]);
  CHECK(r != 0);
  /* aq/rl variants */
  mem[2] = 5;
  __asm__ volatile("lr.d.aq %0, (%2)\n sc.d.rl %1, %0, (%2)" : "=&r"(v), "=&r"(r) : "r"(&mem[2]) : "memory");
  CHECK_EQ(r, 0);
  __asm__ volatile("lr.w.aqrl %0, (%2)\n sc.w.aqrl %1, %0, (%2)" : "=&r"(v), "=&r"(r) : "r"(&mem[2]) : "memory");
  CHECK_EQ(r, 0); CHECK_EQ(v, 5);
  /* a counter loop as real code writes it */
  mem[3] = 0;
  for (int i = 0; i < 100; i++)
    __asm__ volatile("1: lr.d t0, (%0)\n addi t0, t0, 3\n sc.d t1, t0, (%0)\n bnez t1, 1b" :: "r"(&mem[3]) : "t0", "t1", "memory");
  CHECK_EQ(mem[3], 300);
}

static void amo_checks(void) {
  uint64_t r;
  mem[0] = 0xffffffff;  /* amoadd.w result sign-extends the old word */
  __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(1UL) : "memory");
  CHECK_EQ(r, -1UL); CHECK_EQ(mem[0], 0);
  mem[0] = 1;  /* signed vs unsigned min */
  __asm__ volatile("amomin.d %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(-1UL) : "memory");
  CHECK_EQ(mem[0], -1UL);
  mem[0] = 1;
  __asm__ volatile("amominu.d %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(-1UL) : "memory");
  CHECK_EQ(mem[0], 1);
  mem[0] = 0x80000000UL;  /* .w compares the low words as signed 32-bit */
  __asm__ volatile("amomax.w %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(0x100000001UL) : "memory");
  CHECK_EQ(mem[0], 1); CHECK_EQ(r, 0xffffffff80000000UL);
  mem[0] = 0x80000000UL;
  __asm__ volatile("amomaxu.w %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(1UL) : "memory");
  CHECK_EQ(mem[0], 0x80000000UL);
  /* rd == x0 and rd == rs2 */
  mem[0] = 5;
  __asm__ volatile("amoadd.d x0, %1, (%0)" :: "r"(&mem[0]), "r"(2UL) : "memory");
  CHECK_EQ(mem[0], 7);
  r = 100;
  __asm__ volatile("amoswap.d %0, %0, (%1)" : "+r"(r) : "r"(&mem[0]) : "memory");
  CHECK_EQ(r, 7); CHECK_EQ(mem[0], 100);
  __asm__ volatile("amoor.d.aqrl %0, %2, (%1)" : "=r"(r) : "r"(&mem[0]), "r"(1UL) : "memory");
  CHECK_EQ(mem[0], 101);
}

int main(void) {
  printf("rv64a\n");
  lrsc();
  AMO("amoswap.w"); AMO("amoadd.w"); AMO("amoxor.w"); AMO("amoand.w"); AMO("amoor.w");
  AMO("amomin.w"); AMO("amomax.w"); AMO("amominu.w"); AMO("amomaxu.w");
  AMO("amoswap.d"); AMO("amoadd.d"); AMO("amoxor.d"); AMO("amoand.d"); AMO("amoor.d");
  AMO("amomin.d"); AMO("amomax.d"); AMO("amominu.d"); AMO("amomaxu.d");
  AMOW_HI("amoswap.w"); AMOW_HI("amoadd.w"); AMOW_HI("amomin.w"); AMOW_HI("amomaxu.w");
  amo_checks();
  return check_failures();
}
