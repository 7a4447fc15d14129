//! Creating a child by `fork(2)`, and the calls a forked child makes before it leaves.
//!
//! ```
//! use multiproc_sys::fork::{exit_now, fork};
//! // SAFETY: the child calls only `_exit`.
//! if let Some(child) = unsafe { fork() }? {
//!     assert!(multiproc_sys::wait::waitpid(child, true)?.is_some());
//! } else {
//!     exit_now(0);
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// `fork(2)`: returns `Some(pid)` in the parent and `None` in the child.
///
/// # Safety
///
/// In the child only the calling thread exists; every other thread of the parent has
/// vanished, together with whatever it was doing. Until the child leaves with [`exit_now`]
/// (or execs), it may only do what is safe after `fork` in a multi-threaded program: strictly,
/// call async-signal-safe functions (signal-safety(7)). In particular it must not take a
/// lock that another thread may have held at the time of the fork (it would wait forever),
/// must not rely on data that another thread was in the middle of changing, and must not
/// unwind past the caller or return into code that expects to run once. The caller documents
/// what it relies on beyond that (for example glibc's guarantee that `malloc` works in the
/// child of a multi-threaded program).
///
/// ```
/// use multiproc_sys::fork::{exit_now, fork};
/// use multiproc_sys::wait::{WaitStatus, waitpid};
/// // SAFETY: the child only calls `_exit`, which is async-signal-safe.
/// match unsafe { fork() }? {
///     None => exit_now(7),
///     Some(child) => assert_eq!(waitpid(child, true)?, Some(WaitStatus::Exited(7))),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub unsafe fn fork() -> io::Result<Option<u32>> {
    // SAFETY: fork has no memory-safety preconditions of its own; the caller upholds the
    // post-fork contract stated above.
    let pid = crate::cvt(unsafe { libc::fork() })?;
    Ok((pid != 0).then_some(pid as u32))
}

/// `_exit(2)`: leaves at once, without running `atexit` handlers or destructors.
///
/// ```no_run
/// multiproc_sys::fork::exit_now(0);
/// ```
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe, has no preconditions and never returns.
    unsafe { libc::_exit(code) }
}

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the calling process is killed when the thread that
/// created it exits. Returns whether `expected_parent` is still the parent afterwards, which
/// closes the race where it died before the call. prctl(2).
///
/// ```no_run
/// let parent = multiproc_sys::process::parent_pid();
/// assert!(multiproc_sys::fork::set_parent_death_signal(parent));
/// ```
pub fn set_parent_death_signal(expected_parent: u32) -> bool {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL)).is_ok()
        && crate::process::parent_pid() == expected_parent
}

/// Whether the calling thread blocks no signal (pthread_sigmask(3)). A child forked from it
/// then starts with an empty mask, and need not reset it: asked in the parent, before the
/// fork, this spares the child a system call and the first run of two C library pages.
///
/// ```
/// multiproc_sys::signal::reset_mask();
/// assert!(multiproc_sys::fork::signal_mask_is_empty());
/// ```
pub fn signal_mask_is_empty() -> bool {
    // SAFETY: `current` is a valid, zeroed `sigset_t` for pthread_sigmask to write into; the
    // null new-set pointer makes the call a query that changes nothing.
    unsafe {
        let mut current: libc::sigset_t = std::mem::zeroed();
        if libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current) != 0 {
            return false;
        }
        // The kernel fills only the words it knows; the rest stays zero from above.
        let words: [u8; std::mem::size_of::<libc::sigset_t>()] = std::mem::transmute(current);
        words.iter().all(|&b| b == 0)
    }
}

/// Flushes the C `stdio` buffers (`fflush(NULL)`), before a fork and before `_exit`.
///
/// ```
/// multiproc_sys::fork::flush_c_stdio();
/// ```
pub fn flush_c_stdio() {
    // SAFETY: fflush(NULL) flushes every open C stream; it has no preconditions.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}

/// `atexit(3)`: runs `handler` when the process exits normally. Returns whether it was
/// registered.
///
/// ```
/// extern "C" fn bye() {}
/// assert!(multiproc_sys::fork::atexit(bye));
/// ```
pub fn atexit(handler: extern "C" fn()) -> bool {
    // SAFETY: `handler` is a plain `extern "C" fn()` that lives for the whole program.
    unsafe { libc::atexit(handler) == 0 }
}
