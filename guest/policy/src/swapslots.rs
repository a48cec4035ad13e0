//! Swap slots: which page-sized slots of the swap area hold a swapped-out page, and how many
//! page-table entries name each one.
//!
//! A page swapped out leaves a swap entry in its PTE naming a slot. After fork, a
//! copy-on-write page is shared, and when it is swapped out every sharer's PTE names the same
//! slot, so a slot carries a reference count, like the `swap_map` counts of Linux's
//! `mm/swapfile.c`. The kernel allocates a slot, [`SwapSlots::retain`]s it once per PTE it
//! writes, [`SwapSlots::release`]s it when a PTE stops naming it (swap-in, unmap, exit), and
//! [`SwapSlots::free`]s it when the count reaches zero.
//!
//! A bitmap records which slots are allocated and a `u16` array their counts: a 4 GiB swap
//! area (1M slots) costs 128 KiB of bitmap and 2 MiB of counts. Allocation takes the lowest
//! free slot, so runs are reproducible and the swap area is filled from its start.
//!
//! Slot numbers come from PTEs, which a kernel bug could corrupt; an out-of-range or
//! unallocated slot is therefore never a panic in release builds: changes are ignored and
//! queries answer "free, count 0". Debug builds assert against the misuse.

use alloc::vec;
use alloc::vec::Vec;

/// Bits per bitmap word.
const WORD_BITS: u32 = u64::BITS;

/// The swap area's slots: which are allocated, and each one's reference count.
#[derive(Debug, Clone)]
pub struct SwapSlots {
    /// Bit `i % 64` of word `i / 64` is set when slot `i` is allocated. The bits past the
    /// last slot in the last word are set, so the allocator never hands them out.
    allocated: Vec<u64>,
    /// Each slot's count of swap-entry PTEs naming it.
    counts: Vec<u16>,
    /// No word below this one has a free bit, so allocation starts its search here.
    first_free_word: usize,
    /// How many slots the swap area has.
    total: u32,
    /// How many slots are allocated.
    used: u32,
}

impl SwapSlots {
    /// A swap area of `slots` slots, all free.
    pub fn new(slots: u32) -> Self {
        let words = slots.div_ceil(WORD_BITS) as usize;
        let mut allocated = vec![0; words];
        let tail_bits = slots % WORD_BITS;
        if tail_bits != 0 {
            // `tail_bits != 0` means there is a last word, partly past the end.
            allocated[words - 1] = !0 << tail_bits;
        }
        SwapSlots {
            allocated,
            counts: vec![0; slots as usize],
            first_free_word: 0,
            total: slots,
            used: 0,
        }
    }

    /// How many slots the swap area has.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// How many slots are allocated.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Allocates the lowest-numbered free slot, with a count of 0, or `None` when the swap
    /// area is full.
    pub fn alloc(&mut self) -> Option<u32> {
        let found = self.allocated[self.first_free_word..]
            .iter()
            .position(|&word| word != u64::MAX);
        let Some(offset) = found else {
            self.first_free_word = self.allocated.len();
            return None;
        };
        let word = self.first_free_word + offset;
        // The word may have more free bits, so the search starts here next time.
        self.first_free_word = word;
        let bit = self.allocated[word].trailing_ones();
        let slot = word as u32 * WORD_BITS + bit;
        debug_assert!(slot < self.total, "padding bit {slot} was free");
        if slot >= self.total {
            return None;
        }
        self.allocated[word] |= 1 << bit;
        self.counts[slot as usize] = 0;
        self.used += 1;
        Some(slot)
    }

    /// Counts one more PTE naming `slot`. The count saturates at `u16::MAX` and then stays
    /// there: a slot whose sharers cannot be counted is never freed (a leak, not a slot
    /// reused under a live PTE). Ignored for a slot not allocated.
    pub fn retain(&mut self, slot: u32) {
        debug_assert!(self.is_allocated(slot), "retain of free swap slot {slot}");
        if !self.is_allocated(slot) {
            return;
        }
        let count = &mut self.counts[slot as usize];
        debug_assert!(*count < u16::MAX, "swap slot {slot} count saturated");
        *count = count.saturating_add(1);
    }

