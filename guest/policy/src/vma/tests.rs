//! Tests of the VMA set against the Linux behaviour of mmap, munmap, mprotect and brk.

use super::*;
use alloc::vec;

const P: u64 = PAGE_SIZE;

fn file_vma(start: u64, end: u64, offset: u64, file_end: u64) -> Vma {
    Vma {
        start,
        end,
        perms: Perms::R,
        sharing: Sharing::Private,
        backing: Backing::File {
            file: 7,
            offset,
            file_end,
        },
        name: VmaName::File {
            path: Arc::from("/f"),
            dev_major: 0,
            dev_minor: 1,
            inode: 9,
        },
    }
}

fn ranges(set: &VmaSet) -> Vec<(u64, u64)> {
    set.iter().map(|v| (v.start, v.end)).collect()
}

fn layout() -> MmapLayout {
    MmapLayout {
        floor: 0x10000,
        ceiling: 0x100000,
        user_end: USER_END,
        reserved: 0..0,
    }
}

#[test]
fn find_and_insert() {
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x1000, 0x3000, Perms::RW))
        .unwrap();
    set.insert(Vma::anonymous(0x5000, 0x6000, Perms::R))
        .unwrap();
    assert_eq!(set.find(0x0fff), None);
    assert_eq!(set.find(0x1000).unwrap().start, 0x1000);
    assert_eq!(set.find(0x2fff).unwrap().start, 0x1000);
    assert_eq!(set.find(0x3000), None);
    assert_eq!(set.find(0x5800).unwrap().start, 0x5000);
    assert_eq!(set.find(u64::MAX), None);
    assert_eq!(
        set.insert(Vma::anonymous(0x2000, 0x4000, Perms::RW)),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        set.insert(Vma::anonymous(0x4000, 0x5800, Perms::RW)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        set.insert(Vma::anonymous(0x4000, 0x4000, Perms::RW)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        set.insert(Vma::anonymous(0x7fff_f000, 0x8000_1000, Perms::RW)),
        Err(Errno::ENOMEM),
        "the kernel window is off limits"
    );
    assert_eq!(
        set.insert(Vma::anonymous(USER_END, USER_END + P, Perms::RW)),
        Err(Errno::ENOMEM)
    );
    assert_eq!(set.len(), 2);
}

#[test]
fn adjacent_anonymous_areas_merge() {
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x1000, 0x2000, Perms::RW))
        .unwrap();
    set.insert(Vma::anonymous(0x3000, 0x4000, Perms::RW))
        .unwrap();
    set.insert(Vma::anonymous(0x2000, 0x3000, Perms::RW))
        .unwrap();
    assert_eq!(ranges(&set), vec![(0x1000, 0x4000)]);
    // Different rights, sharing or name keep areas apart.
    set.insert(Vma::anonymous(0x4000, 0x5000, Perms::R))
        .unwrap();
    let mut shared = Vma::anonymous(0x5000, 0x6000, Perms::R);
    shared.sharing = Sharing::Shared;
    set.insert(shared.clone()).unwrap();
    shared.start = 0x6000;
    shared.end = 0x7000;
    set.insert(shared).unwrap();
    let mut heap = Vma::anonymous(0x7000, 0x8000, Perms::R);
    heap.name = VmaName::Heap;
    set.insert(heap).unwrap();
    assert_eq!(
        ranges(&set),
        vec![
            (0x1000, 0x4000),
            (0x4000, 0x5000),
            (0x5000, 0x6000),
            (0x6000, 0x7000),
            (0x7000, 0x8000)
        ]
    );
}

#[test]
fn file_areas_merge_only_when_contiguous_in_the_file() {
    let mut set = VmaSet::new();
    set.insert(file_vma(0x10000, 0x12000, 0, 0x5000)).unwrap();
    set.insert(file_vma(0x12000, 0x13000, 0x2000, 0x5000))
        .unwrap();
    assert_eq!(ranges(&set), vec![(0x10000, 0x13000)]);
    set.insert(file_vma(0x13000, 0x14000, 0x4000, 0x5000))
        .unwrap();
    assert_eq!(ranges(&set), vec![(0x10000, 0x13000), (0x13000, 0x14000)]);
    set.insert(Vma::anonymous(0x14000, 0x15000, Perms::R))
        .unwrap();
    assert_eq!(set.len(), 3, "file and anonymous never merge");
}

