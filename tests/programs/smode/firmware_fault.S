# An S-mode stage that makes the firmware fault: an SBI debug-console write (DBCN, EID
# 0x4442434E, FID 0) of 16 bytes from physical address 0, where nothing is mapped. The
# firmware's own load faults in M-mode; it must report the trap and power off with a
# failure status instead of hanging.
  .section .text
  .globl _start
_start:
  li a7, 0x4442434E
  li a6, 0
  li a0, 16
  li a1, 0
  li a2, 0
  ecall
1:
  wfi
  j 1b
