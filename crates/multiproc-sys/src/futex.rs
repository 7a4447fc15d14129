//! Shared futexes: a 32-bit word in memory mapped by several processes that they sleep on
//! and wake each other through. See futex(2) and futex(7).
//!
//! ```
//! use std::sync::atomic::AtomicU32;
//! use std::time::Duration;
//! let word = AtomicU32::new(1);
//! // The word is not 0: the wait returns at once (EAGAIN).
//! assert!(multiproc_sys::futex::wait(&word, 0, Some(Duration::from_secs(1))).is_err());
//! assert_eq!(multiproc_sys::futex::wake(&word, 1), 0); // nobody was waiting
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use rustix::thread::futex;

/// Sleeps while `word` still holds `expected`, for at most `timeout` (relative, measured on
/// `CLOCK_MONOTONIC`; `None` waits without limit), or until [`wake`] is called on the same
/// word.
///
/// The futex is shared (no `FUTEX_PRIVATE_FLAG`): the kernel keys it on the page and offset of
/// the mapping, so processes that map the same memory at different addresses wake each other.
/// Returns `Ok(())` on a wake-up, or the kernel's error: `EAGAIN` (the word had changed),
/// `ETIMEDOUT`, `EINTR`. Callers re-check their condition in every case. futex(2),
/// `FUTEX_WAIT`.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// use std::time::Duration;
/// let word = AtomicU32::new(1);
/// // The word does not hold 0, so this returns at once with EAGAIN.
/// assert!(multiproc_sys::futex::wait(&word, 0, Some(Duration::from_secs(5))).is_err());
/// ```
pub fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> io::Result<()> {
    let timespec = timeout.map(crate::time::timespec);
    futex::wait(word, futex::Flags::empty(), expected, timespec.as_ref()).map_err(Into::into)
}

/// Wakes up to `count` processes or threads sleeping in [`wait`] on `word`, and returns how
/// many were woken. futex(2), `FUTEX_WAKE`.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// assert_eq!(multiproc_sys::futex::wake(&AtomicU32::new(0), u32::MAX), 0);
/// ```
pub fn wake(word: &AtomicU32, count: u32) -> usize {
    let count = count.min(i32::MAX as u32);
    // FUTEX_WAKE fails only for a bad address or operation, which the types rule out.
    futex::wake(word, futex::Flags::empty(), count).unwrap_or(0)
}
