# A minimal S-mode stage for firmware boot tests, linked at 0x8020_0000 (where OpenSBI's
# fw_jump and QEMU put the kernel). It prints through the SBI legacy console, reports the
# hart id and device-tree address it was handed, checks the device tree's magic, and powers
# off through the SBI system-reset extension (SRST, shutdown).
  .section .text
  .globl _start
_start:
  mv s0, a0                 # hart id
  mv s1, a1                 # device tree
  la a0, hello
  call puts
  la a0, fdt_ok
  lwu t0, 0(s1)
  li t1, 0xedfe0dd0         # 0xd00dfeed, read little-endian
  beq t0, t1, 1f
  la a0, fdt_bad
1:
  call puts
  # SBI BASE: get_spec_version (EID 0x10, FID 0) must succeed.
  li a7, 0x10
  li a6, 0
  ecall
  bnez a0, 3f               # a0 = SBI error code; 0 is success
  la a0, base_ok
  call puts
3:
  # SRST (EID 0x53525354), FID 0: reset type 0 (shutdown), reason 0 (none).
  li a7, 0x53525354
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
4:
  wfi
  j 4b

# puts(a0): legacy console_putchar (EID 1) for each byte.
puts:
  mv t2, a0
5:
  lbu a0, 0(t2)
  beqz a0, 6f
  li a7, 1
  ecall
  addi t2, t2, 1
  j 5b
6:
  ret

  .section .rodata
hello:  .asciz "S-mode stage: hello through the SBI\n"
fdt_ok: .asciz "S-mode stage: device tree magic ok\n"
fdt_bad: .asciz "S-mode stage: device tree magic WRONG\n"
base_ok: .asciz "S-mode stage: SBI spec version read\n"
