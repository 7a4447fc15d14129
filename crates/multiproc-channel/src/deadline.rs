//! A deadline that reads the clock only once an operation has to wait.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

/// When a blocking queue operation gives up (`None` from [`get`](Deadline::get): never).
///
/// A timeout becomes an instant only when the operation first has to wait, so a
/// `put_timeout` or `get_timeout` that finds the lock free and its room or item there reads
/// no clock: a read costs tens of nanoseconds in a VM (`perf record` of a pool's
/// `apply_async` round trip on one CPU: 1.4% of all samples in `clock_gettime`, from the
/// task and result rings' timed puts and gets). The wait is then measured from its start,
/// not from the call: a timeout is never cut short, at most lengthened by the
/// microseconds of the first attempt.
#[derive(Debug)]
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    at: OnceCell<Option<Instant>>,
}

impl Deadline {
    /// A deadline `timeout` after the first call to [`get`](Self::get); a timeout too
    /// large to represent means no limit.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline {
            timeout: Some(timeout),
            at: OnceCell::new(),
        }
    }

    /// The instant the operation gives up, fixed at the first call; `None`: never.
    pub(crate) fn get(&self) -> Option<Instant> {
        *self.at.get_or_init(|| {
            self.timeout
                .and_then(|timeout| Instant::now().checked_add(timeout))
        })
    }
}

impl From<Option<Instant>> for Deadline {
    /// A fixed deadline (`None`: never).
    fn from(at: Option<Instant>) -> Deadline {
        Deadline {
            timeout: None,
            at: OnceCell::from(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_fixed_at_the_first_look() {
        let deadline = Deadline::after(Duration::from_millis(50));
        let before = Instant::now();
        let first = deadline.get().unwrap();
        assert!(first >= before + Duration::from_millis(50));
        std::thread::yield_now();
        assert_eq!(deadline.get(), Some(first));
        assert_eq!(Deadline::after(Duration::MAX).get(), None);
        assert_eq!(Deadline::from(None).get(), None);
        assert_eq!(Deadline::from(Some(before)).get(), Some(before));
    }
}
