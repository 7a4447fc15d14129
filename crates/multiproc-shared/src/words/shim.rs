//! Everything the words need from outside plain atomics: sleeping and waking on a futex,
//! and the identity and liveness of processes and threads.
//!
//! The words take their atomics and their futex from here and nowhere else, so that a
//! loom model replaces this one file: under `cfg(loom)` the atomics become
//! `loom::sync::atomic`'s, `futex_wait` becomes "yield to loom and report `EAGAIN`" (a
//! futex may wake spuriously, so every caller already loops), `futex_wake` does nothing,
//! and the pid and thread ids come from loom's thread ids.

use std::io;
use std::time::Duration;

pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Sleeps while `word` holds `expected`, at most `timeout`; futex(2) `FUTEX_WAIT`.
pub(super) fn futex_wait(
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> io::Result<()> {
    multiproc_sys::futex::wait(word, expected, timeout)
}

/// Wakes up to `count` sleepers on `word`; futex(2) `FUTEX_WAKE`.
pub(super) fn futex_wake(word: &AtomicU32, count: u32) -> usize {
    multiproc_sys::futex::wake(word, count)
}

/// The id of the calling process, as stored in lock words.
pub(crate) fn current_pid() -> u32 {
    multiproc_sys::process::pid()
}

/// An id of the calling thread, unique among the live threads of this process.
pub(super) fn current_thread() -> u64 {
    multiproc_sys::process::thread_id()
}

/// Whether process `pid` still runs (a zombie counts as dead).
pub(crate) fn process_is_alive(pid: u32) -> bool {
    multiproc_sys::process::is_alive(pid)
}
