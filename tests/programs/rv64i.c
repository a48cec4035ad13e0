/* RV64I: every ALU op and W form, lui/auipc, branches, jal/jalr, loads and
 * stores of all widths, x0, fence. Transcript lines are "op a b -> result";
 * CHECK_EQ lines are known answers for the corner cases. */
#include "runtime.h"

static const uint64_t V[] = {
  0, 1, -1UL, 0x7fffffffffffffffUL, 0x8000000000000000UL, 0x7fffffffUL,
  0x80000000UL, 0xffffffffUL, 0xfedcba9876543210UL, 31, 32, 63,
};
#define NV (sizeof V / sizeof V[0])

#define RR(op) do { for (unsigned i = 0; i < NV; i++) for (unsigned j = 0; j < NV; j++) { \
    uint64_t r, a = V[i], b = V[j]; \
    __asm__ volatile(op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); \
    printf(op " %lx %lx -> %lx\n", a, b, r); } } while (0)

#define RI(op, imm) do { for (unsigned i = 0; i < NV; i++) { \
    uint64_t r, a = V[i]; \
    __asm__ volatile(op " %0, %1, " #imm : "=r"(r) : "r"(a)); \
    printf(op " %lx " #imm " -> %lx\n", a, r); } } while (0)

#define BR(op) do { for (unsigned i = 0; i < NV; i++) { \
    printf(op " %016lx: ", V[i]); \
    for (unsigned j = 0; j < NV; j++) { uint64_t t, a = V[i], b = V[j]; \
      __asm__ volatile("li %0, 1\n " op " %1, %2, 1f\n li %0, 0\n1:" : "=&r"(t) : "r"(a), "r"(b)); \
      uart_putc(t ? 'T' : 'n'); } \
    uart_putc('\n'); } } while (0)

static uint64_t op1(const char *name, uint64_t v) { printf("%s -> %lx\n", name, v); return v; }

static uint8_t buf[32] __attribute__((aligned(16)));

static void alu(void) {
  RR("add"); RR("sub"); RR("sll"); RR("slt"); RR("sltu"); RR("xor");
  RR("srl"); RR("sra"); RR("or"); RR("and");
  RR("addw"); RR("subw"); RR("sllw"); RR("srlw"); RR("sraw");
  RI("addi", 0); RI("addi", 1); RI("addi", -1); RI("addi", 2047); RI("addi", -2048);
  RI("slti", 0); RI("slti", -1); RI("slti", 2047); RI("sltiu", 0); RI("sltiu", -1); RI("sltiu", 1);
  RI("xori", -1); RI("xori", 0x555); RI("ori", -2048); RI("ori", 0x7ff); RI("andi", -1); RI("andi", 0x7f0);
  RI("slli", 0); RI("slli", 1); RI("slli", 31); RI("slli", 32); RI("slli", 63);
  RI("srli", 0); RI("srli", 1); RI("srli", 31); RI("srli", 32); RI("srli", 63);
  RI("srai", 0); RI("srai", 1); RI("srai", 31); RI("srai", 32); RI("srai", 63);
  RI("addiw", 0); RI("addiw", 1); RI("addiw", -1); RI("addiw", 2047); RI("addiw", -2048);
  RI("slliw", 0); RI("slliw", 1); RI("slliw", 31);
  RI("srliw", 0); RI("srliw", 1); RI("srliw", 31);
  RI("sraiw", 0); RI("sraiw", 1); RI("sraiw", 31);
}

