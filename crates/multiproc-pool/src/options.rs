//! `Options`: chunk size, timeout, buffer size and progress for one call of the task methods.

use std::time::Duration;

/// Options for the tasks of one call: chunk size, timeout, window, progress bar. Use them
/// through [`Pool::with`](crate::Pool::with), or the shortcuts [`Pool::chunksize`](crate::Pool::chunksize) and [`Pool::timeout`](crate::Pool::timeout).
///
/// ```
/// use std::time::Duration;
/// use multiproc_pool::{Options, Pool};
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// let options = Options::new().chunksize(1).timeout(Duration::from_secs(10));
/// assert_eq!(pool.with(options).map(square, 0..4)?, [0, 1, 4, 9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub(crate) chunksize: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) buffersize: Option<usize>,
    pub(crate) progress_bar: bool,
}

impl Options {
    /// Default options: automatic chunk size, no timeout, default window, no progress bar.
    pub fn new() -> Options {
        Options::default()
    }

    /// Tasks per chunk, the unit sent to a worker at once. By default CPython's automatic size
    /// (`len / (4 × processes)`, rounded up) for `map` and `starmap`, and 1 for `imap` and
    /// `imap_unordered`, as in CPython. 0 makes the call fail with
    /// [`PoolError::InvalidArgument`](crate::PoolError::InvalidArgument) (Python's `ValueError`).
    pub fn chunksize(mut self, chunksize: usize) -> Options {
        self.chunksize = Some(chunksize);
        self
    }

    /// The most time each task may run. A chunk of `n` tasks may run `n × timeout`; past that
    /// its worker is killed (and replaced) and its tasks fail with [`PoolError::Timeout`](crate::PoolError::Timeout).
    /// `Duration::MAX`, or any timeout whose product by the chunk size is beyond what a
    /// `Duration` or the clock holds, means no limit.
    pub fn timeout(mut self, timeout: Duration) -> Options {
        self.timeout = Some(timeout);
        self
    }

    /// For `imap` and `imap_unordered`: the most chunks submitted and not yet consumed
    /// (Python 3.14's `buffersize`). By default 16 per worker. 0 makes the call fail with
    /// [`PoolError::InvalidArgument`](crate::PoolError::InvalidArgument) (Python's `ValueError`).
    pub fn buffersize(mut self, chunks: usize) -> Options {
        self.buffersize = Some(chunks);
        self
    }

    /// Draw a progress bar on stderr while a `map` or `imap` runs (the `progress` feature).
    #[cfg(feature = "progress")]
    pub fn progress_bar(mut self, show: bool) -> Options {
        self.progress_bar = show;
        self
    }
}
