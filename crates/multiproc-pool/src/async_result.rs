//! `AsyncResult`: the result of `apply_async`, `map_async` and `starmap_async`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use multiproc_process::Portable;

use crate::callbacks::{Callbacks, run};
use crate::chunk::{Outcome, Positions, Sink, decode_each, decode_outputs};
use crate::error::PoolError;
use crate::get_wake::GetWake;
use crate::progress::Progress;
use crate::scheduler::Shared;

/// A callback waiting for the result: Python's `callback`, `error_callback` or
/// `add_done_callback`.
pub(crate) enum Callback<T> {
    Value(Box<dyn FnOnce(&T) + Send>),
    Error(Box<dyn FnOnce(&PoolError) + Send>),
    Done(DoneCallback<T>),
}

/// `add_done_callback`'s callback: called with the value or the error.
type DoneCallback<T> = Box<dyn FnOnce(Result<&T, &PoolError>) + Send>;

impl<T> Callback<T> {
    fn wants(&self, result: &Result<T, PoolError>) -> bool {
        match self {
            Callback::Value(_) => result.is_ok(),
            Callback::Error(_) => result.is_err(),
            Callback::Done(_) => true,
        }
    }

    /// Runs the callback if it wants `result` (a panic in it is logged).
    fn call(self, result: &Result<T, PoolError>) {
        match (self, result) {
            (Callback::Value(f), Ok(v)) => run(|| f(v)),
            (Callback::Error(f), Err(e)) => run(|| f(e)),
            (Callback::Done(f), r) => run(|| f(r.as_ref())),
            _ => {}
        }
    }
}

/// The result of a task submitted with [`Pool::apply_async`](crate::Pool::apply_async), or of
/// a whole [`map_async`](crate::Pool::map_async) / [`starmap_async`](crate::Pool::starmap_async),
/// like Python's `multiprocessing.pool.AsyncResult`.
///
/// ```
/// use multiproc_pool::Pool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// let result = pool.apply_async(square, (7,));
/// assert_eq!(result.get()?, 49);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It is also a [`Future`] (`.await` it under any runtime) with the
/// rest of `concurrent.futures.Future`: [`done`](AsyncResult::done),
/// [`cancel`](AsyncResult::cancel), [`add_done_callback`](AsyncResult::add_done_callback)...
///
/// The result does not borrow the pool. If the pool is terminated (or dropped) first,
/// [`get`](AsyncResult::get) returns [`PoolError::Terminated`].
#[doc(alias = "multiprocessing.pool.AsyncResult")]
#[doc(alias = "MapResult")]
#[doc(alias = "concurrent.futures.Future")]
pub struct AsyncResult<T> {
    pub(crate) cell: Arc<Cell<T>>,
    /// The submission behind it, for `cancel` and `running` (`None` for a call the pool
    /// refused, or one with nothing to run).
    pub(crate) submission: Option<Submission>,
}

/// Where a submission went: the pool (weakly: a handle does not keep a pool alive) and the
/// sink that names its chunks there.
pub(crate) struct Submission {
    pub(crate) shared: Weak<Shared>,
    pub(crate) sink: Arc<dyn Sink>,
}

pub(crate) struct Cell<T> {
    state: Mutex<CellState<T>>,
    ready: Condvar,
    pub(crate) progress: Progress,
    /// The process whose pool delivers the result: in a forked child nothing ever will.
    owner: u32,
    /// Where callbacks run: the pool's callback thread.
    callbacks: Arc<Callbacks>,
    /// `cancel` withdrew the task: whatever result arrives is `PoolError::Cancelled`.
    pub(crate) cancelled: AtomicBool,
    /// The pool's word for threads blocked in `get` (see [`GetWake`]): storing the result
    /// wakes them.
    get_wake: Option<GetWake>,
}

