//! Global kernel state on a single hart with interrupts off in the kernel.
//!
//! [`KernelCell`] hands out `&mut T` inside a closure and panics on re-entry, which on one
//! hart with no kernel preemption is the only way two borrows could overlap.

use core::cell::{Cell, UnsafeCell};

/// A global that one closure at a time may borrow mutably.
pub struct KernelCell<T> {
    value: UnsafeCell<T>,
    borrowed: Cell<bool>,
}

// SAFETY: the kernel runs on one hart and never takes a trap in the middle of its own code
// (sstatus.SIE is clear in S-mode), so no two threads of execution ever reach the cell; the
// borrow flag catches re-entry from the same one.
unsafe impl<T> Sync for KernelCell<T> {}

impl<T> KernelCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        KernelCell {
            value: UnsafeCell::new(value),
            borrowed: Cell::new(false),
        }
    }

    /// Runs `body` with exclusive access to the value.
    ///
    /// # Panics
    ///
    /// If called again from inside `body` for the same cell.
    pub fn with<R>(&self, body: impl FnOnce(&mut T) -> R) -> R {
        assert!(
            !self.borrowed.replace(true),
            "re-entrant use of a kernel global"
        );
        // SAFETY: the flag proves no other reference to the value exists (see the Sync impl).
        let result = body(unsafe { &mut *self.value.get() });
        self.borrowed.set(false);
        result
    }
}
