//! The surface of `concurrent.futures`: `submit`, `map` with a timeout and `shutdown` on the
//! pool, and the module functions over [`AsyncResult`]s, [`wait`] and [`as_completed`].

use std::fmt;
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use multiproc_process::{Portable, Target};

use crate::async_result::AsyncResult;
use crate::error::PoolError;
use crate::options::Options;
use crate::pool::Pool;
use crate::scheduler::Withdraw;
use crate::tasks::Tasks;

impl Pool {
    /// Submits `f(args...)` and returns its handle at once: `concurrent.futures`'s name for
    /// [`apply_async`](Pool::apply_async), which it is. The handle is a [`Future`] (`.await`
    /// it from any runtime) and has `get`, [`cancel`](AsyncResult::cancel),
    /// [`done`](AsyncResult::done), [`add_done_callback`](AsyncResult::add_done_callback);
    /// see also [`as_completed`](crate::as_completed) and [`wait`](crate::wait).
    ///
    /// ```
    /// fn multiply(a: i64, b: i64) -> i64 { a * b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let handle = pool.submit(multiply, (6, 7));
    /// assert_eq!(handle.get()?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Executor.submit")]
    #[doc(alias = "run_in_executor")]
    pub fn submit<F, Args>(&self, f: F, args: Args) -> AsyncResult<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args)
    }

    /// Like [`map`](Pool::map), with a limit for the whole call (Python's
    /// `Executor.map(fn, iterable, timeout=...)`): once `timeout` has passed without every
    /// result, the tasks not yet started are withdrawn, those running finish and are thrown
    /// away, and the call returns [`PoolError::CallTimeout`]. For a limit per task, see
    /// [`Pool::timeout`]. `Duration::MAX` means no limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.map_timeout(nap, [1, 2], Duration::from_secs(60))?, [1, 2]);
    /// let late = pool.map_timeout(nap, [2_000; 8], Duration::from_millis(50));
    /// assert!(matches!(late, Err(PoolError::CallTimeout { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Executor.map")]
    pub fn map_timeout<F, A, I>(
        &self,
        f: F,
        iterable: I,
        timeout: Duration,
    ) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.with(Options::new()).map_timeout(f, iterable, timeout)
    }

    /// Python's `Executor.shutdown(wait, cancel_futures)`: stops accepting work (like
    /// [`close`](Pool::close)); with `cancel_pending`, the tasks still in the pool's queue
    /// are withdrawn and report [`PoolError::Cancelled`] (those already sent to a worker,
    /// running or taken ahead, still run); with `wait`, returns once every worker has left
    /// (like [`join`](Pool::join)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let running = pool.submit(nap, (200,));
    /// while !running.running() { std::thread::yield_now(); }
    /// // The worker takes a few tasks ahead; the last of many is still in the pool's queue.
    /// let ahead: Vec<_> = (0..16).map(|_| pool.submit(nap, (1,))).collect();
    /// let queued = pool.submit(nap, (200,));
    /// pool.shutdown(true, true)?;
    /// assert_eq!(running.get()?, 200);
    /// assert!(queued.cancelled());
    /// assert_eq!(queued.get(), Err(PoolError::Cancelled));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "concurrent.futures.Executor.shutdown")]
    pub fn shutdown(&self, wait: bool, cancel_pending: bool) -> Result<(), PoolError> {
        self.shared.check_process()?;
        self.close();
        if cancel_pending {
            for chunk in self.shared.withdraw_all_queued() {
                chunk.fail(PoolError::Cancelled);
            }
            // The result thread leaves once the queue and the workers are empty.
            self.shared.wake();
        }
        if wait {
            self.join()?;
        }
        Ok(())
    }
}

