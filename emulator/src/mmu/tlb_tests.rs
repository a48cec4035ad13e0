//! Unit tests of the modelled TLB: lookup by ASID and page size, `sfence.vma` (privileged
//! spec 1.12, 4.2.1), generations, replacement policies, set-associative geometry, counters,
//! and the `--tlb` specification parser.

use super::pte::{self, A, D, G, R, V, W, X};
use super::tlb::TlbEntry;
use super::walker::Leaf;
use super::{AdPolicy, MmuConfig, Replacement, Tlb, TlbCounters, TlbGeometry};

fn geometry(entries: usize, ways: usize, policy: Replacement) -> TlbGeometry {
    TlbGeometry {
        entries,
        ways,
        policy,
    }
}

fn fully_associative(entries: usize, policy: Replacement) -> Tlb {
    Tlb::new(geometry(entries, entries, policy))
}

/// A leaf for `vaddr` at `level`, mapping to a distinct physical page.
fn leaf(vaddr: u64, level: u8, global: bool) -> Leaf {
    let ppn = ((vaddr >> 12) + 0x8_0000) & !((1 << (9 * level as u32)) - 1);
    let g = if global { G } else { 0 };
    Leaf {
        pte: (ppn << 10) | V | R | W | X | A | D | g,
        pte_addr: 0x8000_0000 + level as u64 * 8,
        level,
    }
}

/// A 4 KiB page address.
fn page(vpn: u64) -> u64 {
    vpn << 12
}

/// Whether an entry with exactly these tags is valid (independent of `probe`).
fn has(tlb: &Tlb, vaddr: u64, level: u8, asid: u16, global: bool) -> bool {
    tlb.valid_entries().any(|e: &TlbEntry| {
        e.level == level
            && e.vpn == vaddr >> pte::page_shift(level)
            && e.global == global
            && (global || e.asid == asid)
    })
}

/// One lookup as the hart does it: probe, then count a hit or count a miss and fill.
fn access(tlb: &mut Tlb, vaddr: u64, asid: u16, level: u8) -> u32 {
    match tlb.probe(vaddr, asid) {
        Some(index) => {
            tlb.record_hit(index);
            index
        }
        None => {
            tlb.record_miss();
            tlb.fill(vaddr, asid, leaf(vaddr, level, false))
        }
    }
}

const LEVEL_4K: u8 = 0;
const LEVEL_2M: u8 = 1;
const LEVEL_1G: u8 = 2;

// ---- Lookup ----

#[test]
fn fill_then_probe_hits_in_the_same_page_and_asid() {
    let mut tlb = fully_associative(8, Replacement::Lru);
    let va = 0x1234_5678;
    let l = leaf(va, LEVEL_4K, false);
    let index = tlb.fill(va, 7, l);
    assert_eq!(tlb.probe(va, 7), Some(index));
    assert_eq!(tlb.probe(va & !0xfff, 7), Some(index));
    assert_eq!(tlb.probe(va | 0xfff, 7), Some(index));
    assert_eq!(tlb.probe(va + 0x1000, 7), None);
    assert_eq!(tlb.probe(va - 0x1000, 7), None);
    let e = tlb.entry(index);
    assert!(e.valid);
    assert_eq!(e.leaf(), l);
    assert_eq!(e.leaf().translate(va), l.translate(va));
    assert_eq!((e.asid, e.global, e.level, e.vpn), (7, false, 0, va >> 12));
}

#[test]
fn probe_misses_another_asid_unless_global() {
    let mut tlb = fully_associative(8, Replacement::Lru);
    let private = page(0x100);
    let shared = page(0x200);
    tlb.fill(private, 1, leaf(private, LEVEL_4K, false));
    let g = tlb.fill(shared, 1, leaf(shared, LEVEL_4K, true));
    assert!(tlb.probe(private, 1).is_some());
    assert_eq!(tlb.probe(private, 2), None);
    assert_eq!(tlb.probe(private, 0), None);
    for asid in [0, 1, 2, 0xffff] {
        assert_eq!(
            tlb.probe(shared, asid),
            Some(g),
            "global entry, asid {asid}"
        );
    }
}

