//! The pool's error type.

use std::time::Duration;

use multiproc_process::{CallError, ExitReason, PanicInfo};

/// Why a task has no result, or why the pool refused it.
///
/// Every task fails on its own: a panic, a crashed worker or a timeout is reported for the
/// task (or the chunk of tasks) that was running, and the pool goes on with the others.
///
/// ```
/// use multiproc_pool::PoolError;
/// use multiproc_process::ExitReason;
/// let e = PoolError::WorkerDied { status: Some(ExitReason::Signal(9)), index: 3 };
/// assert_eq!(e.to_string(), "the worker running task 3 died (signal 9 (SIGKILL))");
/// assert_eq!(e.index(), Some(3));
/// ```
///
/// Every error of one item of the input (a panic, an `Err` of a [`fallible`](crate::fallible)
/// target, a worker death, a limit, a timeout) carries that item's `index`, its position in
/// the input whatever the chunk size (0 for `apply`); [`PoolError::index`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The task panicked: the message and location of the panic, and the position of the
    /// item in the input (0 for `apply`).
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn check(x: u32) -> u32 { assert!(x != 5, "five"); x }
    /// let pool = Pool::new(2)?;
    /// match pool.chunksize(4).map(check, 0..8) {
    ///     Err(PoolError::Panicked { panic, index }) => {
    ///         assert_eq!((panic.message.as_str(), index), ("five", 5));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[error("task {index} panicked: {panic}")]
    Panicked {
        /// The panic's message and location.
        panic: PanicInfo,
        /// The item's position in the input.
        index: usize,
    },
    /// The task, made [`fallible`](crate::fallible), returned `Err`: `message` is the error
    /// and its `source()` chain (`"error: source: ..."`, as anyhow's `{:#}`), and `index` the
    /// position of the failed item in the input (0 for `apply`), whatever the chunk size.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError, fallible};
    /// fn parse(text: String) -> Result<u32, std::num::ParseIntError> { text.parse() }
    /// let pool = Pool::new(2)?;
    /// let words = ["1", "2", "three", "4"].map(String::from);
    /// let failed = pool.chunksize(2).map(fallible(parse), words).unwrap_err();
    /// assert_eq!(failed, PoolError::Failed {
    ///     message: "invalid digit found in string".into(),
    ///     index: 2,
    /// });
    /// assert_eq!(failed.to_string(), "task 2 failed: invalid digit found in string");
    /// assert_eq!(pool.map(fallible(parse), ["7".to_owned()])?, [7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[error("task {index} failed: {message}")]
    Failed {
        /// The error and its chain.
        message: String,
        /// The failed item's position in the input.
        index: usize,
    },
    /// The worker process running the task ended before the task returned: a crash, `abort`,
    /// `exit`, a signal (SIGKILL, the OOM killer). The worker was replaced. `index` is the
    /// position in the input of the item that was running: a chunk of several items whose
    /// worker dies runs again one item at a time, so that only that item fails.
    #[error("the worker running task {index} died ({})", status_text(.status))]
    WorkerDied {
        /// How the worker ended, when it could be learnt.
        status: Option<ExitReason>,
        /// The item's position in the input.
        index: usize,
    },
    /// The worker running the task ended in a way one of the pool's
    /// [`Limits`](multiproc_process::Limits) explains (see
    /// [`PoolBuilder::limits`](crate::PoolBuilder::limits)): `SIGXCPU` under the CPU time cap,
    /// or an abort, as when an allocation fails, under the memory cap. The worker was
    /// replaced.
    ///
    /// ```
    /// use multiproc_pool::PoolError;
    /// use multiproc_process::{ExitReason, LimitExceeded};
    /// let e = PoolError::LimitExceeded {
    ///     limit: LimitExceeded::Memory { limit: 256 << 20 },
    ///     status: Some(ExitReason::Signal(6)),
    ///     index: 0,
    /// };
    /// assert!(e.to_string().contains("likely the memory limit of 268435456 bytes"));
    /// ```
    #[error("the worker running task {index} hit {limit} and died ({})", status_text(.status))]
    LimitExceeded {
        /// The limit.
        limit: multiproc_process::LimitExceeded,
        /// How the worker ended.
        status: Option<ExitReason>,
        /// The item's position in the input.
        index: usize,
    },
    /// The task ran longer than its timeout; its worker was killed and replaced.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::PoolError;
    /// let e = PoolError::Timeout { after: Duration::from_millis(50), index: 7 };
    /// assert_eq!(e.to_string(), "task 7 did not finish within 50ms; its worker was killed");
    /// ```
    #[error("task {index} did not finish within {after:?}; its worker was killed")]
    Timeout {
        /// The time the task was allowed.
        after: Duration,
        /// The item's position in the input.
        index: usize,
    },
    /// A call with a limit for the whole call ([`Pool::map_timeout`](crate::Pool::map_timeout),
    /// Python's `Executor.map(..., timeout)`) ran out: the tasks not yet started were
    /// withdrawn; those running finish and are thrown away. No worker was killed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::PoolError;
    /// let e = PoolError::CallTimeout { after: Duration::from_secs(2) };
    /// assert_eq!(e.to_string(), "the call did not finish within 2s");
    /// ```
    #[error("the call did not finish within {after:?}")]
    CallTimeout {
        /// The time the whole call was allowed.
        after: Duration,
    },
    /// The task's arguments or its result could not be serialized or deserialized.
    #[error("could not transfer the task's arguments or result: {detail}")]
    Transfer {
        /// The serializer's message.
        detail: String,
    },
    /// The worker that ran the task sent results the pool cannot trust. When its
    /// shared-memory result ring is corrupt, or a message from it does not decode or answers
    /// a chunk it was not running, every task in flight on that worker fails with this, and
    /// the worker is killed and replaced; when one chunk's results do not match the chunk
    /// (a wrong count), only that chunk fails.
    ///
    /// ```
    /// use multiproc_pool::PoolError;
    /// let detail = "its result ring is corrupt".to_owned();
    /// let e = PoolError::CorruptResults { pid: 42, detail };
    /// let text = "pool worker 42 sent corrupt results: its result ring is corrupt";
    /// assert_eq!(e.to_string(), text);
    /// ```
    #[error("pool worker {pid} sent corrupt results: {detail}")]
    CorruptResults {
        /// The worker's process id.
        pid: u32,
        /// What was wrong.
        detail: String,
    },
    /// The pool's result thread stopped, so no result can arrive: every task pending then,
    /// and every task submitted later, fails with this.
    #[error("the pool stopped working: {detail}")]
    PoolBroken {
        /// Why the result thread stopped.
        detail: String,
    },
    /// The pool's initializer panicked in the worker that was to run the task.
    #[error("the pool's initializer panicked in the worker: {0}")]
    Initializer(PanicInfo),
    /// The pool could not start: a worker or the result thread failed to start.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// // Not an error of this kind, but the shape of a match on it:
    /// match Pool::new(1) {
    ///     Ok(_) => {}
    ///     Err(PoolError::Start { detail }) => eprintln!("no pool: {detail}"),
    ///     Err(other) => eprintln!("{other}"),
    /// }
    /// ```
    #[error("the pool could not start: {detail}")]
    Start {
        /// The start's error, with its causes.
        detail: String,
    },
    /// No worker could be started to run the task.
    #[error("no worker could be started: {detail}")]
    NoWorkers {
        /// Why the last start failed.
        detail: String,
    },
    /// The pool was terminated (or dropped) before the task finished.
    #[error("the pool was terminated before the task finished")]
    Terminated,
    /// The pool was closed or terminated before the task was submitted.
    #[error("the pool is not running (closed or terminated)")]
    Closed,
    /// [`AsyncResult::get_timeout`](crate::AsyncResult::get_timeout) ran out before the
    /// result arrived. Asking again is allowed.
    #[error("the result is not ready yet")]
    NotReady,
    /// The result was already taken by an earlier
    /// [`get_timeout`](crate::AsyncResult::get_timeout).
    #[error("the result was already taken")]
    Taken,
    /// An option of the call is out of range, where Python raises `ValueError`: a
    /// [`chunksize`](crate::Options::chunksize) or
    /// [`buffersize`](crate::Options::buffersize) of 0.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(1)?;
    /// let refused = pool.chunksize(0).map(square, 0..4);
    /// assert!(matches!(refused, Err(PoolError::InvalidArgument { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[error("invalid argument: {detail}")]
    InvalidArgument {
        /// Which argument, and why.
        detail: String,
    },
    /// The pool belongs to another process: it was made in process `owner` and used in a
    /// child forked from it, where its workers and its result thread do not exist.
    #[error(
        "this pool belongs to process {owner}, not to this process ({current}); a forked child \
         must make its own pool"
    )]
    WrongProcess {
        /// The process that made the pool.
        owner: u32,
        /// The process that tried to use it.
        current: u32,
    },
    /// A callback waited for a result whose own callback is queued behind it on the pool's
    /// callback thread: that result can only be stored after the waiting callback returns.
    #[error(
        "a callback waited for a result whose callback runs after it on the pool's callback \
         thread; it would wait forever"
    )]
    CallbackDeadlock,
    /// The task was cancelled before it ran ([`AsyncResult::cancel`](crate::AsyncResult::cancel),
    /// [`Pool::shutdown`](crate::Pool::shutdown) with `cancel_pending`), or while it ran
    /// ([`AsyncResult::cancel_running`](crate::AsyncResult::cancel_running)). Python's
    /// `concurrent.futures.CancelledError`.
    ///
    /// ```
    /// use multiproc_pool::PoolError;
    /// assert_eq!(PoolError::Cancelled.to_string(), "the task was cancelled");
    /// ```
    #[doc(alias = "concurrent.futures.CancelledError")]
    #[error("the task was cancelled")]
    Cancelled,
    /// [`Pool::join`](crate::Pool::join) was called on a pool that is still running.
    #[error("the pool is still running; call close or terminate before join")]
    StillRunning,
}

