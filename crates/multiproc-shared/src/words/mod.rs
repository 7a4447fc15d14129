//! Synchronisation words: plain `#[repr(C)]` structs of atomics, placed inside a
//! [`Segment`](crate::Segment), on which the locks of this crate are built.
//!
//! Every word is valid when all-zero (a fresh segment is zero-filled) and holds no
//! pointers, so each process may map it at a different address. Sleeping uses a Linux
//! futex *without* `FUTEX_PRIVATE_FLAG` (the kernel keys a shared futex on the mapped
//! page, not the address) with relative `CLOCK_MONOTONIC` timeouts; see futex(2).
//!
//! Obtain a word with [`Segment::word`](crate::Segment::word) (an error for an unaligned
//! or out-of-bounds offset).
//!
//! ```
//! use multiproc_shared::{Segment, words::{Acquire, LockWord}};
//!
//! let segment = Segment::new(64)?;
//! let lock: &LockWord = segment.word(0)?;
//! assert_eq!(lock.acquire(None), Acquire::Acquired);
//! lock.release()?;
//! # Ok::<(), multiproc_shared::Error>(())
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

mod condvar;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod shim;

pub use self::condvar::CondvarWord;
pub use self::event::EventWord;
pub use self::lock::LockWord;
pub use self::rlock::RLockWord;
pub use self::semaphore::SemaphoreWord;

/// How often a waiter on a held lock checks whether the owner process still lives.
pub const OWNER_CHECK_INTERVAL: Duration = Duration::from_millis(50);

mod sealed {
    pub trait Sealed {}
}

/// The synchronisation words of this module (`repr(C)`, all atomics, valid when zero),
/// and the plain `AtomicU32` and `AtomicU64`.
/// Sealed: it is what makes [`Segment::word`](crate::Segment::word) safe.
pub trait Word: sealed::Sealed + Sync {}

macro_rules! word {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Word for $t {}
    )*};
}
word!(
    LockWord,
    RLockWord,
    CondvarWord,
    SemaphoreWord,
    EventWord,
    AtomicU32,
    AtomicU64
);

/// The outcome of a timed lock acquisition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acquire {
    /// The caller holds the lock.
    Acquired,
    /// The previous owner process died holding the lock; the caller holds it now and
    /// the data it protects may be inconsistent.
    OwnerDied,
    /// The deadline passed (or, for `try_acquire`, the lock is held by a live owner).
    /// From [`CondvarWord::wait`] this still means the lock is held again.
    TimedOut,
}

impl Acquire {
    /// Whether a lock acquisition succeeded ([`Acquired`](Acquire::Acquired) or
    /// [`OwnerDied`](Acquire::OwnerDied)). Not meaningful for [`CondvarWord::wait`], which
    /// always returns holding the lock.
    ///
    /// ```
    /// use multiproc_shared::words::Acquire;
    /// assert!(Acquire::OwnerDied.is_held());
    /// assert!(!Acquire::TimedOut.is_held());
    /// ```
    pub fn is_held(self) -> bool {
        !matches!(self, Acquire::TimedOut)
    }
}

/// Time left until `deadline`, or `None` once it has passed.
pub(crate) fn remaining(deadline: Instant) -> Option<Duration> {
    deadline.checked_duration_since(Instant::now())
}
