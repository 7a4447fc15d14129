//! A deadline that reads the clock only once an operation has to wait.

use std::time::{Duration, Instant};

/// When a blocking queue operation gives up.
///
/// A timeout becomes an instant only when the operation first has to wait
/// ([`resolve`](Deadline::resolve)), so a `put_timeout` or `get_timeout` that finds the lock
/// free and its room or item there reads no clock: a read costs tens of nanoseconds in a VM
/// (`perf record` of a pool's `apply_async` round trip on one CPU: 1.4% of all samples in
/// `clock_gettime`, from the task and result rings' timed puts and gets). The wait is then
/// measured from its start, not from the call: a timeout is never cut short, at most
/// lengthened by the microseconds of the first attempt.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    /// No limit.
    Never,
    /// Gives up at this instant.
    At(Instant),
    /// Gives up this long after the first wait begins.
    After(Duration),
}

impl Deadline {
    /// The instant the operation gives up (`None`: never). A timeout is turned into an
    /// instant at the first call, which the later ones return; one too large to represent
    /// means no limit. Out of line: it is called only on the way to a wait.
    #[cold]
    #[inline(never)]
    pub(crate) fn resolve(&mut self) -> Option<Instant> {
        match *self {
            Deadline::Never => None,
            Deadline::At(at) => Some(at),
            Deadline::After(timeout) => {
                let at = Instant::now().checked_add(timeout);
                *self = at.map_or(Deadline::Never, Deadline::At);
                at
            }
        }
    }
}

impl From<Option<Instant>> for Deadline {
    /// A fixed deadline (`None`: never).
    fn from(at: Option<Instant>) -> Deadline {
        at.map_or(Deadline::Never, Deadline::At)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_fixed_at_the_first_look() {
        let mut deadline = Deadline::After(Duration::from_millis(50));
        let before = Instant::now();
        let first = deadline.resolve().unwrap();
        assert!(first >= before + Duration::from_millis(50));
        std::thread::yield_now();
        assert_eq!(deadline.resolve(), Some(first));
        assert_eq!(Deadline::After(Duration::MAX).resolve(), None);
        assert_eq!(Deadline::from(None).resolve(), None);
        assert_eq!(Deadline::from(Some(before)).resolve(), Some(before));
    }
}
