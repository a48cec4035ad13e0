# Minimal standalone image for the CLI tests: built as a 32-bit RISC-V ELF
# (rejected: sv39 is RV64) and linked at 0x4000_0000 (outside RAM).
  .text
  .globl _start
_start:
  j _start
