//! `RLock`: a recursive lock shared between processes.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{LockResult, OwnerDied};
use crate::lock::deadline_after;
use crate::words::{Acquire, CondvarWord, RLockWord};
use crate::{Segment, SharedError};

/// A recursive lock shared between processes (Python's `RLock`): the owning thread may
/// acquire it again, and must release it as many times; only the owner may release it.
///
/// [`acquire`](RLock::acquire) returns a guard that releases one level when dropped. If
/// the owning process dies, the next acquirer gets [`OwnerDied`] (`?` makes it
/// [`SharedError::OwnerDied`]) and holds the lock (once).
///
/// ```
/// use multiproc_shared::RLock;
///
/// let lock = RLock::new()?;
/// {
///     let _outer = lock.acquire()?;
///     let _inner = lock.acquire()?; // the same thread may take it again
///     assert!(lock.is_owned());
/// }
/// assert!(!lock.is_owned());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.RLock")]
#[derive(Clone)]
pub struct RLock {
    segment: Segment,
    /// Where the word lives: a `Value` or `Array` shares its segment with its lock.
    offset: usize,
    /// Where the "a guard is out" flag of a `Value` or `Array` lives: while it is up on
    /// the owning thread, the level the guard holds cannot be released from here.
    guard_flag: Option<usize>,
}

impl RLock {
    /// Creates an unlocked recursive lock in a fresh segment.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new() -> Result<RLock, SharedError> {
        Ok(RLock {
            segment: Segment::new(size_of::<RLockWord>())?,
            offset: 0,
            guard_flag: None,
        })
    }

    /// The lock whose word sits at `offset` of `segment` (used by `Value` and `Array`).
    pub(crate) fn in_segment(segment: Segment, offset: usize, guard_flag: usize) -> RLock {
        let lock = RLock {
            segment,
            offset,
            guard_flag: Some(guard_flag),
        };
        let _ = lock.word();
        lock
    }

    pub(crate) fn word(&self) -> &RLockWord {
        self.segment.placed(self.offset)
    }

    /// Acquires (or re-acquires) the lock, waiting as long as it takes, and returns a
    /// guard that releases this level when dropped (the same as [`lock`](RLock::lock)).
    /// [`OwnerDied`] means the previous owner died holding it: the caller holds it now.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// {
    ///     let _outer = lock.acquire()?;
    ///     let _inner = lock.acquire()?;
    ///     assert!(lock.is_owned());
    /// }
    /// assert!(!lock.is_owned());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) -> LockResult<RLockGuard<'_>> {
        self.lock()
    }

    /// Acquires the lock, waiting at most `timeout`; `Ok(None)` if it timed out (the same
    /// as [`lock_timeout`](RLock::lock_timeout)).
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// let held = lock.acquire_timeout(std::time::Duration::from_millis(10))?;
    /// assert!(held.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the lock is released when the guard is dropped"]
    pub fn acquire_timeout(&self, timeout: Duration) -> LockResult<Option<RLockGuard<'_>>> {
        self.lock_timeout(timeout)
    }

    /// Acquires the lock if that needs no waiting; `Ok(None)` if another thread or
    /// process owns it.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// let held = lock.try_acquire()?;
    /// assert!(held.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the lock is released when the guard is dropped"]
    pub fn try_acquire(&self) -> LockResult<Option<RLockGuard<'_>>> {
        match self.word().try_acquire() {
            Acquire::Acquired => Ok(Some(RLockGuard { lock: self })),
            Acquire::OwnerDied => Err(OwnerDied::new(Some(RLockGuard { lock: self }))),
            Acquire::TimedOut => Ok(None),
        }
    }

    /// Releases one level that no guard holds (one whose guard was
    /// [forgotten](RLockGuard::forget)): Python's `release()`. As in Python, only the
    /// owning thread may release an `RLock`: [`SharedError::NotOwner`] otherwise.
    ///
    /// Never call it for a level that a live guard holds: that guard would release
    /// again when dropped.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// lock.acquire()?.forget();
    /// assert!(lock.is_owned());
    /// lock.release_unowned()?;
    /// assert!(lock.release_unowned().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "release")]
    pub fn release_unowned(&self) -> Result<(), SharedError> {
        self.release_level()
    }

    /// Releases one level, unless it is the level a `Value`/`Array` guard holds.
    fn release_level(&self) -> Result<(), SharedError> {
        if self.guard_out() && self.word().count() <= 1 {
            return Err(SharedError::GuardOut);
        }
        self.word().release()
    }

    /// Whether this thread owns the lock and a guard of its `Value`/`Array` is out.
    pub(crate) fn guard_out(&self) -> bool {
        self.guard_flag.is_some_and(|flag| {
            self.segment
                .placed::<AtomicU32>(flag)
                .load(Ordering::Relaxed)
                != 0
                && self.word().is_owned()
        })
    }

    /// Releases the lock fully, waits on `condvar`, and takes it again (a condition wait).
    pub(crate) fn wait_on(
        &self,
        condvar: &CondvarWord,
        deadline: Option<Instant>,
    ) -> Result<Acquire, SharedError> {
        if self.guard_out() {
            return Err(SharedError::GuardOut);
        }
        self.word().wait_on(condvar, deadline)
    }

    /// Whether the calling thread owns the lock.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// assert!(!lock.is_owned());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_owned(&self) -> bool {
        self.word().is_owned()
    }

    /// Acquires the lock and returns a guard that releases one level on drop.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// let outer = lock.lock()?;
    /// let inner = lock.lock()?;
    /// drop((inner, outer));
    /// assert!(!lock.is_owned());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock(&self) -> LockResult<RLockGuard<'_>> {
        let guard = RLockGuard { lock: self };
        match self.word().acquire(None) {
            Acquire::OwnerDied => Err(OwnerDied::new(guard)),
            _ => Ok(guard),
        }
    }

    /// Like [`lock`](RLock::lock), waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// assert!(lock.lock_timeout(std::time::Duration::from_millis(5))?.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> LockResult<Option<RLockGuard<'_>>> {
        match self.word().acquire(deadline_after(timeout)) {
            Acquire::Acquired => Ok(Some(RLockGuard { lock: self })),
            Acquire::OwnerDied => Err(OwnerDied::new(Some(RLockGuard { lock: self }))),
            Acquire::TimedOut => Ok(None),
        }
    }
}