static void alu_checks(void) {
  uint64_t r;
  __asm__ volatile("addw %0, %1, %2" : "=r"(r) : "r"(0x7fffffffUL), "r"(1UL));
  CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("addiw %0, %1, 0" : "=r"(r) : "r"(0x1234567887654321UL));   /* sext.w */
  CHECK_EQ(r, 0xffffffff87654321UL);
  __asm__ volatile("subw %0, %1, %2" : "=r"(r) : "r"(0UL), "r"(0x80000000UL));
  CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("sllw %0, %1, %2" : "=r"(r) : "r"(1UL), "r"(31UL));
  CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("sllw %0, %1, %2" : "=r"(r) : "r"(1UL), "r"(32UL));  /* only 5 bits */
  CHECK_EQ(r, 1);
  __asm__ volatile("srlw %0, %1, %2" : "=r"(r) : "r"(0xffffffff80000000UL), "r"(0UL));
  CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("srlw %0, %1, %2" : "=r"(r) : "r"(0x80000000UL), "r"(1UL));
  CHECK_EQ(r, 0x40000000);
  __asm__ volatile("sraw %0, %1, %2" : "=r"(r) : "r"(0x80000000UL), "r"(31UL));
  CHECK_EQ(r, -1UL);
  __asm__ volatile("sll %0, %1, %2" : "=r"(r) : "r"(1UL), "r"(64UL));   /* only 6 bits */
  CHECK_EQ(r, 1);
  __asm__ volatile("sra %0, %1, %2" : "=r"(r) : "r"(0x8000000000000000UL), "r"(63UL));
  CHECK_EQ(r, -1UL);
  __asm__ volatile("srl %0, %1, %2" : "=r"(r) : "r"(0x8000000000000000UL), "r"(63UL));
  CHECK_EQ(r, 1);
  __asm__ volatile("slt %0, %1, %2" : "=r"(r) : "r"(-1UL), "r"(1UL));
  CHECK_EQ(r, 1);
  __asm__ volatile("sltu %0, %1, %2" : "=r"(r) : "r"(-1UL), "r"(1UL));
  CHECK_EQ(r, 0);
  __asm__ volatile("sltiu %0, %1, -1" : "=r"(r) : "r"(5UL));   /* imm sign-extended, then unsigned */
  CHECK_EQ(r, 1);
  __asm__ volatile("slti %0, %1, -1" : "=r"(r) : "r"(0x8000000000000000UL));
  CHECK_EQ(r, 1);
  __asm__ volatile("srliw %0, %1, 0" : "=r"(r) : "r"(0x0000000080000000UL));
  CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("sraiw %0, %1, 4" : "=r"(r) : "r"(0x00000000f0000000UL));
  CHECK_EQ(r, 0xffffffffff000000UL);
}

static void upper(void) {
  uint64_t r, a, l;
  __asm__ volatile("lui %0, 0x80000" : "=r"(r)); CHECK_EQ(op1("lui 0x80000", r), 0xffffffff80000000UL);
  __asm__ volatile("lui %0, 0x7ffff" : "=r"(r)); CHECK_EQ(op1("lui 0x7ffff", r), 0x7ffff000UL);
  __asm__ volatile("lui %0, 0xfffff" : "=r"(r)); CHECK_EQ(op1("lui 0xfffff", r), 0xfffffffffffff000UL);
  __asm__ volatile("lui %0, 0" : "=r"(r)); CHECK_EQ(op1("lui 0", r), 0);
  __asm__ volatile("1: auipc %0, 0\n la %1, 1b" : "=r"(a), "=r"(l));
  CHECK_EQ(a, l);
  __asm__ volatile("1: auipc %0, 1\n la %1, 1b" : "=r"(a), "=r"(l));
  CHECK_EQ(a - l, 0x1000);
  __asm__ volatile("1: auipc %0, 0x80000\n la %1, 1b" : "=r"(a), "=r"(l));
  CHECK_EQ(a - l, 0xffffffff80000000UL);
  printf("auipc 0x80000 offset -> %lx\n", a - l);
}

static void branches(void) {
  BR("beq"); BR("bne"); BR("blt"); BR("bge"); BR("bltu"); BR("bgeu");
}

static void jumps(void) {
  uint64_t link, here, r;
  /* jal: link = pc + 4 */
  __asm__ volatile("jal %0, 1f\n2: nop\n1: la %1, 2b" : "=r"(link), "=r"(here));
  CHECK_EQ(link, here);
  /* jalr clears bit 0 of the target */
  __asm__ volatile("la t0, 1f\n addi t0, t0, 1\n li %0, 0\n jalr %1, 0(t0)\n li %0, 99\n"
                   ".align 2\n1: nop" : "=&r"(r), "=&r"(link) :: "t0");
  CHECK_EQ(r, 0);
  /* jalr with an odd immediate */
  __asm__ volatile("la t0, 1f\n addi t0, t0, -1\n li %0, 0\n jalr x0, 1(t0)\n li %0, 99\n"
                   ".align 2\n1: nop" : "=&r"(r) :: "t0");
  CHECK_EQ(r, 0);
  /* rd == rs1: the target uses the old value */
  __asm__ volatile("la t0, 1f\n jalr t0, 0(t0)\n2: li t0, 99\n1: la %1, 2b\n mv %0, t0"
                   : "=&r"(r), "=&r"(here) :: "t0");
  CHECK_EQ(r, here);
  /* jalr negative offset */
  __asm__ volatile("la t0, 1f\n addi t0, t0, 16\n li %0, 0\n jalr x0, -16(t0)\n li %0, 99\n"
                   ".align 2\n1: nop" : "=&r"(r) :: "t0");
  CHECK_EQ(r, 0);
  printf("jumps done\n");
}

