//! `Pool`, its builder, and the task options.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use multiproc_process::{FunctionRef, Portable, StartMethod, Target};

use crate::async_result::{ApplySink, AsyncResult, Cell, MapSink};
use crate::callbacks::Callbacks;
use crate::chunk::{Chunk, Sink, Split, auto_chunksize, chunk_timeout, encode_chunk, split_inputs};
use crate::error::PoolError;
use crate::imap::{IMap, IterSource, Stream};
use crate::options::Options;
use crate::progress::{Choice, Progress};
use crate::scheduler::{self, RunState, Shared, WorkerSpec};

/// A group of encoded chunks is handed to the scheduler once it holds this many bytes of
/// arguments (small chunks go in large groups: each submission refills the workers, and
/// refilling them a few chunks at a time costs a message and a wake-up each).
const SUBMIT_BYTES: usize = 16 * 1024;

/// A pool of worker processes that run functions on many inputs, like Python's
/// `multiprocessing.Pool`.
///
/// ```
/// use multiproc_pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
/// fn multiply(a: i64, b: i64) -> i64 { a * b }
///
/// let pool = Pool::new(2)?;
/// assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
/// assert_eq!(pool.starmap(multiply, [(1, 2), (3, 4)])?, [2, 12]);
/// assert_eq!(pool.apply(multiply, (6, 7))?, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Workers are persistent processes of the same executable (started with the pool's
/// [start method](crate::PoolBuilder::start_method)). A target is a function item or a closure that
/// captures nothing, of up to eight arguments, whose arguments and result are serde types.
/// The pool encodes task arguments and results itself (postcard), so they must be plain
/// data: an ipc-channel handle (an `IpcSender`, shared memory, and the queues and shared
/// values built on them) cannot be a task argument; give it to every worker through the
/// [initializer](crate::PoolBuilder::initializer) instead, as Python requires for its queues.
/// A `multiproc` shared-memory or channel handle (`Value`, `Array`, `Lock`, `Queue`,
/// `Connection`, ...) passed as a task argument fails that task at submit, in the caller,
/// with a [`PoolError::Transfer`] that says so.
///
/// # Crashes, panics and timeouts
///
/// Each task fails on its own. A task that panics gives [`PoolError::Panicked`] with the
/// message and location. A worker that dies (a crash, `abort`, `exit`, SIGKILL, the OOM
/// killer) fails only the chunk it was running, with [`PoolError::WorkerDied`] and the exit
/// code or signal; the chunks it had queued but not started run elsewhere, a new worker
/// replaces it, and the pool goes on. With a [timeout](Options::timeout), a task that runs
/// too long gets its worker killed and reports [`PoolError::Timeout`]. Whatever the
/// `chunksize`, a death fails only the task that caused it: when a worker dies (or times
/// out) in the middle of a chunk of several tasks, the chunk runs again one task per chunk,
/// each with its own timeout, so the task that kills a worker again fails alone with
/// [`PoolError::WorkerDied`] (or [`PoolError::Timeout`]) and the others get their results.
/// The results the dead worker had computed died with it: those tasks run twice, which
/// matters only for tasks with side effects (a death that does not repeat, such as a
/// SIGKILL from outside, then costs no task at all).
///
/// # Lifetime
///
/// [`close`](Pool::close) stops accepting work and lets the queued work finish;
/// [`terminate`](Pool::terminate) stops the workers at once; [`join`](Pool::join) waits for
/// the workers to be gone. Dropping the pool terminates it, like leaving Python's
/// `with Pool(...)` block: call `close` and `join` first to let queued work finish.
///
/// # Forked children
///
/// A pool belongs to the process that made it: its workers, channels and result thread
/// exist only there. In a child forked from that process (`Process::fork`, `fork(2)`), every
/// call on the pool, its [`AsyncResult`]s and its [`IMap`]s fails with
/// [`PoolError::WrongProcess`] ("this pool belongs to process N") instead of waiting for a
/// result that cannot come; `close`, `terminate` and dropping it there leave the parent's
/// workers alone.
#[doc(alias = "multiprocessing.Pool")]
#[doc(alias = "multiprocessing.pool.Pool")]
pub struct Pool {
    shared: Arc<Shared>,
    results_thread: Mutex<Option<JoinHandle<()>>>,
    results_thread_id: std::thread::ThreadId,
}

