/* RV64D arithmetic: every D instruction except the conversions (fcvt.c),
 * all rounding modes static and dynamic, NaNs, zeros, subnormals, flags. */
#define SFX ".d"
#define SINGLE 0
#include "runtime.h"

#define POS_ZERO 0x0000000000000000UL
#define NEG_ZERO 0x8000000000000000UL
#define SIGN 0x8000000000000000UL
#define ONE 0x3ff0000000000000UL
#define POS_INF 0x7ff0000000000000UL
#define QNAN 0x7ff8000000000000UL
#define CANON_NAN 0x7ff8000000000000UL
#define SNAN 0x7ff0000000000001UL
#define NEG_QNAN_PAYLOAD 0xfff8000000012345UL
#define MAX_FINITE 0x7fefffffffffffffUL

static const uint64_t VALS[] = {
  POS_ZERO, NEG_ZERO, ONE, 0xbff0000000000000UL /* -1 */, 0x4008000000000000UL /* 3 */,
  0x3fb999999999999aUL /* 0.1 */, 0x0000000000000001UL /* min subnormal */, 0x000fffffffffffffUL,
  0x0010000000000000UL /* min normal */, MAX_FINITE, POS_INF, 0xfff0000000000000UL, QNAN, SNAN,
};
static const uint64_t ROUND_A[] = { ONE, 0xbff0000000000000UL, 0x4000000000000000UL, 0x3ff0000000000001UL, 0x0010000000000001UL, 0x4340000000000001UL };
static const uint64_t ROUND_B[] = { 0x4008000000000000UL, 0x4008000000000000UL, 0x3ca0000000000001UL, 0x3ff0000000000003UL, 0x3fe0000000000000UL, 0xbff0000000000000UL };
#define NROUND (sizeof ROUND_A / sizeof ROUND_A[0])
static const uint64_t FMA[][3] = {
  { ONE, 0x4000000000000000UL, 0x4008000000000000UL },
  { 0x3fb999999999999aUL, 0x4024000000000000UL, 0xbff0000000000000UL },
  { POS_INF, POS_ZERO, ONE }, { POS_INF, POS_ZERO, QNAN }, { POS_ZERO, POS_INF, SNAN },
  { MAX_FINITE, 0x4000000000000000UL, 0xfff0000000000000UL }, { MAX_FINITE, MAX_FINITE, 0xffefffffffffffffUL },
  { ONE, 0xbff0000000000000UL, ONE }, { NEG_ZERO, POS_ZERO, POS_ZERO }, { 0x0000000000000001UL, 0x3fe0000000000000UL, POS_ZERO },
  { 0x3ff0000000000001UL, 0x3ff0000000000001UL, 0xbff0000000000002UL }, { QNAN, ONE, SNAN }, { POS_INF, ONE, 0xfff0000000000000UL },
};
#define NFMA (sizeof FMA / sizeof FMA[0])
static const uint64_t SMALL[] = { POS_ZERO, NEG_ZERO, ONE, 0xc000000000000000UL, POS_INF, 0xfff0000000000000UL, QNAN, SNAN, NEG_QNAN_PAYLOAD, 0x8000000000000001UL };
#define NSMALL (sizeof SMALL / sizeof SMALL[0])
static const uint64_t CLASS[] = { 0xfff0000000000000UL, 0xbff0000000000000UL, 0x800fffffffffffffUL, NEG_ZERO, POS_ZERO,
  0x0000000000000001UL, ONE, POS_INF, SNAN, QNAN, NEG_QNAN_PAYLOAD, 0xfff0000000000001UL };
static const uint64_t CLASS_WANT[] = { 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x200, 0x100 };
#define NCLASS (sizeof CLASS / sizeof CLASS[0])

#include "fp_body.h"

static void loads_stores(void) {
  static volatile uint64_t m[2];
  uint64_t r;
  m[0] = 0xfff0123456789abcUL;
  __asm__ volatile("fld ft0, 0(%1)\n fsd ft0, 8(%1)\n fmv.x.d %0, ft0" : "=r"(r) : "r"(m) : "ft0", "memory");
  CHECK_EQ(r, 0xfff0123456789abcUL); CHECK_EQ(m[1], 0xfff0123456789abcUL);   /* no NaN canonicalisation */
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.x.d %0, ft0" : "=r"(r) : "r"(SNAN) : "ft0"); CHECK_EQ(r, SNAN);
  /* fsd of a boxed single stores all 64 bits */
  __asm__ volatile("li t0, 0x3f800000\n fmv.w.x ft0, t0\n fsd ft0, 0(%0)" :: "r"(m) : "t0", "ft0", "memory");
  CHECK_EQ(m[0], 0xffffffff3f800000UL);
  printf("fld/fsd done\n");
}

int main(void) {
  printf("rv64d\n");
  fp_body();
  loads_stores();
  return check_failures();
}
