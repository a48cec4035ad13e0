/* F/D conversions: fcvt to and from every integer width under every
 * rounding mode (static and dynamic), saturation on overflow and NaN,
 * fcvt.s.d / fcvt.d.s with NaNs and rounding. */
#include "fp.h"

#define B(x) (0xffffffff00000000UL | (x))
static const uint64_t S_IN[] = {
  B(0x00000000), B(0x80000000), B(0x3f000000) /* .5 */, B(0x3fc00000) /* 1.5 */, B(0x40200000) /* 2.5 */,
  B(0xbf000000), B(0xbfc00000), B(0xc0200000), B(0x3f7fffff), B(0x00000001),
  B(0x4effffff) /* 2^31-128 */, B(0x4f000000) /* 2^31 */, B(0xcf000000) /* -2^31 */, B(0xcf000001),
  B(0x4f800000) /* 2^32 */, B(0x5effffff), B(0x5f000000) /* 2^63 */, B(0xdf000000), B(0x5f800000) /* 2^64 */,
  B(0x7f800000), B(0xff800000), B(0x7fc00000), B(0x7f800001), B(0xffc00000), 0x000000003f800000UL /* unboxed */,
};
static const uint64_t D_IN[] = {
  0, 0x8000000000000000UL, 0x3fe0000000000000UL, 0x3ff8000000000000UL, 0x4004000000000000UL,
  0xbfe0000000000000UL, 0xbff8000000000000UL, 0xc004000000000000UL, 0x3fefffffffffffffUL, 1,
  0x41dfffffffc00000UL /* 2^31-1 */, 0x41dfffffffe00000UL /* 2^31-0.5 */, 0x41e0000000000000UL /* 2^31 */,
  0xc1e0000000000000UL /* -2^31 */, 0xc1e0000000200000UL /* -2^31-1 */, 0x41efffffffe00000UL /* 2^32-1 */,
  0x41f0000000000000UL /* 2^32 */, 0x43dfffffffffffffUL, 0x43e0000000000000UL /* 2^63 */, 0xc3e0000000000000UL,
  0xc3e0000000000001UL, 0x43f0000000000000UL /* 2^64 */, 0x7ff0000000000000UL, 0xfff0000000000000UL,
  0x7ff8000000000000UL, 0x7ff0000000000001UL, 0xfff8000000000000UL, 0x3fd5555555555555UL, 0x36a0000000000000UL,
  0x47efffffffffffffUL, 0x47efffffe0000000UL /* rounds to FLT_MAX or inf */, 0x7fefffffffffffffUL, 0x380fffffffffffffUL,
};
static const uint64_t I_IN[] = {
  0, 1, -1UL, 0x7fffffffUL, 0x80000000UL, 0xffffffffUL, 0xffffffff80000000UL, 0x1000001UL, 0x1000003UL,
  0x20000000000001UL, 0x7fffffffffffffffUL, 0x8000000000000000UL, 0xfffffffffffffffdUL, 0x123456789abcdef0UL,
};
#define N(a) (sizeof a / sizeof a[0])

