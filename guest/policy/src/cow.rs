//! Copy-on-write: the two decisions reference counts drive, and a model of fork, write,
//! swap and exit that checks them.
//!
//! After fork every private page is mapped read-only in both address spaces and its frame
//! has one more reference. A write fault then either copies the frame (someone else still
//! holds it) or, when the writer is the last holder, makes the entry writable again without
//! a copy. The kernel (`guest/kernel/src/mm/space.rs`) asks [`write_fault`] and
//! [`writable`] with the frame's *sharers*: its references that hold its contents (page-table
//! entries and the swap cache, not a disk request in flight).

use crate::vma::Sharing;

/// What a write fault on a present, read-only private page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CowAction {
    /// Others hold the frame: copy it and map the copy writable.
    Copy,
    /// The writer is the last holder: make its entry writable, no copy.
    Reuse,
}

/// The write fault's action for a frame with `sharers` references.
pub fn write_fault(sharers: u16) -> CowAction {
    if sharers <= 1 {
        CowAction::Reuse
    } else {
        CowAction::Copy
    }
}

/// Whether an entry for a frame with `sharers` references may be writable in an area that
/// allows writing: a shared area's always, a private area's only while nobody else holds the
/// frame (so that the next write copies it).
pub fn writable(sharing: Sharing, sharers: u16) -> bool {
    sharing == Sharing::Shared || sharers <= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    #[test]
    fn decisions() {
        assert_eq!(write_fault(1), CowAction::Reuse);
        assert_eq!(write_fault(2), CowAction::Copy);
        assert_eq!(write_fault(0), CowAction::Reuse);
        assert!(writable(Sharing::Private, 1));
        assert!(!writable(Sharing::Private, 2));
        assert!(writable(Sharing::Shared, 5));
    }

    /// Where a process's page is: a frame, or a swap slot.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Entry {
        Frame { frame: usize, writable: bool },
        Slot(usize),
    }

    /// A model of frames (contents and references), swap slots (contents and references)
    /// and processes with private pages, driven by the two decisions above.
    #[derive(Default)]
    struct Model {
        frames: BTreeMap<usize, (u64, u16)>,
        slots: BTreeMap<usize, (u64, u16)>,
        procs: BTreeMap<usize, Vec<Entry>>,
        /// What each process must read from each page.
        expect: BTreeMap<usize, Vec<u64>>,
        next: usize,
        copies: usize,
        reuses: usize,
    }

    impl Model {
        fn new_frame(&mut self, value: u64) -> usize {
            self.next += 1;
            self.frames.insert(self.next, (value, 1));
            self.next
        }

        fn drop_frame(&mut self, frame: usize) {
            let f = self.frames.get_mut(&frame).unwrap();
            f.1 -= 1;
            if f.1 == 0 {
                self.frames.remove(&frame);
            }
        }

        fn drop_slot(&mut self, slot: usize) {
            let s = self.slots.get_mut(&slot).unwrap();
            s.1 -= 1;
            if s.1 == 0 {
                self.slots.remove(&slot);
            }
        }

        fn spawn(&mut self, pid: usize, pages: usize) {
            let entries = (0..pages)
                .map(|p| Entry::Frame {
                    frame: self.new_frame(p as u64),
                    writable: true,
                })
                .collect();
            self.procs.insert(pid, entries);
            self.expect.insert(pid, (0..pages as u64).collect());
        }

        fn fork(&mut self, parent: usize, child: usize) {
            let mut entries = self.procs[&parent].clone();
            for e in &mut entries {
                match e {
                    Entry::Frame { frame, writable } => {
                        self.frames.get_mut(frame).unwrap().1 += 1;
                        *writable = false;
                    }
                    Entry::Slot(slot) => self.slots.get_mut(slot).unwrap().1 += 1,
                }
            }
            self.procs.insert(parent, entries.clone());
            self.procs.insert(child, entries);
            let expect = self.expect[&parent].clone();
            self.expect.insert(child, expect);
        }

        /// Brings a swapped page back (a fresh frame per fault: no swap cache in the model).
        fn fault_in(&mut self, pid: usize, page: usize) -> usize {
            match self.procs[&pid][page] {
                Entry::Frame { frame, .. } => frame,
                Entry::Slot(slot) => {
                    let value = self.slots[&slot].0;
                    self.drop_slot(slot);
                    let frame = self.new_frame(value);
                    self.procs.get_mut(&pid).unwrap()[page] = Entry::Frame {
                        frame,
                        writable: writable(Sharing::Private, 1),
                    };
                    frame
                }
            }
        }

        fn write(&mut self, pid: usize, page: usize, value: u64) {
            let frame = self.fault_in(pid, page);
            let Entry::Frame { writable: w, .. } = self.procs[&pid][page] else {
                unreachable!()
            };
            let target = if w {
                frame
            } else {
                match write_fault(self.frames[&frame].1) {
                    CowAction::Reuse => {
                        self.reuses += 1;
                        frame
                    }
                    CowAction::Copy => {
                        self.copies += 1;
                        let copy = self.new_frame(self.frames[&frame].0);
                        self.drop_frame(frame);
                        copy
                    }
                }
            };
            self.frames.get_mut(&target).unwrap().0 = value;
            self.procs.get_mut(&pid).unwrap()[page] = Entry::Frame {
                frame: target,
                writable: true,
            };
            self.expect.get_mut(&pid).unwrap()[page] = value;
        }

        /// Swaps a frame out of every entry that maps it: one slot, one reference per entry.
        fn swap_out(&mut self, frame: usize) {
            self.next += 1;
            let slot = self.next;
            let mut holders = 0;
            for entries in self.procs.values_mut() {
                for e in entries.iter_mut() {
                    if matches!(*e, Entry::Frame { frame: f, .. } if f == frame) {
                        *e = Entry::Slot(slot);
                        holders += 1;
                    }
                }
            }
            assert_eq!(
                holders, self.frames[&frame].1,
                "the reverse map misses a holder"
            );
            let value = self.frames.remove(&frame).unwrap().0;
            self.slots.insert(slot, (value, holders));
        }

        fn exit(&mut self, pid: usize) {
            for e in self.procs.remove(&pid).unwrap() {
                match e {
                    Entry::Frame { frame, .. } => self.drop_frame(frame),
                    Entry::Slot(slot) => self.drop_slot(slot),
                }
            }
            self.expect.remove(&pid);
        }

        /// Every process reads what it wrote or inherited, and every frame and slot is held
        /// by exactly the entries that name it.
        fn check(&self) {
            let mut frame_refs: BTreeMap<usize, u16> = BTreeMap::new();
            let mut slot_refs: BTreeMap<usize, u16> = BTreeMap::new();
            for (pid, entries) in &self.procs {
                for (page, e) in entries.iter().enumerate() {
                    let value = match *e {
                        Entry::Frame { frame, writable } => {
                            *frame_refs.entry(frame).or_default() += 1;
                            if writable {
                                assert_eq!(self.frames[&frame].1, 1, "a shared frame is writable");
                            }
                            self.frames[&frame].0
                        }
                        Entry::Slot(slot) => {
                            *slot_refs.entry(slot).or_default() += 1;
                            self.slots[&slot].0
                        }
                    };
                    assert_eq!(value, self.expect[pid][page], "pid {pid} page {page}");
                }
            }
            let counts = |m: &BTreeMap<usize, (u64, u16)>| {
                m.iter()
                    .map(|(&k, &(_, n))| (k, n))
                    .collect::<BTreeMap<_, _>>()
            };
            assert_eq!(frame_refs, counts(&self.frames), "frame references");
            assert_eq!(slot_refs, counts(&self.slots), "slot references");
        }
    }

    #[test]
    fn fork_then_write_copies_until_the_last_holder() {
        let mut m = Model::default();
        m.spawn(1, 4);
        m.fork(1, 2);
        m.write(2, 0, 100); // parent still holds it: copy
        m.write(1, 0, 200); // now alone: reuse
        m.check();
        assert_eq!((m.copies, m.reuses), (1, 1));
        m.exit(2);
        m.write(1, 1, 300); // the child's exit left the parent alone
        assert_eq!((m.copies, m.reuses), (1, 2));
        m.check();
        m.exit(1);
        assert!(m.frames.is_empty() && m.slots.is_empty());
    }

    #[test]
    fn random_fork_write_swap_exit_loses_and_duplicates_nothing() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..50 {
            let mut m = Model::default();
            m.spawn(1, 6);
            let mut next_pid = 2;
            for step in 0..200 {
                let pids: Vec<usize> = m.procs.keys().copied().collect();
                let pid = pids[rand(pids.len())];
                match rand(10) {
                    0 | 1 if pids.len() < 6 => {
                        m.fork(pid, next_pid);
                        next_pid += 1;
                    }
                    2 if pids.len() > 1 => m.exit(pid),
                    3 | 4 => {
                        let frames: Vec<usize> = m.frames.keys().copied().collect();
                        if !frames.is_empty() {
                            m.swap_out(frames[rand(frames.len())]);
                        }
                    }
                    5 => {
                        m.fault_in(pid, rand(6));
                    }
                    _ => m.write(pid, rand(6), 1000 + step as u64),
                }
                m.check();
            }
            for pid in m.procs.keys().copied().collect::<Vec<_>>() {
                m.exit(pid);
            }
            assert!(m.frames.is_empty() && m.slots.is_empty(), "leaked");
        }
    }
}