#[test]
fn probe_neither_counts_nor_refreshes() {
    let mut tlb = fully_associative(2, Replacement::Lru);
    tlb.fill(page(1), 0, leaf(page(1), LEVEL_4K, false));
    tlb.fill(page(2), 0, leaf(page(2), LEVEL_4K, false));
    for _ in 0..5 {
        assert!(tlb.probe(page(1), 0).is_some());
        assert!(tlb.probe(page(3), 0).is_none());
    }
    assert_eq!(tlb.counters, TlbCounters::default());
    // page(1) is still the least recently used: probing did not refresh it.
    tlb.fill(page(3), 0, leaf(page(3), LEVEL_4K, false));
    assert!(!has(&tlb, page(1), 0, 0, false));
    assert!(has(&tlb, page(2), 0, 0, false));
}

/// Checks that a 2 MiB entry at `base` and a 1 GiB entry at `gib` hit across their ranges
/// and miss just outside.
fn check_superpage_ranges(mut tlb: Tlb) {
    let base = 0x4020_0000; // 2 MiB aligned
    let two_mib = tlb.fill(base + 0x5000, 3, leaf(base, LEVEL_2M, false));
    for va in [
        base,
        base + 0x1000,
        base + 0x12_3456,
        base + 0x1f_f000,
        base + 0x1f_ffff,
    ] {
        assert_eq!(tlb.probe(va, 3), Some(two_mib), "2 MiB entry at {va:#x}");
    }
    for va in [base - 1, base - 0x1000, base + 0x20_0000, base + 0x40_0000] {
        assert_eq!(tlb.probe(va, 3), None, "outside the 2 MiB entry: {va:#x}");
    }
    assert_eq!(tlb.probe(base, 4), None, "2 MiB entry, other asid");

    let gib = 0x1_c000_0000; // 1 GiB aligned
    let one_gib = tlb.fill(gib + 0x1234_5000, 3, leaf(gib, LEVEL_1G, false));
    for va in [gib, gib + 0x20_0000, gib + 0x1234_5678, gib + 0x3fff_ffff] {
        assert_eq!(tlb.probe(va, 3), Some(one_gib), "1 GiB entry at {va:#x}");
    }
    for va in [gib - 1, gib + 0x4000_0000] {
        assert_eq!(tlb.probe(va, 3), None, "outside the 1 GiB entry: {va:#x}");
    }
    // The leaf translates with the VA's low bits.
    let e = *tlb.entry(two_mib);
    assert_eq!(e.leaf().translate(base + 0x12_3456) & 0x1f_ffff, 0x12_3456);
}

#[test]
fn superpage_entries_cover_their_range_set_associative() {
    check_superpage_ranges(Tlb::new(geometry(8, 2, Replacement::Lru)));
    check_superpage_ranges(Tlb::new(geometry(16, 1, Replacement::Lru)));
}

#[test]
fn superpage_entries_cover_their_range_fully_associative() {
    check_superpage_ranges(fully_associative(32, Replacement::Lru));
}

#[test]
fn refilling_a_superpage_reuses_its_entry_fully_associative() {
    let mut tlb = fully_associative(8, Replacement::Lru);
    let base = 0x4020_0000;
    let first = tlb.fill(base, 1, leaf(base, LEVEL_2M, false));
    let second = tlb.fill(base + 0x3000, 1, leaf(base, LEVEL_2M, false));
    assert_eq!(first, second);
    assert_eq!(tlb.valid_entries().count(), 1);
}

#[test]
fn refilling_a_page_reuses_its_entry() {
    let mut tlb = fully_associative(8, Replacement::Lru);
    let first = tlb.fill(page(5), 1, leaf(page(5), LEVEL_4K, false));
    let generation = tlb.generation(first);
    let second = tlb.fill(page(5) + 0x10, 1, leaf(page(5), LEVEL_4K, false));
    assert_eq!(first, second);
    assert_eq!(tlb.valid_entries().count(), 1);
    assert_ne!(
        tlb.generation(second),
        generation,
        "a refill is a replacement"
    );
}

