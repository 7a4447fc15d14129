//! Python's multiprocessing for Rust: processes with typed arguments and results, shared
//! memory, locks, pipes, queues and a crash-proof pool.
//!
//! ```
//! use multiproc::prelude::*;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let pool = Pool::new(2)?;
//! assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! This crate is a facade over small crates, each usable alone: [`process`]
//! (`multiproc-process`), [`shared`] (`multiproc-shared`), [`channel`] (`multiproc-channel`),
//! [`pool`] (`multiproc-pool`) and [`manager`] (`multiproc-manager`). The Python-named items are also here at the root and in
//! [`prelude`], and [`Error`] converts from every crate's error so that `?` works across them.
//!
//! # A walkthrough, in Python's order
//!
//! ## 1. A process
//!
//! A target is an ordinary function (or a closure that captures nothing). It runs in a new
//! process; `join` waits for it.
//!
//! ```
//! use multiproc::Process;
//!
//! fn worker() {
//!     println!("Worker process started");
//! }
//!
//! let mut p = Process::new(worker, ());
//! p.start()?;
//! p.join()?;
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 2. Arguments and results
//!
//! Arguments are a tuple of serde values; unlike Python, the function's return value comes
//! back from `join`.
//!
//! ```
//! use multiproc::Process;
//!
//! fn worker(num: u32) -> String {
//!     format!("Worker {num} started")
//! }
//!
//! let mut p = Process::new(worker, (5,));
//! p.start()?;
//! assert_eq!(p.join()?, "Worker 5 started");
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 3. Start methods
//!
//! `forkserver` (the default on Linux, as in CPython 3.14), `spawn` and `fork`, per process
//! through a context or for the whole program with [`set_start_method`]. `Process::fork` (an
//! `unsafe fn` with fork's contract) runs any closure, captures included, in a forked child.
//!
//! ```
//! use multiproc::{get_context, Process, StartMethod};
//!
//! fn pid() -> u32 { std::process::id() }
//!
//! let mut p = get_context(StartMethod::Spawn).process(pid, ());
//! p.start()?;
//! assert_ne!(p.join()?, std::process::id());
//!
//! let data = vec![1, 2, 3];
//! // SAFETY: `fork` forks this process; the closure only reads its captures and allocates,
//! // so it needs no lock that another thread could hold (see `Process::fork`).
//! let mut forked = unsafe { Process::fork(move || data.iter().sum::<i32>()) };
//! forked.start()?;
//! assert_eq!(forked.join()?, 6);
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 4. Sharing state: `Value`, `Array` and locks
//!
//! A `Value` lives in shared memory and travels to children as an ordinary argument, under
//! every start method. Its lock survives a crash: if a process dies holding it, the next
//! `lock()` says so instead of hanging.
//!
//! ```
//! use multiproc::{Process, Value};
//!
//! fn add_one(counter: Value<i32>) {
//!     *counter.lock().unwrap() += 1;
//! }
//!
//! let counter = Value::<i32>::new(0)?;
//! let mut processes: Vec<_> = (0..5).map(|_| Process::new(add_one, (counter.clone(),))).collect();
//! for p in &mut processes {
//!     p.start()?;
//! }
//! for p in &mut processes {
//!     p.join()?;
//! }
//! assert_eq!(counter.get(), 5);
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 5. A pool of workers
//!
//! `map`, `starmap`, `imap`, `imap_unordered`, `apply` and their `_async` forms. Dropping the
//! pool terminates it, like leaving Python's `with Pool(...)` block.
//!
//! ```
//! use multiproc::{cpu_count, Pool};
//!
//! fn multiply(a: i64, b: i64) -> i64 { a * b }
//!
//! let pool = Pool::new(cpu_count().saturating_sub(1).max(1))?;
//! assert_eq!(pool.starmap(multiply, [(1, 2), (3, 4), (5, 6), (7, 8)])?, [2, 12, 30, 56]);
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 6. Pipes and queues
//!
//! ```
//! use multiproc::{Pipe, Process, Queue};
//! use multiproc::PipeWriter;
//!
//! fn produce(queue: Queue<u64>, done: PipeWriter<String>) {
//!     for i in 0..100 {
//!         queue.put(i).unwrap();
//!     }
//!     done.send("produced 100 items".to_owned()).unwrap();
//! }
//!
//! let queue = Queue::<u64>::bounded(10)?;
//! let (reader, writer) = Pipe::<String>::new()?;
//! let mut p = Process::new(produce, (queue.clone(), writer));
//! p.start()?;
//! let total: u64 = (0..100).map(|_| queue.get().unwrap()).sum();
//! assert_eq!(total, 4950);
//! assert_eq!(reader.recv()?, "produced 100 items");
//! p.join()?;
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 7. Logging
//!
//! The crates log through [`log`](https://docs.rs/log). [`log_to_stderr`] prints Python's
//! `[LEVEL/ProcessName] message` for multiproc's own targets ([`LOG_TARGET`] and below, like
//! Python's `multiprocessing` logger) and never replaces a logger you installed; records
//! logged in a spawn or forkserver child reach the parent's logger, whatever logger that is,
//! tagged with the child's name and pid. At `debug` level the crates record each process
//! started and exited and each pool worker replaced.
//!
//! ```
//! use multiproc::{LOG_TARGET, LevelFilter, Process};
//!
//! fn worker() {
//!     log::info!(target: LOG_TARGET, "Worker started"); // [INFO/Worker1] Worker started
//! }
//!
//! multiproc::log_to_stderr(LevelFilter::Info).expect("no other logger is installed");
//! let mut p = Process::new(worker, ()).with_name("Worker1");
//! p.start()?;
//! p.join()?;
//! # Ok::<(), multiproc::Error>(())
//! ```
//!
//! ## 8. When things go wrong
//!
//! A panic comes back with its message and location; a crash, `abort` or kill comes back as
//! the signal. In a pool, only the failed task is reported; a dead worker is replaced. A
//! target that returns `Result<T, E>`, passed as [`fallible`]`(f)`, reports its `Err` with the
//! error's chain and the failed item's position, apart from a panic.
//!
//! ```
//! use multiproc::pool::PoolError;
//! use multiproc::Pool;
//!
//! fn risky(x: u32) -> u32 {
//!     if x == 3 { std::process::abort() }
//!     x * 10
//! }
//!
//! let pool = Pool::new(2)?;
//! let results: Vec<_> = pool.chunksize(1).imap(risky, 0..6).collect();
//! assert!(matches!(results[3], Err(PoolError::WorkerDied { .. })));
//! assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
//!
//! fn parse(text: String) -> Result<u32, std::num::ParseIntError> { text.parse() }
//! let words = ["1", "two", "3"].map(String::from);
//! let failed = pool.map(multiproc::fallible(parse), words).unwrap_err();
//! assert_eq!(failed.to_string(), "task 1 failed: invalid digit found in string");
//! # Ok::<(), multiproc::Error>(())
//! ```
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
//! - `process`, `shared`, `channel`, `pool` (all on by default): the sub-crates, re-exported
//!   under the same names.
//! - `listener` (on by default): the channel crate's TCP/Unix-socket `Listener` and `Client`
//!   with the `authkey` handshake, which brings in `hmac` and `sha2`.
//! - `progress`: progress bars (indicatif) for the pool's `map` and `imap` families
//!   (`Options::progress_bar`, `Tasks::progress_style`, `Tasks::progress`).
//! - `stream`: `futures_core::Stream`s over the pool's `imap` results and `as_completed`.
//!   (A pool's `AsyncResult` and `Process::join_async` are futures without any feature.)
//!
//! # Platform support
//!
//! Linux 5.3 or later. Other platforms are not supported yet.
//!
//! # Examples
//!
//! `quickstart` runs the whole walkthrough (`cargo run --release -p multiproc-examples
//! --example quickstart`); the repository's `examples/` also has one program per section and
//! the case studies `parallel_files`, `parallel_training` and `web_crawl`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod error;
pub use self::error::Error;

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
#[doc(inline)]
pub use multiproc_channel as channel;
#[cfg(feature = "manager")]
#[doc(inline)]
pub use multiproc_manager as manager;
#[cfg(feature = "pool")]
#[cfg_attr(docsrs, doc(cfg(feature = "pool")))]
#[doc(inline)]
pub use multiproc_pool as pool;
#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
#[doc(inline)]
pub use multiproc_process as process;
#[cfg(feature = "shared")]
#[cfg_attr(docsrs, doc(cfg(feature = "shared")))]
#[doc(inline)]
pub use multiproc_shared as shared;