pub(crate) struct CellState<T> {
    pub(crate) value: Option<Result<T, PoolError>>,
    /// The result arrived (`Some(succeeded)`) and is with the callback thread, which runs
    /// the callback and then stores it.
    delivering: Option<bool>,
    /// `Some` once the result arrived, whether or not it was taken since.
    pub(crate) succeeded: Option<bool>,
    /// The callbacks to run when the result arrives, in the order they were added.
    pub(crate) callbacks: Vec<Callback<T>>,
    /// The task that awaits the result (see the `Future` impl).
    waker: Option<Waker>,
    /// Threads asleep on `ready` (storing the result notifies it only if there are any:
    /// a notification is a system call).
    sleepers: usize,
}

impl<T> Cell<T> {
    pub(crate) fn new(
        progress: Progress,
        callbacks: Arc<Callbacks>,
        get_wake: Option<GetWake>,
    ) -> Arc<Cell<T>> {
        Arc::new(Cell {
            callbacks,
            get_wake,
            state: Mutex::new(CellState {
                value: None,
                delivering: None,
                succeeded: None,
                callbacks: Vec::new(),
                waker: None,
                sleepers: 0,
            }),
            ready: Condvar::new(),
            progress,
            owner: multiproc_sys::process::pid(),
            cancelled: AtomicBool::new(false),
        })
    }

    /// `Err(PoolError::WrongProcess)` in a process other than the one that submitted the
    /// task (a forked child), where no result can ever arrive.
    pub(crate) fn check_process(&self) -> Result<(), PoolError> {
        crate::error::check_owner(self.owner)
    }

