/* RV64F: every F instruction except the conversions (fcvt.c), all rounding
 * modes static and dynamic, NaN-boxing, NaNs, zeros, subnormals, flags. */
#define SFX ".s"
#define SINGLE 1
#include "runtime.h"

#define B(x) (0xffffffff00000000UL | (x))
#define POS_ZERO B(0x00000000UL)
#define NEG_ZERO B(0x80000000UL)
#define SIGN 0x80000000UL
#define ONE B(0x3f800000UL)
#define POS_INF B(0x7f800000UL)
#define QNAN B(0x7fc00000UL)
#define CANON_NAN B(0x7fc00000UL)
#define SNAN B(0x7f800001UL)
#define NEG_QNAN_PAYLOAD B(0xffc12345UL)
#define MAX_FINITE B(0x7f7fffffUL)

static const uint64_t VALS[] = {
  POS_ZERO, NEG_ZERO, ONE, B(0xbf800000UL) /* -1 */, B(0x40400000UL) /* 3 */, B(0x3dcccccdUL) /* 0.1 */,
  B(0x00000001UL) /* min subnormal */, B(0x007fffffUL), B(0x00800000UL) /* min normal */, MAX_FINITE,
  POS_INF, B(0xff800000UL), QNAN, SNAN,
};
static const uint64_t ROUND_A[] = { ONE, B(0xbf800000UL), B(0x40000000UL), B(0x3f800001UL), B(0x00800001UL), B(0x4b800001UL) };
static const uint64_t ROUND_B[] = { B(0x40400000UL), B(0x40400000UL), B(0x33800001UL), B(0x3f800003UL), B(0x3f000000UL), B(0xbf800000UL) };
#define NROUND (sizeof ROUND_A / sizeof ROUND_A[0])
static const uint64_t FMA[][3] = {
  { ONE, B(0x40000000UL), B(0x40400000UL) },
  { B(0x3dcccccdUL), B(0x41200000UL), B(0xbf800000UL) },
  { POS_INF, POS_ZERO, ONE }, { POS_INF, POS_ZERO, QNAN }, { POS_ZERO, POS_INF, SNAN },
  { MAX_FINITE, B(0x40000000UL), B(0xff800000UL) }, { MAX_FINITE, MAX_FINITE, B(0xff7fffffUL) },
  { ONE, B(0xbf800000UL), ONE }, { NEG_ZERO, POS_ZERO, POS_ZERO }, { B(0x00000001UL), B(0x3f000000UL), POS_ZERO },
  { B(0x3f800001UL), B(0x3f800001UL), B(0xbf800002UL) }, { QNAN, ONE, SNAN }, { POS_INF, ONE, B(0xff800000UL) },
  { ONE, ONE, 0x000000003f800000UL /* unboxed addend: NaN */ },
};
#define NFMA (sizeof FMA / sizeof FMA[0])
static const uint64_t SMALL[] = { POS_ZERO, NEG_ZERO, ONE, B(0xc0000000UL), POS_INF, B(0xff800000UL), QNAN, SNAN,
  NEG_QNAN_PAYLOAD, B(0x80000001UL), 0x000000003f800000UL /* unboxed */, 0x7fffffff3f800000UL /* unboxed */ };
#define NSMALL (sizeof SMALL / sizeof SMALL[0])
static const uint64_t CLASS[] = { B(0xff800000UL), B(0xbf800000UL), B(0x807fffffUL), NEG_ZERO, POS_ZERO,
  B(0x00000001UL), ONE, POS_INF, SNAN, QNAN, NEG_QNAN_PAYLOAD, B(0xff800001UL), 0x00000000ff800000UL, 0xfffffffe00000000UL };
static const uint64_t CLASS_WANT[] = { 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x200, 0x100, 0x200, 0x200 };
#define NCLASS (sizeof CLASS / sizeof CLASS[0])

#include "fp_body.h"