/// A pool with [`Options`](crate::Options) for the next call: made by [`Pool::with`], [`Pool::chunksize`]
/// and [`Pool::timeout`]; it has the same task methods as [`Pool`].
///
/// ```
/// use multiproc_pool::Pool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = Pool::new(2)?;
/// assert_eq!(pool.chunksize(3).map(square, 0..5)?, [0, 1, 4, 9, 16]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `Tasks` is `Clone`, not `Copy`: with the `progress` feature it may hold a progress bar.
#[derive(Debug, Clone)]
pub struct Tasks<'p> {
    pool: &'p Pool,
    options: Options,
    /// A bar or style of the caller's (the `progress` feature); else `options.progress_bar`.
    progress: Choice,
}

impl Pool {
    /// Starts the workers and the result thread of a pool that [`PoolBuilder::build`](crate::PoolBuilder::build) checked.
    pub(crate) fn launch(
        spec: WorkerSpec,
        processes: usize,
        max_tasks: Option<u64>,
    ) -> Result<Pool, PoolError> {
        let (shared, handle) = scheduler::launch(spec, processes, max_tasks)?;
        let results_thread_id = handle.thread().id();
        Ok(Pool {
            shared,
            results_thread: Mutex::new(Some(handle)),
            results_thread_id,
        })
    }

    /// A pool of `processes` workers with the default start method, like
    /// `multiprocessing.Pool(processes)`.
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(processes: usize) -> Result<Pool, PoolError> {
        Pool::builder().processes(processes).build()
    }

