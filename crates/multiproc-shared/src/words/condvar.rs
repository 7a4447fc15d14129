//! `CondvarWord`: the condition-variable word.

use super::shim::{AtomicU32, Ordering};
use std::time::Instant;

use super::{Acquire, LockWord, remaining, shim};

/// A condition-variable word: a sequence number that waiters sleep on.
///
/// `wait` must be called with the lock held and always returns holding it again.
/// Spurious wake-ups can happen (several waiters may leave for one `notify_one`), so
/// wait in a loop that re-checks the predicate.
///
/// ```
/// use std::time::{Duration, Instant};
/// use multiproc_shared::words::{Acquire, CondvarWord, LockWord};
///
/// let (lock, cond) = (LockWord::new(), CondvarWord::new());
/// lock.acquire(None);
/// let soon = Instant::now() + Duration::from_millis(10);
/// assert_eq!(cond.wait(&lock, Some(soon)), Acquire::TimedOut);
/// assert!(lock.is_locked());
/// lock.release()?;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct CondvarWord {
    sequence: AtomicU32,
    waiters: AtomicU32,
}

impl CondvarWord {
    /// A word with no waiters (the same as all-zero memory).
    ///
    /// ```
    /// let cond = multiproc_shared::words::CondvarWord::new();
    /// cond.notify_all();
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> CondvarWord {
        CondvarWord {
            sequence: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Under loom (whose atomics have no `const fn new`).
    #[cfg(loom)]
    pub fn new() -> CondvarWord {
        CondvarWord {
            sequence: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Releases `lock`, sleeps until notified or `deadline`, and re-acquires `lock` (with
    /// no deadline, as Python does). Returns [`Acquire::TimedOut`] if the deadline passed,
    /// [`Acquire::OwnerDied`] if re-acquiring took over a dead owner's lock.
    ///
    /// ```
    /// use multiproc_shared::words::{CondvarWord, LockWord};
    /// let (lock, cond) = (LockWord::new(), CondvarWord::new());
    /// lock.acquire(None);
    /// let outcome = cond.wait(&lock, Some(std::time::Instant::now()));
    /// assert_eq!(outcome, multiproc_shared::words::Acquire::TimedOut);
    /// assert!(lock.is_locked()); // held again, as always after `wait`
    /// ```
    pub fn wait(&self, lock: &LockWord, deadline: Option<Instant>) -> Acquire {
        // Registered and sampled under the lock, so a notify (also under the lock)
        // either sees us as a waiter or changes the sequence before we sleep on it.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let sequence = self.sequence.load(Ordering::SeqCst);
        let _ = lock.release();
        let mut timed_out = false;
        while self.sequence.load(Ordering::SeqCst) == sequence {
            let timeout = match deadline {
                None => None,
                Some(deadline) => match remaining(deadline) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => {
                        timed_out = true;
                        break;
                    }
                },
            };
            let _ = shim::futex_wait(&self.sequence, sequence, timeout);
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        match lock.acquire(None) {
            Acquire::OwnerDied => Acquire::OwnerDied,
            _ if timed_out => Acquire::TimedOut,
            _ => Acquire::Acquired,
        }
    }

    /// Wakes one waiter (possibly more).
    ///
    /// ```
    /// multiproc_shared::words::CondvarWord::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every waiter.
    ///
    /// ```
    /// multiproc_shared::words::CondvarWord::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify(u32::MAX);
    }

    /// Wakes up to `count` waiters.
    pub(crate) fn notify(&self, count: u32) {
        self.sequence.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            shim::futex_wake(&self.sequence, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn condvar_wakes_thread() {
        let shared = Arc::new((LockWord::new(), CondvarWord::new(), AtomicU32::new(0)));
        let other = shared.clone();
        let waiter = std::thread::spawn(move || {
            let (lock, cond, ready) = &*other;
            assert!(lock.acquire(None).is_held());
            while ready.load(Ordering::Relaxed) == 0 {
                assert!(cond.wait(lock, None).is_held());
            }
            lock.release().unwrap();
        });
        let (lock, cond, ready) = &*shared;
        assert!(lock.acquire(None).is_held());
        ready.store(1, Ordering::Relaxed);
        cond.notify_all();
        lock.release().unwrap();
        waiter.join().unwrap();
    }
}