static void boxing(void) {
  static volatile uint64_t m[2];
  uint64_t r, f;
  /* flw boxes the loaded single */
  m[0] = 0x12345678bf800000UL;
  __asm__ volatile("flw ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(r) : "r"(m) : "ft0"); printf("flw -> %lx\n", r);
  CHECK_EQ(r, 0xffffffffbf800000UL);
  /* fmv.w.x boxes; fmv.x.w sign-extends bit 31 and ignores the box */
  __asm__ volatile("fmv.w.x ft0, %1\n fmv.x.d %0, ft0" : "=r"(r) : "r"(0x1234567880000000UL) : "ft0"); CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.x.w %0, ft0" : "=r"(r) : "r"(0x0000000080000001UL) : "ft0"); CHECK_EQ(r, 0xffffffff80000001UL);
  __asm__ volatile("fmv.d.x ft0, %1\n fmv.x.w %0, ft0" : "=r"(r) : "r"(0xffffffff7f800000UL) : "ft0"); CHECK_EQ(r, 0x7f800000UL);
  printf("fmv.x.w sign extension ok\n");
  /* fsw stores the low 32 bits of any register, boxed or not, unchanged */
  m[1] = 0;
  __asm__ volatile("fmv.d.x ft0, %1\n fsw ft0, 8(%0)" :: "r"(m), "r"(0x00000000ff800001UL) : "ft0", "memory");
  CHECK_EQ(m[1], 0xff800001UL);
  /* an improperly boxed input is the canonical NaN */
  RUN_F2("fadd.s", "rne", 0x000000003f800000UL, ONE, 0, r, f);
  printf("fadd.s unboxed+1 -> %lx/%02lx\n", r, f);
  CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0);
  RUN_F2N("fsgnj.s", 0x000000003f800000UL, NEG_ZERO, r, f); CHECK_EQ(r, B(0xffc00000UL));
  RUN_F2N("fmin.s", 0x000000003f800000UL, ONE, r, f); CHECK_EQ(r, ONE);
  RUN_X2N("feq.s", 0x000000003f800000UL, 0x000000003f800000UL, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0);
  /* the double view of a boxed single is a NaN */
  RUN_X1N("fclass.d", ONE, r, f); CHECK_EQ(r, 0x200);
}

static int illegal_hook(struct trap_frame *f) {
  printf("trap mcause=%lx mtval=%lx\n", f->cause, f->tval);
  f->epc += 4;
  return 1;
}

static void fcsr_ops(void) {
  uint64_t r, old;
  __asm__ volatile("csrw fcsr, %1\n csrr %0, fcsr" : "=r"(r) : "r"(-1UL)); printf("fcsr all ones -> %lx\n", r); CHECK_EQ(r, 0xff);
  __asm__ volatile("csrr %0, frm" : "=r"(r)); CHECK_EQ(r, 7);
  __asm__ volatile("csrr %0, fflags" : "=r"(r)); CHECK_EQ(r, 0x1f);
  __asm__ volatile("fsrmi %0, 2" : "=r"(old)); CHECK_EQ(old, 7);
  __asm__ volatile("fsflagsi %0, 1" : "=r"(old)); CHECK_EQ(old, 0x1f);
  __asm__ volatile("frcsr %0" : "=r"(r)); CHECK_EQ(r, 0x41);
  __asm__ volatile("fscsr %0, %1" : "=r"(old) : "r"(0UL)); CHECK_EQ(old, 0x41);
  /* reserved rounding modes: dynamic with frm = 5, 6, 7, and static 5, 6 */
  expect_trap = 1;
  trap_hook = illegal_hook;
  for (uint64_t m = 5; m <= 7; m++) {
    uint64_t before = last_trap.count;
    fsrm_(m);
    __asm__ volatile("fadd.s ft0, ft1, ft2, dyn" ::: "ft0");
    printf("frm=%lx fadd dyn: %s\n", m, last_trap.count != before ? "trapped" : "no trap");
    CHECK_EQ(last_trap.count, before + 1); CHECK_EQ(last_trap.cause, 2);
  }
  fsrm_(0);
  uint64_t before = last_trap.count;
  __asm__ volatile(".insn r 0x53, 5, 0, ft0, ft1, ft2\n .insn r 0x53, 6, 0, ft0, ft1, ft2" ::: "ft0");  /* fadd.s rm=5,6 */
  CHECK_EQ(last_trap.count, before + 2);
  /* frm = 7 does not matter to instructions without a dyn rm */
  fsrm_(7);
  __asm__ volatile("fadd.s ft0, ft1, ft2, rne\n fsgnj.s ft0, ft1, ft2" ::: "ft0");
  CHECK_EQ(last_trap.count, before + 2);
  fsrm_(0);
  trap_hook = 0;
  expect_trap = 0;
}

int main(void) {
  printf("rv64f\n");
  fp_body();
  boxing();
  fcsr_ops();
  return check_failures();
}