int main(void) {
  printf("fcvt\n");
  for (unsigned i = 0; i < N(S_IN); i++) {
    uint64_t a = S_IN[i];
    printf("fcvt.w.s %lx:", a); ALL_RM(RUN_X1, "fcvt.w.s", 0, a, 0, 0);
    printf("fcvt.wu.s %lx:", a); ALL_RM(RUN_X1, "fcvt.wu.s", 0, a, 0, 0);
    printf("fcvt.l.s %lx:", a); ALL_RM(RUN_X1, "fcvt.l.s", 0, a, 0, 0);
    printf("fcvt.lu.s %lx:", a); ALL_RM(RUN_X1, "fcvt.lu.s", 0, a, 0, 0);
    { uint64_t r, f; RUN_F1N("fcvt.d.s", a, r, f); printf("fcvt.d.s %lx: %lx/%02lx\n", a, r, f); }
  }
  for (unsigned i = 0; i < N(D_IN); i++) {
    uint64_t a = D_IN[i];
    printf("fcvt.w.d %lx:", a); ALL_RM(RUN_X1, "fcvt.w.d", 0, a, 0, 0);
    printf("fcvt.wu.d %lx:", a); ALL_RM(RUN_X1, "fcvt.wu.d", 0, a, 0, 0);
    printf("fcvt.l.d %lx:", a); ALL_RM(RUN_X1, "fcvt.l.d", 0, a, 0, 0);
    printf("fcvt.lu.d %lx:", a); ALL_RM(RUN_X1, "fcvt.lu.d", 0, a, 0, 0);
    printf("fcvt.s.d %lx:", a); ALL_RM(RUN_F1, "fcvt.s.d", 1, a, 0, 0);
  }
  for (unsigned i = 0; i < N(I_IN); i++) {
    uint64_t a = I_IN[i];
    printf("fcvt.s.w %lx:", a); ALL_RM(RUN_I1, "fcvt.s.w", 1, a, 0, 0);
    printf("fcvt.s.wu %lx:", a); ALL_RM(RUN_I1, "fcvt.s.wu", 1, a, 0, 0);
    printf("fcvt.s.l %lx:", a); ALL_RM(RUN_I1, "fcvt.s.l", 1, a, 0, 0);
    printf("fcvt.s.lu %lx:", a); ALL_RM(RUN_I1, "fcvt.s.lu", 1, a, 0, 0);
    { uint64_t r, f; RUN_I1N("fcvt.d.w", a, r, f); printf("fcvt.d.w %lx: %lx/%02lx\n", a, r, f);
      RUN_I1N("fcvt.d.wu", a, r, f); printf("fcvt.d.wu %lx: %lx/%02lx\n", a, r, f); }
    printf("fcvt.d.l %lx:", a); ALL_RM(RUN_I1, "fcvt.d.l", 0, a, 0, 0);
    printf("fcvt.d.lu %lx:", a); ALL_RM(RUN_I1, "fcvt.d.lu", 0, a, 0, 0);
  }
  /* Known answers: saturation, NaN -> max, sign extension of 32-bit results */
  uint64_t r, f;
  RUN_X1("fcvt.w.s", "rtz", B(0x7fc00000), 0, 0, r, f); CHECK_EQ(r, 0x7fffffff); CHECK_EQ(f, 0x10);
  RUN_X1("fcvt.w.s", "rtz", B(0xff800000), 0, 0, r, f); CHECK_EQ(r, 0xffffffff80000000UL); CHECK_EQ(f, 0x10);
  RUN_X1("fcvt.wu.s", "rtz", B(0x7f800000), 0, 0, r, f); CHECK_EQ(r, -1UL); CHECK_EQ(f, 0x10);  /* 0xffffffff sign-extended */
  RUN_X1("fcvt.wu.s", "rtz", B(0xbf800000), 0, 0, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0x10);
  RUN_X1("fcvt.wu.s", "rtz", B(0xbf000000), 0, 0, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0x01);    /* -0.5 -> 0, inexact only */
  RUN_X1("fcvt.wu.d", "rtz", 0x41efffffffe00000UL, 0, 0, r, f); CHECK_EQ(r, -1UL); CHECK_EQ(f, 0);
  RUN_X1("fcvt.l.d", "rtz", 0x7ff8000000000000UL, 0, 0, r, f); CHECK_EQ(r, 0x7fffffffffffffffUL); CHECK_EQ(f, 0x10);
  RUN_X1("fcvt.lu.d", "rtz", 0xfff8000000000000UL, 0, 0, r, f); CHECK_EQ(r, -1UL); CHECK_EQ(f, 0x10);
  RUN_X1("fcvt.l.d", "rtz", 0xc3e0000000000000UL, 0, 0, r, f); CHECK_EQ(r, 0x8000000000000000UL); CHECK_EQ(f, 0);
  RUN_X1("fcvt.w.d", "rne", 0x4004000000000000UL, 0, 0, r, f); CHECK_EQ(r, 2); CHECK_EQ(f, 0x01);
  RUN_X1("fcvt.w.d", "rmm", 0x4004000000000000UL, 0, 0, r, f); CHECK_EQ(r, 3);
  RUN_F1N("fcvt.d.s", B(0x7f800001), r, f); CHECK_EQ(r, 0x7ff8000000000000UL); CHECK_EQ(f, 0x10);
  RUN_F1("fcvt.s.d", "rne", 0xfff8000000000000UL, 0, 0, r, f); CHECK_EQ(r, B(0x7fc00000)); CHECK_EQ(f, 0);
  RUN_I1("fcvt.s.w", "rne", 0x1234567880000000UL, 0, 0, r, f); CHECK_EQ(r, B(0xcf000000));     /* uses low 32 bits */
  RUN_I1N("fcvt.d.wu", 0xffffffffffffffffUL, r, f); CHECK_EQ(r, 0x41efffffffe00000UL);
  return check_failures();
}