#[test]
fn map_fixed_replaces_and_splits() {
    let mut set = VmaSet::new();
    set.insert(file_vma(0x10000, 0x20000, 0x3000, 0x100000))
        .unwrap();
    let removed = set
        .map_fixed(Vma::anonymous(0x12000, 0x14000, Perms::RW))
        .unwrap();
    assert_eq!(removed, vec![0x12000..0x14000]);
    assert_eq!(
        ranges(&set),
        vec![(0x10000, 0x12000), (0x12000, 0x14000), (0x14000, 0x20000)]
    );
    // The upper piece's offset moved with its start.
    assert_eq!(set.find(0x14000).unwrap().file_offset(), 0x3000 + 0x4000);
    assert_eq!(set.find(0x10000).unwrap().file_offset(), 0x3000);
    // Mapping over a hole and two areas reports only what was mapped.
    let removed = set
        .map_fixed(Vma::anonymous(0x8000, 0x13000, Perms::R))
        .unwrap();
    assert_eq!(removed, vec![0x10000..0x13000]);
    assert_eq!(
        ranges(&set),
        vec![(0x8000, 0x13000), (0x13000, 0x14000), (0x14000, 0x20000)]
    );
    // Restoring the original mapping merges the file pieces back.
    set.map_fixed(file_vma(0x10000, 0x14000, 0x3000, 0x100000))
        .unwrap();
    assert_eq!(ranges(&set), vec![(0x8000, 0x10000), (0x10000, 0x20000)]);
}

#[test]
fn unmap_splits_and_allows_holes() {
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x10000, 0x20000, Perms::RW))
        .unwrap();
    set.insert(Vma::anonymous(0x30000, 0x40000, Perms::R))
        .unwrap();
    assert_eq!(
        set.unmap(0x18000, 0x1a000).unwrap(),
        vec![0x18000..0x20000, 0x30000..0x32000]
    );
    assert_eq!(ranges(&set), vec![(0x10000, 0x18000), (0x32000, 0x40000)]);
    assert_eq!(
        set.unmap(0x50000, P).unwrap(),
        vec![],
        "unmapping nothing succeeds"
    );
    assert_eq!(
        set.unmap(0x11000, 1).unwrap(),
        vec![0x11000..0x12000],
        "length rounds up"
    );
    assert_eq!(set.unmap(0x10001, P), Err(Errno::EINVAL));
    assert_eq!(set.unmap(0x10000, 0), Err(Errno::EINVAL));
    assert_eq!(set.unmap(USER_END - P, 2 * P), Err(Errno::EINVAL));
    assert_eq!(set.unmap(0x10000, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(
        set.unmap(0, USER_END).unwrap(),
        vec![0x10000..0x11000, 0x12000..0x18000, 0x32000..0x40000]
    );
    assert!(set.is_empty());
}

#[test]
fn protect_splits_merges_and_reports() {
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x10000, 0x20000, Perms::RW))
        .unwrap();
    let changed = set.protect(0x12000, 0x2000, Perms::R).unwrap();
    assert_eq!(changed, vec![0x12000..0x14000]);
    assert_eq!(
        ranges(&set),
        vec![(0x10000, 0x12000), (0x12000, 0x14000), (0x14000, 0x20000)]
    );
    assert_eq!(set.find(0x13000).unwrap().perms, Perms::R);
    // Over the whole range: only the pieces whose rights change are reported.
    let changed = set.protect(0x10000, 0x10000, Perms::RW).unwrap();
    assert_eq!(changed, vec![0x12000..0x14000]);
    assert_eq!(ranges(&set), vec![(0x10000, 0x20000)], "merged back");
    assert_eq!(set.protect(0x10000, 0, Perms::NONE).unwrap(), vec![]);
    assert_eq!(set.protect(0x10800, P, Perms::R), Err(Errno::EINVAL));
    assert_eq!(
        set.protect(0x1f000, 0x2000, Perms::R),
        Err(Errno::ENOMEM),
        "runs past the end"
    );
    assert_eq!(
        set.protect(0xf000, 0x2000, Perms::R),
        Err(Errno::ENOMEM),
        "starts in a hole"
    );
    assert_eq!(
        ranges(&set),
        vec![(0x10000, 0x20000)],
        "a failed mprotect changes nothing"
    );
    assert_eq!(set.find(0x1f000).unwrap().perms, Perms::RW);
    // A hole in the middle.
    set.insert(Vma::anonymous(0x21000, 0x22000, Perms::RW))
        .unwrap();
    assert_eq!(set.protect(0x10000, 0x12000, Perms::R), Err(Errno::ENOMEM));
    assert_eq!(
        set.protect(0x1f000, 1, Perms::NONE).unwrap(),
        vec![0x1f000..0x20000]
    );
}

