//! `LockWord`: the mutual-exclusion word with owner-death detection.

use super::shim::{AtomicU32, Ordering};
use std::time::Instant;

use super::{Acquire, OWNER_CHECK_INTERVAL, remaining, shim};
use crate::SharedError;

/// Set in a [`LockWord`] when some process may be sleeping on it.
const WAITERS: u32 = 1 << 31;
/// The owner's pid; Linux pids are at most 2^22 (`pid_max`, proc(5)).
const OWNER_MASK: u32 = !WAITERS;

/// Spins of [`LockWord::acquire_spinning`] before it sleeps.
const SPIN_LIMIT: u32 = 100;

/// A mutual-exclusion lock word with owner-death detection (Python's `Lock` semantics:
/// any process or thread may release it).
///
/// The word holds the owner's pid, plus a bit saying someone may sleep on it; a second
/// word beside it holds the owner's start time (proc(5) `stat` field 22, its low 32 bits),
/// so that pid and start time name one process even after the pid is reused. An
/// uncontended acquire is one compare-and-swap (plus a plain store of the start time,
/// cached per process); a release is one swap, plus a futex wake only when someone waits.
/// A waiter on a held lock checks every [`OWNER_CHECK_INTERVAL`] whether the owner
/// process still lives: a zombie, a vanished pid, or a pid that now runs a process with
/// another start time count as dead. Then it takes the lock over and gets
/// [`Acquire::OwnerDied`]. Death of a *thread* that holds the lock in a live process is
/// not detected.
///
/// ```
/// use multiproc_shared::{Segment, words::{Acquire, LockWord}};
///
/// let segment = Segment::new(8)?;
/// let lock: &LockWord = segment.word(0)?;
/// assert_eq!(lock.try_acquire(), Acquire::Acquired);
/// assert_eq!(lock.try_acquire(), Acquire::TimedOut);
/// lock.release()?;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct LockWord {
    state: AtomicU32,
    /// The owner's start time (low 32 bits, never 0), stored after the compare-and-swap
    /// that took the lock and cleared before the swap that frees it; 0 while unknown,
    /// when only the pid is checked.
    start: AtomicU32,
}

