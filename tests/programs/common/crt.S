# Start-up code shared by every test program.
#
# Entered in M-mode at 0x8000_0000 with a0 = hart id, a1 = device tree.
# Sets up the stack, a trap vector that calls the C `trap_handler`, turns the
# FPU on (mstatus.FS = Initial), clears .bss, calls main(hartid, dtb) and
# exits through the finisher with main's return value.

#define FRAME_SIZE (36 * 8)

  .section .text.init, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  csrr t0, mhartid
  bnez t0, park
  la sp, __stack_top
  la t0, __trap_stack_top
  csrw mscratch, t0
  la t0, trap_entry
  csrw mtvec, t0
  li t0, (1 << 13)            # mstatus.FS = Initial
  csrs mstatus, t0
  csrwi fcsr, 0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call main
  call exit
park:
  wfi
  j park

# M-mode trap entry. mscratch holds the trap stack top; the frame layout is
# struct trap_frame in runtime.h: x0..x31, mepc, mcause, mtval, mstatus.
  .text
  .align 2
  .globl trap_entry
trap_entry:
  csrrw sp, mscratch, sp
  addi sp, sp, -FRAME_SIZE
  sd x1, 1*8(sp)
  sd x3, 3*8(sp)
  sd x4, 4*8(sp)
  sd x5, 5*8(sp)
  sd x6, 6*8(sp)
  sd x7, 7*8(sp)
  sd x8, 8*8(sp)
  sd x9, 9*8(sp)
  sd x10, 10*8(sp)
  sd x11, 11*8(sp)
  sd x12, 12*8(sp)
  sd x13, 13*8(sp)
  sd x14, 14*8(sp)
  sd x15, 15*8(sp)
  sd x16, 16*8(sp)
  sd x17, 17*8(sp)
  sd x18, 18*8(sp)
  sd x19, 19*8(sp)
  sd x20, 20*8(sp)
  sd x21, 21*8(sp)
  sd x22, 22*8(sp)
  sd x23, 23*8(sp)
  sd x24, 24*8(sp)
  sd x25, 25*8(sp)
  sd x26, 26*8(sp)
  sd x27, 27*8(sp)
  sd x28, 28*8(sp)
  sd x29, 29*8(sp)
  sd x30, 30*8(sp)
  sd x31, 31*8(sp)
  csrr t0, mscratch           # the interrupted sp
  sd t0, 2*8(sp)
  sd zero, 0(sp)
  csrr t0, mepc
  sd t0, 32*8(sp)
  csrr t0, mcause
  sd t0, 33*8(sp)
  csrr t0, mtval
  sd t0, 34*8(sp)
  csrr t0, mstatus
  sd t0, 35*8(sp)
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  mv a0, sp
  call trap_handler
  bnez a0, resume_m_context
  ld t0, 32*8(sp)
  csrw mepc, t0
  ld t0, 35*8(sp)
  csrw mstatus, t0
  ld x1, 1*8(sp)
  ld x3, 3*8(sp)
  ld x4, 4*8(sp)
  ld x5, 5*8(sp)
  ld x6, 6*8(sp)
  ld x7, 7*8(sp)
  ld x8, 8*8(sp)
  ld x9, 9*8(sp)
  ld x10, 10*8(sp)
  ld x11, 11*8(sp)
  ld x12, 12*8(sp)
  ld x13, 13*8(sp)
  ld x14, 14*8(sp)
  ld x15, 15*8(sp)
  ld x16, 16*8(sp)
  ld x17, 17*8(sp)
  ld x18, 18*8(sp)
  ld x19, 19*8(sp)
  ld x20, 20*8(sp)
  ld x21, 21*8(sp)
  ld x22, 22*8(sp)
  ld x23, 23*8(sp)
  ld x24, 24*8(sp)
  ld x25, 25*8(sp)
  ld x26, 26*8(sp)
  ld x27, 27*8(sp)
  ld x28, 28*8(sp)
  ld x29, 29*8(sp)
  ld x30, 30*8(sp)
  ld x31, 31*8(sp)
  addi sp, sp, FRAME_SIZE     # back to the trap stack top; mscratch still
  csrrw sp, mscratch, sp      # holds the interrupted sp
  mret

