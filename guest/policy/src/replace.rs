//! Page replacement: which resident user page the kernel swaps out when it needs a frame.
//!
//! The kernel keeps its resident user pages, named by frame index, in a [`Replacer`] and asks
//! it for a victim when memory runs short. Three policies, as taught in Tanenbaum's *Modern
//! Operating Systems* (chapter 3, page replacement) and Silberschatz, Galvin and Gagne's
//! *Operating System Concepts* (the virtual-memory chapter):
//!
//! - [`Policy::Fifo`]: evict the page resident longest, whatever its use. Cheap, and blind.
//! - [`Policy::Clock`]: second chance (Corbató's clock). The pages sit on a circle swept by a
//!   hand; a page whose reference bit (the Sv39 PTE `A` bit) is set gets its bit cleared and
//!   is passed over once; the first page found with a clear bit is the victim. A FIFO that
//!   spares pages in use.
//! - [`Policy::Lru`]: least recently used, approximated by the *aging* algorithm: each page
//!   has a 32-bit counter that is shifted right at every aging step with the reference bit
//!   entering at the top, so the counter records the last 32 steps' references, the most
//!   recent the most significant; the smallest counter is the least recently used page.
//!
//! Belady's anomaly: on the reference string `1,2,3,4,1,2,5,1,2,3,4,5`, FIFO takes 9 faults
//! with 3 frames but 10 with 4 (Belady, Nelson and Shedler, 1969). FIFO is not a *stack
//! algorithm* (Mattson et al., 1970): the pages it holds with `n` frames are not always among
//! those it holds with `n + 1`. LRU is one (the `n` most recently used pages are among the
//! `n + 1` most recently used), so more frames never cost it more faults: 10 faults with 3
//! frames, 8 with 4. Clock picks FIFO's victims on that string, so it shows the anomaly too
//! (9 and 10 faults). [`simulate`] counts these faults, and the tests assert the figures.
//!
//! The resident set is an intrusive circular doubly-linked list in two `u32` arrays indexed
//! by page, so inserting and removing a page cost O(1) and a resident set of 16M pages costs
//! 8 bytes a page (12 for LRU, which also keeps the counters). Finding a victim costs a walk
//! past the pages that cannot be evicted (FIFO), a sweep of the hand (Clock), or an aging
//! step and a comparison over the [`LRU_WINDOW`] oldest evictable pages (LRU: the textbook
//! algorithm ages every page at every clock tick and scans them all, which a kernel with
//! thousands of resident pages cannot afford at every eviction; below the window's size the
//! two agree).

use alloc::vec;
use alloc::vec::Vec;

/// The list link of a page that is not resident; also the empty list's head.
const NIL: u32 = u32::MAX;

/// How many of the oldest evictable pages LRU ages and compares per victim: the cost of a
/// choice stays bounded however much memory is resident (a kernel with thousands of pages
/// would otherwise sample every A bit at every eviction). With no more resident pages than
/// this, the choice is the textbook aging algorithm's.
pub const LRU_WINDOW: usize = 32;

/// A newly resident page's aging counter: referenced in the latest step.
const JUST_REFERENCED: u32 = 1 << 31;

/// A page-replacement policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// First in, first out: the oldest resident page is the victim.
    Fifo,
    /// Second chance: FIFO order swept by a hand that spares referenced pages once.
    Clock,
    /// Least recently used, approximated by aging counters.
    Lru,
}

impl Policy {
    /// Every policy, in the order [`Policy::name`] lists them to users.
    pub const ALL: [Policy; 3] = [Policy::Fifo, Policy::Clock, Policy::Lru];

    /// The policy named `name` (`"fifo"`, `"clock"` or `"lru"`, lowercase as on the kernel
    /// command line), or `None`.
    pub fn parse(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|policy| policy.name() == name)
    }

    /// The policy's name, as [`Policy::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::Clock => "clock",
            Policy::Lru => "lru",
        }
    }
}

