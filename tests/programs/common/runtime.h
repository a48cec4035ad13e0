/* Tiny bare-metal runtime for the sv39 test programs (QEMU `virt` devices). */
#ifndef SV39_TEST_RUNTIME_H
#define SV39_TEST_RUNTIME_H

#include <stdint.h>
#include <stddef.h>

#define UART_BASE     0x10000000UL
#define FINISHER_BASE 0x00100000UL
#define CLINT_BASE    0x02000000UL
#define CLINT_MSIP     (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME    (CLINT_BASE + 0xbff8)

#define RUN_EXIT_MAGIC 0x5EC0DE

/* Saved by crt.S trap_entry / s_trap_entry. */
struct trap_frame {
  uint64_t x[32];
  uint64_t epc, cause, tval, status;
};

/* What the last trap looked like (filled in by trap_handler). */
struct trap_record {
  uint64_t count, cause, epc, tval, status, mode;
};
extern volatile struct trap_record last_trap;
extern volatile struct trap_record last_strap;

/* Optional per-program hooks: return 1 if the trap was handled (the frame may
 * be edited), 0 to fall back to the default behaviour. */
extern int (*trap_hook)(struct trap_frame *f);
extern int (*s_trap_hook)(struct trap_frame *f);
/* When non-zero, traps are expected: they are recorded and the trapping
 * instruction is skipped. When zero, an unexpected trap fails the program. */
extern volatile int expect_trap;

void uart_putc(char c);
void print_str(const char *s);
void print_hex(uint64_t v);           /* 16 hex digits */
void print_dec(int64_t v);
void printf(const char *fmt, ...);    /* %s %c %d %u %x %lx %ld %lu %p, 0-pad, width */
void exit(int code) __attribute__((noreturn));

/* Self-checks: count failures; main returns check_failures(). */
extern int failures;
#define CHECK(cond) do { if (!(cond)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) do { uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b); \
    if (_a != _b) { failures++; printf("FAIL %s:%d: %s = %lx, want %lx\n", __FILE__, __LINE__, #a, _a, _b); } } while (0)
int check_failures(void);              /* prints a summary, returns 0 or 1 */

/* Run fn(arg) in U-mode (0) or S-mode (1); returns fn's result (in M-mode). */
long run_in_mode(int mode, long (*fn)(long), long arg);
/* Same, with the whole mstatus given (MPP picks the mode). */
long run_with_mstatus(uint64_t mstatus, long (*fn)(long), long arg);
/* mstatus as trap_handler saw it when the run_in_mode exit ecall arrived. */
extern volatile uint64_t exit_mstatus;
void s_trap_entry(void);
void trap_entry(void);

/* Allow U/S-mode access to all memory through PMP entry 0. */
void pmp_allow_all(void);

#define read_csr(reg) ({ uint64_t _v; __asm__ volatile("csrr %0, " #reg : "=r"(_v)); _v; })
#define write_csr(reg, val) __asm__ volatile("csrw " #reg ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define set_csr(reg, bits) __asm__ volatile("csrs " #reg ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define clear_csr(reg, bits) __asm__ volatile("csrc " #reg ", %0" :: "rK"((uint64_t)(bits)) : "memory")

static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write64(uint64_t addr, uint64_t v) { *(volatile uint64_t *)addr = v; }
static inline uint64_t mmio_read64(uint64_t addr) { return *(volatile uint64_t *)addr; }

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