#[test]
fn protect_whole_file_area_keeps_offsets() {
    let mut set = VmaSet::new();
    set.insert(file_vma(0x10000, 0x14000, 0x1000, 0x4800))
        .unwrap();
    set.protect(0x11000, P, Perms::RW).unwrap();
    assert_eq!(set.find(0x11000).unwrap().file_offset(), 0x2000);
    assert_eq!(set.find(0x12000).unwrap().file_offset(), 0x3000);
    set.protect(0x11000, P, Perms::R).unwrap();
    assert_eq!(set.len(), 1);
}

#[test]
fn page_content_of_file_areas() {
    let vma = file_vma(0x10000, 0x14000, 0x1000, 0x3800);
    assert_eq!(
        vma.page_content(0x10010),
        PageContent::File {
            file: 7,
            offset: 0x1000,
            len: P
        }
    );
    assert_eq!(
        vma.page_content(0x11fff),
        PageContent::File {
            file: 7,
            offset: 0x2000,
            len: P
        }
    );
    assert_eq!(
        vma.page_content(0x12000),
        PageContent::File {
            file: 7,
            offset: 0x3000,
            len: 0x800
        }
    );
    assert_eq!(vma.page_content(0x13000), PageContent::BeyondEnd);
    let (_, high) = vma.split_at(0x12000);
    assert_eq!(
        high.page_content(0x12000),
        PageContent::File {
            file: 7,
            offset: 0x3000,
            len: 0x800
        }
    );
    assert_eq!(
        Vma::anonymous(0, P, Perms::R).page_content(0),
        PageContent::Zero
    );
}

#[test]
fn find_free_top_down() {
    let mut set = VmaSet::new();
    let l = layout();
    assert_eq!(set.find_free(0x3000, None, &l), Some(0xfd000));
    set.insert(Vma::anonymous(0xfd000, 0x100000, Perms::R))
        .unwrap();
    assert_eq!(set.find_free(1, None, &l), Some(0xfc000));
    set.insert(Vma::anonymous(0xf0000, 0xfc000, Perms::R))
        .unwrap();
    // A 2-page gap at 0xfc000? No: 0xfc000..0xfd000 is one page.
    assert_eq!(set.find_free(P, None, &l), Some(0xfc000));
    assert_eq!(set.find_free(2 * P, None, &l), Some(0xee000));
    // Areas above the ceiling do not matter; one straddling it lowers the top.
    set.insert(Vma::anonymous(0x100000, 0x200000, Perms::R))
        .unwrap();
    assert_eq!(set.find_free(2 * P, None, &l), Some(0xee000));
    // Nothing fits.
    assert_eq!(set.find_free(0x100000, None, &l), None);
    assert_eq!(set.find_free(0, None, &l), None);
    // Exactly the space down to the floor.
    assert_eq!(set.find_free(0xf0000 - 0x10000, None, &l), Some(0x10000));
    assert_eq!(set.find_free(0xf0000 - 0x10000 + P, None, &l), None);
}

#[test]
fn find_free_hints() {
    let mut set = VmaSet::new();
    let l = layout();
    set.insert(Vma::anonymous(0x40000, 0x50000, Perms::R))
        .unwrap();
    assert_eq!(set.find_free(P, Some(0x30000), &l), Some(0x30000));
    assert_eq!(
        set.find_free(P, Some(0x30001), &l),
        Some(0x31000),
        "hint rounds up"
    );
    assert_eq!(
        set.find_free(2 * P, Some(0x4f000), &l),
        Some(0xfe000),
        "taken: top down"
    );
    assert_eq!(
        set.find_free(P, Some(0x1000), &l),
        Some(0xff000),
        "below the floor"
    );
    assert_eq!(
        set.find_free(P, Some(0x2000_0000), &l),
        Some(0x2000_0000),
        "above the ceiling"
    );
    assert_eq!(set.find_free(P, Some(USER_END), &l), Some(0xff000));
}

#[test]
fn find_free_avoids_the_reserved_window() {
    let set = VmaSet::new();
    let l = MmapLayout {
        floor: 0x10000,
        ceiling: 0xC000_2000,
        user_end: USER_END,
        reserved: KERNEL_WINDOW,
    };
    assert_eq!(set.find_free(P, None, &l), Some(0xC000_1000));
    assert_eq!(set.find_free(0x2000, None, &l), Some(0xC000_0000));
    assert_eq!(set.find_free(0x3000, None, &l), Some(0x8000_0000 - 0x3000));
    assert_eq!(set.find_free(P, Some(0x8000_0000), &l), Some(0xC000_1000));
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x7000_0000, 0x8000_0000, Perms::R))
        .unwrap();
    assert_eq!(set.find_free(0x3000, None, &l), Some(0x7000_0000 - 0x3000));
}

