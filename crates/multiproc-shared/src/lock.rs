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

/// Turns a word-level outcome into the `Result<bool, SharedError>` of the Python-style methods.
pub(crate) fn acquired(outcome: Acquire) -> Result<bool, SharedError> {
    match outcome {
        Acquire::Acquired => Ok(true),
        Acquire::OwnerDied => Err(SharedError::OwnerDied),
        Acquire::TimedOut => Ok(false),
    }
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
/// Pass a clone to a child process as an ordinary argument (or let a forked child
/// inherit it). If the holder dies, the next acquirer gets [`SharedError::OwnerDied`] (or
/// [`OwnerDied`] from [`lock`](Lock::lock)) and holds the lock: never a hang.
///
/// ```
/// use multiproc_shared::Lock;
///
/// let lock = Lock::new()?;
/// {
///     let _guard = lock.lock()?;
///     assert!(!lock.try_acquire()?);
/// }
/// assert!(lock.try_acquire()?);
/// lock.release()?;
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

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// [`SharedError::OwnerDied`] means the lock **is held** by the caller now (see [`SharedError`]).
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// lock.acquire()?;
    /// lock.release()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) -> Result<(), SharedError> {
        acquired(self.word().acquire(None)).map(drop)
    }

    /// Acquires the lock, waiting at most `timeout`; `Ok(false)` if it timed out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = multiproc_shared::Lock::new()?;
    /// assert!(lock.acquire_timeout(Duration::from_millis(10))?);
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10))?);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, SharedError> {
        acquired(self.word().acquire(deadline_after(timeout)))
    }

    /// Acquires the lock if it is free (Python's `acquire(block=False)`).
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// assert!(lock.try_acquire()?);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn try_acquire(&self) -> Result<bool, SharedError> {
        acquired(self.word().try_acquire())
    }

    /// Releases the lock, whichever process or thread acquired it;
    /// [`SharedError::NotLocked`] if it is not locked.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// assert!(lock.release().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn release(&self) -> Result<(), SharedError> {
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

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Another process may have released it already (allowed for a Lock): not an error here.
        let _ = self.lock.release();
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