/// The resident user pages (frame indices below a fixed capacity) and the state a
/// [`Policy`] needs to choose which one to evict.
///
/// List order is insertion order, oldest first. For Clock the list's head is the hand, so
/// the oldest page is the one the hand reaches first, and a page inserted goes just behind
/// the hand: the last the hand will reach, as in the textbook where the new page takes the
/// victim's place on the circle.
#[derive(Debug, Clone)]
pub struct Replacer {
    /// The policy choosing victims.
    policy: Policy,
    /// The next page on the circle, or [`NIL`] for a page that is not resident.
    next: Vec<u32>,
    /// The previous page on the circle, or [`NIL`] for a page that is not resident.
    prev: Vec<u32>,
    /// The oldest page (for Clock, the page under the hand), or [`NIL`] when empty.
    head: u32,
    /// How many pages are resident.
    len: usize,
    /// The aging counters, indexed by page; empty unless the policy is LRU, so the other
    /// policies do not pay 4 bytes a page for them.
    counters: Vec<u32>,
}

impl Replacer {
    /// An empty replacer for pages `0..capacity`.
    ///
    /// The links are `u32`, so a capacity above `u32::MAX` pages (16 TiB of 4 KiB pages) is
    /// cut to `u32::MAX`.
    pub fn new(policy: Policy, capacity: usize) -> Self {
        debug_assert!(
            capacity <= NIL as usize,
            "replacer capacity {capacity} too large"
        );
        let capacity = capacity.min(NIL as usize);
        Replacer {
            policy,
            next: vec![NIL; capacity],
            prev: vec![NIL; capacity],
            head: NIL,
            len: 0,
            counters: match policy {
                Policy::Lru => vec![0; capacity],
                Policy::Fifo | Policy::Clock => Vec::new(),
            },
        }
    }

    /// The policy this replacer follows.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// How many pages it can hold: pages `0..capacity()`.
    pub fn capacity(&self) -> usize {
        self.next.len()
    }

    /// Makes `page` resident, as the newest page (for LRU, just referenced). A page already
    /// resident keeps its place and age.
    ///
    /// A page at or beyond the capacity is a kernel bug, but the kernel must not crash over
    /// it: it is ignored (and asserted against in debug builds).
    pub fn insert(&mut self, page: usize) {
        debug_assert!(
            page < self.capacity(),
            "page {page} beyond replacer capacity"
        );
        if page >= self.capacity() || self.contains(page) {
            return;
        }
        // `capacity() <= NIL`, so the page fits a link and is not NIL itself.
        let link = page as u32;
        if self.head == NIL {
            self.next[page] = link;
            self.prev[page] = link;
            self.head = link;
        } else {
            // Just behind the head: the newest page for FIFO and LRU, the last page the
            // hand reaches for Clock.
            let tail = self.prev[self.head as usize];
            self.next[tail as usize] = link;
            self.prev[page] = tail;
            self.next[page] = self.head;
            self.prev[self.head as usize] = link;
        }
        if let Some(counter) = self.counters.get_mut(page) {
            *counter = JUST_REFERENCED;
        }
        self.len += 1;
    }

    /// Makes `page` no longer resident (freed, pinned, swapped out by other means). If the
    /// Clock hand was on it, the hand moves to the next page. A page not resident is ignored.
    pub fn remove(&mut self, page: usize) {
        if !self.contains(page) {
            return;
        }
        let next = self.next[page];
        let prev = self.prev[page];
        if next as usize == page {
            self.head = NIL;
        } else {
            self.next[prev as usize] = next;
            self.prev[next as usize] = prev;
            if self.head as usize == page {
                self.head = next;
            }
        }
        self.next[page] = NIL;
        self.prev[page] = NIL;
        self.len -= 1;
    }

    /// Whether `page` is resident.
    pub fn contains(&self, page: usize) -> bool {
        self.next.get(page).is_some_and(|&next| next != NIL)
    }

