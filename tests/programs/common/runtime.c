/* Tiny bare-metal runtime: 16550 UART output, finisher exit, traps. */
#include <stdarg.h>
#include "runtime.h"

volatile struct trap_record last_trap;
volatile struct trap_record last_strap;
int (*trap_hook)(struct trap_frame *f);
int (*s_trap_hook)(struct trap_frame *f);
volatile int expect_trap;
volatile uint64_t exit_mstatus;

long run_in_mode(int mode, long (*fn)(long), long arg) {
  uint64_t st = read_csr(mstatus) & ~(3UL << 11);
  return run_with_mstatus(st | ((uint64_t)mode << 11), fn, arg);
}
int failures;

void uart_putc(char c) {
  volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
  while ((uart[5] & 0x20) == 0) {
  }
  uart[0] = (uint8_t)c;
}

void print_str(const char *s) {
  while (*s) uart_putc(*s++);
}

static void put_num(uint64_t v, int base, int width, char pad, int neg) {
  char buf[24];
  int n = 0;
  do {
    int d = (int)(v % (uint64_t)base);
    buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= (uint64_t)base;
  } while (v);
  if (neg) {
    if (pad == '0') { uart_putc('-'); width--; }
    else buf[n++] = '-';
  }
  for (int i = n; i < width; i++) uart_putc(pad);
  while (n) uart_putc(buf[--n]);
}

void print_hex(uint64_t v) { put_num(v, 16, 16, '0', 0); }
void print_dec(int64_t v) { put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, 0, ' ', v < 0); }

void printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (; *fmt; fmt++) {
    if (*fmt != '%') { uart_putc(*fmt); continue; }
    fmt++;
    char pad = ' ';
    int width = 0, is_long = 0;
    if (*fmt == '-') fmt++;            /* %s is always left-justified */
    if (*fmt == '0') { pad = '0'; fmt++; }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') { is_long = 1; fmt++; }
    switch (*fmt) {
      case 's': { const char *s = va_arg(ap, const char *); int n = 0;
                  for (const char *p = s; *p; p++) n++;
                  print_str(s); for (; n < width; n++) uart_putc(' '); break; }
      case 'c': uart_putc((char)va_arg(ap, int)); break;
      case 'd': { int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
                  put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0); break; }
      case 'u': { uint64_t v = is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
                  put_num(v, 10, width, pad, 0); break; }
      case 'x': { uint64_t v = is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
                  put_num(v, 16, width, pad, 0); break; }
      case 'p': put_num((uint64_t)va_arg(ap, void *), 16, 16, '0', 0); break;
      case '%': uart_putc('%'); break;
      default: uart_putc('%'); uart_putc(*fmt); break;
    }
  }
  va_end(ap);
}

void exit(int code) {
  volatile uint32_t *finisher = (volatile uint32_t *)FINISHER_BASE;
  if (code == 0)
    *finisher = 0x5555;
  else
    *finisher = ((uint32_t)(code & 0xffff) << 16) | 0x3333;
  for (;;) __asm__ volatile("wfi");
}

int check_failures(void) {
  if (failures) {
    printf("%d check(s) FAILED\n", failures);
    return 1;
  }
  print_str("all checks passed\n");
  return 0;
}

void pmp_allow_all(void) {
  /* NAPOT region covering the whole address space, RWX. */
  write_csr(pmpaddr0, -1UL >> 10);
  write_csr(pmpcfg0, 0x1f);
}

static uint64_t insn_len_at(uint64_t pc) {
  return ((*(volatile uint16_t *)pc) & 3) == 3 ? 4 : 2;
}

/* Called by crt.S for every M-mode trap. Returns 1 to abandon the current
 * run_in_mode call and resume its caller in M-mode. */
int trap_handler(struct trap_frame *f) {
  uint64_t prev_mode = (f->status >> 11) & 3;
  if ((f->cause == 8 || f->cause == 9 || f->cause == 11) && f->x[17] == RUN_EXIT_MAGIC) {
    exit_mstatus = f->status;
    return 1;
  }
  last_trap.count++;
  last_trap.cause = f->cause;
  last_trap.epc = f->epc;
  last_trap.tval = f->tval;
  last_trap.status = f->status;
  last_trap.mode = prev_mode;
  if (trap_hook && trap_hook(f)) return 0;
  if ((int64_t)f->cause < 0) {
    printf("unexpected interrupt mcause=%lx\n", f->cause);
    exit(3);
  }
  if (!expect_trap) {
    printf("unexpected trap mcause=%lx mepc=%lx mtval=%lx\n", f->cause, f->epc, f->tval);
    exit(3);
  }
  f->epc += insn_len_at(f->epc);
  return 0;
}

/* Called by crt.S s_trap_entry for traps delegated to S-mode. Returns 1 to
 * leave to M-mode (the run_in_mode exit). */
int s_trap_handler(struct trap_frame *f) {
  if (f->cause == 8 && f->x[17] == RUN_EXIT_MAGIC) return 1;
  last_strap.count++;
  last_strap.cause = f->cause;
  last_strap.epc = f->epc;
  last_strap.tval = f->tval;
  last_strap.status = f->status;
  last_strap.mode = (f->status >> 8) & 1;
  if (s_trap_hook && s_trap_hook(f)) return 0;
  if ((int64_t)f->cause < 0) {
    printf("unexpected S interrupt scause=%lx\n", f->cause);
    return 1;
  }
  f->epc += insn_len_at(f->epc);
  return 0;
}

void *memset(void *d, int c, size_t n) {
  uint8_t *p = d;
  while (n--) *p++ = (uint8_t)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *p = d;
  const uint8_t *q = s;
  while (n--) *p++ = *q++;
  return d;
}