    /// The number of worker processes.
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::new(3)?;
    /// assert_eq!(pool.processes(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn processes(&self) -> usize {
        self.shared.processes
    }

    /// The start method of the workers.
    ///
    /// ```
    /// use multiproc_pool::{Pool, StartMethod};
    /// let pool = Pool::builder().processes(1).start_method(StartMethod::Spawn).build()?;
    /// assert_eq!(pool.start_method(), StartMethod::Spawn);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_method(&self) -> StartMethod {
        self.shared.spec.method
    }

    /// The pids of the current workers (they change as workers are replaced).
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.worker_pids().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn worker_pids(&self) -> Vec<u32> {
        self.shared.core().worker_pids()
    }

    /// Task options for the next call. See [`Options`](crate::Options).
    ///
    /// ```
    /// use multiproc_pool::{Options, Pool};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// let squares = pool.with(Options::new().chunksize(2)).map(square, 0..6)?;
    /// assert_eq!(squares, [0, 1, 4, 9, 16, 25]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with(&self, options: Options) -> Tasks<'_> {
        Tasks {
            pool: self,
            options,
            progress: Choice::default(),
        }
    }

    /// Shortcut for `with(Options::new().chunksize(chunksize))`.
    ///
    /// ```
    /// fn double(x: u64) -> u64 { 2 * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let doubled: Vec<u64> = pool.chunksize(4).imap(double, 0..8).collect::<Result<_, _>>()?;
    /// assert_eq!(doubled, [0, 2, 4, 6, 8, 10, 12, 14]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn chunksize(&self, chunksize: usize) -> Tasks<'_> {
        self.with(Options::new().chunksize(chunksize))
    }

    /// Shortcut for `with(Options::new().timeout(timeout))`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    /// let pool = Pool::new(1)?;
    /// let slow = pool.timeout(Duration::from_millis(100)).apply(nap, (60_000,));
    /// assert!(matches!(slow, Err(PoolError::Timeout { .. })));
    /// assert_eq!(pool.apply(nap, (1,))?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(&self, timeout: Duration) -> Tasks<'_> {
        self.with(Options::new().timeout(timeout))
    }

    /// Calls `f(args...)` in a worker and waits for the result (Python's `apply`).
    ///
    /// ```
    /// fn multiply(a: i64, b: i64) -> i64 { a * b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// assert_eq!(pool.apply(multiply, (6, 7))?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.with(Options::new()).apply(f, args)
    }

    /// Submits `f(args...)` and returns at once (Python's `apply_async`). See
    /// [`AsyncResult`] for `get`, `wait`, and the `callback`/`error_callback` hooks.
    ///
    /// ```
    /// fn multiply(a: i64, b: i64) -> i64 { a * b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let results: Vec<_> = (0..4).map(|i| pool.apply_async(multiply, (i, 10))).collect();
    /// let values: Vec<i64> = results.into_iter().map(|r| r.get().unwrap()).collect();
    /// assert_eq!(values, [0, 10, 20, 30]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_async<F, Args>(&self, f: F, args: Args) -> AsyncResult<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.with(Options::new()).apply_async(f, args)
    }

    /// Calls `f(item)` for every item, in the workers, and returns the results in input order,
    /// or the first error in input order (Python's `map`). The input is read at once. For one
    /// result per item, errors included, use [`imap`](Pool::imap).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.with(Options::new()).map(f, iterable)
    }

    /// Like [`map`](Pool::map), but returns at once (Python's `map_async`).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let result = pool.map_async(square, 0..100);
    /// assert_eq!(result.total(), 100);
    /// assert_eq!(result.get()?.iter().sum::<u64>(), 328_350);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_async<F, A, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.with(Options::new()).map_async(f, iterable)
    }

    /// Calls `f(a, b, ...)` for every argument tuple (Python's `starmap`).
    ///
    /// ```
    /// fn multiply(a: i64, b: i64) -> i64 { a * b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.starmap(multiply, [(1, 2), (3, 4), (5, 6), (7, 8)])?, [2, 12, 30, 56]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        self.with(Options::new()).starmap(f, iterable)
    }

    /// Like [`starmap`](Pool::starmap), but returns at once (Python's `starmap_async`).
    ///
    /// ```
    /// fn add(a: u32, b: u32) -> u32 { a + b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.starmap_async(add, [(1, 1), (2, 2)]).get()?, [2, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap_async<F, Args, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        self.with(Options::new()).starmap_async(f, iterable)
    }

    /// A lazy iterator of `Result`s of `f(item)`, in input order (Python's `imap`). It reads
    /// the input only as results are consumed (see [`IMap`]), so the input may be endless.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// for (i, result) in pool.imap(square, 0..).enumerate() {
    ///     assert_eq!(result?, (i * i) as u64);
    ///     if i == 100 { break; }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap<'a, F, A, I>(&'a self, f: F, iterable: I) -> IMap<'a, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.with(Options::new()).imap(f, iterable)
    }

    /// Like [`imap`](Pool::imap), but yields results as they finish (Python's
    /// `imap_unordered`).
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut all: Vec<u64> = pool.imap_unordered(square, 0..10).map(Result::unwrap).collect();
    /// all.sort();
    /// assert_eq!(all, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap_unordered<'a, F, A, I>(&'a self, f: F, iterable: I) -> IMap<'a, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.with(Options::new()).imap_unordered(f, iterable)
    }

    /// Stops accepting work (Python's `close`); queued and running tasks finish, then the
    /// workers leave. Use [`join`](Pool::join) to wait for them. In a child forked from the
    /// pool's process it does nothing (the workers are the parent's).
    ///
    /// ```
    /// use multiproc_pool::{Pool, PoolError};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = Pool::new(2)?;
    /// let pending = pool.map_async(square, 0..4);
    /// pool.close();
    /// assert!(matches!(pool.apply(square, (2,)), Err(PoolError::Closed)));
    /// pool.join()?;
    /// assert_eq!(pending.get()?, [0, 1, 4, 9]); // submitted before `close`: it finishes
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) {
        if self.shared.check_process().is_err() {
            return;
        }
        let mut core = self.shared.core();
        if core.state == RunState::Running {
            core.state = RunState::Closing;
        }
        drop(core);
        self.shared.wake();
    }

    /// Stops the workers now (Python's `terminate`: SIGTERM, then SIGKILL after a second);
    /// queued and running tasks fail with [`PoolError::Terminated`]. Use
    /// [`join`](Pool::join) to wait until every worker is reaped. In a child forked from the
    /// pool's process it does nothing (the workers are the parent's).
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_pool::{Pool, PoolError};
    /// fn forever() { loop { std::thread::sleep(Duration::from_secs(1)) } }
    /// let pool = Pool::new(1)?;
    /// let stuck = pool.apply_async(forever, ());
    /// pool.terminate();
    /// pool.join()?;
    /// assert!(matches!(stuck.get(), Err(PoolError::Terminated)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn terminate(&self) {
        if self.shared.check_process().is_err() {
            return;
        }
        self.shared.terminate();
    }

    /// Waits until every worker has left and was reaped (Python's `join`), after
    /// [`close`](Pool::close) or [`terminate`](Pool::terminate); otherwise
    /// [`PoolError::StillRunning`], and [`PoolError::WrongProcess`] in a child forked from
    /// the pool's process.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let result = pool.map_async(square, 0..10);
    /// pool.close();
    /// pool.join()?;
    /// assert_eq!(result.get()?[9], 81);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(&self) -> Result<(), PoolError> {
        self.shared.check_process()?;
        if self.shared.core().state == RunState::Running {
            return Err(PoolError::StillRunning);
        }
        if std::thread::current().id() == self.results_thread_id {
            // Called from a callback: the result thread cannot wait for itself.
            return Ok(());
        }
        let handle = self
            .results_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        // The callbacks of the last results run before `join` returns (unless it was called
        // from one of them).
        self.shared.callbacks.shut_down();
        Ok(())
    }
}

