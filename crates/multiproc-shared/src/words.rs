//! Synchronisation words: plain `#[repr(C)]` structs of atomics, placed inside a
//! [`Segment`](crate::Segment), on which the locks of this crate are built.
//!
//! Every word is valid when all-zero (a fresh segment is zero-filled) and holds no
//! pointers, so each process may map it at a different address. Sleeping uses a Linux
//! futex *without* `FUTEX_PRIVATE_FLAG` (the kernel keys a shared futex on the mapped
//! page, not the address) with relative `CLOCK_MONOTONIC` timeouts; see futex(2).
//!
//! Obtain a word with [`Segment::word`](crate::Segment::word), or by casting
//! `segment.as_ptr().add(offset)` for an aligned, in-bounds offset.
//!
//! ```
//! use multiproc_shared::{Segment, words::{Acquire, LockWord}};
//!
//! let segment = Segment::new(64)?;
//! let lock: &LockWord = segment.word(0);
//! assert_eq!(lock.acquire(None), Acquire::Acquired);
//! lock.release()?;
//! # Ok::<(), multiproc_shared::Error>(())
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Error;
use crate::sys;

/// How often a waiter on a held lock checks whether the owner process still lives.
pub const OWNER_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Set in a [`LockWord`] when some process may be sleeping on it.
const WAITERS: u32 = 1 << 31;
/// The owner's pid; Linux pids are at most 2^22 (`pid_max`, proc(5)).
const OWNER_MASK: u32 = !WAITERS;

/// Spins of [`LockWord::acquire_spinning`] before it sleeps.
const SPIN_LIMIT: u32 = 100;

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
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline.checked_duration_since(Instant::now())
}

/// A mutual-exclusion lock word with owner-death detection (Python's `Lock` semantics:
/// any process or thread may release it).
///
/// The word holds the owner's pid, plus a bit saying someone may sleep on it. An
/// uncontended acquire is one compare-and-swap; a release is one swap, plus a futex wake
/// only when someone waits. A waiter on a held lock checks every
/// [`OWNER_CHECK_INTERVAL`] whether the owner process still lives (a zombie counts as
/// dead); if not, it takes the lock over and gets [`Acquire::OwnerDied`]. Death of a
/// *thread* that holds the lock in a live process is not detected. A pid reused by a new
/// process within the check interval would hide the death (pids cycle slowly on Linux).
///
/// ```
/// use multiproc_shared::{Segment, words::{Acquire, LockWord}};
///
/// let segment = Segment::new(4)?;
/// let lock: &LockWord = segment.word(0);
/// assert_eq!(lock.try_acquire(), Acquire::Acquired);
/// assert_eq!(lock.try_acquire(), Acquire::TimedOut);
/// lock.release()?;
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct LockWord {
    state: AtomicU32,
}

