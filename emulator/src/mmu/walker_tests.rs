//! Unit tests of the Sv39 walker (privileged spec 1.12, 4.3.2 "Virtual Address Translation
//! Process" and 4.4 "Sv39") over hand-built page tables in a fake physical memory.

use std::collections::{HashMap, HashSet};

use super::pte::{self, A, D, G, R, U, V, W, X};
use super::walker::{
    AccessContext, AccessKind, AdPolicy, Leaf, PhysMem, WalkCounts, WalkFault, walk,
};

/// A sparse physical memory: unwritten words read as zero, some addresses can be made
/// unbacked (reads and CAS fail) or read-only (CAS fails), and every access is logged.
#[derive(Default)]
struct FakeMem {
    words: HashMap<u64, u64>,
    unbacked: HashSet<u64>,
    read_only: HashSet<u64>,
    reads: Vec<u64>,
    /// Every CAS attempted: (address, old, new).
    cas_attempts: Vec<(u64, u64, u64)>,
    /// CASes that wrote memory: (address, value written).
    writes: Vec<(u64, u64)>,
    /// On the next CAS at this address, another hart stores this value first.
    race: Option<(u64, u64)>,
}

impl PhysMem for FakeMem {
    fn read_pte(&mut self, paddr: u64) -> Option<u64> {
        assert_eq!(paddr % 8, 0, "PTE reads are 8-byte aligned");
        self.reads.push(paddr);
        if self.unbacked.contains(&paddr) {
            return None;
        }
        Some(self.words.get(&paddr).copied().unwrap_or(0))
    }

    fn cas_pte(&mut self, paddr: u64, old: u64, new: u64) -> Option<bool> {
        self.cas_attempts.push((paddr, old, new));
        if self.unbacked.contains(&paddr) || self.read_only.contains(&paddr) {
            return None;
        }
        if let Some((addr, value)) = self.race.take_if(|(a, _)| *a == paddr) {
            self.words.insert(addr, value);
        }
        if self.words.get(&paddr).copied().unwrap_or(0) != old {
            return Some(false);
        }
        self.words.insert(paddr, new);
        self.writes.push((paddr, new));
        Some(true)
    }
}

const ROOT: u64 = 0x80000;
const L1_TABLE: u64 = 0x80001;
const L0_TABLE: u64 = 0x80002;
/// The VA most tests translate: canonical, non-zero VPN fields and offset.
const VA: u64 = 0x12_3456_7abc;
/// A data page (4 KiB aligned), a 2 MiB aligned and a 1 GiB aligned physical page number.
const PAGE_4K: u64 = 0x9_1234;
const PAGE_2M: u64 = 0x9_1200;
const PAGE_1G: u64 = 0x24_0000;

const SUPERVISOR: AccessContext = AccessContext {
    user: false,
    sum: false,
    mxr: false,
};
const USER: AccessContext = AccessContext {
    user: true,
    sum: false,
    mxr: false,
};

fn pointer(ppn: u64) -> u64 {
    (ppn << 10) | V
}

fn leaf_pte(ppn: u64, flags: u64) -> u64 {
    (ppn << 10) | flags
}

fn slot(table: u64, va: u64, level: u8) -> u64 {
    (table << 12) + pte::vpn(va, level) * 8
}

impl FakeMem {
    fn set(&mut self, addr: u64, value: u64) {
        self.words.insert(addr, value);
    }

    fn get(&self, addr: u64) -> u64 {
        self.words.get(&addr).copied().unwrap_or(0)
    }

    /// Maps `va` with `entry` as the PTE at `level` (2: in the root, 1: in L1_TABLE, 0: in
    /// L0_TABLE), with pointers above it. Returns the address of that PTE.
    fn map(&mut self, va: u64, level: u8, entry: u64) -> u64 {
        if level < 2 {
            self.set(slot(ROOT, va, 2), pointer(L1_TABLE));
        }
        if level < 1 {
            self.set(slot(L1_TABLE, va, 1), pointer(L0_TABLE));
        }
        let table = [L0_TABLE, L1_TABLE, ROOT][level as usize];
        let addr = slot(table, va, level);
        self.set(addr, entry);
        addr
    }
}

