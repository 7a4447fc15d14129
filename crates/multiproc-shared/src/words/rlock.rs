//! `RLockWord`: the recursive lock word, built on `LockWord`.

use super::shim::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use super::{Acquire, CondvarWord, LockWord, shim};
use crate::SharedError;

/// A recursive lock word (Python's `RLock`): owned by one thread of one process, which
/// may acquire it again; only the owner may release it. Built on [`LockWord`], so owner
/// death is detected the same way.
///
/// ```
/// use multiproc_shared::words::{Acquire, RLockWord};
///
/// let lock = RLockWord::new();
/// assert_eq!(lock.acquire(None), Acquire::Acquired);
/// assert_eq!(lock.acquire(None), Acquire::Acquired);
/// lock.release()?;
/// lock.release()?;
/// assert!(lock.release().is_err());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct RLockWord {
    lock: LockWord,
    count: AtomicU32,
    thread: AtomicU64,
}

impl RLockWord {
    /// An unlocked word (the same as all-zero memory).
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// assert!(!lock.is_owned());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> RLockWord {
        RLockWord {
            lock: LockWord::new(),
            count: AtomicU32::new(0),
            thread: AtomicU64::new(0),
        }
    }

    /// Under loom (whose atomics have no `const fn new`).
    #[cfg(loom)]
    pub fn new() -> RLockWord {
        RLockWord {
            lock: LockWord::new(),
            count: AtomicU32::new(0),
            thread: AtomicU64::new(0),
        }
    }

    /// Whether the calling thread owns the lock.
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// lock.acquire(None);
    /// assert!(lock.is_owned());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        // Only the owner writes `thread` while holding the lock, and it resets `thread`
        // before releasing: another thread cannot read its own id here.
        self.lock.owner() == Some(shim::current_pid())
            && self.thread.load(Ordering::Relaxed) == shim::current_thread()
    }

    /// How many times the owner has acquired it (0 when free).
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// lock.acquire(None);
    /// lock.acquire(None);
    /// assert_eq!(lock.count(), 2);
    /// ```
    #[inline]
    pub fn count(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// Acquires (or re-acquires) the lock, waiting at most until `deadline`.
    ///
    /// ```
    /// use multiproc_shared::words::{Acquire, RLockWord};
    /// let lock = RLockWord::new();
    /// assert_eq!(lock.acquire(None), Acquire::Acquired);
    /// ```
    pub fn acquire(&self, deadline: Option<Instant>) -> Acquire {
        // A free lock first: one compare-and-swap, without reading the line before writing
        // it (which costs a second transfer of the line when another process holds it).
        if self.acquire_if_free() {
            return Acquire::Acquired;
        }
        self.acquire_held(deadline)
    }

    /// [`acquire`](RLockWord::acquire) once the lock was seen held: by this thread (one
    /// more level), or by another (wait).
    pub(crate) fn acquire_held(&self, deadline: Option<Instant>) -> Acquire {
        if self.is_owned() {
            self.count.fetch_add(1, Ordering::Relaxed);
            return Acquire::Acquired;
        }
        let outcome = self
            .lock
            .acquire_contended(shim::current_pid(), deadline, 0);
        if outcome.is_held() {
            self.become_owner(1);
        }
        outcome
    }

    /// Takes the lock if it is free (then the caller did not hold it): one
    /// compare-and-swap.
    #[inline]
    pub(crate) fn acquire_if_free(&self) -> bool {
        let free = self.lock.acquire_if_free(shim::current_pid());
        if free {
            self.become_owner(1);
        }
        free
    }

    /// Acquires the lock if that needs no waiting (see [`LockWord::try_acquire`]).
    ///
    /// ```
    /// use multiproc_shared::words::{Acquire, RLockWord};
    /// let lock = RLockWord::new();
    /// assert_eq!(lock.try_acquire(), Acquire::Acquired);
    /// ```
    pub fn try_acquire(&self) -> Acquire {
        if self.is_owned() {
            self.count.fetch_add(1, Ordering::Relaxed);
            return Acquire::Acquired;
        }
        let outcome = self.lock.try_acquire();
        if outcome.is_held() {
            self.become_owner(1);
        }
        outcome
    }

    #[inline]
    fn become_owner(&self, count: u32) {
        self.count.store(count, Ordering::Relaxed);
        self.thread.store(shim::current_thread(), Ordering::Relaxed);
    }

    /// Releases one level; the last release frees the lock. [`SharedError::NotOwner`] if the
    /// calling thread does not own it.
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// assert!(lock.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), SharedError> {
        match self.release_level() {
            Released::Level => Ok(()),
            Released::NotOwner => Err(SharedError::NotOwner),
            Released::NotLocked => Err(SharedError::NotLocked),
        }
    }

    /// [`release`](RLockWord::release) without an error value, for the guards that
    /// ignore it.
    #[inline]
    pub(crate) fn release_level(&self) -> Released {
        if !self.is_owned() {
            return Released::NotOwner;
        }
        // The count is 1 or more while the lock is owned, unless another process scribbled
        // on it: then give the lock up rather than underflow.
        let count = self.count.load(Ordering::Relaxed).saturating_sub(1);
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.thread.store(0, Ordering::Relaxed);
            if !self.lock.release_quietly() {
                return Released::NotLocked;
            }
        }
        Released::Level
    }

    /// Releases the level of a `Value`/`Array` guard, which the calling thread took: as
    /// [`release_level`](RLockWord::release_level), without reading the thread id again
    /// (a guard does not leave its thread). A lock whose owner pid is no longer this
    /// process's (a peer scribbled on it) is left alone.
    #[inline]
    pub(crate) fn release_guard_level(&self) {
        if self.lock.owner() != Some(shim::current_pid()) {
            return;
        }
        let count = self.count.load(Ordering::Relaxed).saturating_sub(1);
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.thread.store(0, Ordering::Relaxed);
            self.lock.release_quietly();
        }
    }

    /// Waits on `condvar`, releasing all levels and restoring them afterwards.
    pub(crate) fn wait_on(
        &self,
        condvar: &CondvarWord,
        deadline: Option<Instant>,
    ) -> Result<Acquire, SharedError> {
        if !self.is_owned() {
            return Err(SharedError::NotOwner);
        }
        let count = self.count.swap(0, Ordering::Relaxed);
        self.thread.store(0, Ordering::Relaxed);
        let outcome = condvar.wait(&self.lock, deadline);
        self.become_owner(count);
        Ok(outcome)
    }

    /// The inner lock word, for [`CondvarWord::wait`] and owner inspection.
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// assert!(!lock.lock_word().is_locked());
    /// ```
    pub fn lock_word(&self) -> &LockWord {
        &self.lock
    }
}
/// What [`RLockWord::release_level`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Released {
    /// One level was released (the last one frees the lock).
    Level,
    /// The calling thread does not own the lock: nothing changed.
    NotOwner,
    /// The owner's count ran out but the lock word was already free (another process
    /// scribbled on it).
    NotLocked,
}

#[cfg(not(loom))]
const _: () = assert!(
    std::mem::offset_of!(RLockWord, thread) == 16,
    "Word::WIDE_WORDS of RLockWord"
);