    /// Waits until the result is in, up to `deadline` (`None`: no limit): `NotReady` when
    /// the deadline passed, `WrongProcess` in a forked child, where nothing would ever
    /// arrive.
    fn wait_until(
        &self,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'_, CellState<T>>, PoolError> {
        let mut state = self.lock();
        while state.succeeded.is_none() {
            self.check_process()?;
            if state.delivering.is_some() && self.callbacks.is_current() {
                return Err(PoolError::CallbackDeadlock);
            }
            let Some(deadline) = deadline else {
                state.sleepers += 1;
                state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                state.sleepers -= 1;
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PoolError::NotReady);
            }
            state.sleepers += 1;
            state = self
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            state.sleepers -= 1;
        }
        Ok(state)
    }

    /// The result for a `Future`: `Ready` once it is in (then it is gone from the cell),
    /// else the waker is kept for the thread that stores it.
    pub(crate) fn poll_take(&self, waker: &Waker) -> Poll<Result<T, PoolError>> {
        let mut state = self.lock();
        if state.succeeded.is_some() {
            return Poll::Ready(state.value.take().unwrap_or(Err(PoolError::Taken)));
        }
        if let Err(wrong) = self.check_process() {
            return Poll::Ready(Err(wrong));
        }
        match &mut state.waker {
            Some(kept) if kept.will_wake(waker) => {}
            kept => *kept = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// Whether the result is in (or with the callback thread); if not, `waker` is kept to
    /// be woken when it is.
    pub(crate) fn poll_done(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.succeeded.is_some() || state.delivering.is_some() {
            return true;
        }
        match &mut state.waker {
            Some(kept) if kept.will_wake(waker) => {}
            kept => *kept = Some(waker.clone()),
        }
        false
    }

    /// Wakes the threads blocked in `get` on the pool's [`GetWake`] (one of them may wait
    /// for this result).
    fn notify_get(&self) {
        if let Some(get_wake) = &self.get_wake {
            get_wake.notify();
        }
    }

    /// Whether the result is in (or with the callback thread).
    pub(crate) fn is_done(&self) -> bool {
        let state = self.lock();
        state.succeeded.is_some() || state.delivering.is_some()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, CellState<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<T: Send + 'static> Cell<T> {
    /// Stores the result. If a callback waits for it, the result goes to the pool's callback
    /// thread instead, which runs the callback and then stores it (so that `get` returns
    /// after the callback, as in Python): the result thread never runs user code.
    pub(crate) fn set(self: &Arc<Self>, mut value: Result<T, PoolError>) {
        let mut state = self.lock();
        if state.succeeded.is_some() || state.delivering.is_some() {
            return;
        }
        if self.cancelled.load(Ordering::Acquire) {
            value = Err(PoolError::Cancelled);
        }
        let wanted = state.callbacks.iter().any(|c| c.wants(&value));
        if !wanted {
            self.store(state, value);
            return;
        }
        state.delivering = Some(value.is_ok());
        let sleepers = state.sleepers;
        drop(state);
        // A waiter on the callback thread itself must learn that it would wait forever.
        if sleepers > 0 {
            self.ready.notify_all();
        }
        self.notify_get();
        let cell = self.clone();
        self.callbacks
            .run_later(Box::new(move || cell.deliver_through_callbacks(value)));
    }

    /// On the callback thread: runs the callbacks that want `value`, in the order they were
    /// added (ones added while they ran included), then stores it.
    fn deliver_through_callbacks(&self, value: Result<T, PoolError>) {
        loop {
            let mut state = self.lock();
            let callbacks = std::mem::take(&mut state.callbacks);
            if callbacks.is_empty() {
                return self.store(state, value);
            }
            drop(state);
            for callback in callbacks {
                callback.call(&value);
            }
        }
    }

    /// Stores the result for `get` and wakes whoever waits for it.
    fn store(&self, mut state: MutexGuard<'_, CellState<T>>, value: Result<T, PoolError>) {
        state.callbacks = Vec::new();
        state.delivering = None;
        state.succeeded = Some(value.is_ok());
        if matches!(value, Err(PoolError::Cancelled)) {
            self.cancelled.store(true, Ordering::Release);
        }
        state.value = Some(value);
        let waker = state.waker.take();
        let sleepers = state.sleepers;
        drop(state);
        if sleepers > 0 {
            self.ready.notify_all();
        }
        self.notify_get();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> AsyncResult<T> {
    pub(crate) fn from_cell(cell: Arc<Cell<T>>) -> AsyncResult<T> {
        AsyncResult {
            cell,
            submission: None,
        }
    }

    /// The handle of a submission that went to the pool's queue.
    pub(crate) fn submitted(
        cell: Arc<Cell<T>>,
        shared: &Arc<Shared>,
        sink: Arc<dyn Sink>,
    ) -> AsyncResult<T> {
        AsyncResult {
            cell,
            submission: Some(Submission {
                shared: Arc::downgrade(shared),
                sink,
            }),
        }
    }

    /// Waits until the result is in, up to `deadline` (`None`: no limit), as
    /// [`Cell::wait_until`] does. A thread waiting for a lone task of a live pool first sleeps
    /// on the pool's [`GetWake`] instead, and books the results it is woken for itself: the
    /// result then reaches it with one wake-up (worker → this thread) rather than two
    /// (worker → result thread → this thread).
    fn wait_for(
        &self,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'_, CellState<T>>, PoolError> {
        self.wait_booking(deadline);
        self.cell.wait_until(deadline)
    }

    /// The `GetWake` half of [`wait_for`](Self::wait_for): returns once the result is in or
    /// with the callback thread, at `deadline`, or at once where it does not apply (a map, a
    /// pool gone, a forked child).
    fn wait_booking(&self, deadline: Option<Instant>) {
        let Some(submission) = &self.submission else {
            return;
        };
        let cell = &self.cell;
        if cell.progress.total() != Some(1) || cell.is_done() || cell.check_process().is_err() {
            return;
        }
        let Some(shared) = submission.shared.upgrade() else {
            return;
        };
        if shared.check_process().is_err() {
            return;
        }
        shared.get_wake.wait(
            deadline,
            || shared.book_ready(),
            || cell.is_done(),
            || shared.hand_on_ready(),
        );
    }

    /// Waits for the result and returns it: the task's return value (a `Vec` of them for a
    /// map, in input order), or why it has none (for a map, the error of the first task that
    /// failed, in input order).
    ///
    /// In a child forked from the process that submitted the task, where the result can
    /// never arrive, it returns [`PoolError::WrongProcess`] instead of waiting.
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn square(x: u64) -> u64 { x * x }
    /// fn boom(_: u64) -> u64 { panic!("boom") }
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.apply_async(square, (7,)).get()?, 49);
    /// let failed = pool.map_async(boom, 0..3).get();
    /// assert!(matches!(failed, Err(PoolError::Panicked { panic: p, .. }) if p.message == "boom"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(self) -> Result<T, PoolError> {
        let mut state = self.wait_for(None)?;
        state.value.take().unwrap_or(Err(PoolError::Taken))
    }

    /// Like [`get`](AsyncResult::get), but gives up after `timeout` with
    /// [`PoolError::NotReady`] (Python's `multiprocessing.TimeoutError`); asking again is
    /// allowed. Once it has returned the result, the result is gone from this handle.
    /// `Duration::ZERO` looks once without waiting; `Duration::MAX` means no limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn slow() -> u8 { std::thread::sleep(Duration::from_millis(300)); 1 }
    /// let pool = Pool::new(1)?;
    /// let result = pool.apply_async(slow, ());
    /// assert_eq!(result.get_timeout(Duration::from_millis(10)), Err(PoolError::NotReady));
    /// assert_eq!(result.get_timeout(Duration::from_secs(30)), Ok(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, PoolError> {
        let mut state = self.wait_for(Instant::now().checked_add(timeout))?;
        state.value.take().unwrap_or(Err(PoolError::Taken))
    }

    /// Waits until the result is ready (Python's `wait()`). In a forked child, where it can
    /// never arrive, it returns at once (and [`get`](AsyncResult::get) says why).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let result = pool.apply_async(square, (3,));
    /// result.wait();
    /// assert!(result.is_ready());
    /// assert_eq!(result.get()?, 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&self) {
        drop(self.wait_for(None));
    }

    /// Waits until the result is ready or `timeout` passes; returns whether it is ready
    /// (Python's `wait(timeout)`). In a forked child, where it can never arrive, `false` at
    /// once.
    ///
    /// `Duration::ZERO` looks once without waiting; a timeout too long for the clock
    /// (`Duration::MAX`) means no limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn slow() -> u8 { std::thread::sleep(Duration::from_millis(300)); 1 }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let result = pool.apply_async(slow, ());
    /// assert!(!result.wait_timeout(Duration::ZERO));
    /// assert!(result.wait_timeout(Duration::MAX));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // A deadline beyond what the clock can represent (`Duration::MAX`) is no limit.
        self.wait_for(Instant::now().checked_add(timeout)).is_ok()
    }

    /// Whether the result has arrived (its callback may still be running: `get` returns once
    /// it has).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let result = pool.apply_async(square, (4,));
    /// result.wait();
    /// assert!(result.is_ready());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "ready")]
    pub fn is_ready(&self) -> bool {
        self.is_successful().is_some()
    }

    /// Whether the task succeeded: `None` while it is not ready (where Python raises
    /// `ValueError`).
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// fn fail() -> u8 { panic!("no") }
    /// let pool = Pool::new(1)?;
    /// let result = pool.apply_async(fail, ());
    /// result.wait();
    /// assert_eq!(result.is_successful(), Some(false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "successful")]
    pub fn is_successful(&self) -> Option<bool> {
        let state = self.cell.lock();
        state.succeeded.or(state.delivering)
    }

    /// Tasks finished so far (for a map: items; a task that failed counts as finished).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares = pool.chunksize(1).map_async(square, 0..10);
    /// assert!(squares.completed() <= 10);
    /// squares.wait();
    /// assert_eq!(squares.completed(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn completed(&self) -> usize {
        self.cell.progress.completed()
    }

    /// The number of tasks (1 for `apply_async`, the input length for a map).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.map_async(square, 0..10).total(), 10);
    /// assert_eq!(pool.apply_async(square, (1,)).total(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total(&self) -> usize {
        self.cell.progress.total().unwrap_or(0)
    }
}

