/* Helpers for the floating-point test programs: run one instruction on
 * exact bit patterns under each rounding mode and report result + fflags. */
#ifndef SV39_TEST_FP_H
#define SV39_TEST_FP_H
#include "runtime.h"

#define BOX(x) (0xffffffff00000000UL | (uint32_t)(x))

static inline void fsrm_(uint64_t m) { __asm__ volatile("fsrm %0" :: "r"(m)); }

/* Operand loaders: inputs are 64-bit register images (singles pre-boxed). */
#define FIN1 "fmv.d.x ft0, %2\n"
#define FIN2 "fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n"
#define FIN3 "fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n fmv.d.x ft2, %4\n"
#define FCLOBBER "ft0", "ft1", "ft2", "ft3"

/* f-result with rounding mode */
#define RUN_F1(insn, rm, a, b, c, r, f) __asm__ volatile(FIN1 "fsflags zero\n " insn " ft3, ft0, " rm "\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c) : FCLOBBER)
#define RUN_F2(insn, rm, a, b, c, r, f) __asm__ volatile(FIN2 "fsflags zero\n " insn " ft3, ft0, ft1, " rm "\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c) : FCLOBBER)
#define RUN_F3(insn, rm, a, b, c, r, f) __asm__ volatile(FIN3 "fsflags zero\n " insn " ft3, ft0, ft1, ft2, " rm "\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c) : FCLOBBER)
/* int result from one f input, with rounding mode (fcvt to int) */
#define RUN_X1(insn, rm, a, b, c, r, f) __asm__ volatile(FIN1 "fsflags zero\n " insn " %0, ft0, " rm "\n frflags %1" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c) : FCLOBBER)
/* f result from one int input, with rounding mode (fcvt from int) */
#define RUN_I1(insn, rm, a, b, c, r, f) __asm__ volatile("fsflags zero\n " insn " ft3, %2, " rm "\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c) : FCLOBBER)

/* Without rounding mode */
#define RUN_F1N(insn, a, r, f) __asm__ volatile(FIN1 "fsflags zero\n " insn " ft3, ft0\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(0), "r"(0) : FCLOBBER)
#define RUN_I1N(insn, a, r, f) __asm__ volatile("fsflags zero\n " insn " ft3, %2\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(0), "r"(0) : FCLOBBER)
#define RUN_F2N(insn, a, b, r, f) __asm__ volatile(FIN2 "fsflags zero\n " insn " ft3, ft0, ft1\n frflags %1\n fmv.x.d %0, ft3" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(0) : FCLOBBER)
#define RUN_X2N(insn, a, b, r, f) __asm__ volatile(FIN2 "fsflags zero\n " insn " %0, ft0, ft1\n frflags %1" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(0) : FCLOBBER)
#define RUN_X1N(insn, a, r, f) __asm__ volatile(FIN1 "fsflags zero\n " insn " %0, ft0\n frflags %1" \
    : "=r"(r), "=r"(f) : "r"(a), "r"(0), "r"(0) : FCLOBBER)


/* Print "r/ff" compactly: singles as 8 hex digits when properly boxed. */
static inline void fp_put(uint64_t r, uint64_t f, int single) {
  if (single && (r >> 32) == 0xffffffffUL) printf("%08lx/%02lx", r & 0xffffffffUL, f);
  else printf("%016lx/%02lx", r, f);
}

/* All five static rounding modes, then dyn under each frm value (which
 * must agree with the static ones: checked, printed only if different). */
#define ALL_RM(RUN, insn, single, a, b, c) do { uint64_t r_[10], f_[10]; \
    RUN(insn, "rne", a, b, c, r_[0], f_[0]); RUN(insn, "rtz", a, b, c, r_[1], f_[1]); \
    RUN(insn, "rdn", a, b, c, r_[2], f_[2]); RUN(insn, "rup", a, b, c, r_[3], f_[3]); \
    RUN(insn, "rmm", a, b, c, r_[4], f_[4]); \
    for (int m_ = 0; m_ < 5; m_++) { fsrm_(m_); RUN(insn, "dyn", a, b, c, r_[5 + m_], f_[5 + m_]); } \
    fsrm_(0); \
    for (int m_ = 0; m_ < 5; m_++) { uart_putc(' '); fp_put(r_[m_], f_[m_], single); } \
    for (int m_ = 0; m_ < 5; m_++) if (r_[m_] != r_[5 + m_] || f_[m_] != f_[5 + m_]) { \
        failures++; printf(" DYN-MISMATCH frm=%d ", m_); fp_put(r_[5 + m_], f_[5 + m_], single); } \
    uart_putc('\n'); } while (0)

#endif