    /// How many pages are resident.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no page is resident.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The resident pages in list order: oldest first, and for Clock starting at the hand.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let mut page = self.head;
        (0..self.len).map(move |_| {
            let current = page as usize;
            page = self.next[current];
            current
        })
    }

    /// The aging counter of a resident page under LRU; `None` for a page not resident or
    /// another policy.
    pub fn counter(&self, page: usize) -> Option<u32> {
        if self.contains(page) {
            self.counters.get(page).copied()
        } else {
            None
        }
    }

    /// One step of the aging algorithm (LRU only; a no-op for FIFO and Clock, which do not
    /// call `referenced`): for every resident page,
    /// `counter = (counter >> 1) | (referenced(page) as u32) << 31`.
    ///
    /// `referenced(page)` reads and clears the page's reference bit (the PTE `A` bit), so
    /// each step sees the references made since the previous one. Ages are sampled only here
    /// and at each LRU victim choice; the kernel calls this from its timer tick, which bounds
    /// how coarse the approximation is. Costs one call per resident page.
    pub fn age(&mut self, mut referenced: impl FnMut(usize) -> bool) {
        if self.policy != Policy::Lru {
            return;
        }
        let mut page = self.head;
        for _ in 0..self.len {
            let index = page as usize;
            let bit = u32::from(referenced(index)) << 31;
            self.counters[index] = (self.counters[index] >> 1) | bit;
            page = self.next[index];
        }
    }

    /// Chooses a victim among the resident pages for which `evictable(page)` is true,
    /// removes it and returns it; `None` when no resident page is evictable.
    ///
    /// `referenced(page)` reads and clears the page's reference bit (the PTE `A` bit). FIFO
    /// never calls it; Clock calls it for the evictable pages the hand passes; LRU ages the
    /// [`LRU_WINDOW`] oldest evictable pages (an aging step for each: shift, and the bit on
    /// top) and takes the one with the smallest counter.
    pub fn victim(
        &mut self,
        referenced: impl FnMut(usize) -> bool,
        evictable: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let victim = match self.policy {
            Policy::Fifo => self.oldest_evictable(evictable),
            Policy::Clock => self.sweep(referenced, evictable),
            Policy::Lru => self.least_recently_used(referenced, evictable),
        }?;
        self.remove(victim);
        Some(victim)
    }

    /// FIFO: the first evictable page from the head.
    fn oldest_evictable(&self, mut evictable: impl FnMut(usize) -> bool) -> Option<usize> {
        self.iter().find(|&page| evictable(page))
    }

    /// Clock: sweeps the hand from where it stopped to the first evictable page whose
    /// reference bit is clear, and leaves the hand on that page (so [`Replacer::remove`]
    /// moves it just past). Non-evictable pages are passed untouched: their bits still tell
    /// whether they are in use when they become evictable again.
    fn sweep(
        &mut self,
        mut referenced: impl FnMut(usize) -> bool,
        mut evictable: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let mut page = self.head;
        let mut first_evictable = None;
        // The first sweep clears every evictable page's bit, so the second finds one clear,
        // unless the bits were set again behind the hand.
        for step in 0..2 * self.len {
            if step == self.len && first_evictable.is_none() {
                return None;
            }
            let index = page as usize;
            if evictable(index) {
                first_evictable.get_or_insert(page);
                if !referenced(index) {
                    self.head = page;
                    return Some(index);
                }
            }
            page = self.next[index];
        }
        // Every evictable page stayed referenced over two sweeps (its bit set again between
        // them). Memory is still needed, so the first evictable page past the old hand goes,
        // as plain FIFO would have chosen.
        let page = first_evictable?;
        self.head = page;
        Some(page as usize)
    }

    /// LRU: the evictable page with the smallest counter, the oldest inserted on a tie.
    fn least_recently_used(
        &mut self,
        mut referenced: impl FnMut(usize) -> bool,
        mut evictable: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let mut best: Option<(usize, u32)> = None;
        let mut seen = 0;
        let mut page = self.head;
        // List order is insertion order, so keeping the first of equal counters keeps the
        // oldest.
        for _ in 0..self.len {
            let index = page as usize;
            page = self.next[index];
            if !evictable(index) {
                continue;
            }
            let bit = u32::from(referenced(index)) << 31;
            self.counters[index] = (self.counters[index] >> 1) | bit;
            let counter = self.counters[index];
            if best.is_none_or(|(_, least)| counter < least) {
                best = Some((index, counter));
            }
            seen += 1;
            if seen == LRU_WINDOW {
                break;
            }
        }
        best.map(|(page, _)| page)
    }
}