impl<T: Send + 'static> AsyncResult<T> {
    /// Python's `callback`: `f` is called with the value when the task succeeds, on the
    /// pool's callback thread (or right here if the result is already in). The value stays
    /// available to [`get`](AsyncResult::get), which returns once the callback has run.
    ///
    /// The pool's callback thread runs the callbacks of a pool one at a time, in the order
    /// their results arrived; it is not the thread that reads results, so a callback may use
    /// its own pool: `apply`, `map`, `close` and `join` work there (CPython deadlocks). A
    /// callback that panics is logged (the `log` crate) and dropped; the thread goes on
    /// with the next one. A callback that waits for another result whose own callback is
    /// queued behind it gets [`PoolError::CallbackDeadlock`] instead of waiting forever. A
    /// callback that never returns holds up the callbacks after it, and the `get` of their
    /// results.
    ///
    /// Several callbacks on one result all run, in the order they were added (with those of
    /// [`error_callback`](AsyncResult::error_callback) and
    /// [`add_done_callback`](AsyncResult::add_done_callback)).
    ///
    /// ```
    /// use std::sync::{Arc, mpsc};
    /// use multiproc_pool::Pool;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Arc::new(Pool::new(2)?);
    /// let (tx, rx) = mpsc::channel();
    /// let same_pool = pool.clone();
    /// let _result = pool
    ///     .apply_async(square, (3,))
    ///     .callback(move |&n| tx.send(same_pool.map(square, 0..n)).unwrap());
    /// assert_eq!(rx.recv()??, [0, 1, 4, 9, 16, 25, 36, 49, 64]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use multiproc_pool::Pool;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// let (tx, rx) = mpsc::channel();
    /// let result = pool.apply_async(square, (9,)).callback(move |v| tx.send(*v).unwrap());
    /// assert_eq!(rx.recv()?, 81);
    /// assert_eq!(result.get()?, 81);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn callback(self, f: impl FnOnce(&T) + Send + 'static) -> Self {
        {
            let mut state = self.cell.lock();
            match (&state.succeeded, &state.value) {
                (None, _) => state.callbacks.push(Callback::Value(Box::new(f))),
                (Some(true), Some(Ok(v))) => run(|| f(v)),
                _ => {}
            }
        }
        self
    }

    /// Python's `error_callback`: `f` is called with the error when the task fails, on the
    /// pool's callback thread, like [`callback`](AsyncResult::callback) (it may use the pool
    /// too).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn fail() -> u8 { panic!("no luck") }
    /// let pool = Pool::new(1)?;
    /// let (tx, rx) = mpsc::channel();
    /// let _result = pool.apply_async(fail, ()).error_callback(move |e| tx.send(e.clone()).unwrap());
    /// assert!(matches!(rx.recv()?, PoolError::Panicked { panic: p, .. } if p.message == "no luck"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error_callback(self, f: impl FnOnce(&PoolError) + Send + 'static) -> Self {
        {
            let mut state = self.cell.lock();
            match (&state.succeeded, &state.value) {
                (None, _) => state.callbacks.push(Callback::Error(Box::new(f))),
                (Some(false), Some(Err(e))) => run(|| f(e)),
                _ => {}
            }
        }
        self
    }
}

