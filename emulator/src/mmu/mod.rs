//! The Sv39 MMU: page-table walker, modelled TLBs, and the fast caches in front of them
//! (privileged spec 4.3 "Sv32" for the algorithm, 4.4 "Sv39" for its parameters, 4.2.1 for
//! `sfence.vma`).
//!
//! The hot path lives in the hart (`hart/memory.rs`): a direct-mapped fast cache per access
//! kind maps a virtual page, in the current privilege context, to a TLB entry and a host
//! offset into guest RAM. A fast-cache hit *is* a TLB hit: it is counted as one and refreshes
//! the entry's LRU stamp, and it is valid only while the entry's generation is unchanged, so
//! anything that invalidates or replaces the entry invalidates the fast path too.

pub mod pte;
pub mod tlb;
#[cfg(test)]
mod tlb_tests;
pub mod walker;
#[cfg(test)]
mod walker_tests;

use serde::Serialize;

pub use tlb::{Replacement, Tlb, TlbCounters, TlbGeometry};
pub use walker::{AccessContext, AccessKind, AdPolicy, Leaf, PhysMem, WalkCounts, WalkFault};

/// Slots in each fast cache (a power of two).
pub const FAST_SLOTS: usize = 512;

/// One fast-cache slot: a virtual page in a privilege context, resolved to a TLB entry and
/// the RAM offset of the physical page.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastSlot {
    /// `vaddr >> 12` combined with the context bits; 0 never matches (contexts are non-zero).
    pub key: u64,
    /// The TLB entry this translation came from.
    pub entry: u32,
    /// That entry's generation when the slot was filled.
    pub generation: u32,
    /// Offset of the physical page in guest RAM.
    pub host: usize,
}

/// MMU configuration, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmuConfig {
    /// Instruction TLB geometry.
    pub itlb: TlbGeometry,
    /// Data TLB geometry.
    pub dtlb: TlbGeometry,
    /// Accessed/dirty policy.
    pub ad: AdPolicy,
    /// Re-walk on every TLB hit and report hits that no longer match memory.
    pub tlb_check: bool,
}

impl Default for MmuConfig {
    /// 32-entry fully associative LRU instruction and data TLBs (the class of a SiFive U74's
    /// first-level TLBs, which have 40 entries), hardware A/D updates as QEMU.
    fn default() -> Self {
        let g = TlbGeometry {
            entries: 32,
            ways: 32,
            policy: Replacement::Lru,
        };
        Self {
            itlb: g,
            dtlb: g,
            ad: AdPolicy::Hardware,
            tlb_check: false,
        }
    }
}

/// A `--tlb` specification that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--tlb {spec}: {reason}")]
pub struct TlbSpecError {
    spec: String,
    reason: String,
}

impl MmuConfig {
    /// Applies a `--tlb` specification: comma-separated `itlb=N`, `dtlb=N`, `entries=N`
    /// (both), `ways=N|full`, `policy=lru|fifo|random`. Entries and ways are powers of two.
    pub fn apply_tlb_spec(&mut self, spec: &str) -> Result<(), TlbSpecError> {
        let err = |reason: String| TlbSpecError {
            spec: spec.to_owned(),
            reason,
        };
        let mut ways: Option<Option<usize>> = None;
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| err(format!("'{item}' is not key=value")))?;
            let number = || -> Result<usize, TlbSpecError> {
                let n: usize = value
                    .parse()
                    .map_err(|_| err(format!("'{value}' is not a number")))?;
                if n == 0 || !n.is_power_of_two() || n > 4096 {
                    return Err(err(format!("{key}={n}: use a power of two from 1 to 4096")));
                }
                Ok(n)
            };
            match key {
                "itlb" => self.itlb.entries = number()?,
                "dtlb" => self.dtlb.entries = number()?,
                "entries" => {
                    let n = number()?;
                    self.itlb.entries = n;
                    self.dtlb.entries = n;
                }
                "ways" if value == "full" => ways = Some(None),
                "ways" => ways = Some(Some(number()?)),
                "policy" => {
                    let p = match value {
                        "lru" => Replacement::Lru,
                        "fifo" => Replacement::Fifo,
                        "random" => Replacement::Random,
                        _ => {
                            return Err(err(format!(
                                "unknown policy '{value}' (lru, fifo, random)"
                            )));
                        }
                    };
                    self.itlb.policy = p;
                    self.dtlb.policy = p;
                }
                _ => {
                    return Err(err(format!(
                        "unknown key '{key}' (itlb, dtlb, entries, ways, policy)"
                    )));
                }
            }
        }
        // Ways default to fully associative, as the entries may have changed.
        let ways = ways.unwrap_or(None);
        for tlb in [&mut self.itlb, &mut self.dtlb] {
            tlb.ways = match ways {
                None => tlb.entries,
                Some(w) if w <= tlb.entries => w,
                Some(w) => {
                    return Err(err(format!(
                        "ways={w} exceeds a TLB of {} entries",
                        tlb.entries
                    )));
                }
            };
        }
        Ok(())
    }
}

