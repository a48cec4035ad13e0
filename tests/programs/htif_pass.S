# Ends through HTIF: tohost = 1 means "pass" (exit status 0).
# No UART output, so the same ELF also runs on QEMU's spike machine.
  .text
  .globl main
main:
  la t0, tohost
  li t1, 1
  sd t1, 0(t0)
1:
  j 1b