impl<T> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.is_ready())
            .field("completed", &self.completed())
            .field("total", &self.total())
            .finish()
    }
}

/// Where the result of `apply_async` goes.
pub(crate) struct ApplySink<R> {
    pub(crate) cell: Arc<Cell<R>>,
}

impl<R: Portable> Sink for ApplySink<R> {
    fn chunk_done(&self, positions: &Positions, outcome: Outcome) {
        let result = decode_outputs::<R>(positions, outcome).pop().map_or(
            Err(PoolError::Transfer {
                detail: "no result".into(),
            }),
            |(_, r)| r,
        );
        self.cell.progress.add(1);
        self.cell.set(result);
    }

    fn task_failed(&self, _: usize, error: PoolError) {
        self.cell.progress.add(1);
        self.cell.set(Err(error));
    }

    fn is_cancelled(&self) -> bool {
        self.cell.cancelled.load(Ordering::Acquire)
    }
}

/// Where the results of `map_async` go.
pub(crate) struct MapSink<R> {
    state: Mutex<MapState<R>>,
    len: usize,
    pub(crate) cell: Arc<Cell<Vec<R>>>,
}

struct MapState<R> {
    /// The values of the chunks that succeeded whole, each with its first position (kept only
    /// while no task failed: a map with a failure returns its first error, not the values).
    runs: Vec<(usize, Vec<R>)>,
    /// Tasks without a result yet.
    remaining: usize,
    /// The failure with the lowest position so far.
    first_error: Option<(usize, PoolError)>,
}

