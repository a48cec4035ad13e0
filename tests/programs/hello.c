/* Smallest end-to-end check: UART output, a1 = device tree, finisher pass. */
#include "runtime.h"

int main(uint64_t hartid, uint64_t dtb) {
  print_str("Hello from sv39 test program!\n");
  printf("hart %d\n", (int)hartid);
  /* The device tree starts with the FDT magic 0xd00dfeed (big-endian). */
  uint32_t magic = *(volatile uint32_t *)dtb;
  printf("fdt magic %x\n", __builtin_bswap32(magic));
  printf("dec %d %d %ld, hex %x %016lx\n", 0, -42, 1234567890123L, 0xbeefu, 0x0123456789abcdefUL);
  CHECK_EQ(hartid, 0);
  CHECK_EQ(__builtin_bswap32(magic), 0xd00dfeed);
  return check_failures();
}