#[test]
fn refilling_a_page_with_another_size_keeps_it_findable_set_associative() {
    // 4 sets: a 4 KiB entry at va indexes set (va >> 12) & 3 = 1, a 2 MiB one set
    // (va >> 21) & 3 = 2.
    let mut tlb = Tlb::new(geometry(8, 2, Replacement::Lru));
    let va = 0x0040_1000;
    tlb.fill(va, 1, leaf(va, LEVEL_4K, false));
    // The page table now maps va with a 2 MiB page (for example after a store through a
    // clean entry made the hart walk again).
    let index = tlb.fill(va, 1, leaf(va, LEVEL_2M, false));
    assert_eq!(tlb.probe(va, 1), Some(index));
    assert_eq!(tlb.probe(va + 0x10_0000, 1), Some(index));
}

// ---- sfence.vma (4.2.1) ----

const P1: u64 = 0x1000_0000;
const P2: u64 = 0x1000_1000;
const P3: u64 = 0x1000_2000;
const S1: u64 = 0x2000_0000; // 2 MiB, asid 1
const S2: u64 = 0x2040_0000; // 2 MiB, global

/// Seven entries:
/// P1 asid 1, P1 asid 2, P1 global (filled in asid 3), P2 global (asid 1), P3 asid 1,
/// S1 2 MiB asid 1, S2 2 MiB global (filled in asid 2).
fn populated() -> Tlb {
    let mut tlb = fully_associative(16, Replacement::Lru);
    tlb.fill(P1, 1, leaf(P1, LEVEL_4K, false));
    tlb.fill(P1, 2, leaf(P1, LEVEL_4K, false));
    tlb.fill(P1, 3, leaf(P1, LEVEL_4K, true));
    tlb.fill(P2, 1, leaf(P2, LEVEL_4K, true));
    tlb.fill(P3, 1, leaf(P3, LEVEL_4K, false));
    tlb.fill(S1, 1, leaf(S1, LEVEL_2M, false));
    tlb.fill(S2, 2, leaf(S2, LEVEL_2M, true));
    assert_eq!(tlb.valid_entries().count(), 7);
    tlb
}

/// Which of the seven entries of [`populated`] are still valid, in its order.
fn survivors(tlb: &Tlb) -> [bool; 7] {
    [
        has(tlb, P1, 0, 1, false),
        has(tlb, P1, 0, 2, false),
        has(tlb, P1, 0, 0, true),
        has(tlb, P2, 0, 0, true),
        has(tlb, P3, 0, 1, false),
        has(tlb, S1, 1, 1, false),
        has(tlb, S2, 1, 0, true),
    ]
}

#[test]
fn fence_all_invalidates_everything_including_global() {
    let mut tlb = populated();
    assert_eq!(tlb.fence(None, None), 7);
    assert_eq!(tlb.valid_entries().count(), 0);
    assert_eq!(survivors(&tlb), [false; 7]);
    assert_eq!(tlb.fence(None, None), 0, "already empty");
}

#[test]
fn fence_address_invalidates_that_page_in_every_address_space() {
    let mut tlb = populated();
    assert_eq!(tlb.fence(Some(P1 + 0x123), None), 3);
    assert_eq!(
        survivors(&tlb),
        [false, false, false, true, true, true, true]
    );
    assert_eq!(tlb.fence(Some(P2), None), 1, "a global entry too");
    assert_eq!(
        survivors(&tlb),
        [false, false, false, false, true, true, true]
    );
    assert_eq!(tlb.fence(Some(0x3000_0000), None), 0, "an unmapped address");
    assert_eq!(tlb.valid_entries().count(), 3);
}

#[test]
fn fence_address_inside_a_superpage_invalidates_it() {
    let mut tlb = populated();
    assert_eq!(
        tlb.fence(Some(S1 + 0x20_0000), None),
        0,
        "just past S1 (and before S2)"
    );
    assert_eq!(tlb.fence(Some(S1 - 0x1000), None), 0, "just before S1");
    assert_eq!(tlb.valid_entries().count(), 7);
    assert_eq!(tlb.fence(Some(S1 + 0x1a_b000), None), 1);
    assert_eq!(survivors(&tlb), [true, true, true, true, true, false, true]);
    assert_eq!(
        tlb.fence(Some(S2 + 0x1f_ffff), None),
        1,
        "a global superpage too"
    );
    assert_eq!(
        survivors(&tlb),
        [true, true, true, true, true, false, false]
    );
}