/// Counts the page faults `policy` takes on the reference string `refs` with `frames`
/// frames, starting empty (every first reference faults).
///
/// Each reference sets the page's reference bit, as the hardware sets the PTE `A` bit, and
/// `referenced` reads and clears it; every resident page is evictable. Under LRU, an aging
/// step follows every reference, so the counters see each reference in order: on strings
/// where no resident page goes 32 references unreferenced, the approximation is then exact
/// LRU. With no frames every reference faults.
pub fn simulate(policy: Policy, frames: usize, refs: &[usize]) -> usize {
    if frames == 0 {
        return refs.len();
    }
    let pages = refs.iter().max().map_or(0, |&max| max + 1);
    let mut replacer = Replacer::new(policy, pages);
    let mut bits = vec![false; pages];
    let mut faults = 0;
    for &page in refs {
        if !replacer.contains(page) {
            faults += 1;
            if replacer.len() >= frames {
                replacer.victim(|p| core::mem::take(&mut bits[p]), |_| true);
            }
            replacer.insert(page);
        }
        bits[page] = true;
        replacer.age(|p| core::mem::take(&mut bits[p]));
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;

    /// Belady's reference string (Belady, Nelson and Shedler 1969, and the textbooks).
    const BELADY: [usize; 12] = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

    fn pages(replacer: &Replacer) -> Vec<usize> {
        replacer.iter().collect()
    }

    fn filled(policy: Policy, capacity: usize, resident: &[usize]) -> Replacer {
        let mut replacer = Replacer::new(policy, capacity);
        for &page in resident {
            replacer.insert(page);
        }
        replacer
    }

    /// A victim choice where no page was referenced and all are evictable.
    fn victim_unreferenced(replacer: &mut Replacer) -> Option<usize> {
        replacer.victim(|_| false, |_| true)
    }

    #[test]
    fn policy_names() {
        for policy in Policy::ALL {
            assert_eq!(Policy::parse(policy.name()), Some(policy));
        }
        assert_eq!(Policy::parse("fifo"), Some(Policy::Fifo));
        assert_eq!(Policy::parse("clock"), Some(Policy::Clock));
        assert_eq!(Policy::parse("lru"), Some(Policy::Lru));
        assert_eq!(Policy::parse("LRU"), None);
        assert_eq!(Policy::parse(""), None);
        assert_eq!(Policy::parse("lru "), None);
    }

    #[test]
    fn fifo_belady_anomaly() {
        assert_eq!(simulate(Policy::Fifo, 3, &BELADY), 9);
        assert_eq!(simulate(Policy::Fifo, 4, &BELADY), 10);
    }

    #[test]
    fn lru_no_anomaly() {
        assert_eq!(simulate(Policy::Lru, 3, &BELADY), 10);
        assert_eq!(simulate(Policy::Lru, 4, &BELADY), 8);
    }

    // Clock on Belady's string. The circle is written from the hand, `r` marking a set
    // reference bit; a faulting reference sets the new page's bit too.
    //
    // 3 frames:
    //   1 2 3      faults        -> 1r 2r 3r
    //   4          fault: 1,2,3 spared, 1 now clear: evict 1 -> 2 3 4r
    //   1          fault: evict 2                      -> 3 4r 1r
    //   2          fault: evict 3                      -> 4r 1r 2r
    //   5          fault: all spared, evict 4          -> 1 2 5r
    //   1 2        hits                                -> 1r 2r 5r
    //   3          fault: all spared, evict 1          -> 2 5 3r
    //   4          fault: evict 2                      -> 5 3r 4r
    //   5          hit                                 -> 5r 3r 4r
    //   9 faults.
    //
    // 4 frames:
    //   1 2 3 4    faults, 1 2 hits -> 1r 2r 3r 4r
    //   5          fault: all spared, evict 1 -> 2 3 4 5r
    //   1          fault: evict 2             -> 3 4 5r 1r
    //   2          fault: evict 3             -> 4 5r 1r 2r
    //   3          fault: evict 4             -> 5r 1r 2r 3r
    //   4          fault: all spared, evict 5 -> 1 2 3 4r
    //   5          fault: evict 1             -> 2 3 4r 5r
    //   10 faults: the anomaly again, as every page is referenced between faults.
    #[test]
    fn clock_belady_string() {
        assert_eq!(simulate(Policy::Clock, 3, &BELADY), 9);
        assert_eq!(simulate(Policy::Clock, 4, &BELADY), 10);
    }

    // 1 2 3 4 fill and evict 1 (all spared first): 2 3 4r. The hit on 2 sets its bit, so 5
    // spares 2 and evicts 3 where FIFO evicts 2, and the last reference to 2 is a hit.
    #[test]
    fn clock_gives_second_chances() {
        let refs = [1, 2, 3, 4, 2, 5, 2];
        assert_eq!(simulate(Policy::Fifo, 3, &refs), 6);
        assert_eq!(simulate(Policy::Clock, 3, &refs), 5);
        assert_eq!(simulate(Policy::Lru, 3, &refs), 5);
    }

    #[test]
    fn simulate_edges() {
        for policy in Policy::ALL {
            assert_eq!(simulate(policy, 0, &BELADY), 12);
            assert_eq!(simulate(policy, 3, &[]), 0);
            assert_eq!(simulate(policy, 5, &BELADY), 5);
            assert_eq!(simulate(policy, 1, &[0, 0, 0, 7, 7, 0]), 3);
        }
    }

    /// A deterministic xorshift64 generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    fn random_strings() -> impl Iterator<Item = Vec<usize>> {
        let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
        (0..300).map(move |_| {
            let len = random.below(201);
            let pages = 1 + random.below(12);
            (0..len).map(|_| random.below(pages)).collect()
        })
    }

    /// Exact LRU: the resident pages ordered by last use, least recent first.
    fn exact_lru(frames: usize, refs: &[usize]) -> usize {
        let mut recency: Vec<usize> = Vec::new();
        let mut faults = 0;
        for &page in refs {
            if let Some(at) = recency.iter().position(|&p| p == page) {
                recency.remove(at);
            } else {
                faults += 1;
                if recency.len() == frames {
                    recency.remove(0);
                }
            }
            recency.push(page);
        }
        faults
    }

    fn exact_fifo(frames: usize, refs: &[usize]) -> usize {
        let mut queue: VecDeque<usize> = VecDeque::new();
        let mut faults = 0;
        for &page in refs {
            if !queue.contains(&page) {
                faults += 1;
                if queue.len() == frames {
                    queue.pop_front();
                }
                queue.push_back(page);
            }
        }
        faults
    }

    #[test]
    fn random_strings_match_models() {
        for refs in random_strings() {
            for frames in 1..8 {
                let lru = simulate(Policy::Lru, frames, &refs);
                assert_eq!(lru, exact_lru(frames, &refs), "lru {frames} {refs:?}");
                let fifo = simulate(Policy::Fifo, frames, &refs);
                assert_eq!(fifo, exact_fifo(frames, &refs), "fifo {frames} {refs:?}");
                // No exact model for Clock, but every policy faults once per distinct page
                // at least, and only once per page when all fit.
                let mut distinct = refs.clone();
                distinct.sort_unstable();
                distinct.dedup();
                let clock = simulate(Policy::Clock, frames, &refs);
                assert!(distinct.len() <= clock && clock <= refs.len());
                if frames >= distinct.len() {
                    assert_eq!(clock, distinct.len());
                }
            }
        }
    }

    #[test]
    fn lru_is_a_stack_algorithm() {
        for refs in random_strings() {
            let faults: Vec<usize> = (1..=8)
                .map(|frames| simulate(Policy::Lru, frames, &refs))
                .collect();
            assert!(
                faults.windows(2).all(|pair| pair[1] <= pair[0]),
                "{faults:?} on {refs:?}"
            );
        }
    }

    #[test]
    fn insert_is_idempotent() {
        for policy in Policy::ALL {
            let mut replacer = filled(policy, 8, &[3, 5, 3, 1, 5]);
            assert_eq!(pages(&replacer), [3, 5, 1]);
            assert_eq!(replacer.len(), 3);
            assert!(replacer.contains(5) && !replacer.contains(4));
            assert_eq!(victim_unreferenced(&mut replacer), Some(3));
        }
        // A resident page keeps its age under LRU.
        let mut lru = filled(Policy::Lru, 4, &[0]);
        lru.age(|_| false);
        lru.insert(0);
        assert_eq!(lru.counter(0), Some(JUST_REFERENCED >> 1));
    }

    #[test]
    fn remove_anywhere() {
        for policy in Policy::ALL {
            let mut replacer = filled(policy, 8, &[0, 1, 2, 3, 4]);
            replacer.remove(2); // middle
            assert_eq!(pages(&replacer), [0, 1, 3, 4]);
            replacer.remove(0); // head (the hand, for Clock)
            assert_eq!(pages(&replacer), [1, 3, 4]);
            replacer.remove(4); // tail
            assert_eq!(pages(&replacer), [1, 3]);
            replacer.remove(4); // absent
            replacer.remove(100); // beyond capacity
            assert_eq!(replacer.len(), 2);
            replacer.remove(1);
            replacer.remove(3);
            assert!(replacer.is_empty());
            assert_eq!(pages(&replacer), [] as [usize; 0]);
            assert_eq!(victim_unreferenced(&mut replacer), None);
            // Usable again once empty.
            replacer.insert(6);
            assert_eq!(pages(&replacer), [6]);
            assert_eq!(victim_unreferenced(&mut replacer), Some(6));
        }
    }

    #[test]
    fn clock_remove_at_hand_moves_hand() {
        let mut clock = filled(Policy::Clock, 8, &[0, 1, 2, 3]);
        // Page 0 is referenced: spared; 1 is the victim; the hand stops on 2.
        assert_eq!(clock.victim(|p| p == 0, |_| true), Some(1));
        assert_eq!(pages(&clock), [2, 3, 0]);
        clock.remove(2);
        assert_eq!(pages(&clock), [3, 0]);
        // New pages go behind the hand: the last it reaches.
        clock.insert(5);
        assert_eq!(pages(&clock), [3, 0, 5]);
        assert_eq!(victim_unreferenced(&mut clock), Some(3));
    }

    #[test]
    fn non_evictable_pages_are_skipped() {
        for policy in Policy::ALL {
            let mut replacer = filled(policy, 8, &[0, 1, 2, 3]);
            let mut asked = Vec::new();
            let victim = replacer.victim(
                |page| {
                    asked.push(page);
                    false
                },
                |page| page >= 2,
            );
            assert_eq!(victim, Some(2), "{policy:?}");
            assert_eq!(pages(&replacer).len(), 3);
            assert!(replacer.contains(0) && replacer.contains(1));
            match policy {
                Policy::Fifo => assert_eq!(asked, [] as [usize; 0]),
                // The skipped pages' bits are left alone.
                Policy::Clock => assert_eq!(asked, [2]),
                // Only evictable pages are aged at victim time.
                Policy::Lru => assert_eq!(asked, [2, 3]),
            }
        }
    }

    #[test]
    fn nothing_evictable() {
        for policy in Policy::ALL {
            let mut replacer = filled(policy, 8, &[4, 2, 6]);
            assert_eq!(replacer.victim(|_| true, |_| false), None);
            assert_eq!(replacer.victim(|_| false, |_| false), None);
            assert_eq!(pages(&replacer), [4, 2, 6]);
        }
    }

    #[test]
    fn clock_finds_a_referenced_lone_evictable_page() {
        let mut clock = filled(Policy::Clock, 8, &[0, 1, 2, 3]);
        let mut bits = [true; 8];
        let victim = clock.victim(|p| core::mem::take(&mut bits[p]), |p| p == 2);
        assert_eq!(victim, Some(2));
        // Only the evictable page's bit was read; the hand stopped past it.
        assert_eq!(bits, [true, true, false, true, true, true, true, true]);
        assert_eq!(pages(&clock), [3, 0, 1]);
        // Even if its bit is set again between sweeps, the page still goes.
        let mut clock = filled(Policy::Clock, 8, &[0, 1]);
        assert_eq!(clock.victim(|_| true, |p| p == 1), Some(1));
        assert_eq!(pages(&clock), [0]);
    }

    #[test]
    fn clock_spares_referenced_pages() {
        let mut clock = filled(Policy::Clock, 8, &[0, 1, 2, 3]);
        let mut bits = [true, true, false, true, false, false, false, false];
        let victim = clock.victim(|p| core::mem::take(&mut bits[p]), |_| true);
        assert_eq!(victim, Some(2));
        assert_eq!(&bits[..4], [false, false, false, true]);
        assert_eq!(pages(&clock), [3, 0, 1]);
        // From where the hand stopped: 3 spared, then 0 (clear since the last sweep).
        let victim = clock.victim(|p| core::mem::take(&mut bits[p]), |_| true);
        assert_eq!(victim, Some(0));
        assert_eq!(pages(&clock), [1, 3]);
    }

    #[test]
    fn lru_aging() {
        let mut lru = filled(Policy::Lru, 8, &[0, 1, 2]);
        assert_eq!(lru.counter(0), Some(1 << 31));
        lru.age(|p| p == 1);
        assert_eq!(lru.counter(0), Some(1 << 30));
        assert_eq!(lru.counter(1), Some(3 << 30));
        lru.age(|p| p == 0);
        assert_eq!(lru.counter(0), Some((1 << 31) | (1 << 29)));
        assert_eq!(lru.counter(2), Some(1 << 29));
        assert_eq!(lru.counter(5), None);
        // The victim's own aging step sees 2 referenced: 1 is now the least recently used.
        assert_eq!(lru.victim(|p| p == 2, |_| true), Some(1));
        // Equal counters: the oldest inserted goes first.
        let mut lru = filled(Policy::Lru, 8, &[5, 3, 7]);
        assert_eq!(victim_unreferenced(&mut lru), Some(5));
        assert_eq!(victim_unreferenced(&mut lru), Some(3));
        // Aging is a no-op for the other policies, which never read reference bits there.
        for policy in [Policy::Fifo, Policy::Clock] {
            let mut replacer = filled(policy, 4, &[0, 1]);
            replacer.age(|_| panic!("{policy:?} aged"));
            assert_eq!(replacer.counter(0), None);
        }
    }

    #[test]
    fn fifo_ignores_references() {
        let mut fifo = filled(Policy::Fifo, 8, &[2, 0, 1]);
        let victim = fifo.victim(|_| panic!("fifo read a reference bit"), |_| true);
        assert_eq!(victim, Some(2));
        assert_eq!(victim_unreferenced(&mut fifo), Some(0));
    }

    #[test]
    fn lru_counters_only_for_lru() {
        assert!(Replacer::new(Policy::Fifo, 1000).counters.is_empty());
        assert!(Replacer::new(Policy::Clock, 1000).counters.is_empty());
        assert_eq!(Replacer::new(Policy::Lru, 1000).counters.len(), 1000);
        assert_eq!(Replacer::new(Policy::Clock, 1000).capacity(), 1000);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "beyond replacer capacity"))]
    fn insert_beyond_capacity_is_ignored() {
        let mut replacer = Replacer::new(Policy::Clock, 4);
        replacer.insert(4);
        assert!(replacer.is_empty());
        assert!(!replacer.contains(4));
    }
}