impl LockWord {
    /// An unlocked word (the same as all-zero memory).
    ///
    /// ```
    /// let lock = multiproc_shared::words::LockWord::new();
    /// assert!(!lock.is_locked());
    /// ```
    pub const fn new() -> LockWord {
        LockWord {
            state: AtomicU32::new(0),
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

    #[inline]
    fn acquire_with_spins(&self, deadline: Option<Instant>, spins: u32) -> Acquire {
        if self.acquire_if_free() {
            return Acquire::Acquired;
        }
        self.acquire_contended(sys::current_pid(), deadline, spins)
    }

    /// Takes the lock if it is free: one compare-and-swap, no owner check.
    #[inline]
    fn acquire_if_free(&self) -> bool {
        self.state
            .compare_exchange(0, sys::current_pid(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn acquire_contended(&self, me: u32, deadline: Option<Instant>, spins: u32) -> Acquire {
        for _ in 0..spins {
            std::hint::spin_loop();
            if self.state.load(Ordering::Relaxed) == 0
                && self
                    .state
                    .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Acquire::Acquired;
            }
        }
        let mut last_owner_check = Instant::now();
        loop {
            let mut current = self.state.load(Ordering::Relaxed);
            if current == 0 {
                // Someone else may still sleep here: keep the bit so their wake-up is not lost.
                match self.state.compare_exchange(
                    0,
                    me | WAITERS,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Acquire::Acquired,
                    Err(_) => continue,
                }
            }
            if current & WAITERS == 0 {
                if self
                    .state
                    .compare_exchange(
                        current,
                        current | WAITERS,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
                {
                    continue;
                }
                current |= WAITERS;
            }
            let since_check = last_owner_check.elapsed();
            if since_check >= OWNER_CHECK_INTERVAL {
                last_owner_check = Instant::now();
                if self.take_over_if_owner_dead(current, me) {
                    return Acquire::OwnerDied;
                }
                continue;
            }
            let mut sleep = OWNER_CHECK_INTERVAL - since_check;
            if let Some(deadline) = deadline {
                match remaining(deadline) {
                    Some(left) if !left.is_zero() => sleep = sleep.min(left),
                    _ => return Acquire::TimedOut,
                }
            }
            // Every outcome (woken, changed, timed out, interrupted) re-runs the loop.
            let _ = sys::futex_wait(&self.state, current, Some(sleep));
        }
    }

    /// If `observed` names a dead owner, replaces it with `me` (keeping the waiters bit).
    fn take_over_if_owner_dead(&self, observed: u32, me: u32) -> bool {
        let owner = observed & OWNER_MASK;
        if owner == 0 || owner == me || sys::process_is_alive(owner) {
            return false;
        }
        self.state
            .compare_exchange(
                observed,
                me | (observed & WAITERS),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
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
        let me = sys::current_pid();
        match self
            .state
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Acquire::Acquired,
            Err(observed) if self.take_over_if_owner_dead(observed, me) => Acquire::OwnerDied,
            Err(_) => Acquire::TimedOut,
        }
    }

    /// Releases the lock, whoever holds it; [`Error::NotLocked`] if it is not locked.
    ///
    /// ```
    /// use multiproc_shared::words::LockWord;
    /// let lock = LockWord::new();
    /// assert!(lock.release().is_err());
    /// lock.acquire(None);
    /// lock.release()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        let previous = self.state.swap(0, Ordering::Release);
        if previous == 0 {
            return Err(Error::NotLocked);
        }
        if previous & WAITERS != 0 {
            sys::futex_wake(&self.state, 1);
        }
        Ok(())
    }

    /// Whether the lock is held.
    ///
    /// ```
    /// let lock = multiproc_shared::words::LockWord::new();
    /// assert!(!lock.is_locked());
    /// ```
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
    pub fn owner(&self) -> Option<u32> {
        match self.state.load(Ordering::Relaxed) & OWNER_MASK {
            0 => None,
            pid => Some(pid),
        }
    }
}

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
/// # Ok::<(), multiproc_shared::Error>(())
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
    pub const fn new() -> RLockWord {
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
    pub fn is_owned(&self) -> bool {
        // Only the owner writes `thread` while holding the lock, and it resets `thread`
        // before releasing: another thread cannot read its own id here.
        self.lock.owner() == Some(sys::current_pid())
            && self.thread.load(Ordering::Relaxed) == sys::current_thread()
    }

    /// How many times the owner has acquired it (0 when free).
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// lock.acquire(None);
    /// lock.acquire(None);
    /// assert_eq!(lock.count(), 2);
    /// ```
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
        let outcome = self.lock.acquire_contended(sys::current_pid(), deadline, 0);
        if outcome.is_held() {
            self.become_owner(1);
        }
        outcome
    }

    /// Takes the lock if it is free (then the caller did not hold it): one
    /// compare-and-swap.
    #[inline]
    pub(crate) fn acquire_if_free(&self) -> bool {
        let free = self.lock.acquire_if_free();
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

    fn become_owner(&self, count: u32) {
        self.count.store(count, Ordering::Relaxed);
        self.thread.store(sys::current_thread(), Ordering::Relaxed);
    }

    /// Releases one level; the last release frees the lock. [`Error::NotOwner`] if the
    /// calling thread does not own it.
    ///
    /// ```
    /// let lock = multiproc_shared::words::RLockWord::new();
    /// assert!(lock.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        if !self.is_owned() {
            return Err(Error::NotOwner);
        }
        let count = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.thread.store(0, Ordering::Relaxed);
            self.lock.release()?;
        }
        Ok(())
    }

    /// Waits on `condvar`, releasing all levels and restoring them afterwards.
    pub(crate) fn wait_on(
        &self,
        condvar: &CondvarWord,
        deadline: Option<Instant>,
    ) -> Result<Acquire, Error> {
        if !self.is_owned() {
            return Err(Error::NotOwner);
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
/// # Ok::<(), multiproc_shared::Error>(())
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
    pub const fn new() -> CondvarWord {
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
            let _ = sys::futex_wait(&self.sequence, sequence, timeout);
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
        self.notify(i32::MAX);
    }

    /// Wakes up to `count` waiters.
    pub(crate) fn notify(&self, count: i32) {
        self.sequence.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            sys::futex_wake(&self.sequence, count);
        }
    }
}

/// A counting-semaphore word. A process that dies while waiting leaves no harm behind
/// (at most a spare wake-up later).
///
/// ```
/// use multiproc_shared::words::SemaphoreWord;
///
/// let sem = SemaphoreWord::new();
/// sem.init(1);
/// assert!(sem.try_acquire());
/// assert!(!sem.try_acquire());
/// sem.release();
/// assert_eq!(sem.value(), 1);
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct SemaphoreWord {
    value: AtomicU32,
    waiters: AtomicU32,
}

impl SemaphoreWord {
    /// A semaphore with value 0 (the same as all-zero memory).
    ///
    /// ```
    /// assert_eq!(multiproc_shared::words::SemaphoreWord::new().value(), 0);
    /// ```
    pub const fn new() -> SemaphoreWord {
        SemaphoreWord {
            value: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Sets the value; call before other processes use the word.
    ///
    /// ```
    /// let sem = multiproc_shared::words::SemaphoreWord::new();
    /// sem.init(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    pub fn init(&self, value: u32) {
        self.value.store(value, Ordering::SeqCst);
    }

    /// Decrements the value, waiting while it is zero, at most until `deadline`.
    /// Returns whether it decremented.
    ///
    /// ```
    /// let sem = multiproc_shared::words::SemaphoreWord::new();
    /// assert!(!sem.acquire(Some(std::time::Instant::now())));
    /// ```
    pub fn acquire(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.try_acquire() {
                return true;
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => match remaining(deadline) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return false,
                },
            };
            self.waiters.fetch_add(1, Ordering::SeqCst);
            let _ = sys::futex_wait(&self.value, 0, timeout);
            self.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Decrements the value if it is positive; never waits.
    ///
    /// ```
    /// let sem = multiproc_shared::words::SemaphoreWord::new();
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut value = self.value.load(Ordering::Relaxed);
        while value > 0 {
            match self.value.compare_exchange_weak(
                value,
                value - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => value = now,
            }
        }
        false
    }

    /// Increments the value and wakes one waiter.
    ///
    /// ```
    /// let sem = multiproc_shared::words::SemaphoreWord::new();
    /// sem.release();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(&self) {
        self.value.fetch_add(1, Ordering::SeqCst);
        self.wake_one();
    }

    /// Increments the value only if it is below `max`; returns whether it did.
    ///
    /// ```
    /// let sem = multiproc_shared::words::SemaphoreWord::new();
    /// assert!(sem.release_bounded(1));
    /// assert!(!sem.release_bounded(1));
    /// ```
    pub fn release_bounded(&self, max: u32) -> bool {
        let mut value = self.value.load(Ordering::Relaxed);
        loop {
            if value >= max {
                return false;
            }
            match self.value.compare_exchange_weak(
                value,
                value + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => value = now,
            }
        }
        self.wake_one();
        true
    }

    fn wake_one(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            sys::futex_wake(&self.value, 1);
        }
    }