#[test]
fn fence_asid_invalidates_only_that_asids_non_global_entries() {
    let mut tlb = populated();
    assert_eq!(tlb.fence(None, Some(1)), 3);
    assert_eq!(
        survivors(&tlb),
        [false, true, true, true, false, false, true]
    );
    assert_eq!(tlb.fence(None, Some(3)), 0, "asid 3's only entry is global");
    assert_eq!(tlb.fence(None, Some(2)), 1);
    assert_eq!(
        survivors(&tlb),
        [false, false, true, true, false, false, true]
    );
    assert_eq!(tlb.fence(None, Some(9)), 0);
}

#[test]
fn fence_address_and_asid_invalidates_only_that_asids_non_global_page() {
    let mut tlb = populated();
    assert_eq!(tlb.fence(Some(P1), Some(1)), 1);
    assert_eq!(survivors(&tlb), [false, true, true, true, true, true, true]);
    assert_eq!(tlb.fence(Some(P2), Some(1)), 0, "global");
    assert_eq!(tlb.fence(Some(P1), Some(3)), 0, "global");
    assert_eq!(tlb.fence(Some(P3), Some(2)), 0, "other asid");
    assert_eq!(tlb.fence(Some(S2 + 0x1000), Some(2)), 0, "global superpage");
    assert_eq!(
        tlb.fence(Some(S1 + 0x1f_f000), Some(1)),
        1,
        "inside the superpage"
    );
    assert_eq!(
        survivors(&tlb),
        [false, true, true, true, true, false, true]
    );
}

// ---- Generations ----

#[test]
fn generation_changes_on_invalidate_and_replacement_only() {
    let mut tlb = fully_associative(2, Replacement::Lru);
    let a = tlb.fill(page(1), 1, leaf(page(1), LEVEL_4K, false));
    let b = tlb.fill(page(2), 1, leaf(page(2), LEVEL_4K, false));
    assert_ne!(a, b);
    let (ga, gb) = (tlb.generation(a), tlb.generation(b));
    tlb.record_hit(a);
    tlb.record_miss();
    let _ = tlb.probe(page(1), 1);
    assert_eq!(
        (tlb.generation(a), tlb.generation(b)),
        (ga, gb),
        "hits do not invalidate"
    );

    // A fence that misses leaves generations alone; one that hits bumps only its entry.
    tlb.fence(Some(page(3)), None);
    tlb.fence(None, Some(2));
    assert_eq!((tlb.generation(a), tlb.generation(b)), (ga, gb));
    tlb.fence(Some(page(1)), None);
    let ga2 = tlb.generation(a);
    assert_ne!(ga2, ga);
    assert_eq!(tlb.generation(b), gb);

    // Refilling the freed slot bumps it again.
    let a2 = tlb.fill(page(1), 1, leaf(page(1), LEVEL_4K, false));
    assert_eq!(a2, a);
    let ga3 = tlb.generation(a);
    assert_ne!(ga3, ga2);

    // Replacement: page(2) is least recently used; page(3) takes its slot.
    let c = tlb.fill(page(3), 1, leaf(page(3), LEVEL_4K, false));
    assert_eq!(c, b);
    assert_ne!(tlb.generation(b), gb);
    assert_eq!(tlb.generation(a), ga3);

    // A full fence bumps every valid entry.
    let before = [tlb.generation(a), tlb.generation(b)];
    tlb.fence(None, None);
    assert_ne!(tlb.generation(a), before[0]);
    assert_ne!(tlb.generation(b), before[1]);
}

// ---- Replacement ----

