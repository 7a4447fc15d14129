//! Deadlines, computed with checked arithmetic, and the crate's one `EINTR` policy.
//!
//! A timeout is an `Option<Duration>`: `None`, or a duration too large to add to the clock
//! (such as [`Duration::MAX`]), means "no limit"; zero means "check once".
//!
//! ```
//! use std::time::Duration;
//! use multiproc_sys::time::{deadline_after, remaining};
//! assert_eq!(deadline_after(Some(Duration::MAX)), None); // no limit
//! let soon = deadline_after(Some(Duration::from_secs(60)));
//! assert!(remaining(soon).is_some_and(|left| left <= Duration::from_secs(60)));
//! ```

use std::io;
use std::time::{Duration, Instant};

/// The instant `timeout` from now, or `None` ("no limit") when there is no timeout or it
/// does not fit the clock (`Duration::MAX`).
///
/// ```
/// use std::time::Duration;
/// use multiproc_sys::time::deadline_after;
/// assert!(deadline_after(Some(Duration::from_secs(1))).is_some());
/// assert!(deadline_after(Some(Duration::MAX)).is_none());
/// assert!(deadline_after(None).is_none());
/// ```
pub fn deadline_after(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|timeout| Instant::now().checked_add(timeout))
}

/// The time left until `deadline` (zero once it has passed), or `None` for no deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// use multiproc_sys::time::remaining;
/// assert_eq!(remaining(None), None);
/// assert_eq!(remaining(Some(Instant::now())), Some(Duration::ZERO));
/// ```
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

/// Runs `call` with the time left until `deadline`, again while it fails with `EINTR`.
///
/// This is the workspace's one `EINTR` policy: a signal that interrupts a blocking call
/// neither ends the wait early nor restarts it with its whole timeout.
///
/// ```
/// use multiproc_sys::time::retry_eintr;
/// let mut tries = 0;
/// let result = retry_eintr(None, |_| {
///     tries += 1;
///     if tries < 3 { Err(std::io::ErrorKind::Interrupted.into()) } else { Ok(tries) }
/// });
/// assert_eq!(result.unwrap(), 3);
/// ```
pub fn retry_eintr<T>(
    deadline: Option<Instant>,
    mut call: impl FnMut(Option<Duration>) -> io::Result<T>,
) -> io::Result<T> {
    loop {
        match call(remaining(deadline)) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `timeout` as a rustix `Timespec`, saturating at the largest one.
pub(crate) fn timespec(timeout: Duration) -> rustix::thread::futex::Timespec {
    rustix::thread::futex::Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(timeout.subsec_nanos()),
    }
}