impl Shared {
    pub(crate) fn terminate(&self) {
        let mut core = self.core();
        if core.state == RunState::Terminated {
            return;
        }
        core.state = RunState::Terminated;
        core.terminate_workers();
        drop(core);
        self.wake();
    }
}

impl Drop for Pool {
    /// Terminates the pool and reaps its workers, like leaving Python's `with Pool(...)`.
    ///
    /// In a child forked from the pool's process it does nothing to the workers (they are
    /// the parent's), and leaks the child's copy of the pool's state: dropping it would
    /// close or signal what the parent still uses, and detach a thread that does not exist
    /// in the child.
    fn drop(&mut self) {
        if self.shared.check_process().is_err() {
            std::mem::forget(self.shared.clone());
            let handle = self
                .results_thread
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            std::mem::forget(handle);
            return;
        }
        self.terminate();
        let _ = self.join();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.shared.core();
        f.debug_struct("Pool")
            .field("processes", &self.shared.processes)
            .field("start_method", &self.shared.spec.method)
            .field("state", &core.state)
            .field("workers", &core.worker_pids())
            .finish()
    }
}

impl<'p> Tasks<'p> {
    /// The bar these tasks draw: the caller's, or the default one if
    /// [`Options::progress_bar`] asked for it.
    fn progress_choice(&self) -> Choice {
        match self.progress {
            Choice::Hidden => Choice::from(self.options.progress_bar),
            ref chosen => chosen.clone(),
        }
    }