    /// Counts one PTE fewer naming `slot`; true when the count has just reached zero, and
    /// the caller then [`SwapSlots::free`]s the slot. False, with the count unchanged, for a
    /// count already zero, a saturated count (see [`SwapSlots::retain`]), or a slot not
    /// allocated.
    pub fn release(&mut self, slot: u32) -> bool {
        debug_assert!(self.is_allocated(slot), "release of free swap slot {slot}");
        if !self.is_allocated(slot) {
            return false;
        }
        let count = &mut self.counts[slot as usize];
        debug_assert!(*count > 0, "release of swap slot {slot} with count 0");
        match *count {
            0 | u16::MAX => false,
            _ => {
                *count -= 1;
                *count == 0
            }
        }
    }

    /// Returns `slot` to the free pool. Its count must be zero: a slot still named by a PTE
    /// is left allocated rather than handed out again under it. Freeing a free slot is
    /// ignored.
    pub fn free(&mut self, slot: u32) {
        debug_assert!(self.is_allocated(slot), "double free of swap slot {slot}");
        if !self.is_allocated(slot) {
            return;
        }
        debug_assert_eq!(
            self.counts[slot as usize], 0,
            "free of named swap slot {slot}"
        );
        if self.counts[slot as usize] != 0 {
            return;
        }
        let word = (slot / WORD_BITS) as usize;
        self.allocated[word] &= !(1 << (slot % WORD_BITS));
        self.first_free_word = self.first_free_word.min(word);
        self.used -= 1;
    }

    /// How many PTEs name `slot`; 0 for a free or out-of-range slot.
    pub fn count(&self, slot: u32) -> u16 {
        if self.is_allocated(slot) {
            self.counts[slot as usize]
        } else {
            0
        }
    }

