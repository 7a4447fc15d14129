//! Run Rust functions in child processes with typed arguments and results: fork, spawn and
//! forkserver.
//!
//! This is the process layer of [multiproc](https://docs.rs/multiproc), Python's
//! `multiprocessing` for Rust. A [`Process`] runs one function in a child process; its
//! arguments and its return value are serde types, and [`Process::join`] gives the return
//! value back, or says exactly how the child failed (a panic with its message and location, an
//! exit code, a signal).
//!
//! ```
//! use multiproc_process::Process;
//!
//! fn worker(num: u32) -> u32 {
//!     println!("Worker {num} started");
//!     num * 2
//! }
//!
//! let mut p = Process::new(worker, (5,));
//! p.start()?;
//! assert_eq!(p.join()?, 10);
//! # Ok::<(), multiproc_process::ProcessError>(())
//! ```
//!
//! # How a function reaches a child
//!
//! Parent and child run the same executable. A target is a function item or a closure that
//! captures nothing; the child finds it by its offset from a fixed function of this crate,
//! through a trampoline that receives the arguments, calls, and sends the result back. Before
//! the offset is used, the child proves that it runs the very same file as its parent. Every
//! offset that crosses a process boundary carries a keyed tag (an HMAC under a secret of this
//! process tree, which only reaches children of the same user): bytes that do not come from
//! this program fail to decode, and never make a process jump to an address. A re-executed
//! child's first contact is a socket in a private directory that admits only the started
//! process, checked by the kernel's `SO_PEERCRED`.
//!
//! # Start methods
//!
//! [`StartMethod::Forkserver`] (the default, as in CPython 3.14 on Linux),
//! [`StartMethod::Spawn`] and [`StartMethod::Fork`]; choose one per process with
//! [`get_context`], or for the program with [`set_start_method`]. [`Process::fork`], an
//! `unsafe fn` with fork's contract, runs any closure, captures included, in a forked child.
//!
//! # No set-up in `main`
//!
//! A re-executed child must not run the program's `main`. This crate runs the child from a
//! constructor that runs before `main` (the [`ctor`](https://docs.rs/ctor) crate) in every
//! binary that links it: programs, unit and integration tests, doc tests, under `cargo test`
//! and `cargo nextest`. There is no `init()` to call. A child whose bootstrap did not run gets
//! [`ProcessError::BootstrapNotRun`] from `start` instead of starting processes of its own.
//!
//! # Parent death, daemons, exit
//!
//! Every child asks the kernel to kill it when its parent dies (`PR_SET_PDEATHSIG`), so no
//! child outlives a parent killed with SIGKILL. Children are started from the main thread or
//! from a launcher thread that lives as long as the process, because the kernel ties that
//! signal to the thread that created the child. When the program exits normally, daemon
//! children are terminated and the others are waited for, as in Python; then the fork server
//! is closed and reaped, so that a run leaves no zombie behind.
//!
//! A grandchild that leaves its parent and its session (double `fork`, `setsid`) escapes the
//! parent-death signal. Under the forkserver method the fork server is a child subreaper:
//! such a descendant becomes its child, and it kills and reaps every one when it is closed at
//! exit. Under fork and spawn (and when the program is killed with SIGKILL, which takes the
//! fork server with it) an escaped descendant goes to init and lives on, as in CPython; a
//! target that may leave such descendants can call `multiproc_sys::subreaper::set(true)`
//! and end them itself. A pool's workers do that (see `multiproc-pool`).
//!
//! # Programs that reap their own children
//!
//! Every child's pidfd is opened before the child can end, and signals and waits go through
//! it (`pidfd_send_signal`, `waitid(P_PIDFD)`), so [`Process::terminate`] never reaches
//! another process that reused the pid. Two SIGCHLD dispositions of the program cost the fork
//! and spawn methods their children's exit statuses, which the kernel keeps only until
//! someone collects them:
//!
//! - SIGCHLD set to `SIG_IGN` (or `SA_NOCLDWAIT`): the kernel discards every status;
//! - a SIGCHLD handler, or another thread, calling `waitpid(-1)`: it takes every status.
//!
//! Results still arrive; a child that ended without one is then reported as
//! [`ProcessError::StatusTaken`], which names the cause, instead of with its exit code or
//! signal. The forkserver method keeps the statuses: the fork server restores SIGCHLD's
//! default and is the parent of the children.
//!
//! # Exhausted resources and a broken environment
//!
//! [`Process::start`] returns an error, never panics, when descriptors or threads run out
//! (a panic inside ipc-channel is caught and reported) or when the temporary directory
//! (`TMPDIR`, else `/tmp`), where the spawn bootstrap socket lives, is missing or is not a
//! directory. No thread of this crate takes the standard stream locks: a fork start made
//! from a thread that holds the stdout lock does not wait for it, and the library's own
//! messages are written to descriptor 2 directly.
//!
//! # Objects tied to their process
//!
//! A [`Process`] handle and the fork-server client belong to the process that made them. Used
//! in another process (a child forked by the program itself), a handle gives
//! [`ProcessError::WrongProcess`], and the fork-server client starts a new server there.
//!
//! # Logging
//!
//! The crate logs through [`log`] and never installs a logger unless asked. [`log_to_stderr`]
//! prints multiproc's own records (targets under [`LOG_TARGET`]) in Python's format, and
//! leaves a logger of yours in place. Records logged in a spawn or forkserver child reach the
//! parent's logger with the child's `process_name` and `pid` as key-values (env_logger shows
//! them with its `kv` feature). Lifecycle records at `debug` level, under the target
//! `multiproc::process`: a process started (pid, start method) and exited (its status).
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
//! None. `hmac` and `sha2` are not optional here: every function reference sent to a child
//! carries an HMAC-SHA256 tag under a key of the process tree, checked before the child
//! calls it.
//!
//! # Platform support
//!
//! Linux 5.3 or later (pidfds, memfds, `PR_SET_PDEATHSIG`, `/proc`). Other platforms are not
//! supported yet.
//!
//! # Examples
//!
//! `process_basic`, `process_args`, `logging` and `cpu_count` in the repository's `examples/`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

