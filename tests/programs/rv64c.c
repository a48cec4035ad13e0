/* RV64C: every compressed instruction, written as explicit c.* mnemonics
 * (and .hword for the hints the assembler refuses), with immediate and
 * shift-amount corner cases. c.ebreak is checked through the trap handler. */
#include "runtime.h"

/* Run `insn` with a0 = x, a1 = y; report a0 afterwards. */
#define C2(insn, x, y) do { uint64_t r; \
    __asm__ volatile(".option push\n .option rvc\n mv a0, %1\n mv a1, %2\n" insn "\n mv %0, a0\n .option pop" \
                     : "=r"(r) : "r"((uint64_t)(x)), "r"((uint64_t)(y)) : "a0", "a1"); \
    printf("%-24s a0=%016lx a1=%016lx -> %016lx\n", insn, (uint64_t)(x), (uint64_t)(y), r); } while (0)

extern uint8_t big[512];
static uint64_t data[8] __attribute__((aligned(16))) = {
  0x8877665544332211UL, 0xfedcba9880000000UL, 0x0123456789abcdefUL, 0x3ff0000000000000UL,
};

static void alu(void) {
  static const uint64_t X[] = {0, 1, -1UL, 0x7fffffffUL, 0x80000000UL, 0x8000000000000000UL, 0x123456789abcdef0UL};
  for (unsigned i = 0; i < sizeof X / sizeof X[0]; i++) {
    uint64_t x = X[i], y = X[(i + 3) % 7];
    C2("c.addi a0, 1", x, y); C2("c.addi a0, -32", x, y); C2("c.addi a0, 31", x, y);
    C2("c.addiw a0, 0", x, y); C2("c.addiw a0, 1", x, y); C2("c.addiw a0, -32", x, y); C2("c.addiw a0, 31", x, y);
    C2("c.li a0, 0", x, y); C2("c.li a0, -32", x, y); C2("c.li a0, 31", x, y); C2("c.li a0, -1", x, y);
    C2("c.lui a0, 1", x, y); C2("c.lui a0, 31", x, y); C2("c.lui a0, 0xfffe0", x, y); C2("c.lui a0, 0xfffff", x, y);
    C2("c.srli a0, 1", x, y); C2("c.srli a0, 31", x, y); C2("c.srli a0, 32", x, y); C2("c.srli a0, 63", x, y);
    C2("c.srai a0, 1", x, y); C2("c.srai a0, 31", x, y); C2("c.srai a0, 32", x, y); C2("c.srai a0, 63", x, y);
    C2("c.slli a0, 1", x, y); C2("c.slli a0, 31", x, y); C2("c.slli a0, 32", x, y); C2("c.slli a0, 63", x, y);
    C2("c.andi a0, 0", x, y); C2("c.andi a0, -1", x, y); C2("c.andi a0, -32", x, y); C2("c.andi a0, 31", x, y);
    C2("c.sub a0, a1", x, y); C2("c.xor a0, a1", x, y); C2("c.or a0, a1", x, y); C2("c.and a0, a1", x, y);
    C2("c.subw a0, a1", x, y); C2("c.addw a0, a1", x, y);
    C2("c.mv a0, a1", x, y); C2("c.add a0, a1", x, y);
  }
  /* c.slli / c.mv / c.add on a non-x8..x15 register */
  uint64_t r;
  __asm__ volatile("li t3, 3\n c.slli t3, 62\n mv %0, t3" : "=r"(r) :: "t3"); CHECK_EQ(r, 0xc000000000000000UL);
  __asm__ volatile("li t3, 7\n c.mv t4, t3\n c.add t4, t3\n mv %0, t4" : "=r"(r) :: "t3", "t4"); CHECK_EQ(r, 14);
  __asm__ volatile("li t3, 5\n c.addi t3, -6\n mv %0, t3" : "=r"(r) :: "t3"); CHECK_EQ(r, -1UL);
  __asm__ volatile("li t3, 0x7fffffff\n c.addiw t3, 1\n mv %0, t3" : "=r"(r) :: "t3"); CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("c.lui t3, 0xfffe0\n mv %0, t3" : "=r"(r) :: "t3"); CHECK_EQ(r, 0xfffffffffffe0000UL);
  __asm__ volatile("c.li t3, -32\n mv %0, t3" : "=r"(r) :: "t3"); CHECK_EQ(r, -32UL);
  /* HINTs execute as no-ops: c.nop, c.addi a0,0, c.li x0, c.mv x0, c.add x0, c.lui x0, c.slli x0 */
  __asm__ volatile("li a0, 77\n c.nop\n .hword 0x0501\n .hword 0x4015\n .hword 0x802a\n .hword 0x902a\n"
                   " .hword 0x6005\n .hword 0x0006\n mv %0, a0" : "=r"(r) :: "a0");
  CHECK_EQ(r, 77);
}