    /// Draw the default progress bar with a style of your own while this `map`, `starmap`,
    /// `imap` or `imap_unordered` runs (the `progress` feature); see
    /// [`Options::progress_bar`] for what the bar counts.
    ///
    /// ```
    /// use indicatif::ProgressStyle;
    /// fn double(x: u64) -> u64 { 2 * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let style = ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")?;
    /// let doubled: Vec<u64> =
    ///     pool.chunksize(1).progress_style(style).imap(double, 0..10).collect::<Result<_, _>>()?;
    /// assert_eq!(doubled[9], 18);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress_style(mut self, style: indicatif::ProgressStyle) -> Tasks<'p> {
        self.progress = Choice::Style(style);
        self
    }

    /// Drive a progress bar of your own while this `map`, `starmap`, `imap` or
    /// `imap_unordered` runs (the `progress` feature; `apply` has no bar): one in a
    /// `MultiProgress`, one with a message or a draw target of your choice. The pool sets its
    /// length to the number of tasks (for an `imap`, once the input is exhausted), advances
    /// it by one per task whose result arrived (a chunk's tasks arrive together), and
    /// finishes it at the end; your style and message stay. A bar already advanced starts
    /// from its position.
    ///
    /// ```
    /// use indicatif::{ProgressBar, ProgressDrawTarget};
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    /// let squares: Vec<u64> = pool
    ///     .chunksize(1)
    ///     .progress(bar.clone())
    ///     .imap_unordered(square, 0..20)
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(squares.len(), 20);
    /// assert_eq!((bar.position(), bar.length()), (20, Some(20)));
    /// assert!(bar.is_finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "progress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
    pub fn progress(mut self, bar: indicatif::ProgressBar) -> Tasks<'p> {
        self.progress = Choice::Bar(bar);
        self
    }

    fn shared(&self) -> &'p Shared {
        &self.pool.shared
    }

    /// Why the call cannot run: an option out of range (Python's `ValueError`), or a pool of
    /// another process.
    fn check(&self) -> Result<(), PoolError> {
        let invalid = |detail: &str| PoolError::InvalidArgument {
            detail: detail.to_owned(),
        };
        if self.options.chunksize == Some(0) {
            return Err(invalid("chunksize must be at least 1"));
        }
        if self.options.buffersize == Some(0) {
            return Err(invalid("buffersize must be at least 1"));
        }
        self.shared().check_process()
    }

    fn callbacks(&self) -> Arc<Callbacks> {
        self.shared().callbacks.clone()
    }

    fn timeout_for(&self, tasks: usize) -> Option<Duration> {
        chunk_timeout(self.options.timeout, tasks)
    }

    /// Encodes `items` in chunks and submits them; failures go to `sink`.
    fn submit_all<Args: Portable>(&self, func: FunctionRef, items: Vec<Args>, sink: Arc<dyn Sink>) {
        let chunksize = self
            .options
            .chunksize
            .unwrap_or_else(|| auto_chunksize(items.len(), self.pool.processes()));
        // Chunks are submitted in groups as they are encoded, so that the workers start on
        // the first ones while the rest are encoded.
        let mut group = Vec::new();
        let mut group_bytes = 0;
        let mut items = items.into_iter();
        let mut start = 0;
        loop {
            let batch = items.by_ref().take(chunksize);
            let (input, positions) = encode_chunk(start, batch, &*sink);
            if positions.len == 0 {
                break;
            }
            start += positions.len;
            if positions.count() > 0 {
                let timeout = self.timeout_for(positions.count());
                group_bytes += input.0.len();
                let split = Some(split_inputs::<Args> as Split);
                group.push(Chunk::new(
                    func,
                    input,
                    positions,
                    timeout,
                    sink.clone(),
                    split,
                ));
                if group_bytes >= SUBMIT_BYTES {
                    self.submit_group(std::mem::take(&mut group));
                    group_bytes = 0;
                }
            }
        }
        if !group.is_empty() {
            self.submit_group(group);
        }
    }

    fn submit_group(&self, chunks: Vec<Chunk>) {
        if let Err((refused, error)) = self.shared().submit(chunks) {
            for chunk in refused {
                chunk.fail(error.clone());
            }
        }
    }

    /// [`Pool::apply`] with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// assert_eq!(pool.timeout(Duration::from_secs(30)).apply(add, (2, 3))?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        self.apply_async(f, args).get()
    }

    /// [`Pool::apply_async`] with these options.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(1)?;
    /// let sum = pool.timeout(Duration::from_secs(30)).apply_async(add, (2, 3));
    /// assert_eq!(sum.get()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_async<F, Args>(&self, f: F, args: Args) -> AsyncResult<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        let cell = Cell::new(Progress::new(Some(1), false), self.callbacks());
        if let Err(refused) = self.check() {
            cell.progress.add(1);
            cell.set(Err(refused));
            return AsyncResult::from_cell(cell);
        }
        let sink: Arc<dyn Sink> = Arc::new(ApplySink { cell: cell.clone() });
        self.submit_all(FunctionRef::new::<F, Args>(f), vec![args], sink);
        AsyncResult::from_cell(cell)
    }

    /// [`Pool::map`] with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.chunksize(1).map(square, 0..4)?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.map_async(f, iterable).get()
    }

    /// [`Pool::map_async`] with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares = pool.chunksize(1).map_async(square, 0..4);
    /// assert_eq!(squares.total(), 4);
    /// assert_eq!(squares.get()?, [0, 1, 4, 9]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map_async<F, A, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        self.starmap_async(f, iterable.into_iter().map(|a| (a,)))
    }

    /// [`Pool::starmap`] with these options.
    ///
    /// ```
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// assert_eq!(pool.chunksize(1).starmap(add, [(1, 2), (3, 4)])?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        self.starmap_async(f, iterable).get()
    }

    /// [`Pool::starmap_async`] with these options.
    ///
    /// ```
    /// fn add(a: u64, b: u64) -> u64 { a + b }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let sums = pool.chunksize(1).starmap_async(add, [(1, 2), (3, 4)]);
    /// assert_eq!(sums.get()?, [3, 7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn starmap_async<F, Args, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        if let Err(refused) = self.check() {
            let cell = Cell::new(Progress::new(Some(0), false), self.callbacks());
            cell.set(Err(refused));
            return AsyncResult::from_cell(cell);
        }
        let items: Vec<Args> = iterable.into_iter().collect();
        let progress = Progress::new(Some(items.len()), self.progress_choice());
        let cell = Cell::new(progress, self.callbacks());
        if items.is_empty() {
            cell.set(Ok(Vec::new()));
            return AsyncResult::from_cell(cell);
        }
        let sink: Arc<dyn Sink> = Arc::new(MapSink::new(items.len(), cell.clone()));
        self.submit_all(FunctionRef::new::<F, Args>(f), items, sink);
        AsyncResult::from_cell(cell)
    }

    /// [`Pool::imap`] with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let squares: Vec<u64> = pool.chunksize(2).imap(square, 0..5).collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap<F, A, I>(&self, f: F, iterable: I) -> IMap<'p, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'p,
    {
        self.lazy(
            true,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter().map(|a| (a,)),
        )
    }

    /// [`Pool::imap_unordered`] with these options.
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::new(2)?;
    /// let mut squares: Vec<u64> =
    ///     pool.chunksize(2).imap_unordered(square, 0..5).collect::<Result<_, _>>()?;
    /// squares.sort();
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn imap_unordered<F, A, I>(&self, f: F, iterable: I) -> IMap<'p, F::Output>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'p,
    {
        self.lazy(
            false,
            FunctionRef::new::<F, (A,)>(f),
            iterable.into_iter().map(|a| (a,)),
        )
    }

    fn lazy<R, Args, It>(&self, ordered: bool, func: FunctionRef, iter: It) -> IMap<'p, R>
    where
        R: Portable,
        Args: Portable,
        It: Iterator<Item = Args> + 'p,
    {
        let shared = self.shared();
        let refused = self.check().err().or_else(|| {
            let core = shared.core();
            (core.state != RunState::Running).then(|| core.refusal())
        });
        if let Some(refused) = refused {
            // Yields this one error and ends.
            return IMap::refused(shared, func, refused);
        }
        let exact = match iter.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower),
            _ => None,
        };
        let processes = self.pool.processes();
        // CPython's default for imap: one task per chunk, so that results stream and a
        // worker's death costs one item.
        let chunksize = self.options.chunksize.unwrap_or(1);
        let window = self
            .options
            .buffersize
            .unwrap_or(16 * processes)
            .saturating_mul(chunksize);
        let stream = Stream::new(ordered, Progress::new(exact, self.progress_choice()));
        let source = Box::new(IterSource { iter, chunksize });
        let split = Some(split_inputs::<Args> as Split);
        IMap::new(
            shared,
            stream,
            source,
            func,
            split,
            self.options.timeout,
            window,
        )
    }
}
