//! Data and instruction memory access for the hart: address translation and the RAM fast
//! path (privileged spec 4.3; 3.1.6.3 for MPRV, SUM and MXR).
//!
//! Translation is active for data when `satp.MODE` is Sv39 and the effective privilege
//! (MPP when `mstatus.MPRV` is set in M-mode) is below M; for fetches when the privilege is
//! below M. The fast path is a direct-mapped cache per access kind whose key combines the
//! virtual page with the privilege context; a hit is a TLB hit (see [`crate::mmu`]).
//!
//! Misaligned loads and stores are performed, not trapped, as QEMU's `virt` harts do (the
//! spec allows either); one that crosses a page is translated page by page before any byte
//! moves. Misaligned LR/SC and AMOs raise address-misaligned exceptions.

use super::Hart;
use super::csr::{MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM};
use super::trap::{Exception, Privilege, Trap};
use crate::bus::Bus;
use crate::mmu::{self, AccessContext, FAST_SLOTS, FastSlot, PhysMem, WalkCounts, WalkFault, pte};

pub use crate::mmu::AccessKind as Access;

/// `satp.MODE` values this hart implements (privileged spec 4.1.11: writes of any other mode
/// leave satp unchanged): Bare and Sv39.
pub(crate) fn satp_mode_supported(mode: u64) -> bool {
    mode == 0 || mode == 8
}

/// Context bits of the fast-cache keys, above the 52 bits of `vaddr >> 12`.
const KEY_TRANSLATED: u64 = 1 << 63;
const KEY_USER: u64 = 1 << 62;
const KEY_SUM: u64 = 1 << 61;
const KEY_MXR: u64 = 1 << 60;

impl Access {
    fn access_fault(self) -> Exception {
        match self {
            Access::Fetch => Exception::InstructionAccessFault,
            Access::Load => Exception::LoadAccessFault,
            Access::Store => Exception::StoreAccessFault,
        }
    }

    fn page_fault(self) -> Exception {
        match self {
            Access::Fetch => Exception::InstructionPageFault,
            Access::Load => Exception::LoadPageFault,
            Access::Store => Exception::StorePageFault,
        }
    }
}

/// The walker's view of physical memory: PTEs live in RAM; anything else is an access fault.
struct BusMem<'a>(&'a mut Bus);

impl PhysMem for BusMem<'_> {
    fn read_pte(&mut self, paddr: u64) -> Option<u64> {
        let off = self.0.ram.offset(paddr, 8)?;
        Some(u64::from_le_bytes(self.0.ram.read::<8>(off)))
    }

    fn cas_pte(&mut self, paddr: u64, old: u64, new: u64) -> Option<bool> {
        if self.read_pte(paddr)? != old {
            return Some(false);
        }
        // Through the bus, so a PTE write to a page holding decoded code is noticed.
        self.0.write::<8>(paddr, new.to_le_bytes()).ok()?;
        Some(true)
    }
}

#[inline(always)]
fn fast_index(key: u64) -> usize {
    key as usize & (FAST_SLOTS - 1)
}

impl Hart {
    /// Recomputes which accesses translate and their fast-cache contexts. Called whenever
    /// the privilege, `satp` or `mstatus` may have changed.
    pub(crate) fn update_translation(&mut self) {
        let sv39 = self.csr.satp >> 60 == 8;
        let ms = self.csr.mstatus;
        let data_privilege = if self.privilege == Privilege::Machine && ms & MSTATUS_MPRV != 0 {
            Privilege::from_bits((ms & MSTATUS_MPP) >> 11)
        } else {
            self.privilege
        };
        let key = |p: Privilege, sum: bool, mxr: bool| {
            if !sv39 || p == Privilege::Machine {
                return 0;
            }
            let mut k = KEY_TRANSLATED;
            if p == Privilege::User {
                k |= KEY_USER;
            }
            if sum {
                k |= KEY_SUM;
            }
            if mxr {
                k |= KEY_MXR;
            }
            k
        };
        self.data_key = key(data_privilege, ms & MSTATUS_SUM != 0, ms & MSTATUS_MXR != 0);
        self.fetch_key = key(self.privilege, false, false);
    }

