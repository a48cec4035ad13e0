# Self-modifying code: stores into instructions, made visible by fence.i.
# Each step calls a patched routine and prints what it returned; a wrong
# value fails the program with the step number as exit code.

# CHECK_A0 step, want: print "step N -> a0" and fail if a0 != want.
.macro CHECK_A0 step, want
  mv s1, a0
  la a0, fmt
  li a1, \step
  mv a2, s1
  call printf
  li t0, \want
  li a0, \step
  bne s1, t0, fail
.endm

  .text
  .globl main
main:
  addi sp, sp, -32
  sd ra, 24(sp)
  sd s0, 16(sp)
  sd s1, 8(sp)

  # 1: the routine as assembled
  call site32
  CHECK_A0 1, 1

  # 2: patch "li a0, 1" into "li a0, 2", fence.i, run
  la s0, site32
  li t0, 0x00200513          # addi a0, zero, 2
  sw t0, 0(s0)
  fence.i
  call site32
  CHECK_A0 2, 2

  # 3: two stores to code without fence.i between, then one fence.i
  li t0, 0x00300513          # addi a0, zero, 3
  sw t0, 0(s0)
  li t0, 0x00400513          # addi a0, zero, 4
  sw t0, 0(s0)
  fence.i
  call site32
  CHECK_A0 3, 4

  # 4: a hot loop over the routine, then a patch (decode caches must notice)
  li s0, 200
1:
  call site32
  addi s0, s0, -1
  bnez s0, 1b
  la s0, site32
  li t0, 0x00500513          # addi a0, zero, 5
  sw t0, 0(s0)
  fence.i
  call site32
  CHECK_A0 4, 5

  # 5: patch a compressed instruction with a 16-bit store
  call site16
  CHECK_A0 5, 1
  la s0, site16
  li t0, 0x4519              # c.li a0, 6
  sh t0, 0(s0)
  fence.i
  call site16
  CHECK_A0 6, 6

  # 7: replace a compressed instruction pair by one 32-bit instruction
  li t0, 0x00700513          # addi a0, zero, 7 over c.li + c.nop
  sw t0, 0(s0)
  fence.i
  call site16
  CHECK_A0 7, 7

  # 8: code written byte by byte into a buffer, then run
  la s0, buffer
  li t0, 0x13                # addi a0, zero, 8 = 0x00800513, little-endian
  sb t0, 3(s0)
  li t0, 0x80
  sb t0, 2(s0)
  li t0, 0x05
  sb t0, 1(s0)
  li t0, 0x00800513
  sw t0, 0(s0)
  li t0, 0x00008067          # ret
  sw t0, 4(s0)
  fence.i
  jalr s0
  CHECK_A0 8, 8

  li a0, 0
  ld ra, 24(sp)
  ld s0, 16(sp)
  ld s1, 8(sp)
  addi sp, sp, 32
  ret

fail:
  call exit

  .balign 4
  .option push
  .option norvc
site32:
  li a0, 1
  ret
  .option pop

  .balign 4
site16:
  c.li a0, 1
  c.nop
  ret

  .data
  .balign 8
buffer:
  .skip 16

  .section .rodata
fmt:
  .string "step %d -> %lx\n"
