//! The operating-system layer of multiproc: every system call the workspace makes, in one place.
//!
//! The other multiproc crates deny `unsafe_code`; what they need from the kernel (futexes,
//! pidfds, `poll`, `fork`, signals, `/proc`) they get here, as safe functions where the call
//! has no memory-safety contract and as `unsafe fn` with a `# Safety` section where it does
//! (`fork`). System calls go through [rustix] where it covers them, and through libc only
//! where it does not (`fork`, `pthread_atfork`, `atexit`, `fflush`, signal dispositions).
//!
//! There is one of each policy: one liveness check ([`process::is_alive`]), one `/proc`
//! reader ([`process::stat`]), one `poll` ([`poll::readable`]), one way of retrying `EINTR`
//! (with the time that is left, see [`time`]), one panic hook ([`panic`](mod@panic)).
//!
//! ```
//! let me = multiproc_sys::process::pid();
//! assert!(multiproc_sys::process::is_alive(me));
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
//! # Platform support
//!
//! Linux only (futexes, pidfds, `memfd`, `/proc`). On any other target the build stops with
//! one `compile_error!` that says so; a port touches this crate alone.
//!
//! [rustix]: https://docs.rs/rustix

#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules below are compiled on Linux only, so that this is the one error another
// target sees.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "multiproc supports Linux only (it needs futexes, pidfds, memfd and /proc); \
     a port to another system starts in the multiproc-sys crate"
);

#[cfg(target_os = "linux")]
pub mod disposition;
#[cfg(target_os = "linux")]
pub mod env;
#[cfg(target_os = "linux")]
pub mod eventfd;
#[cfg(target_os = "linux")]
pub mod exe;
#[cfg(target_os = "linux")]
pub mod fd_passing;
#[cfg(target_os = "linux")]
pub mod file;
#[cfg(target_os = "linux")]
pub mod fork;
#[cfg(target_os = "linux")]
pub mod futex;
#[cfg(target_os = "linux")]
pub mod inherited;
#[cfg(target_os = "linux")]
pub mod ipc_receiver;
#[cfg(target_os = "linux")]
pub mod ipc_record;
#[cfg(target_os = "linux")]
pub mod ipc_sender;
#[cfg(target_os = "linux")]
pub mod mem;
#[cfg(target_os = "linux")]
pub mod memfd;
#[cfg(target_os = "linux")]
pub mod panic;
#[cfg(target_os = "linux")]
pub mod pidfd;
#[cfg(target_os = "linux")]
pub mod poll;
#[cfg(target_os = "linux")]
pub mod process;
#[cfg(target_os = "linux")]
pub mod racy_copy;
#[cfg(target_os = "linux")]
pub mod random;
#[cfg(target_os = "linux")]
pub mod rlimit;
#[cfg(target_os = "linux")]
pub mod seqpacket;
#[cfg(target_os = "linux")]
pub mod seqpacket_io;
#[cfg(target_os = "linux")]
pub mod signal;
#[cfg(target_os = "linux")]
pub mod socket;
#[cfg(target_os = "linux")]
pub mod stderr;
#[cfg(target_os = "linux")]
pub mod stdio;
#[cfg(target_os = "linux")]
pub mod subreaper;
#[cfg(target_os = "linux")]
pub mod time;
#[cfg(target_os = "linux")]
pub mod wait;

#[cfg(target_os = "linux")]
use std::io;

/// Turns the `-1` that a libc call returns on failure into the `errno` it left behind
/// (nix's `Errno::result`). rustix calls return `io::Result` already.
#[cfg(target_os = "linux")]
pub(crate) fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