    /// Loads `N` bytes at virtual address `vaddr`.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
    ) -> Result<[u8; N], Trap> {
        if self.tracing {
            self.commit.mem_read = Some(vaddr);
        }
        if self.data_key == 0 {
            if let Some(off) = bus.ram.offset(vaddr, N as u64) {
                return Ok(bus.ram.read::<N>(off));
            }
            return self.device_read::<N>(bus, vaddr, vaddr, Access::Load);
        }
        let key = (vaddr >> 12) | self.data_key;
        let slot = self.mmu.fast_load[fast_index(key)];
        let offset = (vaddr & 0xfff) as usize;
        if slot.key == key
            && offset + N <= 4096
            && self.mmu.dtlb.generation(slot.entry) == slot.generation
        {
            self.mmu.dtlb.record_hit(slot.entry);
            return Ok(bus.ram.read::<N>(slot.host + offset));
        }
        self.load_slow::<N>(bus, vaddr)
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
        if self.data_key != 0 {
            let key = (vaddr >> 12) | self.data_key;
            let slot = self.mmu.fast_store[fast_index(key)];
            let offset = (vaddr & 0xfff) as usize;
            if slot.key == key
                && offset + N <= 4096
                && self.mmu.dtlb.generation(slot.entry) == slot.generation
            {
                self.mmu.dtlb.record_hit(slot.entry);
                let paddr = bus.ram.base() + (slot.host + offset) as u64;
                return self.store_physical::<N>(bus, paddr, vaddr, data);
            }
            return self.store_slow::<N>(bus, vaddr, data);
        }
        self.store_physical::<N>(bus, vaddr, vaddr, data)
    }

    /// Reads at a translated address (LR and AMOs, which translate once themselves); a
    /// missing target is an access fault of `kind` at `vaddr`.
    pub(crate) fn read_physical<const N: usize>(
        &mut self,
        bus: &mut Bus,
        paddr: u64,
        vaddr: u64,
        kind: Access,
    ) -> Result<[u8; N], Trap> {
        if self.tracing {
            self.commit.mem_read = Some(vaddr);
        }
        if let Some(off) = bus.ram.offset(paddr, N as u64) {
            return Ok(bus.ram.read::<N>(off));
        }
        self.device_read::<N>(bus, paddr, vaddr, kind)
    }

    /// A read outside RAM (a device register or the boot ROM): it costs `mmio` extra, and
    /// the device sees the cycle it happens at.
    #[cold]
    fn device_read<const N: usize>(
        &mut self,
        bus: &mut Bus,
        paddr: u64,
        vaddr: u64,
        kind: Access,
    ) -> Result<[u8; N], Trap> {
        self.stall_cycles += self.timing.mmio as u64;
        self.device_reads += 1;
        self.last_device_read = paddr;
        bus.cycle = self.cycle();
        bus.read::<N>(paddr)
            .map_err(|_| Trap::new(kind.access_fault(), vaddr))
    }

    /// Stores at a translated address: breaks a matching reservation, reaches RAM or a device.
    #[inline(always)]
    pub(crate) fn store_physical<const N: usize>(
        &mut self,
        bus: &mut Bus,
        paddr: u64,
        vaddr: u64,
        data: [u8; N],
    ) -> Result<bool, Trap> {
        if self.tracing {
            let mut buf = [0u8; 8];
            buf[..N].copy_from_slice(&data);
            self.commit.mem_write = Some((vaddr, u64::from_le_bytes(buf), N as u8));
        }
        if self.reservation != u64::MAX {
            self.break_reservation(paddr, N as u64);
        }
        if let Some(off) = bus.ram.offset(paddr, N as u64) {
            return Ok(bus.write_ram::<N>(paddr, off, data));
        }
        self.device_write::<N>(bus, paddr, vaddr, data)
    }

    /// A write outside RAM: it costs `mmio` extra, and the device sees the cycle it happens at.
    #[cold]
    fn device_write<const N: usize>(
        &mut self,
        bus: &mut Bus,
        paddr: u64,
        vaddr: u64,
        data: [u8; N],
    ) -> Result<bool, Trap> {
        self.stall_cycles += self.timing.mmio as u64;
        bus.cycle = self.cycle();
        bus.write::<N>(paddr, data)
            .map_err(|_| Trap::new(Exception::StoreAccessFault, vaddr))
    }

    #[cold]
    fn load_slow<const N: usize>(&mut self, bus: &mut Bus, vaddr: u64) -> Result<[u8; N], Trap> {
        let (first, second) = self.translate_span(bus, vaddr, N, Access::Load)?;
        let fault = |_| Trap::new(Exception::LoadAccessFault, vaddr);
        match second {
            None => {
                if let Some(off) = bus.ram.offset(first, N as u64) {
                    return Ok(bus.ram.read::<N>(off));
                }
                self.device_read::<N>(bus, first, vaddr, Access::Load)
            }
            Some((split, second)) => {
                bus.cycle = self.cycle();
                let mut out = [0u8; N];
                for (i, byte) in out.iter_mut().enumerate() {
                    let pa = if i < split {
                        first + i as u64
                    } else {
                        second + (i - split) as u64
                    };
                    *byte = bus.read::<1>(pa).map_err(fault)?[0];
                }
                Ok(out)
            }
        }
    }

    #[cold]
    fn store_slow<const N: usize>(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
        data: [u8; N],
    ) -> Result<bool, Trap> {
        let (first, second) = self.translate_span(bus, vaddr, N, Access::Store)?;
        match second {
            None => self.store_physical::<N>(bus, first, vaddr, data),
            Some((split, second)) => {
                let mut sync = false;
                for (i, byte) in data.iter().enumerate() {
                    let pa = if i < split {
                        first + i as u64
                    } else {
                        second + (i - split) as u64
                    };
                    sync |= self.store_physical::<1>(bus, pa, vaddr, [*byte])?;
                }
                Ok(sync)
            }
        }
    }

    /// Translates `[vaddr, vaddr + len)`: one physical address, or, for an access that
    /// crosses a page boundary, both pages' addresses and where the split falls. Both pages
    /// are translated before any byte moves, so a fault leaves memory untouched.
    fn translate_span(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
        len: usize,
        kind: Access,
    ) -> Result<(u64, Option<(usize, u64)>), Trap> {
        let first = self.translate(bus, vaddr, kind)?;
        let in_page = (4096 - (vaddr & 0xfff)) as usize;
        if len <= in_page || self.data_key == 0 {
            return Ok((first, None));
        }
        let second = self.translate(bus, vaddr.wrapping_add(in_page as u64), kind)?;
        Ok((first, Some((in_page, second))))
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

    /// Translates the fetch address `vaddr` (the start of a block).
    #[inline(always)]
    pub fn translate_fetch(&mut self, bus: &mut Bus, vaddr: u64) -> Result<u64, Trap> {
        if self.fetch_key == 0 {
            return Ok(vaddr);
        }
        let key = (vaddr >> 12) | self.fetch_key;
        let slot = self.mmu.fast_fetch[fast_index(key)];
        if slot.key == key && self.mmu.itlb.generation(slot.entry) == slot.generation {
            self.mmu.itlb.record_hit(slot.entry);
            return Ok(bus.ram.base() + slot.host as u64 + (vaddr & 0xfff));
        }
        self.translate(bus, vaddr, Access::Fetch)
    }

    /// Fetches the 16-bit parcel at `vaddr` on the slow path (an instruction that straddles a
    /// page boundary).
    pub(crate) fn fetch_parcel(&mut self, bus: &mut Bus, vaddr: u64) -> Result<u16, Trap> {
        let paddr = self.translate(bus, vaddr, Access::Fetch)?;
        match bus.fetch_window(paddr) {
            Some(w) if w.len() >= 2 => Ok(u16::from_le_bytes([w[0], w[1]])),
            _ => Err(Trap::new(Exception::InstructionAccessFault, vaddr)),
        }
    }

    /// Translates `vaddr` for `kind` through the TLB, walking the page table on a miss.
    /// Every call is one TLB lookup in the counters.
    pub fn translate(&mut self, bus: &mut Bus, vaddr: u64, kind: Access) -> Result<u64, Trap> {
        let key = if kind == Access::Fetch {
            self.fetch_key
        } else {
            self.data_key
        };
        if key == 0 {
            return Ok(vaddr);
        }
        let ctx = AccessContext {
            user: key & KEY_USER != 0,
            sum: key & KEY_SUM != 0,
            mxr: key & KEY_MXR != 0,
        };
        let asid = ((self.csr.satp >> 44) & 0xffff) as u16;
        let fetch = kind == Access::Fetch;
        let tlb = if fetch {
            &mut self.mmu.itlb
        } else {
            &mut self.mmu.dtlb
        };
        if let Some(index) = tlb.probe(vaddr, asid) {
            let entry = *tlb.entry(index);
            // A store through an entry whose D bit is clear must look at memory again
            // (hardware sets D there, or traps): that is a miss.
            if !(kind == Access::Store && entry.pte & pte::D == 0) {
                tlb.record_hit(index);
                if self.mmu.config.tlb_check {
                    self.check_stale(bus, vaddr, kind, ctx, &entry, asid);
                }
                if !mmu::walker::permitted(entry.pte, kind, ctx) {
                    return Err(self.page_fault(kind, vaddr));
                }
                let paddr = entry.leaf().translate(vaddr);
                self.fill_fast(bus, kind, key, vaddr, index, entry.generation, paddr);
                return Ok(paddr);
            }
        }
        let tlb = if fetch {
            &mut self.mmu.itlb
        } else {
            &mut self.mmu.dtlb
        };
        tlb.record_miss();
        self.mmu.counters.walks += 1;
        let (result, counts) = self.walk_page_table(bus, vaddr, kind, ctx, true);
        self.mmu.counters.pte_reads += counts.pte_reads;
        self.mmu.counters.ad_writes += counts.ad_writes;
        let t = &self.timing;
        let t_miss = t.tlb_miss as u64
            + counts.pte_reads * t.pte_read as u64
            + counts.ad_writes * t.ad_write as u64;
        self.stall_cycles += t_miss;
        match result {
            Ok(leaf) => {
                let tlb = if fetch {
                    &mut self.mmu.itlb
                } else {
                    &mut self.mmu.dtlb
                };
                let index = tlb.fill(vaddr, asid, leaf);
                let generation = tlb.generation(index);
                let paddr = leaf.translate(vaddr);
                self.fill_fast(bus, kind, key, vaddr, index, generation, paddr);
                Ok(paddr)
            }
            Err(WalkFault::Page) => {
                self.mmu.fault_walk = Some(mmu::FaultWalk {
                    instret: self.instret(),
                    vaddr,
                    cycles: t_miss,
                    pte_reads: counts.pte_reads,
                });
                Err(self.page_fault(kind, vaddr))
            }
            Err(WalkFault::Access) => {
                self.mmu.counters.walk_access_faults += 1;
                Err(Trap::new(kind.access_fault(), vaddr))
            }
        }
    }

    /// The instruction bits at virtual `pc`, read without side effects (no TLB fill, no A/D
    /// write, nothing counted): what a debugger shows. `None` when the fetch would fault.
    pub fn peek_instruction(&mut self, bus: &mut Bus, pc: u64) -> Option<u32> {
        let key = self.fetch_key;
        let phys = |hart: &mut Self, bus: &mut Bus, va: u64| -> Option<u64> {
            if key == 0 {
                return Some(va);
            }
            let ctx = AccessContext {
                user: key & KEY_USER != 0,
                sum: key & KEY_SUM != 0,
                mxr: key & KEY_MXR != 0,
            };
            let (leaf, _) = hart.walk_page_table(bus, va, Access::Fetch, ctx, false);
            leaf.ok().map(|l| l.translate(va))
        };
        let parcel = |hart: &mut Self, bus: &mut Bus, va: u64| -> Option<u16> {
            let pa = phys(hart, bus, va)?;
            let w = bus.fetch_window(pa)?;
            (w.len() >= 2).then(|| u16::from_le_bytes([w[0], w[1]]))
        };
        let low = parcel(self, bus, pc)?;
        if crate::hart::decode::insn_len(low) == 2 {
            return Some(low as u32);
        }
        let high = parcel(self, bus, pc.wrapping_add(2))?;
        Some(low as u32 | (high as u32) << 16)
    }

    /// Walks the page table `satp` points to for `vaddr`; with `update` false, without
    /// side effects (no A/D writes, A/D not required).
    fn walk_page_table(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
        kind: Access,
        ctx: AccessContext,
        update: bool,
    ) -> (Result<mmu::Leaf, WalkFault>, WalkCounts) {
        let root = self.csr.satp & ((1 << 44) - 1);
        let mut counts = WalkCounts::default();
        let policy = self.mmu.config.ad;
        let result = mmu::walker::walk(
            &mut BusMem(bus),
            root,
            vaddr,
            kind,
            ctx,
            policy,
            update,
            &mut counts,
        );
        (result, counts)
    }

    fn page_fault(&mut self, kind: Access, vaddr: u64) -> Trap {
        let c = &mut self.mmu.counters;
        match kind {
            Access::Fetch => c.page_faults_fetch += 1,
            Access::Load => c.page_faults_load += 1,
            Access::Store => c.page_faults_store += 1,
        }
        Trap::new(kind.page_fault(), vaddr)
    }

    /// Remembers a translation in the fast cache for `kind`, if its page is RAM (devices and
    /// the boot ROM always take the slow path) and `--tlb-check` is off (it must see every
    /// hit).
    #[allow(clippy::too_many_arguments)]
    fn fill_fast(
        &mut self,
        bus: &Bus,
        kind: Access,
        key: u64,
        vaddr: u64,
        entry: u32,
        generation: u32,
        paddr: u64,
    ) {
        if self.mmu.config.tlb_check {
            return;
        }
        let Some(host) = bus.ram.offset(paddr & !0xfff, 4096) else {
            return;
        };
        let slot = FastSlot {
            key: (vaddr >> 12) | key,
            entry,
            generation,
            host,
        };
        let cache = match kind {
            Access::Fetch => &mut self.mmu.fast_fetch,
            Access::Load => &mut self.mmu.fast_load,
            Access::Store => &mut self.mmu.fast_store,
        };
        cache[fast_index(slot.key)] = slot;
    }

    /// `--tlb-check`: walks the page table without side effects and reports a TLB hit whose
    /// cached leaf no longer matches memory (a missing `sfence.vma`).
    #[allow(clippy::too_many_arguments)]
    fn check_stale(
        &mut self,
        bus: &mut Bus,
        vaddr: u64,
        kind: Access,
        ctx: AccessContext,
        entry: &mmu::tlb::TlbEntry,
        asid: u16,
    ) {
        // An observation, not a walk of the machine's: no A/D updates, not counted.
        let (fresh, _) = self.walk_page_table(bus, vaddr, kind, ctx, false);
        let stale = match fresh {
            Ok(leaf) => leaf.pte != entry.pte || leaf.level != entry.level,
            // A walk that faults is stale only if the cached entry allowed the access: a
            // store hitting a read-only entry (copy-on-write) faults either way.
            Err(_) => mmu::walker::permitted(entry.pte, kind, ctx),
        };
        if stale {
            self.mmu.counters.stale_hits += 1;
            // A data access whose address or permissions changed (not only A, D or the
            // software bits): what a lockstep comparison may explain by it.
            let moved = match fresh {
                Ok(leaf) => {
                    leaf.level != entry.level
                        || (leaf.pte ^ entry.pte) & !(pte::A | pte::D | pte::RSW) != 0
                }
                Err(_) => true,
            };
            if moved && kind != Access::Fetch {
                self.mmu.stale_data_hits += 1;
            }
            if self.mmu.quiet_stale {
                return;
            }
            let now = fresh.map_or("fault".to_string(), |l| format!("{:#x}", l.pte));
            let which = if kind == Access::Fetch {
                "iTLB"
            } else {
                "dTLB"
            };
            eprintln!(
                "sv39: tlb-check: stale {which} hit pc={:#x} va={vaddr:#x} asid={asid} cached={:#x} now={now}",
                self.pc, entry.pte
            );
        }
    }
}
