/* RV64M: mul/mulh/mulhsu/mulhu/mulw, div/divu/rem/remu and W forms,
 * including division by zero and the INT_MIN / -1 overflow. */
#include "runtime.h"

static const uint64_t V[] = {
  0, 1, -1UL, 2, -2UL, 3, 0x7fffffffffffffffUL, 0x8000000000000000UL,
  0x7fffffffUL, 0x80000000UL, 0xffffffffUL, 0xffffffff80000000UL, 0x123456789abcdef1UL,
};
#define NV (sizeof V / sizeof V[0])

#define RR(op) do { for (unsigned i = 0; i < NV; i++) for (unsigned j = 0; j < NV; j++) { \
    uint64_t r, a = V[i], b = V[j]; \
    __asm__ volatile(op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); \
    printf(op " %lx %lx -> %lx\n", a, b, r); } } while (0)

#define EXPECT(op, a, b, want) do { uint64_t r; \
    __asm__ volatile(op " %0, %1, %2" : "=r"(r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
    CHECK_EQ(r, want); } while (0)

int main(void) {
  printf("rv64m\n");
  RR("mul"); RR("mulh"); RR("mulhsu"); RR("mulhu"); RR("mulw");
  RR("div"); RR("divu"); RR("rem"); RR("remu");
  RR("divw"); RR("divuw"); RR("remw"); RR("remuw");

  const uint64_t MIN = 0x8000000000000000UL;
  EXPECT("mulh", -1L, -1L, 0);
  EXPECT("mulhu", -1L, -1L, -2UL);
  EXPECT("mulhsu", -1L, -1L, -1UL);
  EXPECT("mulhsu", 2, -1L, 1);
  EXPECT("mulw", 0x10000, 0x10000, 0);
  EXPECT("mulw", 0x7fffffff, 2, -2UL);
  EXPECT("mulw", 0x100000001UL, 3, 3);
  /* division by zero: quotient all ones, remainder the dividend */
  EXPECT("div", 5, 0, -1UL);
  EXPECT("divu", 5, 0, -1UL);
  EXPECT("rem", 5, 0, 5);
  EXPECT("remu", 5, 0, 5);
  EXPECT("divw", 5, 0, -1UL);
  EXPECT("divuw", 5, 0, -1UL);
  EXPECT("remw", 0x100000005UL, 0x100000000UL, 5);      /* divisor's low 32 bits are zero */
  EXPECT("remuw", 0x80000000UL, 0, 0xffffffff80000000UL); /* sign-extended dividend */
  /* overflow */
  EXPECT("div", MIN, -1L, MIN);
  EXPECT("rem", MIN, -1L, 0);
  EXPECT("divw", 0x80000000UL, -1L, 0xffffffff80000000UL);
  EXPECT("remw", 0x80000000UL, -1L, 0);
  /* truncation toward zero */
  EXPECT("div", -7L, 2, -3UL);
  EXPECT("rem", -7L, 2, -1UL);
  EXPECT("rem", 7, -2L, 1);
  EXPECT("divuw", 0xffffffff, 2, 0x7fffffff);
  EXPECT("divuw", 0xfffffffe, 1, 0xfffffffffffffffeUL);
  return check_failures();
}