    /// Whether `slot` is allocated; false for a slot out of range.
    pub fn is_allocated(&self, slot: u32) -> bool {
        slot < self.total
            && self.allocated[(slot / WORD_BITS) as usize] & (1 << (slot % WORD_BITS)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    #[test]
    fn lowest_first_and_reuse() {
        let mut slots = SwapSlots::new(130);
        assert_eq!((slots.total(), slots.used()), (130, 0));
        for expected in 0..70 {
            assert_eq!(slots.alloc(), Some(expected));
        }
        assert_eq!(slots.used(), 70);
        slots.free(65);
        slots.free(3);
        slots.free(64);
        assert_eq!(slots.used(), 67);
        assert!(!slots.is_allocated(3) && slots.is_allocated(4));
        assert_eq!(slots.alloc(), Some(3));
        assert_eq!(slots.alloc(), Some(64));
        assert_eq!(slots.alloc(), Some(65));
        assert_eq!(slots.alloc(), Some(70));
    }

    #[test]
    fn exhaustion() {
        for total in [0, 1, 63, 64, 65, 128, 200] {
            let mut slots = SwapSlots::new(total);
            for expected in 0..total {
                assert_eq!(slots.alloc(), Some(expected));
            }
            assert_eq!(slots.alloc(), None, "{total} slots");
            assert_eq!(slots.used(), total);
            if total > 0 {
                slots.free(total - 1);
                assert_eq!(slots.alloc(), Some(total - 1));
                assert_eq!(slots.alloc(), None);
            }
        }
    }

    #[test]
    fn counts_and_release_to_zero() {
        let mut slots = SwapSlots::new(10);
        let slot = slots.alloc().unwrap();
        assert_eq!(slots.count(slot), 0);
        slots.retain(slot);
        slots.retain(slot);
        slots.retain(slot);
        assert_eq!(slots.count(slot), 3);
        assert!(!slots.release(slot));
        assert!(!slots.release(slot));
        assert_eq!(slots.count(slot), 1);
        assert!(slots.release(slot));
        assert_eq!(slots.count(slot), 0);
        assert!(slots.is_allocated(slot));
        slots.free(slot);
        assert!(!slots.is_allocated(slot));
        // A reallocated slot starts from zero.
        assert_eq!(slots.alloc(), Some(slot));
        assert_eq!(slots.count(slot), 0);
    }

    #[test]
    fn saturated_count_sticks() {
        let mut slots = SwapSlots::new(1);
        let slot = slots.alloc().unwrap();
        for _ in 0..u16::MAX {
            slots.retain(slot);
        }
        assert_eq!(slots.count(slot), u16::MAX);
        assert!(!slots.release(slot));
        assert_eq!(slots.count(slot), u16::MAX);
    }

    #[test]
    fn out_of_range_queries() {
        let slots = SwapSlots::new(100);
        for slot in [100, 127, 128, u32::MAX] {
            assert!(!slots.is_allocated(slot));
            assert_eq!(slots.count(slot), 0);
        }
    }

    // Misuse: asserted in debug builds, ignored in release builds (`cargo test --release`).

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "retain of free swap slot"))]
    fn retain_out_of_range_is_ignored() {
        let mut slots = SwapSlots::new(100);
        slots.retain(127);
        assert_eq!(slots.count(127), 0);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "release of free swap slot"))]
    fn release_out_of_range_is_ignored() {
        let mut slots = SwapSlots::new(100);
        assert!(!slots.release(u32::MAX));
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "double free of swap slot"))]
    fn free_out_of_range_is_ignored() {
        let mut slots = SwapSlots::new(100);
        slots.free(100);
        assert_eq!(slots.used(), 0);
        assert_eq!(slots.alloc(), Some(0));
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "double free of swap slot"))]
    fn double_free_is_ignored() {
        let mut slots = SwapSlots::new(10);
        let slot = slots.alloc().unwrap();
        slots.free(slot);
        slots.free(slot);
        assert_eq!(slots.used(), 0);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "free of named swap slot"))]
    fn free_of_named_slot_is_refused() {
        let mut slots = SwapSlots::new(10);
        let slot = slots.alloc().unwrap();
        slots.retain(slot);
        slots.free(slot);
        assert!(slots.is_allocated(slot));
        assert_eq!(slots.alloc(), Some(slot + 1));
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "with count 0"))]
    fn release_at_zero_is_ignored() {
        let mut slots = SwapSlots::new(10);
        let slot = slots.alloc().unwrap();
        assert!(!slots.release(slot));
        assert!(slots.is_allocated(slot));
    }

    /// A deterministic xorshift64 generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    /// Checks the allocator against a map from allocated slot to count, making only valid
    /// calls, over word boundaries and through exhaustion.
    #[test]
    fn matches_a_model() {
        const TOTAL: u32 = 150;
        let mut slots = SwapSlots::new(TOTAL);
        let mut model: BTreeMap<u32, u16> = BTreeMap::new();
        let mut random = XorShift(0x2545_F491_4F6C_DD1D);
        for step in 0..5000 {
            let allocated: Vec<u32> = model.keys().copied().collect();
            let pick =
                |random: &mut XorShift| allocated[random.below(allocated.len() as u64) as usize];
            // Allocation is favoured early so the area fills up, then frees catch up.
            let choice = random.below(if step % 1000 < 500 { 6 } else { 10 });
            match choice {
                0..=2 => {
                    let expected = (0..TOTAL).find(|slot| !model.contains_key(slot));
                    assert_eq!(slots.alloc(), expected, "step {step}");
                    if let Some(slot) = expected {
                        model.insert(slot, 0);
                    }
                }
                3 | 4 if !allocated.is_empty() => {
                    let slot = pick(&mut random);
                    slots.retain(slot);
                    *model.get_mut(&slot).unwrap() += 1;
                }
                _ if !allocated.is_empty() => {
                    let slot = pick(&mut random);
                    let count = model[&slot];
                    if count > 0 {
                        assert_eq!(slots.release(slot), count == 1, "step {step}");
                        model.insert(slot, count - 1);
                    } else {
                        slots.free(slot);
                        model.remove(&slot);
                    }
                }
                _ => {}
            }
            assert_eq!(slots.used() as usize, model.len());
            for slot in 0..TOTAL + 70 {
                assert_eq!(slots.is_allocated(slot), model.contains_key(&slot));
                assert_eq!(slots.count(slot), model.get(&slot).copied().unwrap_or(0));
            }
        }
    }
}
