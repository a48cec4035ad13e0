/* Privileged architecture, interrupts: CLINT timer (direct and vectored
 * mtvec), CLINT software interrupt, priority, interrupts while in U-mode,
 * S-mode timer through mip.STIP and mideleg, wfi wake-up with MIE=0. */
#include "runtime.h"

#define MIP_SSIP (1UL << 1)
#define MIP_MSIP (1UL << 3)
#define MIP_STIP (1UL << 5)
#define MIP_MTIP (1UL << 7)
#define MSTATUS_SIE (1UL << 1)
#define MSTATUS_MIE (1UL << 3)
#define SPIN 20000000

static volatile uint64_t irq_count, irq_cause[8], vectored_slot;

static void timer_in(uint64_t ticks) { mmio_write64(CLINT_MTIMECMP, mmio_read64(CLINT_MTIME) + ticks); }
static void timer_off(void) { mmio_write64(CLINT_MTIMECMP, -1UL); }

static int irq_hook(struct trap_frame *f) {
  if ((int64_t)f->cause >= 0) return 0;
  if (irq_count < 8) irq_cause[irq_count] = f->cause;
  irq_count++;
  uint64_t code = f->cause & 0xff;
  if (code == 7) timer_off();
  if (code == 3) mmio_write32(CLINT_MSIP, 0);
  if (code == 5) clear_csr(mip, MIP_STIP);
  return 1;
}

static int wait_irqs(uint64_t n) {
  for (long i = 0; i < SPIN && irq_count < n; i++) __asm__ volatile("nop");
  return irq_count >= n;
}

/* Vectored table: slot i records i, then continues in the common entry. */
__asm__(".text\n .balign 256\n .globl vec_table\nvec_table:\n"
        ".option push\n .option norvc\n"
        " j vec0\n j vec1\n j vec2\n j vec3\n j vec4\n j vec5\n j vec6\n j vec7\n j vec8\n j vec9\n j vec10\n j vec11\n"
        ".option pop\n"
#define SLOT(n) "vec" #n ":\n csrw sscratch, t0\n li t0, " #n "\n sd t0, vectored_slot, t6\n csrr t0, sscratch\n j trap_entry\n"
        SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7) SLOT(8) SLOT(9) SLOT(10) SLOT(11));
extern char vec_table[];

static void timer_direct(void) {
  irq_count = 0;
  uint64_t t0 = mmio_read64(CLINT_MTIME), t1 = mmio_read64(CLINT_MTIME);
  CHECK(t1 >= t0);
  timer_in(1000);
  set_csr(mie, MIP_MTIP);
  set_csr(mstatus, MSTATUS_MIE);
  int ok = wait_irqs(1);
  clear_csr(mstatus, MSTATUS_MIE);
  printf("timer, direct mtvec: %s mcause=%lx mip.MTIP after=%lu\n", ok ? "taken" : "NOT taken", irq_cause[0], (read_csr(mip) >> 7) & 1);
  CHECK(ok); CHECK_EQ(irq_cause[0], 0x8000000000000007UL);
}

static void timer_vectored(void) {
  irq_count = 0; vectored_slot = 99;
  write_csr(mtvec, (uint64_t)vec_table | 1);
  printf("mtvec mode bits read back: %lx\n", read_csr(mtvec) & 3);
  timer_in(1000);
  set_csr(mstatus, MSTATUS_MIE);
  int ok = wait_irqs(1);
  clear_csr(mstatus, MSTATUS_MIE);
  printf("timer, vectored mtvec: %s mcause=%lx slot=%lu\n", ok ? "taken" : "NOT taken", irq_cause[0], vectored_slot);
  CHECK_EQ(vectored_slot, 7);
  /* exceptions still go to the base */
  vectored_slot = 99;
  __asm__ volatile("ecall");
  printf("ecall with vectored mtvec: mcause=%lx slot=%lu\n", last_trap.cause, vectored_slot);
  CHECK_EQ(vectored_slot, 0);
  /* software interrupt lands in slot 3 */
  irq_count = 0;
  set_csr(mie, MIP_MSIP);
  mmio_write32(CLINT_MSIP, 1);
  set_csr(mstatus, MSTATUS_MIE);
  ok = wait_irqs(1);
  clear_csr(mstatus, MSTATUS_MIE);
  printf("msip, vectored mtvec: %s mcause=%lx slot=%lu\n", ok ? "taken" : "NOT taken", irq_cause[0], vectored_slot);
  CHECK_EQ(vectored_slot, 3);
  write_csr(mtvec, (uint64_t)trap_entry);
}

