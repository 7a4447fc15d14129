//! A crash-proof process pool: map, imap, starmap, apply_async and friends.
//!
//! This is the pool of [multiproc](https://docs.rs/multiproc), Python's `multiprocessing` for
//! Rust: [`Pool`] fans ordinary Rust functions out over worker processes, with typed
//! arguments and results, under the names Python uses.
//!
//! ```
//! use multiproc_pool::Pool;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let pool = Pool::new(4)?;
//! assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does that CPython's `Pool` does not
//!
//! * **A dying worker fails only its task.** CPython's `Pool` hangs forever when a worker is
//!   killed (python/cpython#66587) and `ProcessPoolExecutor` breaks for every pending task.
//!   Here the pool knows which chunk each worker is running at all times: when a worker ends
//!   (a crash, `abort`, `exit`, SIGKILL, the OOM killer) the task it was running fails with
//!   [`PoolError::WorkerDied`] and the exit code or signal (a chunk of several tasks runs
//!   again task by task, so that only the task that kills a worker fails), the chunks it had
//!   queued but not started go to other workers, a new worker takes its place, and every
//!   other task completes. A task that panics gives [`PoolError::Panicked`] with the message and
//!   location; the worker survives.
//! * **A task can fail without panicking.** A target returning `Result<T, E>`, passed as
//!   [`fallible`]`(f)`, gives `T`, or [`PoolError::Failed`] with the error's `source()` chain
//!   and the position of the failed item in the input (CPython re-raises the exception).
//! * **A worker's results are checked, not trusted.** Its result ring is shared memory that
//!   the worker (or a task in it) can scribble over. A corrupt ring, or a message that does
//!   not decode or answers a chunk the worker was not running, fails the tasks in flight on
//!   that worker with [`PoolError::CorruptResults`] naming it and the cause; the worker is
//!   killed and replaced, and the pool goes on. A chunk whose results are miscounted or do
//!   not decode fails alone. No length or count that a worker writes is used unchecked, and
//!   if the pool's result thread ever stopped, every pending and later task would fail with
//!   [`PoolError::PoolBroken`] rather than wait forever.
//! * **No escaped descendants**: each worker is a child subreaper, so a process that a task
//!   started and that left its parent and its session (double `fork`, `setsid`) stays in the
//!   worker's tree. A worker that leaves (after `close`, or `maxtasksperchild`) kills and
//!   reaps its remaining children; before the pool terminates or kills a worker it kills the
//!   worker's descendants. Only a worker that dies on its own (a crash in a task) leaves
//!   them to init (or to the fork server, which ends them at exit). An escaped descendant
//!   that ends while its worker lives stays a zombie of that worker until the worker leaves.
//! * **Per-task timeouts** ([`Options::timeout`]): a task that runs too long has its worker
//!   killed and replaced, and reports [`PoolError::Timeout`].
//! * **Bounded laziness**: [`Pool::imap`] and [`Pool::imap_unordered`] read their input only
//!   as results are consumed (a window of [`Options::buffersize`] chunks), so an endless
//!   input runs in constant memory; dropping the iterator (`break`) discards what was not
//!   started.
//! * **No hang on serialization**: an argument or a result that fails to (de)serialize is an
//!   error for that task ([`PoolError::Transfer`]).
//! * **Progress**: [`AsyncResult::completed`] / [`AsyncResult::total`] and
//!   [`IMap::completed`]; with the `progress` feature, an `indicatif` bar
//!   (`Options::progress_bar`, `Tasks::progress`).
//!
//! # Async, and `concurrent.futures`
//!
//! An [`AsyncResult`] is a [`Future`]: `.await` it under tokio, smol or
//! any executor (no runtime is a dependency; the pool's own threads wake the task). The
//! names of `concurrent.futures` are here too: [`Pool::submit`], [`as_completed`], [`wait`]
//! with [`ReturnWhen`], [`AsyncResult::cancel`], [`Pool::map_timeout`],
//! [`Pool::shutdown`]. With the `stream` feature, `imap` results and `as_completed` are
//! `futures_core::Stream`s. A single child process is awaited with
//! [`Process::join_async`](multiproc_process::Process::join_async).
//!
//! ```
//! use multiproc_pool::Pool;
//! fn square(x: u64) -> u64 { x * x }
//! let pool = Pool::new(2)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let total: u64 = runtime.block_on(async {
//!     let handles: Vec<_> = (0..10).map(|i| pool.submit(square, (i,))).collect();
//!     let mut total = 0;
//!     for handle in handles {
//!         total += handle.await?;
//!     }
//!     Ok::<u64, multiproc_pool::PoolError>(total)
//! })?;
//! assert_eq!(total, 285);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it works
//!
//! Each worker is a [`multiproc_process::Process`] running a loop that receives chunks of
//! tasks on its own task channel (ipc-channel) and answers in a ring of shared memory of its
//! own (a `multiproc_channel::Queue`; results over 16 KiB go through a result channel
//! instead). A result in the ring is delivered even if the worker dies right after writing
//! it. The result thread drains the rings whenever it runs and sleeps only on the channels:
//! before it sleeps it raises a shared flag, and the next worker to write a result lowers it
//! and wakes the thread with a one-byte message, so a busy pool moves results without a
//! system call on either side. A chunk
//! names the function by its place in the executable
//! ([`FunctionRef`](multiproc_process::FunctionRef)) and carries the postcard encoding of its
//! argument tuples. In the parent, one queue holds the chunks not yet sent; a chunk goes to a
//! worker only when it has room (a few chunks, at most 64 KiB of arguments unread), several
//! chunks to a message, so sends never block for long and a worker never waits for its next
//! chunk. One result thread reads every worker's results (so a large result never blocks a
//! worker against the dispatcher), notices a worker's death when its channel closes or its
//! pidfd says so, reaps it to learn the exit status, fails or requeues its chunks and starts
//! a replacement. Callbacks do not run on that thread (as they do in Python) but on a
//! callback thread of the pool's own, so that a callback may use its pool.
//!
//! Log records written in workers reach the parent's logger (see `multiproc-process`).
//!
//! # Which crate do I need
//!
//! | You want | Depend on |
//! |---|---|
//! | all of it, with Python's names in one place | `multiproc` (the facade; its features pick the parts) |
//! | functions run in child processes: `Process`, start methods, `current_process`, `cpu_count`, `log_to_stderr` | `multiproc-process` |
//! | shared memory and cross-process locks: `Value`, `Array`, `Lock`, `RLock`, `Semaphore`, `Condition`, `Event`, `Barrier`, `SharedMemory` | `multiproc-shared` |
//! | pipes and queues between processes: `Pipe`, `Connection`, `Queue`, `JoinableQueue`, `wait`; with its `listener` feature (default) `Listener`/`Client` over sockets | `multiproc-channel` |
//! | a crash-proof process pool: `Pool`, `map`, `imap`, `apply_async`; it re-exports the process types its signatures name, so it is the only dependency a pool needs | `multiproc-pool` |
//! | the system calls underneath (futexes, pidfds, `fork`, `/proc`), for the other crates | `multiproc-sys` |
//!
//! # Feature flags
//!
//! * `progress`: a progress bar drawn on stderr with [indicatif](https://docs.rs/indicatif)
//!   while a `map`, `starmap`, `imap` or `imap_unordered` runs: `Options::progress_bar(true)`
//!   for the default bar, `pool.chunksize(n).progress_style(style)` for your style,
//!   `pool.with(options).progress(bar)` for a bar of your own (in a `MultiProgress`, say). It counts
//!   tasks, not chunks.
//!
//! The pool depends on `multiproc-channel` without its `listener` feature: no TCP listener.
//! `hmac` and `sha2` still come in through `multiproc-process`, which tags every function
//! reference it sends to a child with an HMAC-SHA256 under a key of the process tree.
//! * `stream`: `futures_core::Stream`s for async code: `IMap::into_stream` (the results of
//!   `imap`/`imap_unordered`) and `AsCompleted::into_stream` (of [`as_completed`]). Without
//!   it, [`AsyncResult`] is still a `Future` (no feature needed, no runtime pulled in).
//!
//! # Platform support
//!
//! Linux 5.3 or later, like `multiproc-process` (pidfds, ipc-channel's Unix back end). Every
//! start method works: fork, spawn and forkserver (the default).
//!
//! # Examples
//!
//! `pool_map`, `pool_starmap`, `pool_cpu_count` and `error_handling` in the repository's
//! `examples/`. A worker that crashes:
//!
//! ```
//! use multiproc_pool::{Pool, PoolError};
//!
//! fn risky(x: u32) -> u32 {
//!     match x {
//!         3 => panic!("three is right out"),
//!         5 => std::process::abort(),
//!         _ => x * 10,
//!     }
//! }
//!
//! let pool = Pool::new(2)?;
//! let results: Vec<Result<u32, PoolError>> = pool.chunksize(1).imap(risky, 0..8).collect();
//! assert_eq!(results[2], Ok(20));
//! assert!(matches!(&results[3], Err(PoolError::Panicked { panic: p, .. }) if p.message == "three is right out"));
//! assert!(matches!(results[5], Err(PoolError::WorkerDied { .. })));
//! assert_eq!(results[7], Ok(70));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod async_result;
mod builder;
mod callbacks;
mod chunk;
mod error;
mod executor;
mod future;
mod get_wake;
mod imap;
mod options;
mod partial;
mod pool;
mod progress;
mod run;
mod scheduler;
mod tasks;
mod wire;
mod worker;

