//! `AsyncResult` as a future: `.await` it from any runtime, and the rest of
//! `concurrent.futures.Future` (`done`, `running`, `cancel`, `add_done_callback`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use crate::async_result::{AsyncResult, Callback};
use crate::callbacks::run;
use crate::error::PoolError;
use crate::scheduler::Withdraw;

/// `.await` gives the result, as [`get`](AsyncResult::get) does, without blocking a thread.
///
/// The handle keeps the waker of the task that polls it in the pool's own result slot, and
/// the thread that stores the result (the pool's result thread, or its callback thread when
/// callbacks are registered) wakes it: no runtime is involved, so it works under tokio,
/// smol, async-std or `futures::executor::block_on` alike. Dropping the future before it
/// is ready drops the result when it arrives; the task still runs (use
/// [`cancel`](AsyncResult::cancel) to withdraw it).
///
/// ```
/// use multiproc_pool::Pool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// let handle = pool.submit(square, (12,));
/// // Any executor will do; this one comes with the standard library's `Waker` alone.
/// let value = poll_to_end(handle)?;
/// assert_eq!(value, 144);
///
/// fn poll_to_end<F: std::future::Future + Unpin>(mut f: F) -> F::Output {
///     use std::sync::Arc;
///     use std::task::{Context, Poll, Wake, Waker};
///     struct Unpark(std::thread::Thread);
///     impl Wake for Unpark {
///         fn wake(self: Arc<Self>) { self.0.unpark() }
///     }
///     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
///     let mut cx = Context::from_waker(&waker);
///     loop {
///         match std::pin::Pin::new(&mut f).poll(&mut cx) {
///             Poll::Ready(v) => return v,
///             Poll::Pending => std::thread::park(),
///         }
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<T> Future for AsyncResult<T> {
    type Output = Result<T, PoolError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.cell.poll_take(cx.waker())
    }
}

impl<T> AsyncResult<T> {
    /// Whether the task is finished: its result is in, it failed, or it was cancelled
    /// (Python's `Future.done()`). Unlike [`is_ready`](AsyncResult::is_ready), it is also `true`
    /// while the result's callbacks run.
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// fn one() -> u8 { 1 }
    /// let pool = Pool::new(1)?;
    /// let handle = pool.submit(one, ());
    /// handle.wait();
    /// assert!(handle.done());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Future.done")]
    pub fn done(&self) -> bool {
        self.cell.is_done()
    }

    /// Whether a worker is running the task now (Python's `Future.running()`): `false`
    /// while it is queued, and once it is done. A task sent to a busy worker behind the
    /// task that worker is running counts as not running yet.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::Pool;
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let handle = pool.submit(nap, (1,));
    /// handle.wait();
    /// assert!(!handle.running());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Future.running")]
    pub fn running(&self) -> bool {
        let Some(submission) = &self.submission else {
            return false;
        };
        if self.cell.is_done() {
            return false;
        }
        submission
            .shared
            .upgrade()
            .is_some_and(|shared| shared.is_running(&submission.sink))
    }

    /// Whether the task was cancelled (Python's `Future.cancelled()`): by
    /// [`cancel`](AsyncResult::cancel), [`cancel_running`](AsyncResult::cancel_running) or
    /// [`Pool::shutdown`](crate::Pool::shutdown).
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// fn one() -> u8 { 1 }
    /// let pool = Pool::new(1)?;
    /// let handle = pool.submit(one, ());
    /// handle.wait();
    /// assert!(!handle.cancelled());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Future.cancelled")]
    pub fn cancelled(&self) -> bool {
        self.cell.cancelled.load(Ordering::Acquire)
    }
}