impl LockWord {
    /// An unlocked word (the same as all-zero memory).
    ///
    /// ```
    /// let lock = multiproc_shared::words::LockWord::new();
    /// assert!(!lock.is_locked());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> LockWord {
        LockWord {
            state: AtomicU32::new(0),
            start: AtomicU32::new(0),
        }
    }

    /// Under loom (whose atomics have no `const fn new`).
    #[cfg(loom)]
    pub fn new() -> LockWord {
        LockWord {
            state: AtomicU32::new(0),
            start: AtomicU32::new(0),
        }
    }

    /// Acquires the lock, waiting at most until `deadline` (`None`: forever).
    ///
    /// A contended acquire sleeps on the futex at once, as glibc's default mutex does:
    /// under heavy contention the holder then takes the lock many times in a row instead
    /// of trading its cache line with the waiter at every turn (about 1.5x the throughput
    /// of spinning first, in `cargo run --release -p multiproc-bench -- --filter
    /// value_locked`).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use multiproc_shared::words::{Acquire, LockWord};
    ///
    /// let lock = LockWord::new();
    /// assert_eq!(lock.acquire(None), Acquire::Acquired);
    /// let soon = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(lock.acquire(Some(soon)), Acquire::TimedOut);
    /// ```
    pub fn acquire(&self, deadline: Option<Instant>) -> Acquire {
        self.acquire_with_spins(deadline, 0)
    }

    /// Like [`acquire`](LockWord::acquire), but spins briefly before sleeping, like
    /// glibc's `PTHREAD_MUTEX_ADAPTIVE_NP`: for a lock held a few hundred nanoseconds at a
    /// time, where waiting on-CPU is cheaper than two syscalls and a wake-up (a queue's
    /// lock, taken by a producer and a consumer in turn).
    ///
    /// ```
    /// use multiproc_shared::words::{Acquire, LockWord};
    ///
    /// let lock = LockWord::new();
    /// assert_eq!(lock.acquire_spinning(None), Acquire::Acquired);
    /// # lock.release().unwrap();
    /// ```
    pub fn acquire_spinning(&self, deadline: Option<Instant>) -> Acquire {
        self.acquire_with_spins(deadline, SPIN_LIMIT)
    }

    /// [`acquire_spinning`](LockWord::acquire_spinning), asking for the deadline only if
    /// the lock is not free at once: a caller with a timeout reads the clock only when it
    /// has to wait.
    ///
    /// ```
    /// use multiproc_shared::words::{Acquire, LockWord};
    /// use std::time::{Duration, Instant};
    ///
    /// let lock = LockWord::new();
    /// let mut asked = false;
    /// let deadline = || {
    ///     asked = true;
    ///     Instant::now().checked_add(Duration::from_millis(10))
    /// };
    /// assert_eq!(lock.acquire_spinning_with(deadline), Acquire::Acquired);
    /// assert!(!asked, "a free lock needs no deadline");
    /// # lock.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire_spinning_with(&self, deadline: impl FnOnce() -> Option<Instant>) -> Acquire {
        let me = shim::current_pid();
        if self.acquire_if_free(me) {
            return Acquire::Acquired;
        }
        self.acquire_contended(me, deadline(), SPIN_LIMIT)
    }

    #[inline]
    fn acquire_with_spins(&self, deadline: Option<Instant>, spins: u32) -> Acquire {
        let me = shim::current_pid();
        if self.acquire_if_free(me) {
            return Acquire::Acquired;
        }
        self.acquire_contended(me, deadline, spins)
    }

    /// Takes the lock for `me` (the calling process's pid) if it is free: one
    /// compare-and-swap and one store, no owner check.
    ///
    /// The start tag is looked up *before* the compare-and-swap: the first acquire in a
    /// process (a freshly forked child, say) reads it from `/proc`, and doing that while
    /// holding the lock sent a contending process to sleep on the futex at once, which
    /// then made every release pay a wake-up (seen in `strace -f` of the bench's
    /// `shared/value_locked_increments`).
    #[inline]
    pub(super) fn acquire_if_free(&self, me: u32) -> bool {
        let tag = shim::start_of_current(me);
        let free = self
            .state
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if free {
            self.record_start(tag);
        }
        free
    }

    /// Records the new owner's start tag (from [`shim::start_of_current`], looked up before
    /// the lock was taken), right after the compare-and-swap that made the calling process
    /// the owner.
    #[inline]
    fn record_start(&self, tag: u32) {
        self.start.store(tag, Ordering::Relaxed);
    }

    /// Whether the owner named by `owner` (a pid) still lives, judged with the start time
    /// recorded beside it.
    fn owner_is_alive(&self, owner: u32) -> bool {
        shim::owner_is_alive(owner, self.start.load(Ordering::Relaxed))
    }

    /// The slow path of every acquire: a bounded spin of `spins` loads, then sleeps on the
    /// futex with the waiters bit set, checking the owner's liveness every
    /// [`OWNER_CHECK_INTERVAL`].
    ///
    /// Each round starts with a compare-and-swap from "free" rather than a load, as glibc's
    /// `__lll_lock_wait` starts with an exchange: a waiter that was just woken takes the
    /// cache line for writing once, instead of reading it and then writing it.
    #[cold]
    pub(super) fn acquire_contended(
        &self,
        me: u32,
        deadline: Option<Instant>,
        spins: u32,
    ) -> Acquire {
        // Looked up before any compare-and-swap, never while holding the lock.
        let tag = shim::start_of_current(me);
        for _ in 0..spins {
            std::hint::spin_loop();
            if self.state.load(Ordering::Relaxed) == 0
                && self
                    .state
                    .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                self.record_start(tag);
                return Acquire::Acquired;
            }
        }
        // Read when the first sleep begins: a lock that is free again at once reads no clock.
        let mut last_owner_check: Option<Instant> = None;
        loop {
            // Someone else may still sleep here: take it with the bit, so that their
            // wake-up is not lost.
            let mut current = match self.state.compare_exchange(
                0,
                me | WAITERS,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.record_start(tag);
                    return Acquire::Acquired;
                }
                Err(current) => current,
            };
            if current & WAITERS == 0 {
                if let Err(changed) = self.state.compare_exchange(
                    current,
                    current | WAITERS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    // Freed or taken by another process meanwhile: start the round again
                    // (a free lock is taken by its first compare-and-swap).
                    if changed == 0 || changed & WAITERS == 0 {
                        continue;
                    }
                    current = changed;
                } else {
                    current |= WAITERS;
                }
            }
            let now = Instant::now();
            let checked = *last_owner_check.get_or_insert(now);
            let since_check = now.saturating_duration_since(checked);
            if shim::OWNER_CHECKS && since_check >= OWNER_CHECK_INTERVAL {
                last_owner_check = Some(now);
                if self.take_over_if_owner_dead(current, me) {
                    return Acquire::OwnerDied;
                }
                continue;
            }
            let mut sleep = OWNER_CHECK_INTERVAL.saturating_sub(since_check);
            if let Some(deadline) = deadline {
                match remaining(deadline) {
                    Some(left) if !left.is_zero() => sleep = sleep.min(left),
                    _ => return Acquire::TimedOut,
                }
            }
            // Every outcome (woken, changed, timed out, interrupted) re-runs the loop.
            let _ = shim::futex_wait(&self.state, current, Some(sleep));
        }
    }

    /// If `observed` names a dead owner, replaces it with `me` (keeping the waiters bit).
    fn take_over_if_owner_dead(&self, observed: u32, me: u32) -> bool {
        let owner = observed & OWNER_MASK;
        if owner == 0 || owner == me || self.owner_is_alive(owner) {
            return false;
        }
        let tag = shim::start_of_current(me);
        // The compare-and-swap fails if the lock changed hands since `observed` (then the
        // start time read above may have been the next owner's).
        let taken = self
            .state
            .compare_exchange(
                observed,
                me | (observed & WAITERS),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok();
        if taken {
            self.record_start(tag);
        }
        taken
    }

    /// Acquires the lock if it is free, or if its owner has died (then
    /// [`Acquire::OwnerDied`]); otherwise returns [`Acquire::TimedOut`] at once.
    ///
    /// ```
    /// use multiproc_shared::words::{Acquire, LockWord};
    /// let lock = LockWord::new();
    /// assert_eq!(lock.try_acquire(), Acquire::Acquired);
    /// ```
    pub fn try_acquire(&self) -> Acquire {
        let me = shim::current_pid();
        let tag = shim::start_of_current(me);
        match self
            .state
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => {
                self.record_start(tag);
                Acquire::Acquired
            }
            Err(observed) if self.take_over_if_owner_dead(observed, me) => Acquire::OwnerDied,
            Err(_) => Acquire::TimedOut,
        }
    }

    /// Releases the lock, whoever holds it; [`SharedError::NotLocked`] if it is not locked.
    ///
    /// ```
    /// use multiproc_shared::words::LockWord;
    /// let lock = LockWord::new();
    /// assert!(lock.release().is_err());
    /// lock.acquire(None);
    /// lock.release()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn release(&self) -> Result<(), SharedError> {
        if self.release_quietly() {
            Ok(())
        } else {
            Err(SharedError::NotLocked)
        }
    }

    /// [`release`](LockWord::release) without the error value, for the guards that
    /// ignore it: whether the lock was locked. One swap, and a futex wake only when the
    /// waiters bit was set.
    #[inline]
    pub(crate) fn release_quietly(&self) -> bool {
        // Cleared first: a waiter that reads 0 checks only the pid, never a stale time.
        self.start.store(0, Ordering::Relaxed);
        let previous = self.state.swap(0, Ordering::Release);
        if previous & WAITERS != 0 {
            self.wake_one();
        }
        previous != 0
    }

    /// Wakes one sleeper, off the hot path of [`release_quietly`](Self::release_quietly).
    #[cold]
    #[inline(never)]
    fn wake_one(&self) {
        shim::futex_wake(&self.state, 1);
    }

    /// Whether the lock is held.
    ///
    /// ```
    /// let lock = multiproc_shared::words::LockWord::new();
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != 0
    }

    /// The pid of the process that holds the lock, if any.
    ///
    /// ```
    /// let lock = multiproc_shared::words::LockWord::new();
    /// lock.acquire(None);
    /// assert_eq!(lock.owner(), Some(std::process::id()));
    /// ```
    #[inline]
    pub fn owner(&self) -> Option<u32> {
        match self.state.load(Ordering::Relaxed) & OWNER_MASK {
            0 => None,
            pid => Some(pid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::Acquire;
    use std::sync::Arc;

    #[test]
    fn threads_count_exactly() {
        let lock = Arc::new(LockWord::new());
        let counter = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        assert!(lock.acquire(None).is_held());
                        // Deliberately non-atomic read-modify-write under the lock.
                        let v = counter.load(Ordering::Relaxed);
                        counter.store(v + 1, Ordering::Relaxed);
                        lock.release().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 40_000);
    }

    #[test]
    fn dead_owner_is_taken_over() {
        let lock = LockWord::new();
        // A pid far above pid_max cannot be alive.
        lock.state.store(0x3FFF_FFF0, Ordering::Relaxed);
        assert_eq!(lock.try_acquire(), Acquire::OwnerDied);
        assert_eq!(lock.owner(), Some(std::process::id()));
        lock.state.store(0x3FFF_FFF0, Ordering::Relaxed);
        assert_eq!(lock.acquire(None), Acquire::OwnerDied);
    }

    #[test]
    fn records_and_clears_the_owner_start() {
        let lock = LockWord::new();
        assert!(lock.acquire(None).is_held());
        assert_ne!(lock.start.load(Ordering::Relaxed), 0);
        assert_eq!(lock.start.load(Ordering::Relaxed), shim::current_start());
        lock.release().unwrap();
        assert_eq!(lock.start.load(Ordering::Relaxed), 0);
    }

    /// A live process whose start time differs from the recorded one is a reused pid:
    /// the owner is dead. With the right start time it is alive.
    #[test]
    fn reused_owner_pid_is_dead() {
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = sleeper.id();
        let real = multiproc_sys::process::stat(pid).unwrap().start_time as u32;
        let lock = LockWord::new();
        lock.state.store(pid, Ordering::Relaxed);
        lock.start.store(real.max(1), Ordering::Relaxed);
        let alive = lock.try_acquire();
        lock.start
            .store(real.max(1).wrapping_add(1).max(1), Ordering::Relaxed);
        let reused = lock.try_acquire();
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert_eq!(alive, Acquire::TimedOut);
        assert_eq!(reused, Acquire::OwnerDied);
        assert_eq!(lock.owner(), Some(std::process::id()));
    }
}
