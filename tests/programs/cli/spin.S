# Never ends: for `--max-instructions` (expects exit status 124).
  .text
  .globl main
main:
1:
  addi t0, t0, 1
  j 1b
