//! Pipes (pipe(7)): a bounded byte queue with counts of open read and write ends. A read
//! from an empty pipe waits while a writer exists and returns 0 (end of file) after the
//! last one closes; a write with no reader left is `EPIPE` (and SIGPIPE).

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;

/// Linux's default pipe capacity.
pub const CAPACITY: usize = 64 * 1024;
/// Writes of at most this many bytes are atomic (pipe(7)).
pub const PIPE_BUF: u64 = 4096;

/// The shared state of a pipe.
#[derive(Default)]
pub struct Pipe {
    /// Bytes written and not yet read.
    pub buffer: VecDeque<u8>,
    /// Open read ends.
    pub readers: usize,
    /// Open write ends.
    pub writers: usize,
}

/// One end of a pipe; dropping it (when the last descriptor sharing it closes) updates the
/// pipe's counts.
pub struct PipeEnd {
    /// The pipe.
    pub pipe: Rc<RefCell<Pipe>>,
    /// Whether this is the write end.
    pub write: bool,
}

impl PipeEnd {
    /// A new pipe: (read end, write end).
    pub fn pair() -> (PipeEnd, PipeEnd) {
        let pipe = Rc::new(RefCell::new(Pipe {
            buffer: VecDeque::new(),
            readers: 1,
            writers: 1,
        }));
        (
            PipeEnd {
                pipe: pipe.clone(),
                write: false,
            },
            PipeEnd { pipe, write: true },
        )
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut pipe = self.pipe.borrow_mut();
        if self.write {
            pipe.writers -= 1;
        } else {
            pipe.readers -= 1;
        }
        crate::proc::wake_all(crate::proc::WaitReason::Pipe);
    }
}