impl Tasks<'_> {
    /// [`Pool::submit`] with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let sum = pool.timeout(Duration::from_secs(30)).submit(add, (2, 3));
    /// assert_eq!(sum.get()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn submit<F, Args>(&self, f: F, args: Args) -> AsyncResult<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args)
    }

    /// [`Pool::map_timeout`] with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares = pool.chunksize(2).map_timeout(square, 0..5, Duration::from_secs(60))?;
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_timeout<F, A, I>(
        &self,
        f: F,
        iterable: I,
        timeout: Duration,
    ) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        let result = self.map_async(f, iterable);
        match result.get_timeout(timeout) {
            Err(PoolError::NotReady) => {
                // Python's `Executor.map` cancels what has not started; the tasks running
                // finish and are thrown away.
                result.withdraw(Withdraw::Queued);
                Err(PoolError::CallTimeout { after: timeout })
            }
            other => other,
        }
    }
}

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// ```
/// use multiproc_pool::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as one handle is done (or at once if one already is).
    #[doc(alias = "FIRST_COMPLETED")]
    FirstCompleted,
    /// As soon as one handle has failed (a cancelled task counts as failed), or when every
    /// handle is done.
    #[doc(alias = "FIRST_EXCEPTION")]
    FirstError,
    /// When every handle is done.
    #[doc(alias = "ALL_COMPLETED")]
    AllCompleted,
}

/// Wakes a thread parked in [`wait`] or [`AsCompleted::next`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

fn thread_waker() -> Waker {
    Waker::from(Arc::new(Unpark(std::thread::current())))
}

/// Parks the thread until it is woken or `deadline` passes; `false` once it has passed.
fn park_until(deadline: Option<Instant>) -> bool {
    match deadline {
        None => std::thread::park(),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::park_timeout(left);
        }
    }
    true
}

/// Waits until `handles` are done as `return_when` says, or until `timeout` passes, and
/// returns them split into `(done, pending)`, each in the order given (Python's
/// `concurrent.futures.wait`). `Duration::MAX` means no limit; `Duration::ZERO` looks once.
/// No thread other than the caller's is involved: the handles wake it as their results
/// arrive. In a child forked from the pool's process, where no result arrives, it returns
/// at once.
///
/// ```
/// use std::time::Duration;
/// use multiproc_pool::{Pool, ReturnWhen, wait};
/// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
/// let pool = Pool::new(2)?;
/// let handles = [pool.submit(nap, (1,)), pool.submit(nap, (60_000,))];
/// let (done, pending) = wait(&handles, Duration::from_secs(60), ReturnWhen::FirstCompleted);
/// assert_eq!(done.len(), 1);
/// assert_eq!(done[0].get_timeout(Duration::ZERO)?, 1);
/// assert_eq!(pending.len(), 1);
/// pool.terminate();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "concurrent.futures.wait")]
pub fn wait<'a, T: 'a>(
    handles: impl IntoIterator<Item = &'a AsyncResult<T>>,
    timeout: Duration,
    return_when: ReturnWhen,
) -> (Vec<&'a AsyncResult<T>>, Vec<&'a AsyncResult<T>>) {
    let handles: Vec<&AsyncResult<T>> = handles.into_iter().collect();
    let deadline = Instant::now().checked_add(timeout);
    let waker = thread_waker();
    loop {
        let (done, pending): (Vec<&AsyncResult<T>>, Vec<&AsyncResult<T>>) =
            handles.iter().partition(|h| h.cell.poll_done(&waker));
        let satisfied = pending.is_empty()
            || match return_when {
                ReturnWhen::FirstCompleted => !done.is_empty(),
                ReturnWhen::FirstError => done.iter().any(|h| h.is_successful() == Some(false)),
                ReturnWhen::AllCompleted => false,
            };
        let orphaned = pending.iter().any(|h| h.cell.check_process().is_err());
        if satisfied || orphaned || !park_until(deadline) {
            return (done, pending);
        }
    }
}

/// Yields the results of `handles` as they arrive, each with its index in `handles`
/// (Python's `concurrent.futures.as_completed`). It is a blocking [`Iterator`]; with the
/// `stream` feature, `as_completed(handles).into_stream()` is a `futures_core::Stream`.
///
/// ```
/// use std::time::Duration;
/// use multiproc_pool::{Pool, as_completed};
/// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
/// let pool = Pool::new(3)?;
/// let handles = [3_000, 1, 1].map(|ms| pool.submit(nap, (ms,)));
/// let first_two: Vec<usize> = as_completed(handles).take(2).map(|(i, _)| i).collect();
/// assert!(first_two.contains(&1) && first_two.contains(&2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "concurrent.futures.as_completed")]
pub fn as_completed<T>(handles: impl IntoIterator<Item = AsyncResult<T>>) -> AsCompleted<T> {
    AsCompleted {
        pending: handles.into_iter().enumerate().collect(),
    }
}