#[test]
fn lru_evicts_the_least_recently_hit() {
    let mut tlb = fully_associative(4, Replacement::Lru);
    let idx: Vec<u32> = (1..=4)
        .map(|v| tlb.fill(page(v), 0, leaf(page(v), LEVEL_4K, false)))
        .collect();
    tlb.record_hit(idx[0]); // page 1 becomes the most recent
    let e = tlb.fill(page(5), 0, leaf(page(5), LEVEL_4K, false));
    assert_eq!(e, idx[1], "page 2 was least recently used");
    assert!(tlb.probe(page(2), 0).is_none());
    for v in [1, 3, 4, 5] {
        assert!(tlb.probe(page(v), 0).is_some(), "page {v}");
    }
    tlb.record_hit(idx[2]); // page 3
    tlb.record_hit(idx[0]); // page 1
    let f = tlb.fill(page(6), 0, leaf(page(6), LEVEL_4K, false));
    assert_eq!(f, idx[3], "page 4 is now least recently used");
    assert_eq!(tlb.counters.evictions, 2);
}

#[test]
fn fifo_evicts_the_oldest_fill_regardless_of_hits() {
    let mut tlb = fully_associative(4, Replacement::Fifo);
    let idx: Vec<u32> = (1..=4)
        .map(|v| tlb.fill(page(v), 0, leaf(page(v), LEVEL_4K, false)))
        .collect();
    for _ in 0..3 {
        tlb.record_hit(idx[0]);
    }
    let e = tlb.fill(page(5), 0, leaf(page(5), LEVEL_4K, false));
    assert_eq!(e, idx[0], "page 1 was filled first");
    assert!(tlb.probe(page(1), 0).is_none());
    tlb.record_hit(idx[1]);
    let f = tlb.fill(page(6), 0, leaf(page(6), LEVEL_4K, false));
    assert_eq!(f, idx[1], "page 2 is the oldest fill now");
    let g = tlb.fill(page(7), 0, leaf(page(7), LEVEL_4K, false));
    assert_eq!(g, idx[2]);
    assert_eq!(tlb.counters.evictions, 3);
}

#[test]
fn random_replacement_is_deterministic() {
    let run = || {
        let mut tlb = fully_associative(4, Replacement::Random);
        let mut victims = Vec::new();
        for v in 0..40 {
            let i = tlb.fill(page(v), 0, leaf(page(v), LEVEL_4K, false));
            if v % 3 == 0 {
                tlb.record_hit(i);
            }
            victims.push(i);
        }
        let mut left: Vec<u64> = tlb.valid_entries().map(|e| e.vpn).collect();
        left.sort_unstable();
        (victims, left, tlb.counters)
    };
    let (first, left_a, counters_a) = run();
    let (second, left_b, counters_b) = run();
    assert_eq!(first, second);
    assert_eq!(left_a, left_b);
    assert_eq!(counters_a, counters_b);
    assert_eq!(counters_a.evictions, 36);
    assert_eq!(&first[..4], &[0, 1, 2, 3], "free entries are used first");
    let mut distinct = first[4..].to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 1, "victims vary: {first:?}");
}

#[test]
fn set_associative_conflicts_stay_in_their_set() {
    // 8 entries, 2 ways: 4 sets, a 4 KiB page's set is vpn & 3.
    let mut tlb = Tlb::new(geometry(8, 2, Replacement::Lru));
    let others: Vec<u32> = [1u64, 2, 3, 5]
        .iter()
        .map(|&v| tlb.fill(page(v), 0, leaf(page(v), LEVEL_4K, false)))
        .collect();
    let a = tlb.fill(page(0), 0, leaf(page(0), LEVEL_4K, false));
    let b = tlb.fill(page(4), 0, leaf(page(4), LEVEL_4K, false));
    assert!(
        a < 2 && b < 2 && a != b,
        "set 0 is entries 0 and 1: {a} {b}"
    );
    assert_eq!(tlb.counters.evictions, 0, "two free ways in each set");
    assert_eq!(
        tlb.valid_entries().count(),
        6,
        "two entries are still free elsewhere"
    );

    let c = tlb.fill(page(8), 0, leaf(page(8), LEVEL_4K, false));
    assert_eq!(
        c, a,
        "page 8 evicts page 0, its set's LRU, despite free entries elsewhere"
    );
    assert!(tlb.probe(page(0), 0).is_none());
    tlb.record_hit(c);
    let d = tlb.fill(page(12), 0, leaf(page(12), LEVEL_4K, false));
    assert_eq!(d, b, "page 4 is now its set's LRU");
    assert_eq!(tlb.counters.evictions, 2);
    for (v, i) in [1u64, 2, 3, 5].iter().zip(&others) {
        assert_eq!(
            tlb.probe(page(*v), 0),
            Some(*i),
            "page {v} in another set is untouched"
        );
    }
    assert_eq!(tlb.valid_entries().count(), 6);
}