    /// The current value.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::words::SemaphoreWord::new().value(), 0);
    /// ```
    pub fn value(&self) -> u32 {
        self.value.load(Ordering::Relaxed)
    }
}

/// An event word: a flag that waiters sleep on until it is set.
///
/// ```
/// use multiproc_shared::words::EventWord;
///
/// let event = EventWord::new();
/// assert!(!event.wait(Some(std::time::Instant::now())));
/// event.set();
/// assert!(event.wait(None));
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct EventWord {
    flag: AtomicU32,
    waiters: AtomicU32,
}

impl EventWord {
    /// A cleared event (the same as all-zero memory).
    ///
    /// ```
    /// assert!(!multiproc_shared::words::EventWord::new().is_set());
    /// ```
    pub const fn new() -> EventWord {
        EventWord {
            flag: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// ```
    /// let event = multiproc_shared::words::EventWord::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        self.flag.store(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            sys::futex_wake(&self.flag, i32::MAX);
        }
    }

    /// Clears the flag.
    ///
    /// ```
    /// let event = multiproc_shared::words::EventWord::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag.store(0, Ordering::SeqCst);
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// assert!(!multiproc_shared::words::EventWord::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire) != 0
    }

    /// Waits until the flag is set or `deadline` passes; returns the flag.
    ///
    /// ```
    /// let event = multiproc_shared::words::EventWord::new();
    /// assert!(!event.wait(Some(std::time::Instant::now())));
    /// ```
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.is_set() {
                return true;
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => match remaining(deadline) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return self.is_set(),
                },
            };
            self.waiters.fetch_add(1, Ordering::SeqCst);
            let _ = sys::futex_wait(&self.flag, 0, timeout);
            self.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
                        lock.acquire(None);
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
    fn condvar_wakes_thread() {
        let shared = Arc::new((LockWord::new(), CondvarWord::new(), AtomicU32::new(0)));
        let other = shared.clone();
        let waiter = std::thread::spawn(move || {
            let (lock, cond, ready) = &*other;
            lock.acquire(None);
            while ready.load(Ordering::Relaxed) == 0 {
                cond.wait(lock, None);
            }
            lock.release().unwrap();
        });
        let (lock, cond, ready) = &*shared;
        lock.acquire(None);
        ready.store(1, Ordering::Relaxed);
        cond.notify_all();
        lock.release().unwrap();
        waiter.join().unwrap();
    }
}