/// The blocking iterator of [`as_completed`]; with the `stream` feature,
/// `into_stream` makes it a `Stream`. Its items are `(index, result)`, the index being the
/// handle's place in the input.
///
/// ```
/// use multiproc_pool::{AsCompleted, Pool, as_completed};
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// let results: AsCompleted<u64> = as_completed((0..4).map(|i| pool.submit(square, (i,))));
/// let mut all: Vec<(usize, u64)> = results.map(|(i, r)| (i, r.unwrap())).collect();
/// all.sort();
/// assert_eq!(all, [(0, 0), (1, 1), (2, 4), (3, 9)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsCompleted<T> {
    pending: Vec<(usize, AsyncResult<T>)>,
}

impl<T> AsCompleted<T> {
    /// The handles whose results have not been yielded yet.
    ///
    /// ```
    /// use multiproc_pool::{Pool, as_completed};
    /// fn one() -> u8 { 1 }
    /// let pool = Pool::new(1)?;
    /// let mut results = as_completed([pool.submit(one, ()), pool.submit(one, ())]);
    /// assert_eq!(results.remaining(), 2);
    /// results.next();
    /// assert_eq!(results.remaining(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remaining(&self) -> usize {
        self.pending.len()
    }

    /// The first result in, if any: its waker is left with every pending handle.
    fn poll_any(&mut self, waker: &Waker) -> Poll<Option<(usize, Result<T, PoolError>)>> {
        if self.pending.is_empty() {
            return Poll::Ready(None);
        }
        for k in 0..self.pending.len() {
            if let Poll::Ready(result) = self.pending[k].1.cell.poll_take(waker) {
                let (index, _) = self.pending.swap_remove(k);
                return Poll::Ready(Some((index, result)));
            }
        }
        Poll::Pending
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = (usize, Result<T, PoolError>);

    fn next(&mut self) -> Option<Self::Item> {
        let waker = thread_waker();
        loop {
            if let Poll::Ready(item) = self.poll_any(&waker) {
                return item;
            }
            park_until(None);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pending.len(), Some(self.pending.len()))
    }
}

impl<T> ExactSizeIterator for AsCompleted<T> {}

/// [`as_completed`] as a `futures_core::Stream` (the `stream` feature): made by
/// [`AsCompleted::into_stream`]. A type of its own, so that `StreamExt` and `Iterator`
/// methods never clash.
///
/// ```
/// use futures::StreamExt;
/// use multiproc_pool::{CompletedStream, Pool, as_completed};
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(1)?;
/// let mut stream: CompletedStream<u64> = as_completed([pool.submit(square, (3,))]).into_stream();
/// assert_eq!(futures::executor::block_on(stream.next()), Some((0, Ok(9))));
/// assert_eq!(futures::executor::block_on(stream.next()), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "stream")]
#[derive(Debug)]
pub struct CompletedStream<T> {
    inner: AsCompleted<T>,
}

#[cfg(feature = "stream")]
impl<T> AsCompleted<T> {
    /// The same results as a `futures_core::Stream`, for async code: each poll leaves the
    /// task's waker with every pending handle, and the first result in wakes it.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use multiproc_pool::{Pool, as_completed};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// let handles: Vec<_> = (0..10).map(|i| pool.submit(square, (i,))).collect();
    /// let stream = as_completed(handles).into_stream();
    /// let mut all: Vec<u64> = futures::executor::block_on(stream.map(|(_, r)| r.unwrap()).collect());
    /// all.sort();
    /// assert_eq!(all, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_stream(self) -> CompletedStream<T> {
        CompletedStream { inner: self }
    }
}

#[cfg(feature = "stream")]
impl<T> futures_core::Stream for CompletedStream<T> {
    type Item = (usize, Result<T, PoolError>);

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_any(cx.waker())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.pending.len(), Some(self.inner.pending.len()))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.pending.len())
            .finish()
    }
}
