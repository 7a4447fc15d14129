//! `Pool`: its workers, its lifetime, and its task methods (each a [`Tasks`] with default
//! options).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use multiproc_process::{Portable, StartMethod, Target};

use crate::async_result::AsyncResult;
use crate::error::PoolError;
use crate::imap::IMap;
use crate::options::Options;
use crate::scheduler::{self, RunState, Shared, WorkerSpec};
use crate::tasks::Tasks;

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
    pub(crate) shared: Arc<Shared>,
    results_thread: Mutex<Option<JoinHandle<()>>>,
    results_thread_id: std::thread::ThreadId,
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
        Tasks::new(&self.shared, options)
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
        I::IntoIter: Send + 'a,
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
        I::IntoIter: Send + 'a,
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
