//! A TLB modelled as hardware: a fixed geometry (entries, ways, replacement policy), entries
//! tagged by ASID with the global bit honoured, superpage entries, and `sfence.vma`
//! invalidating exactly what privileged spec 4.2.1 says.
//!
//! Sets are indexed by the VPN bits just above the page offset *of the entry's page size*
//! (a 4 KiB entry by `VPN[0]`, a 2 MiB entry by `VPN[1]`, a 1 GiB entry by `VPN[2]`); a lookup
//! probes the one set each page size could use. With `ways = entries` (fully associative,
//! the default) there is a single set and this distinction vanishes.
//!
//! Each entry carries a generation number bumped whenever it is invalidated or replaced, so
//! the hart's direct-mapped fast caches can point at entries and be validated by one compare.

use super::pte;
use super::walker::Leaf;

/// Replacement policy within a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replacement {
    /// Least recently used.
    #[default]
    Lru,
    /// First in, first out.
    Fifo,
    /// Pseudo-random, from a fixed seed (runs stay deterministic).
    Random,
}

/// Geometry of one TLB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlbGeometry {
    /// Total entries (a power of two).
    pub entries: usize,
    /// Ways per set (a power of two dividing `entries`; `entries` = fully associative).
    pub ways: usize,
    /// Replacement policy.
    pub policy: Replacement,
}

/// One cached translation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlbEntry {
    /// Whether the entry holds a translation.
    pub valid: bool,
    /// Page level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
    pub level: u8,
    /// Virtual page number at the entry's page size (`vaddr >> page_shift(level)`).
    pub vpn: u64,
    /// Address-space identifier (ignored when `global`).
    pub asid: u16,
    /// The mapping is global (PTE.G).
    pub global: bool,
    /// The leaf PTE as cached.
    pub pte: u64,
    /// Where the leaf PTE lives, for `--tlb-check`.
    pub pte_addr: u64,
    /// Bumped on every invalidation or replacement.
    pub generation: u32,
    /// Last use (LRU) or fill time (FIFO).
    pub stamp: u64,
}

impl TlbEntry {
    /// Whether this entry translates `vaddr` in address space `asid`.
    #[inline(always)]
    pub fn matches(&self, vaddr: u64, asid: u16) -> bool {
        self.valid
            && (vaddr >> pte::page_shift(self.level)) == self.vpn
            && (self.global || self.asid == asid)
    }

    /// The leaf this entry caches.
    pub fn leaf(&self) -> Leaf {
        Leaf {
            pte: self.pte,
            pte_addr: self.pte_addr,
            level: self.level,
        }
    }
}

/// Event counts of one TLB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlbCounters {
    /// Lookups that found a usable entry.
    pub hits: u64,
    /// Lookups that needed a walk.
    pub misses: u64,
    /// Hits on 2 MiB or 1 GiB entries.
    pub superpage_hits: u64,
    /// Valid entries replaced by a fill.
    pub evictions: u64,
}

/// A modelled TLB.
pub struct Tlb {
    geometry: TlbGeometry,
    sets: usize,
    entries: Vec<TlbEntry>,
    clock: u64,
    rng: u64,
    /// Event counts.
    pub counters: TlbCounters,
}

impl Tlb {
    /// An empty TLB.
    pub fn new(geometry: TlbGeometry) -> Self {
        let sets = (geometry.entries / geometry.ways).max(1);
        Self {
            geometry,
            sets,
            entries: vec![TlbEntry::default(); geometry.entries],
            clock: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
            counters: TlbCounters::default(),
        }
    }

    /// The geometry.
    pub fn geometry(&self) -> TlbGeometry {
        self.geometry
    }

    /// The entry at `index`.
    #[inline(always)]
    pub fn entry(&self, index: u32) -> &TlbEntry {
        &self.entries[index as usize]
    }

    /// The generation of entry `index`, for fast-cache validation.
    #[inline(always)]
    pub fn generation(&self, index: u32) -> u32 {
        self.entries[index as usize].generation
    }

    fn set_of(&self, vaddr: u64, level: u8) -> usize {
        ((vaddr >> pte::page_shift(level)) as usize) & (self.sets - 1)
    }