impl PoolError {
    /// The position in the input of the item this error is about: for a panic, an `Err` of
    /// the target, a worker death, a limit or a timeout; `None` for an error of the pool or
    /// of the call as a whole.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError, fallible};
    /// fn half(x: u32) -> Result<u32, String> {
    ///     if x % 2 == 0 { Ok(x / 2) } else { Err(format!("{x} is odd")) }
    /// }
    /// let pool = Pool::new(2)?;
    /// let results: Vec<_> = pool.imap(fallible(half), [2, 4, 7, 8]).collect();
    /// assert_eq!(results[2].as_ref().unwrap_err().index(), Some(2));
    /// assert_eq!(PoolError::Closed.index(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn index(&self) -> Option<usize> {
        match self {
            PoolError::Panicked { index, .. }
            | PoolError::Failed { index, .. }
            | PoolError::WorkerDied { index, .. }
            | PoolError::LimitExceeded { index, .. }
            | PoolError::Timeout { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// This error, about the item at `position` of the input: sets the index of an error
    /// that is about one item (a chunk's error reaches each of its items this way).
    pub(crate) fn at(mut self, position: usize) -> PoolError {
        match &mut self {
            PoolError::Panicked { index, .. }
            | PoolError::Failed { index, .. }
            | PoolError::WorkerDied { index, .. }
            | PoolError::LimitExceeded { index, .. }
            | PoolError::Timeout { index, .. } => *index = position,
            _ => {}
        }
        self
    }

    /// The error for one call that gave no value, the task at `index` of the input.
    pub(crate) fn from_call(error: CallError, index: usize) -> PoolError {
        match error {
            CallError::Panicked(panic) => PoolError::Panicked { panic, index },
            CallError::Failed(message) => PoolError::Failed { message, index },
        }
    }
}

fn status_text(status: &Option<ExitReason>) -> String {
    match status {
        Some(status) => status.to_string(),
        None => "exit status unknown".to_owned(),
    }
}

/// `Err(PoolError::WrongProcess)` unless the calling process is `owner`, the process that
/// made the pool or submitted the task: a forked child has the object but never its results.
pub(crate) fn check_owner(owner: u32) -> Result<(), PoolError> {
    let current = multiproc_sys::process::pid();
    if current == owner {
        Ok(())
    } else {
        Err(PoolError::WrongProcess { owner, current })
    }
}

impl From<multiproc_process::ProcessError> for PoolError {
    fn from(err: multiproc_process::ProcessError) -> PoolError {
        let mut detail = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        PoolError::Start { detail }
    }
}