#[test]
fn linux_default_layout() {
    let l = MmapLayout::linux_default(USER_END, DEFAULT_STACK_RLIMIT);
    assert_eq!(l.ceiling, USER_END - (128 << 20), "the 128 MiB minimum gap");
    let l = MmapLayout::linux_default(USER_END, 1 << 30);
    assert_eq!(l.ceiling, USER_END - (1 << 30) - STACK_GUARD_GAP);
    assert_eq!(l.reserved, KERNEL_WINDOW);
}

#[test]
fn brk_grows_into_a_heap_and_shrinks() {
    let mut set = VmaSet::new();
    set.insert(file_vma(0x10000, 0x20000, 0, 0x10000)).unwrap();
    let mut brk = Brk::new(0x20000);
    assert!(set.set_brk(&mut brk, 0x20000).is_empty());
    assert_eq!(set.len(), 1, "no heap until the break moves");
    set.set_brk(&mut brk, 0x20001);
    assert_eq!(brk.current, 0x20001);
    let heap = set.find(0x20000).unwrap();
    assert_eq!(
        (heap.start, heap.end, heap.name.clone()),
        (0x20000, 0x21000, VmaName::Heap)
    );
    set.set_brk(&mut brk, 0x23456);
    assert_eq!(ranges(&set), vec![(0x10000, 0x20000), (0x20000, 0x24000)]);
    // Shrinking inside the last page unmaps nothing; below it, the tail goes.
    assert!(set.set_brk(&mut brk, 0x23000 + 1).is_empty());
    assert_eq!(set.set_brk(&mut brk, 0x21000), vec![0x21000..0x24000]);
    assert_eq!(brk.current, 0x21000);
    // Below the start: refused, unchanged.
    set.set_brk(&mut brk, 0x1f000);
    assert_eq!(brk.current, 0x21000);
    // Shrinking to the start removes the heap.
    assert_eq!(set.set_brk(&mut brk, 0x20000), vec![0x20000..0x21000]);
    assert_eq!(set.len(), 1);
}

#[test]
fn brk_extends_the_bss_and_stops_before_the_next_area() {
    let mut set = VmaSet::new();
    set.insert(Vma::anonymous(0x20000, 0x22000, Perms::RW))
        .unwrap();
    set.insert(Vma::anonymous(0x30000, 0x31000, Perms::R))
        .unwrap();
    let mut brk = Brk::new(0x22000);
    set.set_brk(&mut brk, 0x25000);
    assert_eq!(ranges(&set), vec![(0x20000, 0x25000), (0x30000, 0x31000)]);
    assert_eq!(set.find(0x20000).unwrap().name, VmaName::Heap);
    // Growing to within a page of the next area fails.
    set.set_brk(&mut brk, 0x30000);
    assert_eq!(brk.current, 0x25000);
    set.set_brk(&mut brk, 0x2f000);
    assert_eq!(brk.current, 0x2f000);
    assert_eq!(set.find(0x2e000).unwrap().end, 0x2f000);
    // A huge request fails without overflow.
    set.set_brk(&mut brk, u64::MAX);
    assert_eq!(brk.current, 0x2f000);
}

#[test]
fn brk_refuses_the_kernel_window() {
    let mut set = VmaSet::new();
    let mut brk = Brk::new(0x7fff_e000);
    set.set_brk(&mut brk, 0x8000_1000);
    assert_eq!(brk.current, 0x7fff_e000);
    assert!(set.is_empty());
}

#[test]
fn stack_grows_down_within_limits() {
    let mut set = VmaSet::new();
    let mut stack = Vma::anonymous(USER_END - 0x21000, USER_END, Perms::RW);
    stack.name = VmaName::Stack;
    set.insert(stack).unwrap();
    set.insert(Vma::anonymous(0x10000, 0x20000, Perms::RW))
        .unwrap();
    assert!(set.expand_stack(USER_END - 0x30008, DEFAULT_STACK_RLIMIT));
    assert_eq!(
        set.find(USER_END - 0x30008).unwrap().start,
        USER_END - 0x31000
    );
    assert!(!set.expand_stack(USER_END - DEFAULT_STACK_RLIMIT - 1, DEFAULT_STACK_RLIMIT));
    assert!(set.expand_stack(USER_END - DEFAULT_STACK_RLIMIT, DEFAULT_STACK_RLIMIT));
    // Not below a stack: refused.
    assert!(!set.expand_stack(0xf000, DEFAULT_STACK_RLIMIT));
    // Too close to the area below.
    let mut set = VmaSet::new();
    let mut stack = Vma::anonymous(0x200000, 0x210000, Perms::RW);
    stack.name = VmaName::Stack;
    set.insert(stack).unwrap();
    set.insert(Vma::anonymous(0x10000, 0x20000, Perms::RW))
        .unwrap();
    assert!(!set.expand_stack(0x20000 + STACK_GUARD_GAP - 1, DEFAULT_STACK_RLIMIT));
    assert!(set.expand_stack(0x20000 + STACK_GUARD_GAP, DEFAULT_STACK_RLIMIT));
}

