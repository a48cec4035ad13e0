//! Control and status registers, address-translation fences and the floating-point state
//! (privileged spec 4.1 and 4.2.1).

use core::arch::asm;

/// Writes `satp` (mode Sv39, `asid`, root page table at physical `root`).
///
/// The spec (4.1.11) says a `satp` write does not order the page-table walks that follow:
/// callers fence when the new ASID may hold stale entries.
///
/// # Safety
///
/// The page table at `root` must map the kernel (text, data, stack, device window) exactly as
/// the current one does, or the next instruction fetch faults.
pub unsafe fn write_satp(root: u64, asid: u16) {
    let value = (8u64 << 60) | (u64::from(asid) << 44) | (root >> 12);
    // SAFETY: the caller guarantees the kernel stays mapped.
    unsafe { asm!("csrw satp, {0}", in(reg) value, options(nostack)) };
}

/// Reads the ASID field width the hart implements: writes all ones and reads back (WARL,
/// privileged spec 4.1.11), then leaves `satp` at ASID 0 with the same root.
///
/// # Safety
///
/// Paging must be on with the page table at `root`, whose kernel mappings are global, so
/// the ASID does not change what the kernel sees.
pub unsafe fn probe_asid_bits(root: u64) -> u32 {
    let base = (8u64 << 60) | (root >> 12);
    let probe = base | (0xFFFF << 44);
    let read: u64;
    // SAFETY: the same root table stays in place; only the ASID field changes.
    unsafe {
        asm!(
            "csrw satp, {probe}",
            "csrr {read}, satp",
            "csrw satp, {base}",
            probe = in(reg) probe,
            base = in(reg) base,
            read = out(reg) read,
            options(nostack),
        );
    }
    fence_all();
    ((read >> 44) & 0xFFFF).count_ones()
}

/// `sfence.vma va, asid`: orders earlier page-table writes before later walks for one page
/// of one address space.
pub fn fence_page(va: u64, asid: u16) {
    // SAFETY: a fence has no effect beyond the TLB.
    unsafe { asm!("sfence.vma {0}, {1}", in(reg) va, in(reg) u64::from(asid), options(nostack)) };
}

/// `sfence.vma zero, asid`: every non-global entry of one address space.
pub fn fence_asid(asid: u16) {
    // SAFETY: as above.
    unsafe { asm!("sfence.vma zero, {0}", in(reg) u64::from(asid), options(nostack)) };
}

/// `sfence.vma zero, zero`: everything, global entries included.
pub fn fence_all() {
    // SAFETY: as above.
    unsafe { asm!("sfence.vma zero, zero", options(nostack)) };
}