static void loads_stores(void) {
  for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(0x81 + i * 0x11);
  uint64_t r;
#define LD(op, off) __asm__ volatile(op " %0, " #off "(%1)" : "=r"(r) : "r"(buf)); printf(op " +" #off " -> %lx\n", r)
  LD("lb", 0); LD("lb", 1); LD("lb", 7); LD("lbu", 0); LD("lbu", 7);
  LD("lh", 0); LD("lh", 2); LD("lh", 6); LD("lhu", 0); LD("lhu", 6);
  LD("lw", 0); LD("lw", 4); LD("lwu", 0); LD("lwu", 4);
  LD("ld", 0); LD("ld", 8); LD("ld", 16); LD("ld", 24);
  /* negative offsets */
  __asm__ volatile("lbu %0, -1(%1)" : "=r"(r) : "r"(buf + 8)); CHECK_EQ(r, buf[7]);
  __asm__ volatile("lw %0, -8(%1)" : "=r"(r) : "r"(buf + 8)); CHECK_EQ(r, (uint64_t)(int64_t)*(int32_t *)buf);
  CHECK_EQ(*(volatile int8_t *)buf, (int8_t)0x81);
#define ST(op, off, val) do { memset(buf, 0xaa, 16); __asm__ volatile(op " %0, " #off "(%1)" :: "r"(val), "r"(buf) : "memory"); \
    printf(op " +" #off " %lx -> %016lx %016lx\n", (uint64_t)(val), ((volatile uint64_t *)buf)[0], ((volatile uint64_t *)buf)[1]); } while (0)
  ST("sb", 0, 0x1122334455667788UL); ST("sb", 5, 0xffUL); ST("sh", 0, 0x1122334455667788UL); ST("sh", 6, 0x8001UL);
  ST("sw", 0, 0x1122334455667788UL); ST("sw", 4, 0x80000001UL); ST("sd", 0, 0x1122334455667788UL); ST("sd", 8, -2UL);
  memset(buf, 0, 16);
  __asm__ volatile("sd %0, 0(%1)" :: "r"(0x8000000080008080UL), "r"(buf) : "memory");
  __asm__ volatile("lb %0, 0(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0xffffffffffffff80UL);
  __asm__ volatile("lbu %0, 0(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0x80);
  __asm__ volatile("lh %0, 0(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0xffffffffffff8080UL);
  __asm__ volatile("lhu %0, 0(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0x8080);
  __asm__ volatile("lw %0, 4(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0xffffffff80000000UL);
  __asm__ volatile("lwu %0, 4(%1)" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0x80000000UL);
}

static void zero_reg(void) {
  uint64_t r;
  __asm__ volatile("addi x0, x0, 5\n mv %0, x0" : "=r"(r)); CHECK_EQ(r, 0);
  __asm__ volatile("lui x0, 0x12345\n mv %0, x0" : "=r"(r)); CHECK_EQ(r, 0);
  __asm__ volatile("ld x0, 0(%1)\n mv %0, x0" : "=r"(r) : "r"(buf)); CHECK_EQ(r, 0);
  __asm__ volatile("jal x0, 1f\n1: mv %0, x0" : "=r"(r)); CHECK_EQ(r, 0);
  __asm__ volatile("1: auipc x0, 1\n add %0, x0, x0" : "=r"(r)); CHECK_EQ(r, 0);
  printf("x0 stays zero\n");
}

static void fences(void) {
  __asm__ volatile("fence\n fence rw, rw\n fence r, r\n fence w, w\n fence iorw, iorw\n fence.tso\n"
                   ".word 0x0100000f\n"  /* pause (fence w, 0) */
                   "fence.i" ::: "memory");
  printf("fences done\n");
}

int main(void) {
  printf("rv64i\n");
  alu();
  alu_checks();
  upper();
  branches();
  jumps();
  loads_stores();
  zero_reg();
  fences();
  return check_failures();
}
