/* The body shared by rv64f.c (SFX ".s") and rv64d.c (SFX ".d"). The
 * including file defines SFX, SINGLE, the value tables and the named
 * constants below, then calls fp_body(). Each line prints the result bits
 * and fflags (NX=01 UF=02 OF=04 DZ=08 NV=10) for rne rtz rdn rup rmm. */
#include "fp.h"

#define NVALS (sizeof VALS / sizeof VALS[0])

static void binary_ops(void) {
  for (unsigned i = 0; i < NVALS; i++)
    for (unsigned j = 0; j < NVALS; j++) {
      uint64_t a = VALS[i], b = VALS[j];
      printf("fadd" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fadd" SFX, SINGLE, a, b, 0);
      printf("fsub" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fsub" SFX, SINGLE, a, b, 0);
      printf("fmul" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fmul" SFX, SINGLE, a, b, 0);
      printf("fdiv" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fdiv" SFX, SINGLE, a, b, 0);
    }
  for (unsigned i = 0; i < NROUND; i++) {
    uint64_t a = ROUND_A[i], b = ROUND_B[i];
    printf("fadd" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fadd" SFX, SINGLE, a, b, 0);
    printf("fsub" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fsub" SFX, SINGLE, a, b, 0);
    printf("fmul" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fmul" SFX, SINGLE, a, b, 0);
    printf("fdiv" SFX " %lx %lx:", a, b); ALL_RM(RUN_F2, "fdiv" SFX, SINGLE, a, b, 0);
  }
}

static void sqrt_ops(void) {
  for (unsigned i = 0; i < NVALS; i++) {
    printf("fsqrt" SFX " %lx:", VALS[i]); ALL_RM(RUN_F1, "fsqrt" SFX, SINGLE, VALS[i], 0, 0);
  }
  for (unsigned i = 0; i < NROUND; i++) {
    printf("fsqrt" SFX " %lx:", ROUND_A[i]); ALL_RM(RUN_F1, "fsqrt" SFX, SINGLE, ROUND_A[i], 0, 0);
  }
}

static void fma_ops(void) {
  for (unsigned i = 0; i < NFMA; i++) {
    uint64_t a = FMA[i][0], b = FMA[i][1], c = FMA[i][2];
    printf("fmadd" SFX " %lx %lx %lx:", a, b, c); ALL_RM(RUN_F3, "fmadd" SFX, SINGLE, a, b, c);
    printf("fmsub" SFX " %lx %lx %lx:", a, b, c); ALL_RM(RUN_F3, "fmsub" SFX, SINGLE, a, b, c);
    printf("fnmsub" SFX " %lx %lx %lx:", a, b, c); ALL_RM(RUN_F3, "fnmsub" SFX, SINGLE, a, b, c);
    printf("fnmadd" SFX " %lx %lx %lx:", a, b, c); ALL_RM(RUN_F3, "fnmadd" SFX, SINGLE, a, b, c);
  }
}

#define NORM2(insn) do { uint64_t r, f; RUN_F2N(insn, a, b, r, f); printf(" " insn "="); fp_put(r, f, SINGLE); } while (0)
#define CMP2(insn) do { uint64_t r, f; RUN_X2N(insn, a, b, r, f); printf(" " insn "=%lx/%02lx", r, f); } while (0)

static void sign_minmax_cmp(void) {
  for (unsigned i = 0; i < NSMALL; i++)
    for (unsigned j = 0; j < NSMALL; j++) {
      uint64_t a = SMALL[i], b = SMALL[j];
      printf("%lx %lx:", a, b);
      NORM2("fsgnj" SFX); NORM2("fsgnjn" SFX); NORM2("fsgnjx" SFX);
      NORM2("fmin" SFX); NORM2("fmax" SFX);
      CMP2("feq" SFX); CMP2("flt" SFX); CMP2("fle" SFX);
      uart_putc('\n');
    }
}

static void classify(void) {
  for (unsigned i = 0; i < NCLASS; i++) {
    uint64_t r, f;
    RUN_X1N("fclass" SFX, CLASS[i], r, f);
    printf("fclass" SFX " %lx -> %lx/%02lx\n", CLASS[i], r, f);
    CHECK_EQ(r, CLASS_WANT[i]);
  }
}

/* Known answers for the corner cases the brief names. */
static void corner_checks(void) {
  uint64_t r, f, a, b;
  a = POS_ZERO; b = NEG_ZERO;
  RUN_F2N("fmin" SFX, a, b, r, f); CHECK_EQ(r, NEG_ZERO);
  RUN_F2N("fmax" SFX, b, a, r, f); CHECK_EQ(r, POS_ZERO);
  a = QNAN; b = ONE;
  RUN_F2N("fmin" SFX, a, b, r, f); CHECK_EQ(r, ONE); CHECK_EQ(f, 0);
  a = SNAN;
  RUN_F2N("fmax" SFX, a, b, r, f); CHECK_EQ(r, ONE); CHECK_EQ(f, 0x10);
  b = QNAN;
  RUN_F2N("fmax" SFX, a, b, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0x10);
  /* feq: quiet (invalid only for sNaN); flt/fle: signalling (any NaN) */
  a = QNAN; b = ONE;
  RUN_X2N("feq" SFX, a, b, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0);
  RUN_X2N("flt" SFX, a, b, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0x10);
  RUN_X2N("fle" SFX, b, a, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0x10);
  a = SNAN;
  RUN_X2N("feq" SFX, a, b, r, f); CHECK_EQ(r, 0); CHECK_EQ(f, 0x10);
  a = POS_ZERO; b = NEG_ZERO;
  RUN_X2N("feq" SFX, a, b, r, f); CHECK_EQ(r, 1);
  RUN_X2N("flt" SFX, b, a, r, f); CHECK_EQ(r, 0);
  RUN_X2N("fle" SFX, a, b, r, f); CHECK_EQ(r, 1);
  /* arithmetic NaN results are canonical; sNaN input raises NV */
  a = SNAN; b = ONE;
  RUN_F2("fadd" SFX, "rne", a, b, 0, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0x10);
  a = NEG_QNAN_PAYLOAD;
  RUN_F2("fmul" SFX, "rne", a, b, 0, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0);
  /* sign injection keeps NaN payloads */
  RUN_F2N("fsgnjx" SFX, a, b, r, f); CHECK_EQ(r, NEG_QNAN_PAYLOAD);
  RUN_F2N("fsgnj" SFX, a, b, r, f); CHECK_EQ(r, NEG_QNAN_PAYLOAD ^ SIGN);
  /* x / 0 = inf with DZ; 0 / 0 = NaN with NV; sqrt(-1) = NaN with NV; sqrt(-0) = -0 */
  a = ONE; b = POS_ZERO;
  RUN_F2("fdiv" SFX, "rne", a, b, 0, r, f); CHECK_EQ(r, POS_INF); CHECK_EQ(f, 0x08);
  a = POS_ZERO;
  RUN_F2("fdiv" SFX, "rne", a, b, 0, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0x10);
  a = ONE ^ SIGN;
  RUN_F1("fsqrt" SFX, "rne", a, 0, 0, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0x10);
  a = NEG_ZERO;
  RUN_F1("fsqrt" SFX, "rne", a, 0, 0, r, f); CHECK_EQ(r, NEG_ZERO); CHECK_EQ(f, 0);
  /* inf * 0 + qNaN still raises NV */
  RUN_F3("fmadd" SFX, "rne", POS_INF, POS_ZERO, QNAN, r, f); CHECK_EQ(r, CANON_NAN); CHECK_EQ(f, 0x10);
  /* x*y + z == 0 exactly: +0, but -0 when rounding down */
  RUN_F3("fmadd" SFX, "rne", ONE, ONE ^ SIGN, ONE, r, f); CHECK_EQ(r, POS_ZERO);
  RUN_F3("fmadd" SFX, "rdn", ONE, ONE ^ SIGN, ONE, r, f); CHECK_EQ(r, NEG_ZERO);
  /* overflow: rne -> inf, rtz -> max finite */
  RUN_F2("fmul" SFX, "rne", MAX_FINITE, MAX_FINITE, 0, r, f); CHECK_EQ(r, POS_INF); CHECK_EQ(f, 0x05);
  RUN_F2("fmul" SFX, "rtz", MAX_FINITE, MAX_FINITE, 0, r, f); CHECK_EQ(r, MAX_FINITE); CHECK_EQ(f, 0x05);
  /* fflags are sticky until cleared */
  __asm__ volatile("fsflags zero\n fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fdiv" SFX " ft2, ft0, ft1\n"
                   "fmv.d.x ft1, %3\n fadd" SFX " ft2, ft1, ft1\n frflags %0"
                   : "=r"(f) : "r"(ONE), "r"(POS_ZERO), "r"(SNAN) : "ft0", "ft1", "ft2");
  CHECK_EQ(f, 0x18);
  printf("corner checks done\n");
}

static void fp_body(void) {
  binary_ops();
  sqrt_ops();
  fma_ops();
  sign_minmax_cmp();
  classify();
  corner_checks();
}