static void stack_ops(void) {
  uint64_t r1, r2, r3, r4, r5;
  /* c.addi4spn: a0 = sp + imm (smallest and largest), no change to sp */
  __asm__ volatile("c.addi4spn a0, sp, 4\n sub %0, a0, sp\n c.addi4spn a0, sp, 1020\n sub %1, a0, sp\n"
                   "c.addi4spn a0, sp, 512\n sub %2, a0, sp" : "=r"(r1), "=r"(r2), "=r"(r3) :: "a0");
  printf("c.addi4spn 4 1020 512 -> %lx %lx %lx\n", r1, r2, r3);
  CHECK_EQ(r1, 4); CHECK_EQ(r2, 1020); CHECK_EQ(r3, 512);
  /* c.addi16sp: -512 .. 496, multiples of 16 */
  __asm__ volatile("mv a0, sp\n c.addi16sp sp, -512\n sub %0, sp, a0\n c.addi16sp sp, 496\n sub %1, sp, a0\n"
                   "c.addi16sp sp, 16\n sub %2, sp, a0\n c.addi16sp sp, -16\n c.addi16sp sp, 16\n sub %3, sp, a0"
                   : "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4) :: "a0");
  printf("c.addi16sp -> %lx %lx %lx %lx\n", r1, r2, r3, r4);
  CHECK_EQ(r1, -512UL); CHECK_EQ(r2, -16UL); CHECK_EQ(r3, 0); CHECK_EQ(r4, 0);
  /* sp-relative loads and stores, at the largest offsets */
  __asm__ volatile("c.addi16sp sp, -512\n"
                   "li a0, 0x80000001\n c.swsp a0, 252(sp)\n c.lwsp a1, 252(sp)\n mv %0, a1\n"
                   "li a0, -3\n c.sdsp a0, 504(sp)\n c.ldsp a1, 504(sp)\n mv %1, a1\n"
                   "c.swsp a0, 0(sp)\n c.lwsp %2, 0(sp)\n"
                   "li a0, 0x4000000000000000\n fmv.d.x fa0, a0\n c.fsdsp fa0, 504(sp)\n c.fldsp fa1, 504(sp)\n fmv.x.d %3, fa1\n"
                   "c.fsdsp fa0, 0(sp)\n c.ldsp a2, 0(sp)\n mv %4, a2\n"
                   "c.addi16sp sp, 496\n c.addi16sp sp, 16"
                   : "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4), "=r"(r5) :: "a0", "a1", "a2", "fa0", "fa1", "memory");
  printf("sp loads/stores -> %lx %lx %lx %lx %lx\n", r1, r2, r3, r4, r5);
  CHECK_EQ(r1, 0xffffffff80000001UL); CHECK_EQ(r2, -3UL); CHECK_EQ(r3, -3UL);
  CHECK_EQ(r4, 0x4000000000000000UL); CHECK_EQ(r5, 0x4000000000000000UL);
}

static void mem_ops(void) {
  uint64_t r1, r2, r3, r4, r5, r6;
  __asm__ volatile("mv a0, %6\n c.lw a1, 0(a0)\n mv %0, a1\n c.lw a1, 12(a0)\n mv %1, a1\n"
                   "c.ld a1, 8(a0)\n mv %2, a1\n c.fld fa2, 24(a0)\n fmv.x.d %3, fa2\n"
                   "li a1, -1\n c.sw a1, 124(a0)\n c.sd a1, 48(a0)\n c.ld a2, 120(a0)\n mv %4, a2\n c.ld a2, 48(a0)\n mv %5, a2\n"
                   "c.fsd fa2, 248(a0)"
                   : "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4), "=r"(r5), "=r"(r6) : "r"(big) : "a0", "a1", "a2", "fa2", "memory");
  printf("c.lw c.ld c.fld c.sw c.sd -> %lx %lx %lx %lx %lx %lx\n", r1, r2, r3, r4, r5, ((volatile uint64_t *)big)[31]);
  CHECK_EQ(r1, 0x44332211); CHECK_EQ(r2, 0xfffffffffedcba98UL); CHECK_EQ(r3, 0xfedcba9880000000UL);
  CHECK_EQ(r4, 0x3ff0000000000000UL); CHECK_EQ(r5, 0xffffffff00000000UL); CHECK_EQ(r6, -1UL);
  CHECK_EQ(((volatile uint64_t *)big)[31], 0x3ff0000000000000UL);
}

static void control(void) {
  uint64_t r, link, here;
  __asm__ volatile("li %0, 0\n c.j 1f\n li %0, 99\n1:" : "=&r"(r)); CHECK_EQ(r, 0);
  __asm__ volatile("li %0, 0\n li a0, 0\n c.beqz a0, 1f\n li %0, 99\n1:" : "=&r"(r) :: "a0"); CHECK_EQ(r, 0);
  __asm__ volatile("li %0, 0\n li a0, 1\n c.beqz a0, 1f\n li %0, 5\n1:" : "=&r"(r) :: "a0"); CHECK_EQ(r, 5);
  __asm__ volatile("li %0, 0\n li a0, -1\n c.bnez a0, 1f\n li %0, 99\n1:" : "=&r"(r) :: "a0"); CHECK_EQ(r, 0);
  __asm__ volatile("li %0, 0\n li a0, 0\n c.bnez a0, 1f\n li %0, 5\n1:" : "=&r"(r) :: "a0"); CHECK_EQ(r, 5);
  /* backward c.j / c.bnez loop */
  __asm__ volatile("li a0, 10\n li %0, 0\n1: addi %0, %0, 3\n c.addi a0, -1\n c.bnez a0, 1b" : "=&r"(r) :: "a0"); CHECK_EQ(r, 30);
  /* c.jr */
  __asm__ volatile("li %0, 0\n la a0, 1f\n c.jr a0\n li %0, 99\n1:" : "=&r"(r) :: "a0"); CHECK_EQ(r, 0);
  /* c.jalr: link = pc + 2 */
  __asm__ volatile(".option push\n .option norelax\n la a0, 1f\n c.jalr a0\n2: nop\n1: mv %0, ra\n la %1, 2b\n .option pop"
                   : "=&r"(link), "=&r"(here) :: "a0", "ra");
  CHECK_EQ(link, here);
  /* c.jalr with rs1 == ra: target from the old ra */
  __asm__ volatile(".option push\n .option norelax\n la ra, 1f\n c.jalr ra\n2: nop\n1: mv %0, ra\n la %1, 2b\n .option pop"
                   : "=&r"(link), "=&r"(here) :: "ra");
  CHECK_EQ(link, here);
  /* a 32-bit instruction at a 2-mod-4 address */
  __asm__ volatile(".balign 4\n c.nop\n li %0, 0x12345678\n c.nop" : "=r"(r)); CHECK_EQ(r, 0x12345678);
  printf("control flow done\n");
}

static int ebreak_hook(struct trap_frame *f) {
  printf("trap: mcause=%lx mtval=%s insn=%x\n", f->cause,
         f->tval == f->epc ? "pc" : f->tval == 0 ? "0" : "other", *(volatile uint16_t *)f->epc);
  f->epc += ((*(volatile uint16_t *)f->epc) & 3) == 3 ? 4 : 2;
  return 1;
}

static void ebreak(void) {
  uint64_t at;
  trap_hook = ebreak_hook;
  __asm__ volatile("la %0, 1f\n1: c.ebreak" : "=r"(at));
  CHECK_EQ(last_trap.cause, 3); CHECK_EQ(last_trap.epc, at);
  trap_hook = 0;
}

uint8_t big[512] __attribute__((aligned(16)));

int main(void) {
  printf("rv64c\n");
  memcpy(big, data, sizeof data);
  alu();
  stack_ops();
  mem_ops();
  control();
  ebreak();
  return check_failures();
}