fn run(
    mem: &mut FakeMem,
    va: u64,
    kind: AccessKind,
    ctx: AccessContext,
    policy: AdPolicy,
    update: bool,
) -> (Result<Leaf, WalkFault>, WalkCounts) {
    let mut counts = WalkCounts::default();
    let result = walk(mem, ROOT, va, kind, ctx, policy, update, &mut counts);
    (result, counts)
}

fn hw(mem: &mut FakeMem, va: u64, kind: AccessKind, ctx: AccessContext) -> Result<Leaf, WalkFault> {
    run(mem, va, kind, ctx, AdPolicy::Hardware, true).0
}

const KINDS: [AccessKind; 3] = [AccessKind::Fetch, AccessKind::Load, AccessKind::Store];
const ALL_PERMS: u64 = R | W | X | A | D | V;

/// Asserts a page fault for every access kind, under both policies, and that nothing was
/// written.
fn assert_page_fault_all_kinds(mem: &mut FakeMem, va: u64, what: &str) {
    for kind in KINDS {
        for policy in [AdPolicy::Hardware, AdPolicy::Trap] {
            let (result, _) = run(mem, va, kind, SUPERVISOR, policy, true);
            assert_eq!(result, Err(WalkFault::Page), "{what}: {kind:?} {policy:?}");
        }
    }
    assert!(
        mem.cas_attempts.is_empty(),
        "{what}: no CAS on a faulting walk"
    );
}

// ---- Faults (4.3.2 steps 2-6, 4.4) ----

#[test]
fn invalid_pte_at_each_level_is_a_page_fault() {
    for level in 0..3 {
        let mut mem = FakeMem::default();
        // Every bit but V: still invalid.
        mem.map(VA, level, leaf_pte(PAGE_4K, ALL_PERMS & !V));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("V=0 at level {level}"));
    }
    // V=0 in a pointer slot (empty root).
    let mut mem = FakeMem::default();
    assert_page_fault_all_kinds(&mut mem, VA, "empty root");
    let mut mem = FakeMem::default();
    mem.map(VA, 1, pointer(L0_TABLE) & !V);
    assert_page_fault_all_kinds(&mut mem, VA, "invalid L1 pointer");
}

#[test]
fn writable_without_readable_is_a_page_fault() {
    for x in [0, X] {
        for level in 0..3 {
            let mut mem = FakeMem::default();
            let ppn = [PAGE_4K, PAGE_2M, PAGE_1G][level as usize];
            mem.map(VA, level, leaf_pte(ppn, V | W | x | A | D | U));
            assert_page_fault_all_kinds(&mut mem, VA, &format!("W=1 R=0 X={x} level {level}"));
            let (result, _) = run(
                &mut mem,
                VA,
                AccessKind::Store,
                USER,
                AdPolicy::Hardware,
                true,
            );
            assert_eq!(result, Err(WalkFault::Page), "user store, W=1 R=0 X={x}");
        }
    }
}

#[test]
fn reserved_high_bits_are_a_page_fault_in_leaves_and_pointers() {
    // 54: reserved, 60: reserved, 61-62: PBMT (no Svpbmt), 63: N (no Svnapot).
    for bit in [54, 59, 60, 61, 62, 63] {
        let mut mem = FakeMem::default();
        mem.map(VA, 0, leaf_pte(PAGE_4K, ALL_PERMS) | (1 << bit));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("leaf bit {bit}"));

        let mut mem = FakeMem::default();
        mem.map(VA, 0, leaf_pte(PAGE_4K, ALL_PERMS));
        mem.set(slot(ROOT, VA, 2), pointer(L1_TABLE) | (1 << bit));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("root pointer bit {bit}"));

        let mut mem = FakeMem::default();
        mem.map(VA, 1, leaf_pte(PAGE_2M, ALL_PERMS) | (1 << bit));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("2 MiB leaf bit {bit}"));
    }
    // The RSW bits (9:8) are for software and ignored.
    let mut mem = FakeMem::default();
    mem.map(VA, 0, leaf_pte(PAGE_4K, ALL_PERMS) | (3 << 8));
    assert!(hw(&mut mem, VA, AccessKind::Load, SUPERVISOR).is_ok());
}