/// The `time` CSR (ticks of the device tree's timebase).
pub fn time() -> u64 {
    let t: u64;
    // SAFETY: reading a counter has no side effect.
    unsafe { asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
    t
}

/// `sip`, to see a pending timer while idle.
pub fn sip() -> u64 {
    let v: u64;
    // SAFETY: reading a CSR has no side effect.
    unsafe { asm!("csrr {0}, sip", out(reg) v, options(nomem, nostack)) };
    v
}

/// Lets supervisor external interrupts (the PLIC) in: taken in U-mode, and waking `wfi`.
pub fn enable_external_interrupts() {
    // SAFETY: sie.SEIE only allows an interrupt the trap handler serves; the kernel itself
    // runs with sstatus.SIE clear.
    unsafe { asm!("csrs sie, {0}", in(reg) 1u64 << 9, options(nostack)) };
}

/// The `sstatus.FS` field (bits 14:13).
const SSTATUS_FS: u64 = 3 << 13;
/// FS = Initial.
const FS_INITIAL: u64 = 1 << 13;
/// FS = Clean.
const FS_CLEAN: u64 = 2 << 13;
/// FS = Dirty.
const FS_DIRTY: u64 = 3 << 13;
/// `sstatus.SUM`: the kernel itself never touches user pages through user addresses.
const SSTATUS_SUM: u64 = 1 << 18;

/// Turns the FPU on for user programs (FS = Initial) and SUM off.
pub fn init_sstatus() {
    // SAFETY: FS and SUM only change what later instructions may do.
    unsafe {
        asm!("csrc sstatus, {0}", in(reg) SSTATUS_FS | SSTATUS_SUM, options(nostack));
        asm!("csrs sstatus, {0}", in(reg) FS_INITIAL, options(nostack));
    }
}

/// Whether the program that trapped wrote any float register since the last [`mark_fp_clean`].
pub fn fp_dirty() -> bool {
    let v: u64;
    // SAFETY: reading sstatus has no side effect.
    unsafe { asm!("csrr {0}, sstatus", out(reg) v, options(nomem, nostack)) };
    v & SSTATUS_FS == FS_DIRTY
}

/// Sets FS = Clean: the float registers match the saved copy.
pub fn mark_fp_clean() {
    // SAFETY: only the FS field changes.
    unsafe {
        asm!("csrc sstatus, {0}", in(reg) SSTATUS_FS, options(nostack));
        asm!("csrs sstatus, {0}", in(reg) FS_CLEAN, options(nostack));
    }
}

/// Saves f0..f31 and fcsr into `regs` (33 doublewords).
pub fn save_fp(regs: &mut [u64; 32], fcsr: &mut u64) {
    let base = regs.as_mut_ptr();
    // SAFETY: `base` points to 32 writable doublewords; FS is not Off while the kernel runs.
    unsafe {
        asm!(
            "fsd f0, 0({0})", "fsd f1, 8({0})", "fsd f2, 16({0})", "fsd f3, 24({0})",
            "fsd f4, 32({0})", "fsd f5, 40({0})", "fsd f6, 48({0})", "fsd f7, 56({0})",
            "fsd f8, 64({0})", "fsd f9, 72({0})", "fsd f10, 80({0})", "fsd f11, 88({0})",
            "fsd f12, 96({0})", "fsd f13, 104({0})", "fsd f14, 112({0})", "fsd f15, 120({0})",
            "fsd f16, 128({0})", "fsd f17, 136({0})", "fsd f18, 144({0})", "fsd f19, 152({0})",
            "fsd f20, 160({0})", "fsd f21, 168({0})", "fsd f22, 176({0})", "fsd f23, 184({0})",
            "fsd f24, 192({0})", "fsd f25, 200({0})", "fsd f26, 208({0})", "fsd f27, 216({0})",
            "fsd f28, 224({0})", "fsd f29, 232({0})", "fsd f30, 240({0})", "fsd f31, 248({0})",
            "frcsr {1}",
            in(reg) base,
            out(reg) *fcsr,
            options(nostack),
        );
    }
}

/// Loads f0..f31 and fcsr from `regs`.
pub fn load_fp(regs: &[u64; 32], fcsr: u64) {
    let base = regs.as_ptr();
    // SAFETY: `base` points to 32 readable doublewords; FS is not Off while the kernel runs.
    unsafe {
        asm!(
            "fld f0, 0({0})", "fld f1, 8({0})", "fld f2, 16({0})", "fld f3, 24({0})",
            "fld f4, 32({0})", "fld f5, 40({0})", "fld f6, 48({0})", "fld f7, 56({0})",
            "fld f8, 64({0})", "fld f9, 72({0})", "fld f10, 80({0})", "fld f11, 88({0})",
            "fld f12, 96({0})", "fld f13, 104({0})", "fld f14, 112({0})", "fld f15, 120({0})",
            "fld f16, 128({0})", "fld f17, 136({0})", "fld f18, 144({0})", "fld f19, 152({0})",
            "fld f20, 160({0})", "fld f21, 168({0})", "fld f22, 176({0})", "fld f23, 184({0})",
            "fld f24, 192({0})", "fld f25, 200({0})", "fld f26, 208({0})", "fld f27, 216({0})",
            "fld f28, 224({0})", "fld f29, 232({0})", "fld f30, 240({0})", "fld f31, 248({0})",
            "fscsr {1}",
            in(reg) base,
            in(reg) fcsr,
            options(nostack),
        );
    }
}

/// `scause` and `stval` of the trap being handled.
pub fn trap_cause() -> (u64, u64) {
    let (cause, tval): (u64, u64);
    // SAFETY: reading CSRs has no side effect.
    unsafe {
        asm!("csrr {0}, scause", "csrr {1}, stval", out(reg) cause, out(reg) tval,
             options(nomem, nostack));
    }
    (cause, tval)
}

/// `fence.i`: later instruction fetches see earlier stores (riscv_flush_icache).
pub fn fence_i() {
    // SAFETY: a fence has no effect beyond instruction-fetch ordering.
    unsafe { asm!("fence.i", options(nostack)) };
}