static void software_and_priority(void) {
  irq_count = 0;
  set_csr(mie, MIP_MSIP | MIP_MTIP);
  mmio_write32(CLINT_MSIP, 1);
  printf("msip reads back %x, mip.MSIP=%lu\n", mmio_read32(CLINT_MSIP), (read_csr(mip) >> 3) & 1);
  timer_in(0);
  for (int i = 0; i < 1000 && !(read_csr(mip) & MIP_MTIP); i++) {}
  printf("mip with both pending: %lx\n", read_csr(mip) & 0xaa);
  set_csr(mstatus, MSTATUS_MIE);
  int ok = wait_irqs(2);
  clear_csr(mstatus, MSTATUS_MIE);
  printf("both pending: %s, order %lx then %lx\n", ok ? "taken" : "NOT taken", irq_cause[0], irq_cause[1]);
  CHECK_EQ(irq_cause[0], 0x8000000000000003UL); CHECK_EQ(irq_cause[1], 0x8000000000000007UL);
}

static long spin_until_irq(long n) {
  for (long i = 0; i < SPIN && irq_count < (uint64_t)n; i++) __asm__ volatile("nop");
  return (long)irq_count;
}

static void interrupt_in_user_mode(void) {
  irq_count = 0;
  clear_csr(mstatus, MSTATUS_MIE);   /* M interrupts are always enabled below M */
  timer_in(1000);
  long n = run_in_mode(0, spin_until_irq, 1);
  printf("timer while in U with mstatus.MIE=0: count=%ld mcause=%lx from=%lu\n", n, irq_cause[0], last_trap.mode);
  CHECK_EQ(n, 1); CHECK_EQ(last_trap.mode, 0);
}

static int s_irq_hook(struct trap_frame *f) {
  if ((int64_t)f->cause >= 0) return 0;
  if (irq_count < 8) irq_cause[irq_count] = f->cause;
  irq_count++;
  if ((f->cause & 0xff) == 1) clear_csr(sip, MIP_SSIP);
  else clear_csr(sie, MIP_STIP);   /* S cannot clear STIP itself: mask it */
  return 1;
}

static long s_enable_and_spin(long n) {
  set_csr(sie, MIP_STIP);
  set_csr(sstatus, MSTATUS_SIE);
  long r = spin_until_irq(n);
  clear_csr(sstatus, MSTATUS_SIE);
  return r;
}

static long s_ssip(long n) {
  set_csr(sie, MIP_SSIP);
  set_csr(sstatus, MSTATUS_SIE);
  set_csr(sip, MIP_SSIP);
  long r = spin_until_irq(n);
  clear_csr(sstatus, MSTATUS_SIE);
  return r;
}

static void supervisor_timer(void) {
  irq_count = 0;
  write_csr(stvec, (uint64_t)s_trap_entry);
  s_trap_hook = s_irq_hook;
  write_csr(mideleg, MIP_STIP);
  set_csr(mip, MIP_STIP);
  printf("mip.STIP set by M: mip&0x22=%lx sip&0x22=%lx\n", read_csr(mip) & 0x22, read_csr(sip) & 0x22);
  long n = run_in_mode(1, s_enable_and_spin, 1);
  printf("S timer (delegated): count=%ld scause=%lx sstatus.SPP=%lu\n", n, irq_cause[0], last_strap.mode);
  CHECK_EQ(irq_cause[0], 0x8000000000000005UL);
  clear_csr(mip, MIP_STIP);
  /* S software interrupt raised by S itself through sip.SSIP */
  irq_count = 0;
  write_csr(mideleg, MIP_SSIP | MIP_STIP);
  long m = run_in_mode(1, s_ssip, 1);
  printf("S software (delegated, self-raised): count=%ld scause=%lx\n", m, irq_cause[0]);
  CHECK_EQ(irq_cause[0], 0x8000000000000001UL);
  write_csr(mideleg, 0);
  s_trap_hook = 0;
}

static void wfi_wakeup(void) {
  irq_count = 0;
  clear_csr(mstatus, MSTATUS_MIE);
  write_csr(mie, MIP_MTIP);
  timer_in(2000);
  __asm__ volatile("wfi");
  uint64_t pending = read_csr(mip) & MIP_MTIP;
  /* wfi may also return early: wait for the timer if needed, never trapping */
  for (long i = 0; i < SPIN && !(read_csr(mip) & MIP_MTIP); i++) {}
  printf("wfi with MIE=0: returned, traps=%lu, MTIP now=%lu\n", irq_count, (read_csr(mip) >> 7) & 1);
  (void)pending;
  CHECK_EQ(irq_count, 0);
  timer_off();
  /* already-pending software interrupt: wfi returns at once */
  write_csr(mie, MIP_MSIP);
  mmio_write32(CLINT_MSIP, 1);
  __asm__ volatile("wfi");
  printf("wfi with msip pending, MIE=0: returned, traps=%lu\n", irq_count);
  mmio_write32(CLINT_MSIP, 0);
  write_csr(mie, 0);
}

int main(void) {
  printf("priv_interrupts\n");
  pmp_allow_all();
  trap_hook = irq_hook;
  expect_trap = 1;
  timer_off();
  timer_direct();
  timer_vectored();
  software_and_priority();
  interrupt_in_user_mode();
  supervisor_timer();
  wfi_wakeup();
  write_csr(mie, 0);
  return check_failures();
}