#[test]
fn pointer_at_level_zero_is_a_page_fault() {
    let mut mem = FakeMem::default();
    mem.map(VA, 0, pointer(0x80003));
    // Even if what it points to would be a fine leaf.
    mem.set(slot(0x80003, VA, 0), leaf_pte(PAGE_4K, ALL_PERMS));
    assert_page_fault_all_kinds(&mut mem, VA, "pointer at level 0");
    let (_, counts) = run(
        &mut mem,
        VA,
        AccessKind::Load,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    assert_eq!(counts.pte_reads, 3, "the walk stops at level 0");
}

#[test]
fn misaligned_superpages_are_a_page_fault() {
    // 2 MiB: ppn[0] != 0.
    for low in [1, 0x100, 0x1ff] {
        let mut mem = FakeMem::default();
        mem.map(VA, 1, leaf_pte(PAGE_2M | low, ALL_PERMS));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("2 MiB with ppn[0]={low:#x}"));
    }
    // 1 GiB: ppn[1] != 0 or ppn[0] != 0.
    for low in [1, 0x1ff, 1 << 9, 0x1ff << 9, (1 << 9) | 1] {
        let mut mem = FakeMem::default();
        mem.map(VA, 2, leaf_pte(PAGE_1G | low, ALL_PERMS));
        assert_page_fault_all_kinds(&mut mem, VA, &format!("1 GiB with low ppn {low:#x}"));
    }
    // Aligned ones translate; ppn[2] bits beyond are free.
    let mut mem = FakeMem::default();
    mem.map(VA, 1, leaf_pte(PAGE_2M | (1 << 9), ALL_PERMS));
    assert!(hw(&mut mem, VA, AccessKind::Load, SUPERVISOR).is_ok());
}

#[test]
fn non_canonical_addresses_are_a_page_fault_without_reading_memory() {
    let mut mem = FakeMem::default();
    // Map everything a truncating walker could land on for these VAs.
    for va in [0u64, 0x7f_ffff_f000] {
        mem.map(va, 2, leaf_pte(PAGE_1G, ALL_PERMS));
    }
    for va in [
        0x40_0000_0000u64,         // bit 38 set, 63:39 clear
        0x80_0000_0000,            // bit 39 set alone
        0xffff_ff80_0000_0000 - 1, // 63:39 set, bit 38 clear
        0x8000_0000_0000_0000,
        0x0100_0000_0000_1000,
    ] {
        for kind in KINDS {
            let (result, counts) = run(&mut mem, va, kind, SUPERVISOR, AdPolicy::Hardware, true);
            assert_eq!(result, Err(WalkFault::Page), "{va:#x} {kind:?}");
            assert_eq!(counts, WalkCounts::default(), "{va:#x}: no memory traffic");
        }
    }
    assert!(mem.reads.is_empty());
    // The highest and lowest canonical halves translate.
    for va in [
        0xffff_ffc0_0000_0123u64,
        0xffff_ffff_ffff_fff8,
        0x3f_ffff_fff8,
    ] {
        let mut mem = FakeMem::default();
        mem.map(va, 2, leaf_pte(PAGE_1G, ALL_PERMS));
        let leaf = hw(&mut mem, va, AccessKind::Load, SUPERVISOR).expect("canonical");
        assert_eq!(leaf.translate(va), (PAGE_1G << 12) | (va & 0x3fff_ffff));
    }
}

#[test]
fn pte_address_without_memory_is_an_access_fault() {
    for unbacked_level in 0..3u8 {
        let mut mem = FakeMem::default();
        mem.map(VA, 0, leaf_pte(PAGE_4K, ALL_PERMS));
        let table = [L0_TABLE, L1_TABLE, ROOT][unbacked_level as usize];
        mem.unbacked.insert(slot(table, VA, unbacked_level));
        for kind in KINDS {
            let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Hardware, true);
            assert_eq!(
                result,
                Err(WalkFault::Access),
                "level {unbacked_level} {kind:?}"
            );
            assert_eq!(counts.pte_reads, 3 - unbacked_level as u64);
        }
    }
}