#[test]
fn prot_conversions() {
    assert_eq!(Perms::from_prot(PROT_READ | PROT_EXEC), Ok(Perms::RX));
    assert_eq!(Perms::from_prot(0), Ok(Perms::NONE));
    assert_eq!(Perms::from_prot(8), Err(Errno::EINVAL));
    assert_eq!(Perms::RWX.to_prot(), 7);
    assert_eq!(page_ceil(u64::MAX), None);
    assert_eq!(page_ceil(1), Some(P));
    assert_eq!(page_floor(0x1fff), 0x1000);
}

/// A small deterministic random sequence for the model test.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn random_operations_keep_the_set_consistent_with_a_page_model() {
    // Page model: for each of 64 pages, None or Some(perms as prot bits).
    let base = 0x100000;
    let mut model: [Option<u64>; 64] = [None; 64];
    let mut set = VmaSet::new();
    let mut seed = 12345;
    for _ in 0..3000 {
        let a = lcg(&mut seed) % 64;
        let n = 1 + lcg(&mut seed) % 8;
        let n = n.min(64 - a);
        let prot = lcg(&mut seed) % 8;
        let start = base + a * P;
        match lcg(&mut seed) % 3 {
            0 => {
                set.map_fixed(Vma::anonymous(
                    start,
                    start + n * P,
                    Perms::from_prot(prot).unwrap(),
                ))
                .unwrap();
                (a..a + n).for_each(|i| model[i as usize] = Some(prot));
            }
            1 => {
                set.unmap(start, n * P).unwrap();
                (a..a + n).for_each(|i| model[i as usize] = None);
            }
            _ => {
                let full = (a..a + n).all(|i| model[i as usize].is_some());
                let result = set.protect(start, n * P, Perms::from_prot(prot).unwrap());
                assert_eq!(result.is_ok(), full);
                if full {
                    (a..a + n).for_each(|i| model[i as usize] = Some(prot));
                }
            }
        }
        // Compare, and check that no two neighbours are left unmerged.
        for (i, expected) in model.iter().enumerate() {
            let got = set.find(base + i as u64 * P).map(|v| v.perms.to_prot());
            assert_eq!(got, *expected, "page {i}");
        }
        let all: Vec<&Vma> = set.iter().collect();
        for pair in all.windows(2) {
            assert!(pair[0].end <= pair[1].start);
            assert!(
                !pair[0].can_merge_with(pair[1]),
                "{:?} and {:?} unmerged",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn find_free_matches_a_brute_force_search() {
    let mut seed = 777;
    for round in 0..200 {
        let mut set = VmaSet::new();
        let base = 0x7ff0_0000u64; // straddles the start of the kernel window
        for _ in 0..(lcg(&mut seed) % 12) {
            let start = base + (lcg(&mut seed) % 0x40) * P;
            let end = start + (1 + lcg(&mut seed) % 6) * P;
            let _ = set.insert(Vma::anonymous(start, end, Perms::RW));
        }
        let reserved = if round % 2 == 0 { KERNEL_WINDOW } else { 0..0 };
        let l = MmapLayout {
            floor: base + (lcg(&mut seed) % 8) * P,
            ceiling: base + (0x30 + lcg(&mut seed) % 0x20) * P,
            user_end: USER_END,
            reserved: reserved.clone(),
        };
        for len in [P, 2 * P, 3 * P, 7 * P, 0x20 * P] {
            let brute = (l.floor / P..l.ceiling / P)
                .rev()
                .map(|page| page * P)
                .find(|&s| {
                    s + len <= l.ceiling
                        && !(s < reserved.end && reserved.start < s + len)
                        && set.is_free(s..s + len)
                });
            assert_eq!(
                set.find_free(len, None, &l),
                brute,
                "round {round}, len {len:#x}"
            );
        }
    }
}