// ---- Counters ----

#[test]
fn counters_for_a_scripted_sequence_fully_associative() {
    let mut tlb = fully_associative(4, Replacement::Lru);
    // p0 miss, p1 miss, p0 hit, p2 miss, p3 miss (full), p4 miss evicts p1,
    // p1 miss evicts p0, p0 miss evicts p2, p3 hit.
    for v in [0, 1, 0, 2, 3, 4, 1, 0, 3] {
        access(&mut tlb, page(v), 1, LEVEL_4K);
    }
    assert_eq!(
        tlb.counters,
        TlbCounters {
            hits: 2,
            misses: 7,
            superpage_hits: 0,
            evictions: 3
        }
    );
    let mut left: Vec<u64> = tlb.valid_entries().map(|e| e.vpn).collect();
    left.sort_unstable();
    assert_eq!(left, vec![0, 1, 3, 4]);
}

#[test]
fn counters_with_superpages_set_associative() {
    let mut tlb = Tlb::new(geometry(8, 2, Replacement::Lru));
    let s = 0x4020_0000;
    let g = 0x1_c000_0000;
    for va in [s, s + 0x1000, s + 0x10_0000] {
        access(&mut tlb, va, 1, LEVEL_2M);
    }
    for va in [g + 0x5000, g + 0x3000_0000] {
        access(&mut tlb, va, 1, LEVEL_1G);
    }
    for va in [page(7), page(7) + 8] {
        access(&mut tlb, va, 1, LEVEL_4K);
    }
    assert_eq!(
        tlb.counters,
        TlbCounters {
            hits: 4,
            misses: 3,
            superpage_hits: 3,
            evictions: 0
        }
    );
}

// ---- --tlb ----

#[test]
fn tlb_spec_parses_all_keys() {
    let mut config = MmuConfig::default();
    config
        .apply_tlb_spec("itlb=16,dtlb=64,ways=4,policy=fifo")
        .unwrap();
    assert_eq!(config.itlb, geometry(16, 4, Replacement::Fifo));
    assert_eq!(config.dtlb, geometry(64, 4, Replacement::Fifo));
    assert_eq!(config.ad, AdPolicy::Hardware, "untouched");

    let mut config = MmuConfig::default();
    config
        .apply_tlb_spec(" entries=8 , ,policy=random")
        .unwrap();
    assert_eq!(config.itlb, geometry(8, 8, Replacement::Random));
    assert_eq!(config.dtlb, geometry(8, 8, Replacement::Random));
}

#[test]
fn tlb_spec_ways_full_is_fully_associative() {
    let mut config = MmuConfig::default();
    config.apply_tlb_spec("ways=full").unwrap();
    assert_eq!(config.itlb.ways, config.itlb.entries);
    assert_eq!(config.dtlb.ways, config.dtlb.entries);
    let mut config = MmuConfig::default();
    config
        .apply_tlb_spec("itlb=8,dtlb=128,ways=full,policy=lru")
        .unwrap();
    assert_eq!(config.itlb, geometry(8, 8, Replacement::Lru));
    assert_eq!(config.dtlb, geometry(128, 128, Replacement::Lru));
}

#[test]
fn tlb_spec_errors() {
    for spec in [
        "itlb=3",
        "ways=64",
        "policy=mru",
        "foo=1",
        "itlb",
        "itlb=0",
        "dtlb=x",
        "entries=8192",
        "itlb=4,ways=8",
    ] {
        let mut config = MmuConfig::default();
        let err = config.apply_tlb_spec(spec).expect_err(spec);
        assert!(err.to_string().contains(spec), "{spec}: {err}");
    }
}
