//! `Lock`: a non-recursive lock shared between processes.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{LockResult, OwnerDied};
use crate::words::{Acquire, LockWord};
use crate::{Segment, SharedError};

/// Deadline `timeout` from now; `None` (wait forever) if that overflows `Instant`.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    multiproc_sys::time::deadline_after(Some(timeout))
}

/// Deserializes a segment and checks that it can hold `needed` bytes.
pub(crate) fn segment_of_len<'de, D: Deserializer<'de>>(
    deserializer: D,
    needed: usize,
) -> Result<Segment, D::Error> {
    let segment = Segment::deserialize(deserializer)?;
    if segment.len() < needed {
        return Err(serde::de::Error::custom(
            "received shared memory is too small for this type",
        ));
    }
    Ok(segment)
}

/// A lock shared between processes, with Python's semantics: not recursive, and any
/// process or thread may release it.
///
/// [`acquire`](Lock::acquire) returns a guard that releases the lock when dropped; a
/// lock to be released elsewhere is kept held with [`LockGuard::forget`] and released
/// with [`release_unowned`](Lock::release_unowned). Pass a clone to a child process as an
/// ordinary argument (or let a forked child inherit it). If the holder dies, the next
/// acquirer gets [`OwnerDied`], which carries the guard (`?` makes it
/// [`SharedError::OwnerDied`]): it holds the lock, never a hang.
///
/// ```
/// use multiproc_shared::Lock;
///
/// let lock = Lock::new()?;
/// {
///     let _guard = lock.acquire()?;
///     assert!(lock.try_acquire()?.is_none());
/// }
/// // Released where `_guard` went out of scope.
/// assert!(lock.try_acquire()?.is_some());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Lock")]
#[derive(Clone)]
pub struct Lock {
    segment: Segment,
}

impl Lock {
    /// Creates an unlocked lock in a fresh segment.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new() -> Result<Lock, SharedError> {
        Ok(Lock {
            segment: Segment::new(size_of::<LockWord>())?,
        })
    }

    pub(crate) fn word(&self) -> &LockWord {
        self.segment.placed(0)
    }

    /// Acquires the lock, waiting as long as it takes, and returns a guard that releases
    /// it when dropped (the same as [`lock`](Lock::lock)).
    ///
    /// Python's `lock.acquire()` ... `lock.release()` is `let _guard = lock.acquire()?;`:
    /// the lock is released where `_guard` goes out of scope. [`OwnerDied`] means the
    /// previous holder died holding it: the caller holds it now, and the error carries the
    /// guard (`?` turns it into [`SharedError::OwnerDied`], dropping the guard). To keep the lock
    /// held past the guard, for another process to release, see [`LockGuard::forget`] and
    /// [`release_unowned`](Lock::release_unowned).
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// {
    ///     let _guard = lock.acquire()?;
    ///     assert!(lock.is_locked());
    /// }
    /// assert!(!lock.is_locked());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) -> LockResult<LockGuard<'_>> {
        self.lock()
    }

    /// Acquires the lock, waiting at most `timeout`; `Ok(None)` if it timed out (the same
    /// as [`lock_timeout`](Lock::lock_timeout)).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = multiproc_shared::Lock::new()?;
    /// let held = lock.acquire_timeout(Duration::from_millis(10))?;
    /// assert!(held.is_some());
    /// assert!(lock.acquire_timeout(Duration::from_millis(10))?.is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the lock is released when the guard is dropped"]
    pub fn acquire_timeout(&self, timeout: Duration) -> LockResult<Option<LockGuard<'_>>> {
        self.lock_timeout(timeout)
    }

    /// Acquires the lock if it is free (Python's `acquire(block=False)`); `Ok(None)` if
    /// it is not.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// let held = lock.try_acquire()?;
    /// assert!(held.is_some());
    /// assert!(lock.try_acquire()?.is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the lock is released when the guard is dropped"]
    pub fn try_acquire(&self) -> LockResult<Option<LockGuard<'_>>> {
        match guard_for(self, self.word().try_acquire()) {
            Some(Ok(guard)) => Ok(Some(guard)),
            Some(Err(died)) => Err(OwnerDied::new(Some(died.into_inner()))),
            None => Ok(None),
        }
    }

    /// Releases the lock although no guard of this process holds it: Python's
    /// cross-process `release()`, for a lock that another process (or a
    /// [forgotten](LockGuard::forget) guard) acquired. [`SharedError::NotLocked`] if it is not
    /// locked.
    ///
    /// Never call it for a lock that a live guard holds: that guard would release the
    /// lock again when dropped, perhaps while someone else holds it.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// lock.acquire()?.forget(); // e.g. in one process
    /// lock.clone().release_unowned()?; // e.g. in another
    /// assert!(lock.release_unowned().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "release")]
    pub fn release_unowned(&self) -> Result<(), SharedError> {
        self.word().release()
    }

    /// Whether the lock is held by anyone.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// assert!(!lock.is_locked());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_locked(&self) -> bool {
        self.word().is_locked()
    }

    /// Acquires the lock and returns a guard that releases it on drop (Python's `with lock:`).
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// let guard = lock.lock()?;
    /// drop(guard);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock(&self) -> LockResult<LockGuard<'_>> {
        guard_for(self, self.word().acquire(None)).expect("untimed acquire cannot time out")
    }

    /// Like [`lock`](Lock::lock), waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = multiproc_shared::Lock::new()?;
    /// let guard = lock.lock_timeout(Duration::from_millis(10))?;
    /// assert!(guard.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> LockResult<Option<LockGuard<'_>>> {
        match guard_for(self, self.word().acquire(deadline_after(timeout))) {
            Some(Ok(guard)) => Ok(Some(guard)),
            Some(Err(died)) => Err(OwnerDied::new(Some(died.into_inner()))),
            None => Ok(None),
        }
    }
}

fn guard_for(lock: &Lock, outcome: Acquire) -> Option<LockResult<LockGuard<'_>>> {
    match outcome {
        Acquire::Acquired => Some(Ok(LockGuard { lock })),
        Acquire::OwnerDied => Some(Err(OwnerDied::new(LockGuard { lock }))),
        Acquire::TimedOut => None,
    }
}

/// Holds a [`Lock`]; releases it on drop.
///
/// ```
/// let lock = multiproc_shared::Lock::new()?;
/// let guard: multiproc_shared::LockGuard<'_> = lock.lock()?;
/// assert!(lock.is_locked());
/// drop(guard);
/// assert!(!lock.is_locked());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// Gives up the guard and leaves the lock held, for another process or thread to
    /// release with [`Lock::release_unowned`] (Python's release of a lock acquired
    /// elsewhere).
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// lock.acquire()?.forget();
    /// assert!(lock.is_locked());
    /// lock.release_unowned()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Another process may have released it already (allowed for a Lock): not an error here.
        let _ = self.lock.word().release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("owner", &self.word().owner())
            .finish()
    }
}

impl Serialize for Lock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.segment.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Lock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Lock, D::Error> {
        Ok(Lock {
            segment: segment_of_len(deserializer, size_of::<LockWord>())?,
        })
    }
}
