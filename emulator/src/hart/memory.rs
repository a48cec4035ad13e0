//! Data and instruction memory access for the hart: address translation (Bare for now; the
//! Sv39 walker and TLB plug in here), the RAM fast path and the device slow path.
//!
//! Misaligned loads and stores are performed, not trapped, as QEMU's `virt` harts do
//! (the privileged spec allows either); misaligned LR/SC and AMOs raise address-misaligned
//! exceptions, as the A extension requires.

use super::Hart;
use super::trap::{Exception, Trap};
use crate::bus::Bus;

/// Whether a `satp.MODE` value is implemented (privileged spec 4.1.11: other modes are
/// WARL-ignored on write). Bare only, until the Sv39 walker lands.
pub(crate) fn satp_mode_supported(mode: u64) -> bool {
    mode == 0
}

/// The kind of memory access, for translation and for the fault it raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Instruction fetch.
    Fetch,
    /// Load (or LR).
    Load,
    /// Store or AMO.
    Store,
}

impl Access {
    fn access_fault(self) -> Exception {
        match self {
            Access::Fetch => Exception::InstructionAccessFault,
            Access::Load => Exception::LoadAccessFault,
            Access::Store => Exception::StoreAccessFault,
        }
    }
}

impl Hart {
    /// Translates a virtual address to a physical one for `access`.
    #[inline(always)]
    pub fn translate(&mut self, vaddr: u64, _access: Access) -> Result<u64, Trap> {
        Ok(vaddr)
    }

    /// Loads `N` bytes at virtual address `vaddr`.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
    ) -> Result<[u8; N], Trap> {
        let paddr = self.translate(vaddr, Access::Load)?;
        if self.tracing {
            self.commit.mem_read = Some(vaddr);
        }
        // Devices see the cycle of this instruction (a store, no dependency on the hot path).
        bus.cycle = self.cycle();
        bus.read::<N>(paddr)
            .map_err(|_| Trap::new(Access::Load.access_fault(), vaddr))
    }

    /// Stores `N` bytes at virtual address `vaddr`. Returns `true` when the store had a side
    /// effect the run loop must handle before the next instruction.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
        data: [u8; N],
    ) -> Result<bool, Trap> {
        let paddr = self.translate(vaddr, Access::Store)?;
        if self.reservation != u64::MAX {
            self.break_reservation(paddr, N as u64);
        }
        if self.tracing {
            let mut buf = [0u8; 8];
            buf[..N].copy_from_slice(&data);
            self.commit.mem_write = Some((vaddr, u64::from_le_bytes(buf), N as u8));
        }
        bus.cycle = self.cycle();
        bus.write::<N>(paddr, data)
            .map_err(|_| Trap::new(Access::Store.access_fault(), vaddr))
    }

    /// A store overlapping the reserved granule invalidates the LR reservation.
    fn break_reservation(&mut self, paddr: u64, len: u64) {
        let first = paddr & !7;
        let last = (paddr + len - 1) & !7;
        if first == self.reservation || last == self.reservation {
            self.reservation = u64::MAX;
        }
    }

    /// Checks the natural alignment an LR, SC or AMO requires.
    #[inline(always)]
    pub(crate) fn check_atomic_alignment(
        &self,
        vaddr: u64,
        size: u64,
        is_load: bool,
    ) -> Result<(), Trap> {
        if vaddr & (size - 1) != 0 {
            let cause = if is_load {
                Exception::LoadAddressMisaligned
            } else {
                Exception::StoreAddressMisaligned
            };
            return Err(Trap::new(cause, vaddr));
        }
        Ok(())
    }

    /// Translates a fetch address, mapping a missing translation or backing to the fault the
    /// spec requires (tval = the faulting virtual address).
    #[inline(always)]
    pub fn translate_fetch(&mut self, vaddr: u64) -> Result<u64, Trap> {
        self.translate(vaddr, Access::Fetch)
    }

    /// Fetches the 16-bit parcel at `vaddr` on the slow path (an instruction that straddles a
    /// page boundary, or fetch from a region the block cache does not hold).
    pub(crate) fn fetch_parcel(&mut self, bus: &mut Bus, vaddr: u64) -> Result<u16, Trap> {
        let paddr = self.translate_fetch(vaddr)?;
        match bus.fetch_window(paddr) {
            Some(w) if w.len() >= 2 => Ok(u16::from_le_bytes([w[0], w[1]])),
            _ => Err(Trap::new(Exception::InstructionAccessFault, vaddr)),
        }
    }
}