impl<R> MapState<R> {
    fn fail(&mut self, position: usize, error: PoolError) {
        if self.first_error.as_ref().is_none_or(|(p, _)| position < *p) {
            self.first_error = Some((position, error));
        }
        self.runs = Vec::new();
    }
}

impl<R: Send + 'static> MapSink<R> {
    pub(crate) fn new(len: usize, cell: Arc<Cell<Vec<R>>>) -> MapSink<R> {
        MapSink {
            state: Mutex::new(MapState {
                runs: Vec::new(),
                remaining: len,
                first_error: None,
            }),
            len,
            cell,
        }
    }

    fn lock(&self) -> MutexGuard<'_, MapState<R>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Books `finished` more tasks in; delivers the result once every task has one.
    fn finish(&self, mut state: MutexGuard<'_, MapState<R>>, finished: usize) {
        let finished = finished.min(state.remaining);
        state.remaining -= finished;
        self.cell.progress.add(finished);
        if state.remaining > 0 {
            return;
        }
        let result = match state.first_error.take() {
            Some((_, error)) => Err(error),
            None => {
                let mut runs = std::mem::take(&mut state.runs);
                drop(state);
                runs.sort_unstable_by_key(|(start, _)| *start);
                if runs.len() == 1 {
                    Ok(runs.pop().map(|(_, values)| values).unwrap_or_default())
                } else {
                    let mut values = Vec::with_capacity(self.len);
                    for (_, mut run) in runs {
                        values.append(&mut run);
                    }
                    Ok(values)
                }
            }
        };
        self.cell.set(result);
    }
}

impl<R: Portable> Sink for MapSink<R> {
    fn chunk_done(&self, positions: &Positions, outcome: Outcome) {
        let count = positions.count();
        // Decode outside the lock: chunks of one map may be decoded by several threads.
        let mut values = Vec::with_capacity(count);
        let mut panics = Vec::new();
        let decoded = outcome.and_then(|output| {
            decode_each::<R>(&output, count, |index, result| match result {
                Ok(value) => values.push(value),
                Err(panic) => panics.push((index, panic)),
            })
        });
        let mut state = self.lock();
        match decoded {
            Err(error) => {
                if let Some(first) = positions.iter().next() {
                    state.fail(first, error.at(first));
                }
            }
            Ok(()) => {
                if let Some((index, panic)) = panics.into_iter().next() {
                    let position = positions.iter().nth(index).unwrap_or(positions.start);
                    state.fail(position, PoolError::from_call(panic, position));
                } else if positions.skipped.is_empty() && state.first_error.is_none() {
                    state.runs.push((positions.start, values));
                }
            }
        }
        self.finish(state, count);
    }

    fn task_failed(&self, position: usize, error: PoolError) {
        let mut state = self.lock();
        state.fail(position, error.at(position));
        self.finish(state, 1);
    }

    fn is_cancelled(&self) -> bool {
        self.cell.cancelled.load(Ordering::Acquire)
    }
}