pub use self::async_result::AsyncResult;
pub use self::builder::PoolBuilder;
pub use self::error::PoolError;
#[cfg(feature = "stream")]
pub use self::executor::CompletedStream;
pub use self::executor::{AsCompleted, ReturnWhen, as_completed, wait};
pub use self::imap::IMap;
#[cfg(feature = "stream")]
pub use self::imap::IMapStream;
pub use self::options::Options;
pub use self::pool::Pool;
pub use self::scheduler::DEFAULT_MAX_RESULT_SIZE;
pub use self::tasks::Tasks;
#[doc(no_inline)]
pub use multiproc_process::{Fallible, fallible};

/// The `multiproc-process` items this crate's signatures name, so that a user of the pool
/// alone needs no second dependency: a [`PoolError`] carries an [`ExitReason`] or a
/// [`PanicInfo`] and converts from a [`ProcessError`], a [`PoolBuilder`] takes a
/// [`StartMethod`], a [`Context`] or [`Limits`] (a [`PoolError::LimitExceeded`] names a
/// [`LimitExceeded`]), and the functions it runs are [`Target`]s with [`Portable`] arguments.
#[doc(no_inline)]
pub use multiproc_process::{
    Context, ExitReason, LimitExceeded, Limits, PanicInfo, Portable, ProcessError, StartMethod,
    Target,
};
