//! Everything the words need from outside plain atomics: sleeping and waking on a futex,
//! and the identity and liveness of processes and threads.
//!
//! The words take their atomics and their futex from here and nowhere else, so that a
//! loom model replaces this one file: under `cfg(loom)` the atomics become
//! `loom::sync::atomic`'s, `futex_wait` becomes "yield to loom and report `EAGAIN`" (a
//! futex may wake spuriously, so every caller already loops), `futex_wake` does nothing,
//! the pid is fixed, the thread ids come from loom's thread ids, and the owner check (a
//! clock-driven path loom cannot replay) is off. See `loom_tests.rs`.

use std::io;
use std::time::Duration;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Whether a waiter on a held lock checks its owner's liveness now and then. Off under
/// loom: the check is driven by the clock, which a model cannot replay.
pub(super) const OWNER_CHECKS: bool = !cfg!(loom);

/// Sleeps while `word` holds `expected`, at most `timeout`; futex(2) `FUTEX_WAIT`.
#[cfg(not(loom))]
pub(super) fn futex_wait(
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> io::Result<()> {
    multiproc_sys::futex::wait(word, expected, timeout)
}

/// Under loom: lets the other threads run, then returns as a spurious wake-up.
#[cfg(loom)]
pub(super) fn futex_wait(
    _word: &AtomicU32,
    _expected: u32,
    _timeout: Option<Duration>,
) -> io::Result<()> {
    loom::thread::yield_now();
    Err(io::ErrorKind::WouldBlock.into())
}

/// Wakes up to `count` sleepers on `word`; futex(2) `FUTEX_WAKE`.
#[cfg(not(loom))]
pub(super) fn futex_wake(word: &AtomicU32, count: u32) -> usize {
    multiproc_sys::futex::wake(word, count)
}

/// Under loom nobody really sleeps: a waiter re-checks its word after every yield.
#[cfg(loom)]
pub(super) fn futex_wake(_word: &AtomicU32, _count: u32) -> usize {
    0
}

/// The id of the calling process, as stored in lock words.
#[cfg(not(loom))]
pub(crate) fn current_pid() -> u32 {
    multiproc_sys::process::pid()
}

/// Under loom every thread is in one process.
#[cfg(loom)]
pub(crate) fn current_pid() -> u32 {
    1
}

/// An id of the calling thread, unique among the live threads of this process.
#[cfg(not(loom))]
pub(super) fn current_thread() -> u64 {
    multiproc_sys::process::thread_id()
}

/// Under loom: one more than loom's thread number (never zero, which means "no owner").
#[cfg(loom)]
pub(super) fn current_thread() -> u64 {
    let id = format!("{:?}", loom::thread::current().id());
    id.trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse::<u64>()
        .map_or(u64::MAX, |n| n + 1)
}

/// Whether process `pid` still runs (a zombie counts as dead).
#[cfg(not(loom))]
pub(crate) fn process_is_alive(pid: u32) -> bool {
    multiproc_sys::process::is_alive(pid)
}

/// Under loom the one process is alive.
#[cfg(loom)]
pub(crate) fn process_is_alive(_pid: u32) -> bool {
    true
}