impl RLock {
    /// The segment the lock lives in (shared with the data of a `Value` or `Array`).
    pub(crate) fn segment(&self) -> &Segment {
        &self.segment
    }
}

/// Holds one level of an [`RLock`]; releases it on drop.
///
/// ```
/// let lock = multiproc_shared::RLock::new()?;
/// let guard: multiproc_shared::RLockGuard<'_> = lock.lock()?;
/// assert!(lock.is_owned());
/// drop(guard);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
}

impl RLockGuard<'_> {
    /// Gives up the guard and leaves this level held, for the same thread to release
    /// later with [`RLock::release_unowned`].
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// lock.acquire()?.forget();
    /// assert!(lock.is_owned());
    /// lock.release_unowned()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.lock.release_level();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word();
        f.debug_struct("RLock")
            .field("owner", &word.lock_word().owner())
            .field("count", &word.count())
            .finish()
    }
}

impl Serialize for RLock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let guard_flag = self.guard_flag.map(|flag| flag as u64);
        (&self.segment, self.offset as u64, guard_flag).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RLock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RLock, D::Error> {
        let (segment, offset, guard_flag) =
            <(Segment, u64, Option<u64>)>::deserialize(deserializer)?;
        let guard_flag = guard_flag
            .map(usize::try_from)
            .transpose()
            .map_err(serde::de::Error::custom)?;
        if let Some(flag) = guard_flag {
            segment
                .word::<AtomicU32>(flag)
                .map_err(serde::de::Error::custom)?;
        }
        let offset = usize::try_from(offset).map_err(serde::de::Error::custom)?;
        let fits = offset.is_multiple_of(align_of::<RLockWord>())
            && offset
                .checked_add(size_of::<RLockWord>())
                .is_some_and(|end| end <= segment.len());
        if !fits {
            return Err(serde::de::Error::custom(
                "received rlock does not fit its shared memory",
            ));
        }
        Ok(RLock {
            segment,
            offset,
            guard_flag,
        })
    }
}