#[test]
fn ad_update_to_unwritable_pte_is_an_access_fault() {
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 0, leaf_pte(PAGE_4K, V | R | W | X));
    mem.read_only.insert(addr);
    for kind in KINDS {
        let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Hardware, true);
        assert_eq!(result, Err(WalkFault::Access), "{kind:?}");
        assert_eq!(counts.ad_writes, 0);
    }
    assert!(mem.writes.is_empty());
    assert_eq!(mem.get(addr), leaf_pte(PAGE_4K, V | R | W | X));
    // With A and D already set there is nothing to write, so the walk succeeds.
    mem.set(addr, leaf_pte(PAGE_4K, ALL_PERMS));
    for kind in KINDS {
        assert!(hw(&mut mem, VA, kind, SUPERVISOR).is_ok(), "{kind:?}");
    }
}

// ---- Permissions (4.3.1 U-bit rules, 4.3.2 step 5, 3.1.6.3 SUM/MXR) ----

/// What each R/W/X combination allows, for a privilege that may use the page at all, from
/// the spec's definitions: R readable, W writable, X executable; MXR makes executable pages
/// readable as well.
fn expected_by_table(perms: &str, kind: AccessKind, mxr: bool) -> bool {
    let allowed: &str = match (perms, mxr) {
        ("R", _) => "L",
        ("RW", _) => "LS",
        ("X", false) => "F",
        ("X", true) => "FL",
        ("RX", _) => "FL",
        ("RWX", _) => "FLS",
        _ => unreachable!(),
    };
    let letter = match kind {
        AccessKind::Fetch => 'F',
        AccessKind::Load => 'L',
        AccessKind::Store => 'S',
    };
    allowed.contains(letter)
}

/// The privilege rule: U-mode only U=1 pages; S-mode U=0 pages, and U=1 pages for loads and
/// stores only when SUM=1, never for fetches.
fn privilege_allows(user_mode: bool, user_page: bool, sum: bool, kind: AccessKind) -> bool {
    match (user_mode, user_page) {
        (true, true) => true,
        (true, false) => false,
        (false, false) => true,
        (false, true) => sum && kind != AccessKind::Fetch,
    }
}

