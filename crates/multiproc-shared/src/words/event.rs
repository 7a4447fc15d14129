//! `EventWord`: the event flag word.

use super::shim::{AtomicU32, Ordering};
use std::time::Instant;

use super::{remaining, shim};

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
    #[cfg(not(loom))]
    pub const fn new() -> EventWord {
        EventWord {
            flag: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Under loom (whose atomics have no `const fn new`).
    #[cfg(loom)]
    pub fn new() -> EventWord {
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
            shim::futex_wake(&self.flag, u32::MAX);
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
            let _ = shim::futex_wait(&self.flag, 0, timeout);
            self.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