    /// Finds the entry for `vaddr` in `asid` without counting or touching replacement state.
    pub fn probe(&self, vaddr: u64, asid: u16) -> Option<u32> {
        let ways = self.geometry.ways;
        if self.sets == 1 {
            // Fully associative: one set holds every page size.
            return (0..ways)
                .find(|&i| self.entries[i].matches(vaddr, asid))
                .map(|i| i as u32);
        }
        for level in 0..pte::LEVELS {
            let base = self.set_of(vaddr, level) * ways;
            for i in base..base + ways {
                let e = &self.entries[i];
                if e.level == level && e.matches(vaddr, asid) {
                    return Some(i as u32);
                }
            }
        }
        None
    }

    /// Records a hit on entry `index` (counters and LRU recency). This is on the hart's
    /// fast path: a few instructions.
    #[inline(always)]
    pub fn record_hit(&mut self, index: u32) {
        self.counters.hits += 1;
        let e = &mut self.entries[index as usize];
        if e.level > 0 {
            self.counters.superpage_hits += 1;
        }
        if self.geometry.policy == Replacement::Lru {
            self.clock += 1;
            e.stamp = self.clock;
        }
    }

    /// Records a miss.
    pub fn record_miss(&mut self) {
        self.counters.misses += 1;
    }

    /// Caches `leaf` for `vaddr` in `asid`, replacing an entry if the set is full (or the
    /// stale entry for the same page, if there is one). Returns the entry's index.
    pub fn fill(&mut self, vaddr: u64, asid: u16, leaf: Leaf) -> u32 {
        let set = self.set_of(vaddr, leaf.level);
        let ways = self.geometry.ways;
        // The entry already caching this page is refreshed in place when it sits in the set
        // the new page size uses; otherwise it is dropped and a victim is chosen.
        let existing = self.probe(vaddr, asid).map(|i| i as usize);
        let index = match existing {
            Some(i) if i / ways == set => i,
            other => {
                if let Some(i) = other {
                    let e = &mut self.entries[i];
                    e.valid = false;
                    e.generation = e.generation.wrapping_add(1);
                }
                let victim = self.victim(set);
                if self.entries[victim].valid {
                    self.counters.evictions += 1;
                }
                victim
            }
        };
        self.clock += 1;
        let e = &mut self.entries[index];
        *e = TlbEntry {
            valid: true,
            level: leaf.level,
            vpn: vaddr >> pte::page_shift(leaf.level),
            asid,
            global: leaf.pte & pte::G != 0,
            pte: leaf.pte,
            pte_addr: leaf.pte_addr,
            generation: e.generation.wrapping_add(1),
            stamp: self.clock,
        };
        index as u32
    }

    fn victim(&mut self, set: usize) -> usize {
        let ways = self.geometry.ways;
        let base = set * ways;
        let slots = &self.entries[base..base + ways];
        if let Some(free) = slots.iter().position(|e| !e.valid) {
            return base + free;
        }
        let way = match self.geometry.policy {
            // FIFO keeps the fill time in `stamp` and never refreshes it on a hit.
            Replacement::Lru | Replacement::Fifo => {
                (0..ways).min_by_key(|&w| slots[w].stamp).unwrap_or(0)
            }
            Replacement::Random => {
                // xorshift64: deterministic from the fixed seed.
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                (self.rng % ways as u64) as usize
            }
        };
        base + way
    }

    /// `sfence.vma` (privileged spec 4.2.1). `vaddr`: `Some` when rs1 != x0, `asid`: `Some`
    /// when rs2 != x0. Returns how many valid entries were invalidated.
    pub fn fence(&mut self, vaddr: Option<u64>, asid: Option<u16>) -> u64 {
        let mut flushed = 0;
        for e in &mut self.entries {
            if !e.valid {
                continue;
            }
            let address_hit = vaddr.is_none_or(|va| (va >> pte::page_shift(e.level)) == e.vpn);
            // With an ASID, global mappings are not affected.
            let space_hit = match asid {
                None => true,
                Some(a) => !e.global && e.asid == a,
            };
            if address_hit && space_hit {
                e.valid = false;
                e.generation = e.generation.wrapping_add(1);
                flushed += 1;
            }
        }
        flushed
    }

    /// Every valid entry, for reports and tests.
    pub fn valid_entries(&self) -> impl Iterator<Item = &TlbEntry> {
        self.entries.iter().filter(|e| e.valid)
    }
}