#[test]
fn permission_matrix_matches_the_spec() {
    let perms = [
        ("R", R),
        ("RW", R | W),
        ("X", X),
        ("RX", R | X),
        ("RWX", R | W | X),
    ];
    let mut checked = 0;
    let mut allowed_count = 0;
    for kind in KINDS {
        for user_mode in [false, true] {
            for sum in [false, true] {
                for mxr in [false, true] {
                    for (name, bits) in perms {
                        for user_page in [false, true] {
                            let u = if user_page { U } else { 0 };
                            let mut mem = FakeMem::default();
                            mem.map(VA, 0, leaf_pte(PAGE_4K, V | A | D | bits | u));
                            let ctx = AccessContext {
                                user: user_mode,
                                sum,
                                mxr,
                            };
                            let expected = privilege_allows(user_mode, user_page, sum, kind)
                                && expected_by_table(name, kind, mxr);
                            let (result, _) =
                                run(&mut mem, VA, kind, ctx, AdPolicy::Hardware, true);
                            let what = format!(
                                "{kind:?} user={user_mode} sum={sum} mxr={mxr} pte={name} U={user_page}"
                            );
                            if expected {
                                let leaf = result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                                assert_eq!(leaf.translate(VA), (PAGE_4K << 12) | 0xabc, "{what}");
                                allowed_count += 1;
                            } else {
                                assert_eq!(result, Err(WalkFault::Page), "{what}");
                            }
                            // The walker's own predicate agrees.
                            assert_eq!(
                                super::walker::permitted(V | A | D | bits | u, kind, ctx),
                                expected,
                                "{what}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 2 * 2 * 5 * 2);
    // Spot-check the table itself so a broken table cannot pass silently.
    assert!(allowed_count > 0 && allowed_count < checked);
}

#[test]
fn permission_spot_checks() {
    let load_x_only = |mxr| {
        let mut mem = FakeMem::default();
        mem.map(VA, 0, leaf_pte(PAGE_4K, V | X | A | D));
        hw(
            &mut mem,
            VA,
            AccessKind::Load,
            AccessContext {
                user: false,
                sum: false,
                mxr,
            },
        )
    };
    assert_eq!(load_x_only(false), Err(WalkFault::Page));
    assert!(load_x_only(true).is_ok());
    // S-mode fetch from a U page: a fault even with SUM.
    let mut mem = FakeMem::default();
    mem.map(VA, 0, leaf_pte(PAGE_4K, V | R | X | U | A | D));
    let sum = AccessContext {
        user: false,
        sum: true,
        mxr: false,
    };
    assert_eq!(
        hw(&mut mem, VA, AccessKind::Fetch, sum),
        Err(WalkFault::Page)
    );
    assert!(hw(&mut mem, VA, AccessKind::Load, sum).is_ok());
    assert_eq!(
        hw(&mut mem, VA, AccessKind::Load, SUPERVISOR),
        Err(WalkFault::Page)
    );
    assert!(hw(&mut mem, VA, AccessKind::Fetch, USER).is_ok());
    // Permission faults never set A/D.
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 0, leaf_pte(PAGE_4K, V | R));
    assert_eq!(
        hw(&mut mem, VA, AccessKind::Store, SUPERVISOR),
        Err(WalkFault::Page)
    );
    assert!(mem.cas_attempts.is_empty());
    assert_eq!(mem.get(addr), leaf_pte(PAGE_4K, V | R));
}

// ---- Leaves at each level ----

#[test]
fn four_kib_leaf_translates_with_offset() {
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 0, leaf_pte(PAGE_4K, ALL_PERMS));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Load,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    let leaf = result.unwrap();
    assert_eq!(
        leaf,
        Leaf {
            pte: leaf_pte(PAGE_4K, ALL_PERMS),
            pte_addr: addr,
            level: 0
        }
    );
    assert_eq!(leaf.translate(VA), 0x9123_4abc);
    assert_eq!(leaf.translate(VA | 0xfff), 0x9123_4fff);
    assert_eq!(
        counts,
        WalkCounts {
            pte_reads: 3,
            ad_writes: 0
        }
    );
    assert_eq!(
        mem.reads,
        vec![
            slot(ROOT, VA, 2),
            slot(L1_TABLE, VA, 1),
            slot(L0_TABLE, VA, 0)
        ]
    );
}

#[test]
fn two_mib_leaf_translates_with_offset() {
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 1, leaf_pte(PAGE_2M, ALL_PERMS));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Load,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    let leaf = result.unwrap();
    assert_eq!(
        leaf,
        Leaf {
            pte: leaf_pte(PAGE_2M, ALL_PERMS),
            pte_addr: addr,
            level: 1
        }
    );
    assert_eq!(leaf.translate(VA), (PAGE_2M << 12) | (VA & 0x1f_ffff));
    assert_eq!(leaf.translate(VA), 0x9136_7abc);
    assert_eq!(
        counts,
        WalkCounts {
            pte_reads: 2,
            ad_writes: 0
        }
    );
    // Other VAs in the same 2 MiB region share the leaf.
    let other = (VA & !0x1f_ffff) | 0x1f_fff8;
    let leaf = hw(&mut mem, other, AccessKind::Load, SUPERVISOR).unwrap();
    assert_eq!(leaf.translate(other), (PAGE_2M << 12) | 0x1f_fff8);
}

#[test]
fn one_gib_leaf_translates_with_offset() {
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 2, leaf_pte(PAGE_1G, ALL_PERMS));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Fetch,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    let leaf = result.unwrap();
    assert_eq!(
        leaf,
        Leaf {
            pte: leaf_pte(PAGE_1G, ALL_PERMS),
            pte_addr: addr,
            level: 2
        }
    );
    assert_eq!(leaf.translate(VA), (PAGE_1G << 12) | (VA & 0x3fff_ffff));
    assert_eq!(leaf.translate(VA), 0x2_7456_7abc);
    assert_eq!(
        counts,
        WalkCounts {
            pte_reads: 1,
            ad_writes: 0
        }
    );
}

#[test]
fn pte_reads_per_level() {
    for (level, ppn, reads) in [(0u8, PAGE_4K, 3u64), (1, PAGE_2M, 2), (2, PAGE_1G, 1)] {
        let mut mem = FakeMem::default();
        mem.map(VA, level, leaf_pte(ppn, ALL_PERMS));
        for kind in KINDS {
            let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Trap, true);
            assert_eq!(result.unwrap().level, level);
            assert_eq!(
                counts,
                WalkCounts {
                    pte_reads: reads,
                    ad_writes: 0
                },
                "level {level}"
            );
        }
    }
}

#[test]
fn global_and_high_ppn_bits_are_kept_in_the_leaf() {
    let mut mem = FakeMem::default();
    let ppn = 0xfff_ffff_f000; // all 44 PPN bits in use above the low field
    mem.map(VA, 0, leaf_pte(ppn, ALL_PERMS | G));
    let leaf = hw(&mut mem, VA, AccessKind::Load, SUPERVISOR).unwrap();
    assert_eq!(leaf.pte & G, G);
    assert_eq!(leaf.translate(VA), (ppn << 12) | 0xabc);
}

// ---- Accessed and dirty bits (4.3.2 step 7) ----

#[test]
fn hardware_policy_sets_accessed_on_load_and_fetch() {
    for kind in [AccessKind::Load, AccessKind::Fetch] {
        let mut mem = FakeMem::default();
        let old = leaf_pte(PAGE_4K, V | R | X);
        let addr = mem.map(VA, 0, old);
        let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Hardware, true);
        let leaf = result.unwrap();
        assert_eq!(
            leaf.pte,
            old | A,
            "{kind:?}: the leaf is the PTE as written"
        );
        assert_eq!(mem.get(addr), old | A, "{kind:?}: D stays clear");
        assert_eq!(mem.cas_attempts, vec![(addr, old, old | A)]);
        assert_eq!(
            counts,
            WalkCounts {
                pte_reads: 3,
                ad_writes: 1
            }
        );
        // A second walk finds A set and writes nothing.
        let (_, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Hardware, true);
        assert_eq!(
            counts,
            WalkCounts {
                pte_reads: 3,
                ad_writes: 0
            }
        );
        assert_eq!(mem.cas_attempts.len(), 1);
    }
}

#[test]
fn hardware_policy_sets_accessed_and_dirty_on_store() {
    for initial in [V | R | W, V | R | W | A] {
        let mut mem = FakeMem::default();
        let old = leaf_pte(PAGE_2M, initial);
        let addr = mem.map(VA, 1, old);
        let (result, counts) = run(
            &mut mem,
            VA,
            AccessKind::Store,
            SUPERVISOR,
            AdPolicy::Hardware,
            true,
        );
        assert_eq!(result.unwrap().pte, old | A | D);
        assert_eq!(mem.get(addr), old | A | D);
        assert_eq!(mem.cas_attempts, vec![(addr, old, old | A | D)]);
        assert_eq!(
            counts,
            WalkCounts {
                pte_reads: 2,
                ad_writes: 1
            }
        );
    }
    // A load on a clean page leaves D alone; a later store then sets it.
    let mut mem = FakeMem::default();
    let old = leaf_pte(PAGE_4K, V | R | W);
    let addr = mem.map(VA, 0, old);
    hw(&mut mem, VA, AccessKind::Load, SUPERVISOR).unwrap();
    assert_eq!(mem.get(addr), old | A);
    hw(&mut mem, VA, AccessKind::Store, SUPERVISOR).unwrap();
    assert_eq!(mem.get(addr), old | A | D);
    assert_eq!(mem.writes, vec![(addr, old | A), (addr, old | A | D)]);
}

#[test]
fn failed_cas_rereads_the_pte_and_uses_the_new_value() {
    let mut mem = FakeMem::default();
    let old = leaf_pte(PAGE_4K, V | R | W);
    let addr = mem.map(VA, 0, old);
    // Another hart remaps the page (still without A) between our read and our CAS.
    let remapped = leaf_pte(0x9_9999, V | R | W);
    mem.race = Some((addr, remapped));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Store,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    let leaf = result.unwrap();
    assert_eq!(leaf.pte, remapped | A | D);
    assert_eq!(leaf.translate(VA), 0x9999_9abc);
    assert_eq!(mem.get(addr), remapped | A | D);
    assert_eq!(
        mem.cas_attempts,
        vec![(addr, old, old | A | D), (addr, remapped, remapped | A | D)]
    );
    assert_eq!(counts.ad_writes, 1, "only the successful CAS is a write");
    // Step 2 again: the same PTE is read once more (not the whole walk).
    assert_eq!(counts.pte_reads, 4);
    assert_eq!(mem.reads[2..], [addr, addr]);
}

#[test]
fn failed_cas_that_finds_a_usable_pte_needs_no_write() {
    let mut mem = FakeMem::default();
    let old = leaf_pte(PAGE_4K, V | R);
    let addr = mem.map(VA, 0, old);
    // Another hart set A itself.
    mem.race = Some((addr, old | A));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Load,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    assert_eq!(result.unwrap().pte, old | A);
    assert_eq!(
        counts,
        WalkCounts {
            pte_reads: 4,
            ad_writes: 0
        }
    );
    assert_eq!(mem.cas_attempts.len(), 1);
}

#[test]
fn failed_cas_that_finds_an_invalid_pte_faults() {
    let mut mem = FakeMem::default();
    let old = leaf_pte(PAGE_4K, V | R | W);
    let addr = mem.map(VA, 0, old);
    mem.race = Some((addr, 0));
    let (result, counts) = run(
        &mut mem,
        VA,
        AccessKind::Load,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    assert_eq!(result, Err(WalkFault::Page));
    assert_eq!(counts.ad_writes, 0);
    assert_eq!(mem.get(addr), 0, "the other hart's store stands");
    // And one that lost its permission faults too.
    let mut mem = FakeMem::default();
    let addr = mem.map(VA, 0, old);
    mem.race = Some((addr, leaf_pte(PAGE_4K, V | R)));
    let (result, _) = run(
        &mut mem,
        VA,
        AccessKind::Store,
        SUPERVISOR,
        AdPolicy::Hardware,
        true,
    );
    assert_eq!(result, Err(WalkFault::Page));
    assert_eq!(mem.get(addr), leaf_pte(PAGE_4K, V | R));
}

#[test]
fn trap_policy_faults_when_a_or_d_needs_setting_and_never_writes() {
    let cases = [
        // (flags, kind, expect ok)
        (V | R | W | X, AccessKind::Load, false),
        (V | R | W | X, AccessKind::Fetch, false),
        (V | R | W | X, AccessKind::Store, false),
        (V | R | W | X | D, AccessKind::Store, false), // D without A
        (V | R | W | X | A, AccessKind::Store, false),
        (V | R | W | X | A, AccessKind::Load, true),
        (V | R | W | X | A, AccessKind::Fetch, true),
        (V | R | W | X | A | D, AccessKind::Store, true),
    ];
    for level in 0..3u8 {
        let ppn = [PAGE_4K, PAGE_2M, PAGE_1G][level as usize];
        for (flags, kind, ok) in cases {
            let mut mem = FakeMem::default();
            let addr = mem.map(VA, level, leaf_pte(ppn, flags));
            let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, AdPolicy::Trap, true);
            let what = format!("{} {kind:?} level {level}", pte::describe(flags));
            if ok {
                assert_eq!(result.unwrap().pte, leaf_pte(ppn, flags), "{what}");
            } else {
                assert_eq!(result, Err(WalkFault::Page), "{what}");
            }
            assert!(mem.cas_attempts.is_empty(), "{what}");
            assert_eq!(counts.ad_writes, 0, "{what}");
            assert_eq!(mem.get(addr), leaf_pte(ppn, flags), "{what}");
        }
    }
}

#[test]
fn walk_without_update_never_writes_nor_needs_a_or_d() {
    for policy in [AdPolicy::Hardware, AdPolicy::Trap] {
        for kind in KINDS {
            let mut mem = FakeMem::default();
            let clean = leaf_pte(PAGE_4K, V | R | W | X);
            let addr = mem.map(VA, 0, clean);
            let (result, counts) = run(&mut mem, VA, kind, SUPERVISOR, policy, false);
            assert_eq!(result.unwrap().pte, clean, "{policy:?} {kind:?}");
            assert_eq!(
                counts,
                WalkCounts {
                    pte_reads: 3,
                    ad_writes: 0
                }
            );
            assert!(mem.cas_attempts.is_empty());
            assert_eq!(mem.get(addr), clean);
            // Permission checks still apply.
            let (result, _) = run(&mut mem, VA, kind, USER, policy, false);
            assert_eq!(result, Err(WalkFault::Page));
        }
    }
}