// The modules form layers, each using only those below it (no import cycle):
// bottom: tag, sys, status, error, target, cpu, function (FunctionRef, panics), identity,
// method;
// state: registry, logging; the protocol both sides speak: wire; starting a child: launcher,
// rendezvous, spawn, exit, entry, forkserver; the child's way in: child; on top: tree,
// process, context, decode.
mod child;
mod context;
mod cpu;
#[doc(hidden)]
pub mod decode;
pub mod encode;
mod entry;
mod error;
mod exit;
mod fallible;
mod fork_start;
mod forkserver;
mod function;
mod function_key;
mod identity;
mod join_future;
mod launcher;
mod leave;
mod limits;
mod logging;
mod method;
mod process;
mod process_join;
mod process_settings;
mod process_start;
mod reactor;
mod registry;
mod rendezvous;
mod result_channel;
mod settings;
mod spawn;
mod status;
mod stdio;
#[allow(unsafe_code)]
mod sys;
mod tag;
mod target;
mod tree;
mod wire;

pub use self::context::{Context, get_context};
pub use self::cpu::{cpu_count, physical_cpu_count, process_cpu_count};
pub use self::error::{CallError, PanicInfo, ProcessError};
pub use self::fallible::{Fallible, fallible};
pub use self::function::{FunctionRef, catch_panic};
pub use self::function_key::{adopt_function_key, function_key};
pub use self::join_future::JoinFuture;
pub use self::limits::{LimitExceeded, Limits};
pub use self::logging::{LOG_TARGET, log_to_stderr};
pub use self::method::{
    StartMethod, UnknownStartMethod, get_all_start_methods, get_start_method, set_start_method,
};
pub use self::process::{DEFAULT_MAX_RESULT_SIZE, Process};
pub use self::status::ExitReason;
pub use self::stdio::{ChildInput, ChildOutput, Stdio};
pub use self::target::{Portable, Target};
pub use self::tree::{
    ProcessInfo, active_children, current_process, forkserver_pid, parent_process,
};
/// The level argument of [`log_to_stderr`], re-exported from the `log` crate so that naming
/// a level needs no dependency on `log`.
///
/// ```
/// use multiproc_process::LevelFilter;
/// assert!(LevelFilter::Debug > LevelFilter::Info);
/// ```
#[doc(no_inline)]
pub use log::LevelFilter;
