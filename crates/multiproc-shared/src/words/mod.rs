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
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

mod condvar;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod shim;

#[cfg(all(test, loom))]
mod loom_tests;

pub use self::condvar::CondvarWord;
pub use self::event::EventWord;
pub use self::lock::LockWord;
pub use self::rlock::RLockWord;
pub use self::semaphore::SemaphoreWord;

/// How often a waiter on a held lock checks whether the owner process still lives.
///
/// ```
/// use multiproc_shared::words::OWNER_CHECK_INTERVAL;
/// // A waiter notices a dead owner within about this long.
/// assert!(OWNER_CHECK_INTERVAL < std::time::Duration::from_secs(1));
/// ```
pub const OWNER_CHECK_INTERVAL: Duration = Duration::from_millis(50);

mod sealed {
    pub trait Sealed {}
}

/// The synchronisation words of this module (`repr(C)`, all atomics, valid when zero),
/// and the plain `AtomicU32` and `AtomicU64`.
/// Sealed: it is what makes [`Segment::word`](crate::Segment::word) safe.
///
/// ```
/// use multiproc_shared::Segment;
/// use multiproc_shared::words::{EventWord, Word};
/// fn place<W: Word>(segment: &Segment, offset: usize) -> Result<&W, multiproc_shared::SharedError> {
///     segment.word::<W>(offset)
/// }
/// let segment = Segment::new(64)?;
/// let event: &EventWord = place(&segment, 0)?;
/// event.set();
/// assert!(event.is_set());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub trait Word: sealed::Sealed + Sync {
    /// Bit `i` set: the 8-byte word `i` of this type is accessed as one `AtomicU64`;
    /// clear: as `AtomicU32`s. [`Segment`](crate::Segment) refuses to access a word with
    /// atomics of two sizes, which Rust's memory model does not allow to race.
    #[doc(hidden)]
    const WIDE_WORDS: u32;
}

macro_rules! word {
    ($($t:ty => $wide:expr),*) => {$(
        impl sealed::Sealed for $t {}
        impl Word for $t {
            const WIDE_WORDS: u32 = $wide;
        }
    )*};
}
word!(
    LockWord => 0,
    RLockWord => 0b100,
    CondvarWord => 0,
    SemaphoreWord => 0,
    EventWord => 0,
    AtomicU32 => 0,
    AtomicU64 => 1
);

/// The outcome of a timed lock acquisition.
///
/// `#[must_use]`: a word has no guard, so the outcome says whether the caller now holds
/// the lock (and must release it) or not.
///
/// ```
/// use std::time::{Duration, Instant};
/// use multiproc_shared::words::{Acquire, LockWord};
/// let lock = LockWord::new();
/// assert_eq!(lock.acquire(None), Acquire::Acquired);
/// let soon = Instant::now() + Duration::from_millis(10);
/// assert_eq!(lock.acquire(Some(soon)), Acquire::TimedOut); // held by us: not re-entrant
/// lock.release()?;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "the outcome says whether the lock is held now (and must be released)"]
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
