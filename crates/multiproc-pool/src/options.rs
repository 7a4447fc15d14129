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
///
/// `Options` is `Copy`; a progress bar or style of your own goes on the call instead
/// ([`Tasks::progress`](crate::Tasks::progress), the `progress` feature).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub(crate) chunksize: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) buffersize: Option<usize>,
    pub(crate) progress_bar: bool,
}

impl Options {
    /// Default options: automatic chunk size, no timeout, default window, no progress bar.
    ///
    /// ```
    /// use multiproc_pool::{Options, Pool};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(1)?;
    /// assert_eq!(pool.with(Options::new()).map(square, 0..3)?, [0, 1, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Options {
        Options::default()
    }

    /// Tasks per chunk, the unit sent to a worker at once. By default CPython's automatic size
    /// (`len / (4 × processes)`, rounded up) for `map` and `starmap`, and 1 for `imap` and
    /// `imap_unordered`, as in CPython. 0 makes the call fail with
    /// [`PoolError::InvalidArgument`](crate::PoolError::InvalidArgument) (Python's `ValueError`).
    ///
    /// ```
    /// use multiproc_pool::{Options, Pool, PoolError};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.with(Options::new().chunksize(3)).map(square, 0..4)?, [0, 1, 4, 9]);
    /// let zero = pool.with(Options::new().chunksize(0)).map(square, 0..4);
    /// assert!(matches!(zero, Err(PoolError::InvalidArgument { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunksize(mut self, chunksize: usize) -> Options {
        self.chunksize = Some(chunksize);
        self
    }

    /// The most time each task may run. A chunk of `n` tasks may run `n × timeout`; past that
    /// its worker is killed (and replaced) and its tasks fail with [`PoolError::Timeout`](crate::PoolError::Timeout).
    /// `Duration::MAX`, or any timeout whose product by the chunk size is beyond what a
    /// `Duration` or the clock holds, means no limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Options, Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let options = Options::new().chunksize(1).timeout(Duration::from_millis(200));
    /// let results: Vec<_> = pool.with(options).imap(nap, [0, 60_000, 1]).collect();
    /// assert_eq!(results[0], Ok(0));
    /// assert!(matches!(results[1], Err(PoolError::Timeout { .. })));
    /// assert_eq!(results[2], Ok(1)); // the killed worker was replaced
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Options {
        self.timeout = Some(timeout);
        self
    }

    /// For `imap` and `imap_unordered`: the most chunks submitted and not yet consumed
    /// (Python 3.14's `buffersize`). By default 16 per worker. 0 makes the call fail with
    /// [`PoolError::InvalidArgument`](crate::PoolError::InvalidArgument) (Python's `ValueError`).
    ///
    /// ```
    /// use multiproc_pool::{Options, Pool};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// // An endless input: at most 4 chunks are submitted ahead of what is consumed.
    /// let options = Options::new().chunksize(1).buffersize(4);
    /// let first: Vec<u64> = pool.with(options).imap(square, 0..).take(5).collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buffersize(mut self, chunks: usize) -> Options {
        self.buffersize = Some(chunks);
        self
    }

    /// Draw a progress bar on stderr while a `map`, `starmap`, `imap` or `imap_unordered`
    /// runs (the `progress` feature). The bar counts tasks, not chunks: its position is the
    /// number of tasks whose results have arrived, its length the number of tasks (for an
    /// `imap`, once its input is exhausted). A worker reports a chunk's results together, so
    /// with chunks of `n` tasks the bar moves `n` at a time; `chunksize(1)` moves it by one.
    /// indicatif draws only on a terminal. For a style or a bar of your own, see
    /// [`Tasks::progress_style`](crate::Tasks::progress_style) and
    /// [`Tasks::progress`](crate::Tasks::progress).
    ///
    /// ```
    /// use multiproc_pool::{Options, Pool};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// let squares = pool.with(Options::new().progress_bar(true)).map(square, 0..100)?;
    /// assert_eq!(squares[9], 81);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress_bar(mut self, show: bool) -> Options {
        self.progress_bar = show;
        self
    }
}
