//! `Condition`: a condition variable shared between processes.

use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{LockResult, OwnerDied};
use crate::lock::deadline_after;
use crate::words::{Acquire, CondvarWord};
use crate::{Lock, LockGuard, RLock, RLockGuard, Segment, SharedError};

/// The lock a `Condition` waits with.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum ConditionLock {
    Lock(Lock),
    RLock(RLock),
}

/// A condition variable shared between processes (Python's `multiprocessing.Condition`).
///
/// It owns a lock (an [`RLock`] by default, or the [`Lock`]/[`RLock`] given to
/// [`with_lock`](Condition::with_lock)/[`with_rlock`](Condition::with_rlock)). Hold it
/// to wait or notify. Waits may wake spuriously: prefer [`wait_for`](Condition::wait_for).
///
/// ```
/// use std::time::Duration;
/// use multiproc_shared::Condition;
///
/// let cond = Condition::new()?;
/// let _held = cond.lock()?;
/// assert!(!cond.wait_timeout(Duration::from_millis(10))?);
/// cond.notify_all();
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Condition")]
#[derive(Clone)]
pub struct Condition {
    lock: ConditionLock,
    segment: Segment,
}

impl Condition {
    /// Creates a condition with a fresh `RLock`.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new() -> Result<Condition, SharedError> {
        Condition::with_rlock(RLock::new()?)
    }

    /// Creates a condition that waits with `lock`.
    ///
    /// ```
    /// let lock = multiproc_shared::Lock::new()?;
    /// let cond = multiproc_shared::Condition::with_lock(lock.clone())?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn with_lock(lock: Lock) -> Result<Condition, SharedError> {
        Ok(Condition {
            lock: ConditionLock::Lock(lock),
            segment: Segment::new(size_of::<CondvarWord>())?,
        })
    }

    /// Creates a condition that waits with `lock`.
    ///
    /// ```
    /// let lock = multiproc_shared::RLock::new()?;
    /// let cond = multiproc_shared::Condition::with_rlock(lock)?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn with_rlock(lock: RLock) -> Result<Condition, SharedError> {
        Ok(Condition {
            lock: ConditionLock::RLock(lock),
            segment: Segment::new(size_of::<CondvarWord>())?,
        })
    }

    fn condvar(&self) -> &CondvarWord {
        self.segment.placed(0)
    }

    /// Acquires the underlying lock and returns a guard that releases it when dropped
    /// (the same as [`lock`](Condition::lock), Python's `with cond:`). [`OwnerDied`] means
    /// the previous holder died holding it: the caller holds it now.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let _held = cond.acquire()?;
    /// cond.notify();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) -> LockResult<ConditionGuard<'_>> {
        self.lock()
    }

    /// Acquires the underlying lock, waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let held = cond.acquire_timeout(std::time::Duration::from_millis(5))?;
    /// assert!(held.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the lock is released when the guard is dropped"]
    pub fn acquire_timeout(&self, timeout: Duration) -> LockResult<Option<ConditionGuard<'_>>> {
        let acquired = match &self.lock {
            ConditionLock::Lock(lock) => lock
                .acquire_timeout(timeout)
                .map(|held| held.map(LockGuard::forget))
                .map_err(|died| died.into_inner().map(LockGuard::forget)),
            ConditionLock::RLock(lock) => lock
                .acquire_timeout(timeout)
                .map(|held| held.map(RLockGuard::forget))
                .map_err(|died| died.into_inner().map(RLockGuard::forget)),
        };
        match acquired {
            Ok(Some(())) => Ok(Some(ConditionGuard { condition: self })),
            Ok(None) => Ok(None),
            Err(_) => Err(OwnerDied::new(Some(ConditionGuard { condition: self }))),
        }
    }

    /// Releases the underlying lock although no guard holds it (one whose guard was
    /// [forgotten](ConditionGuard::forget)): Python's `cond.release()`. Never call it for
    /// a lock that a live guard holds.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// cond.acquire()?.forget();
    /// cond.release_unowned()?;
    /// assert!(cond.release_unowned().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "release")]
    pub fn release_unowned(&self) -> Result<(), SharedError> {
        match &self.lock {
            ConditionLock::Lock(lock) => lock.release_unowned(),
            ConditionLock::RLock(lock) => lock.release_unowned(),
        }
    }

    /// Acquires the underlying lock and returns a guard that releases it on drop
    /// (Python's `with cond:`).
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let guard = cond.lock()?;
    /// cond.notify();
    /// drop(guard);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock(&self) -> LockResult<ConditionGuard<'_>> {
        let acquired = match &self.lock {
            ConditionLock::Lock(lock) => lock
                .lock()
                .map(LockGuard::forget)
                .map_err(|died| died.into_inner().forget()),
            ConditionLock::RLock(lock) => lock
                .lock()
                .map(RLockGuard::forget)
                .map_err(|died| died.into_inner().forget()),
        };
        let guard = ConditionGuard { condition: self };
        match acquired {
            Ok(()) => Ok(guard),
            Err(_) => Err(OwnerDied::new(guard)),
        }
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<bool, SharedError> {
        let outcome = match &self.lock {
            ConditionLock::Lock(lock) => {
                if !lock.is_locked() {
                    return Err(SharedError::NotLocked);
                }
                self.condvar().wait(lock.word(), deadline)
            }
            ConditionLock::RLock(lock) => lock.wait_on(self.condvar(), deadline)?,
        };
        match outcome {
            Acquire::Acquired => Ok(true),
            Acquire::TimedOut => Ok(false),
            Acquire::OwnerDied => Err(SharedError::OwnerDied),
        }
    }

    /// Releases the lock, waits for a notification, and re-acquires the lock.
    ///
    /// The lock must be held ([`SharedError::NotOwner`] for an `RLock` the calling thread does
    /// not own, [`SharedError::NotLocked`] for an unlocked `Lock`). [`SharedError::OwnerDied`] means
    /// re-acquiring took over a dead process's lock: the lock is held.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// assert!(cond.wait().is_err()); // not held
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait(&self) -> Result<(), SharedError> {
        self.wait_until(None).map(drop)
    }

    /// Like [`wait`](Condition::wait), for at most `timeout`; `Ok(false)` if it timed out.
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let _held = cond.acquire()?;
    /// assert!(!cond.wait_timeout(std::time::Duration::from_millis(5))?);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, SharedError> {
        self.wait_until(deadline_after(timeout))
    }

    /// Waits until `predicate` returns true (checked under the lock, first before waiting).
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let _held = cond.lock()?;
    /// cond.wait_for(|| true)?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait_for(&self, mut predicate: impl FnMut() -> bool) -> Result<(), SharedError> {
        while !predicate() {
            self.wait()?;
        }
        Ok(())
    }

    /// Like [`wait_for`](Condition::wait_for), for at most `timeout`; returns the
    /// predicate's last value (Python's `wait_for(predicate, timeout)`).
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// let _held = cond.lock()?;
    /// assert!(!cond.wait_for_timeout(|| false, std::time::Duration::from_millis(5))?);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait_for_timeout(
        &self,
        mut predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> Result<bool, SharedError> {
        let deadline = deadline_after(timeout);
        loop {
            if predicate() {
                return Ok(true);
            }
            if !self.wait_until(deadline)? {
                return Ok(predicate());
            }
        }
    }

    /// Wakes one waiter (possibly more; waits may wake spuriously anyway).
    ///
    /// ```
    /// multiproc_shared::Condition::new()?.notify();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn notify(&self) {
        self.condvar().notify_one();
    }

    /// Wakes up to `count` waiters (Python's `notify(n)`).
    ///
    /// ```
    /// multiproc_shared::Condition::new()?.notify_n(2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn notify_n(&self, count: u32) {
        self.condvar().notify(count);
    }

    /// Wakes every waiter.
    ///
    /// ```
    /// multiproc_shared::Condition::new()?.notify_all();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn notify_all(&self) {
        self.condvar().notify_all();
    }
}

/// Holds the lock of a [`Condition`]; releases it on drop.
///
/// ```
/// let cond = multiproc_shared::Condition::new()?;
/// let guard: multiproc_shared::ConditionGuard<'_> = cond.lock()?;
/// drop(guard);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ConditionGuard<'a> {
    condition: &'a Condition,
}

impl ConditionGuard<'_> {
    /// Gives up the guard and leaves the lock held, to be released later with
    /// [`Condition::release_unowned`].
    ///
    /// ```
    /// let cond = multiproc_shared::Condition::new()?;
    /// cond.acquire()?.forget();
    /// cond.release_unowned()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for ConditionGuard<'_> {
    fn drop(&mut self) {
        let _ = self.condition.release_unowned();
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.lock, &self.segment).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        let (lock, segment) = <(ConditionLock, Segment)>::deserialize(deserializer)?;
        if segment.len() < size_of::<CondvarWord>() {
            return Err(serde::de::Error::custom(
                "received shared memory is too small for a condition",
            ));
        }
        Ok(Condition { lock, segment })
    }
}