/// MMU event counts beyond the per-TLB ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MmuCounters {
    /// Page-table walks started.
    pub walks: u64,
    /// PTEs read by walks.
    pub pte_reads: u64,
    /// A/D bits written by walks.
    pub ad_writes: u64,
    /// `sfence.vma x0, x0`.
    pub fences_all: u64,
    /// `sfence.vma rs1, x0`.
    pub fences_address: u64,
    /// `sfence.vma x0, rs2`.
    pub fences_asid: u64,
    /// `sfence.vma rs1, rs2`.
    pub fences_address_asid: u64,
    /// TLB entries invalidated by fences.
    pub entries_flushed: u64,
    /// Instruction page faults raised by translation.
    pub page_faults_fetch: u64,
    /// Load page faults raised by translation.
    pub page_faults_load: u64,
    /// Store/AMO page faults raised by translation.
    pub page_faults_store: u64,
    /// Access faults raised by walks (a PTE address with no memory).
    pub walk_access_faults: u64,
    /// TLB hits that `--tlb-check` found stale.
    pub stale_hits: u64,
}

/// The walk that ended in a page fault most recently: what the fault accounting adds to
/// the fault it raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultWalk {
    /// `instret` when it happened (the faulting instruction has not retired).
    pub instret: u64,
    /// The address it translated.
    pub vaddr: u64,
    /// The cycles it cost (miss, PTE reads, A/D writes).
    pub cycles: u64,
    /// The PTEs it read.
    pub pte_reads: u64,
}

/// The MMU's state: TLBs, fast caches, configuration and counters.
pub struct Mmu {
    /// Configuration.
    pub config: MmuConfig,
    /// Instruction TLB.
    pub itlb: Tlb,
    /// Data TLB.
    pub dtlb: Tlb,
    /// Counters.
    pub counters: MmuCounters,
    /// The last walk that raised a page fault.
    pub fault_walk: Option<FaultWalk>,
    /// Fast cache for loads.
    pub fast_load: Box<[FastSlot]>,
    /// Fast cache for stores (only pages whose PTE is already dirty).
    pub fast_store: Box<[FastSlot]>,
    /// Fast cache for fetches.
    pub fast_fetch: Box<[FastSlot]>,
    /// Under `tlb_check`, count stale hits without printing them (a lockstep comparison
    /// reports them itself).
    pub quiet_stale: bool,
    /// Under `tlb_check`, stale hits of loads and stores whose translation (address or
    /// permissions) changed.
    pub stale_data_hits: u64,
}

impl Mmu {
    /// An MMU with empty TLBs.
    pub fn new(config: MmuConfig) -> Self {
        let empty = || vec![FastSlot::default(); FAST_SLOTS].into_boxed_slice();
        Self {
            config,
            itlb: Tlb::new(config.itlb),
            dtlb: Tlb::new(config.dtlb),
            counters: MmuCounters::default(),
            fault_walk: None,
            fast_load: empty(),
            fast_store: empty(),
            fast_fetch: empty(),
            quiet_stale: false,
            stale_data_hits: 0,
        }
    }