impl<T: Send + 'static> AsyncResult<T> {
    /// Withdraws the task if no worker has it yet (Python's `Future.cancel()`): it then
    /// reports [`PoolError::Cancelled`] and `true` is returned. A task that is running or
    /// finished is left alone: `false`. So is one already sent to a busy worker's own
    /// channel behind its running task (a worker takes a few short tasks ahead, as
    /// `ProcessPoolExecutor`'s call queue does): it cannot be taken back from there. For a
    /// whole `map_async`, every chunk must still be queued. `true` again on a cancelled
    /// task.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let busy = pool.submit(nap, (300,));
    /// while !busy.running() { std::thread::yield_now(); }
    /// assert!(!busy.cancel());
    /// // The worker takes a few tasks ahead; the last of many is still in the pool's queue.
    /// let ahead: Vec<_> = (0..16).map(|_| pool.submit(nap, (1,))).collect();
    /// let queued = pool.submit(nap, (1,));
    /// assert!(queued.cancel());
    /// assert!(queued.cancelled());
    /// assert_eq!(queued.get(), Err(PoolError::Cancelled));
    /// assert_eq!(busy.get()?, 300);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Future.cancel")]
    pub fn cancel(&self) -> bool {
        self.withdraw(Withdraw::IfNotStarted)
    }

    /// Like [`cancel`](AsyncResult::cancel), but a running task is stopped too: the worker
    /// running it is killed (SIGKILL) and replaced, the task reports
    /// [`PoolError::Cancelled`], and the other tasks (those queued on that worker
    /// included) run elsewhere. `false` only for a task already finished. What the task did
    /// before it was killed is not undone. A task waiting in a busy worker's channel behind
    /// another task reports `Cancelled` at once, but that worker still runs it later (its
    /// result is dropped): killing the worker would fail the task it is running.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let endless = pool.submit(nap, (3_600_000,));
    /// while !endless.running() { std::thread::yield_now(); }
    /// assert!(endless.cancel_running());
    /// assert_eq!(endless.get(), Err(PoolError::Cancelled));
    /// assert_eq!(pool.apply(nap, (1,))?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel_running(&self) -> bool {
        self.withdraw(Withdraw::AndKill)
    }

    /// Withdraws the submission from the pool as `how` says; on success the result is
    /// `Cancelled`.
    pub(crate) fn withdraw(&self, how: Withdraw) -> bool {
        if self.cancelled() {
            return true;
        }
        if self.cell.is_done() || self.cell.check_process().is_err() {
            return false;
        }
        let Some(submission) = &self.submission else {
            return false;
        };
        let Some(shared) = submission.shared.upgrade() else {
            return false;
        };
        let mark = || self.cell.cancelled.store(true, Ordering::Release);
        let withdrawn = shared.withdraw(&submission.sink, how, &mark);
        drop(shared);
        if !withdrawn.withdrawn {
            return false;
        }
        // A result delivered from now on reads `Cancelled` (the flag is up); one that was
        // being delivered while the flag went up is stored as `Cancelled` here first.
        for chunk in withdrawn.queued {
            chunk.fail(PoolError::Cancelled);
        }
        self.cell.set(Err(PoolError::Cancelled));
        true
    }

    /// Python's `Future.add_done_callback(fn)`: `f` is called with the result (value or
    /// error) once the task is done, on the pool's callback thread, or right here if it
    /// already is. Several callbacks all run, in the order they were added (with
    /// [`callback`](AsyncResult::callback) and
    /// [`error_callback`](AsyncResult::error_callback)); see `callback` for where they run.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use multiproc_pool::Pool;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(1)?;
    /// let (tx, rx) = mpsc::channel();
    /// let handle = pool.submit(square, (5,));
    /// for name in ["first", "second"] {
    ///     let tx = tx.clone();
    ///     handle.add_done_callback(move |r| tx.send((name, r.ok().copied())).unwrap());
    /// }
    /// assert_eq!(handle.get()?, 25);
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [("first", Some(25)), ("second", Some(25))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Future.add_done_callback")]
    pub fn add_done_callback(&self, f: impl FnOnce(Result<&T, &PoolError>) + Send + 'static) {
        let mut state = self.cell.lock();
        if state.succeeded.is_none() {
            state.callbacks.push(Callback::Done(Box::new(f)));
            return;
        }
        if let Some(result) = &state.value {
            run(|| f(result.as_ref()));
        }
    }
}
