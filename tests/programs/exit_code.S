# Prints a line, then fails through the sifive_test finisher with code 42:
# the emulator's (and QEMU's) exit status must be 42.
  .text
  .globl main
main:
  addi sp, sp, -16
  sd ra, 8(sp)
  la a0, msg
  call print_str
  li t0, 0x00100000
  li t1, (42 << 16) | 0x3333
  sw t1, 0(t0)
1:
  j 1b
  .section .rodata
msg:
  .string "exiting with code 42\n"