#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
#[doc(no_inline)]
pub use multiproc_process::{
    Context, ExitReason, LOG_TARGET, LevelFilter, PanicInfo, Process, ProcessError, StartMethod,
    active_children, cpu_count, current_process, fallible, get_all_start_methods, get_context,
    get_start_method, log_to_stderr, parent_process, physical_cpu_count, process_cpu_count,
    set_start_method,
};

#[cfg(feature = "shared")]
#[cfg_attr(docsrs, doc(cfg(feature = "shared")))]
#[doc(no_inline)]
pub use multiproc_shared::{
    Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue, Semaphore,
    SharedError, SharedMemory, Value,
};

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
#[doc(no_inline)]
pub use multiproc_channel::{
    Connection, JoinableQueue, ListenerError, Pipe, PipeError, PipeReader, PipeWriter, Queue,
    QueueError, SendError, SimpleQueue, wait,
};

#[cfg(feature = "pool")]
#[cfg_attr(docsrs, doc(cfg(feature = "pool")))]
#[doc(no_inline)]
pub use multiproc_pool::{AsyncResult, Pool, PoolError};

#[cfg(feature = "manager")]
#[doc(no_inline)]
pub use multiproc_manager::{DictProxy, ListProxy, Manager, ManagerError, Namespace};

/// The Python-named items, for `use multiproc::prelude::*;`.
///
/// ```
/// use multiproc::prelude::*;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// let pool = Pool::new(2)?;
/// assert_eq!(pool.map(square, 0..4)?, [0, 1, 4, 9]);
/// let counter = Value::<u64>::new(0)?;
/// let mut p = Process::new(square, (3,));
/// p.start()?;
/// let child_result = p.join()?;
/// *counter.lock().unwrap() += child_result;
/// assert_eq!(counter.get(), 9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    #[cfg(feature = "channel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
    #[doc(no_inline)]
    pub use multiproc_channel::{
        Connection, JoinableQueue, Pipe, PipeReader, PipeWriter, Queue, SimpleQueue,
    };
    #[cfg(feature = "manager")]
    #[doc(no_inline)]
    pub use multiproc_manager::Manager;
    #[cfg(feature = "pool")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pool")))]
    #[doc(no_inline)]
    pub use multiproc_pool::{AsyncResult, Pool};
    #[cfg(feature = "process")]
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    #[doc(no_inline)]
    pub use multiproc_process::{
        Process, StartMethod, cpu_count, current_process, fallible, get_context, process_cpu_count,
    };
    #[cfg(feature = "shared")]
    #[cfg_attr(docsrs, doc(cfg(feature = "shared")))]
    #[doc(no_inline)]
    pub use multiproc_shared::{
        Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue,
        Semaphore, SharedMemory, Value,
    };
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