    /// Forgets every fast-cache slot (after a change of address space).
    pub fn clear_fast(&mut self) {
        for cache in [
            &mut self.fast_load,
            &mut self.fast_store,
            &mut self.fast_fetch,
        ] {
            cache.fill(FastSlot::default());
        }
    }

    /// `sfence.vma` on both TLBs.
    pub fn fence(&mut self, vaddr: Option<u64>, asid: Option<u16>) {
        let c = &mut self.counters;
        match (vaddr, asid) {
            (None, None) => c.fences_all += 1,
            (Some(_), None) => c.fences_address += 1,
            (None, Some(_)) => c.fences_asid += 1,
            (Some(_), Some(_)) => c.fences_address_asid += 1,
        }
        c.entries_flushed += self.itlb.fence(vaddr, asid) + self.dtlb.fence(vaddr, asid);
    }

    /// The statistics report.
    pub fn stats(&self) -> MmuStats {
        MmuStats {
            itlb: self.itlb.counters,
            dtlb: self.dtlb.counters,
            mmu: self.counters,
            config: ConfigReport {
                itlb_entries: self.config.itlb.entries,
                itlb_ways: self.config.itlb.ways,
                dtlb_entries: self.config.dtlb.entries,
                dtlb_ways: self.config.dtlb.ways,
                policy: format!("{:?}", self.config.dtlb.policy).to_lowercase(),
                ad: format!("{:?}", self.config.ad).to_lowercase(),
            },
        }
    }
}

/// The configuration, as reported with the statistics.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigReport {
    /// iTLB entries.
    pub itlb_entries: usize,
    /// iTLB ways.
    pub itlb_ways: usize,
    /// dTLB entries.
    pub dtlb_entries: usize,
    /// dTLB ways.
    pub dtlb_ways: usize,
    /// Replacement policy.
    pub policy: String,
    /// A/D policy.
    pub ad: String,
}

/// Everything `--stats` reports about the MMU.
#[derive(Debug, Clone, Serialize)]
pub struct MmuStats {
    /// Instruction TLB counts.
    pub itlb: TlbCounters,
    /// Data TLB counts.
    pub dtlb: TlbCounters,
    /// Walk, fence and fault counts.
    pub mmu: MmuCounters,
    /// The configuration they were measured with.
    pub config: ConfigReport,
}

impl std::fmt::Display for MmuStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "MMU: iTLB {} entries / {} ways, dTLB {} entries / {} ways, {} replacement, A/D {}",
            c.itlb_entries, c.itlb_ways, c.dtlb_entries, c.dtlb_ways, c.policy, c.ad
        )?;
        for (name, t) in [("iTLB", &self.itlb), ("dTLB", &self.dtlb)] {
            let lookups = t.hits + t.misses;
            let rate = if lookups == 0 {
                0.0
            } else {
                100.0 * t.misses as f64 / lookups as f64
            };
            writeln!(
                f,
                "  {name}: {:>12} hits {:>10} misses ({rate:.3}% miss) {:>10} superpage hits {:>8} evictions",
                t.hits, t.misses, t.superpage_hits, t.evictions
            )?;
        }
        let m = &self.mmu;
        writeln!(
            f,
            "  walks {}, PTE reads {}, A/D writes {}",
            m.walks, m.pte_reads, m.ad_writes
        )?;
        writeln!(
            f,
            "  sfence.vma: all {}, address {}, asid {}, address+asid {} ({} entries flushed)",
            m.fences_all, m.fences_address, m.fences_asid, m.fences_address_asid, m.entries_flushed
        )?;
        write!(
            f,
            "  page faults: fetch {}, load {}, store {}; walk access faults {}; stale hits {}",
            m.page_faults_fetch,
            m.page_faults_load,
            m.page_faults_store,
            m.walk_access_faults,
            m.stale_hits
        )
    }
}