# trap_handler asked to abandon the lower-privilege function started by
# run_in_mode: return from run_in_mode in M-mode, with the lower mode's a0.
resume_m_context:
  ld a0, 10*8(sp)
  la t0, __trap_stack_top
  csrw mscratch, t0
  la t0, m_context
  ld ra, 0*8(t0)
  ld sp, 1*8(t0)
  ld s0, 2*8(t0)
  ld s1, 3*8(t0)
  ld s2, 4*8(t0)
  ld s3, 5*8(t0)
  ld s4, 6*8(t0)
  ld s5, 7*8(t0)
  ld s6, 8*8(t0)
  ld s7, 9*8(t0)
  ld s8, 10*8(t0)
  ld s9, 11*8(t0)
  ld s10, 12*8(t0)
  ld s11, 13*8(t0)
  ret

# long run_with_mstatus(uint64_t mstatus, long (*fn)(long), long arg)
# Writes mstatus (whose MPP picks the mode), then runs fn(arg) via mret.
# When fn returns it lands on lower_exit, whose ecall (a7 = RUN_EXIT_MAGIC)
# makes trap_handler resume here, in M-mode, returning fn's a0.
  .globl run_with_mstatus
run_with_mstatus:
  la t0, m_context
  sd ra, 0*8(t0)
  sd sp, 1*8(t0)
  sd s0, 2*8(t0)
  sd s1, 3*8(t0)
  sd s2, 4*8(t0)
  sd s3, 5*8(t0)
  sd s4, 6*8(t0)
  sd s5, 7*8(t0)
  sd s6, 8*8(t0)
  sd s7, 9*8(t0)
  sd s8, 10*8(t0)
  sd s9, 11*8(t0)
  sd s10, 12*8(t0)
  sd s11, 13*8(t0)
  csrw mstatus, a0
  csrw mepc, a1
  mv a0, a2
  la ra, lower_exit
  addi sp, sp, -64
  mret
  .globl lower_exit
lower_exit:
  li a7, 0x5EC0DE
  ecall
1:
  j 1b

# S-mode trap entry for tests that delegate: same frame on the current
# stack, calls s_trap_handler; returning non-zero means "leave to M-mode"
# (it issues the exit ecall itself, from S-mode).
  .align 2
  .globl s_trap_entry
s_trap_entry:
  addi sp, sp, -FRAME_SIZE
  sd x1, 1*8(sp)
  sd x5, 5*8(sp)
  sd x6, 6*8(sp)
  sd x7, 7*8(sp)
  sd x10, 10*8(sp)
  sd x11, 11*8(sp)
  sd x12, 12*8(sp)
  sd x13, 13*8(sp)
  sd x14, 14*8(sp)
  sd x15, 15*8(sp)
  sd x16, 16*8(sp)
  sd x17, 17*8(sp)
  sd x28, 28*8(sp)
  sd x29, 29*8(sp)
  sd x30, 30*8(sp)
  sd x31, 31*8(sp)
  csrr t0, sepc
  sd t0, 32*8(sp)
  csrr t0, scause
  sd t0, 33*8(sp)
  csrr t0, stval
  sd t0, 34*8(sp)
  csrr t0, sstatus
  sd t0, 35*8(sp)
  mv a0, sp
  call s_trap_handler
  bnez a0, 1f
  ld t0, 32*8(sp)
  csrw sepc, t0
  ld x1, 1*8(sp)
  ld x5, 5*8(sp)
  ld x6, 6*8(sp)
  ld x7, 7*8(sp)
  ld x10, 10*8(sp)
  ld x11, 11*8(sp)
  ld x12, 12*8(sp)
  ld x13, 13*8(sp)
  ld x14, 14*8(sp)
  ld x15, 15*8(sp)
  ld x16, 16*8(sp)
  ld x17, 17*8(sp)
  ld x28, 28*8(sp)
  ld x29, 29*8(sp)
  ld x30, 30*8(sp)
  ld x31, 31*8(sp)
  addi sp, sp, FRAME_SIZE
  sret
1:
  ld a0, 10*8(sp)
  li a7, 0x5EC0DE
  ecall
2:
  j 2b

  .bss
  .align 3
m_context:
  .skip 14 * 8

# HTIF mailbox (see link.ld).
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
  .type tohost, @object
  .size tohost, 8
tohost:
  .dword 0
  .align 6
  .globl fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost:
  .dword 0
