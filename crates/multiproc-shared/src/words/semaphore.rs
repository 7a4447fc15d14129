//! `SemaphoreWord`: the counting-semaphore word.

use super::shim::{AtomicU32, Ordering};
use std::time::Instant;

use super::{remaining, shim};

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
    #[cfg(not(loom))]
    pub const fn new() -> SemaphoreWord {
        SemaphoreWord {
            value: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Under loom (whose atomics have no `const fn new`).
    #[cfg(loom)]
    pub fn new() -> SemaphoreWord {
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
            let _ = shim::futex_wait(&self.value, 0, timeout);
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
            shim::futex_wake(&self.value, 1);
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
