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
#[inline]
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
#[inline]
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

/// A process's start time as a lock word records it: the low 32 bits of proc(5) `stat`
/// field 22 (clock ticks after boot; they wrap after 497 days at 100 Hz, and two
/// processes with one pid and start times exactly 2^32 ticks apart are not told apart),
/// never 0, which means "not recorded".
#[cfg(not(loom))]
fn start_tag(start_time: u64) -> u32 {
    (start_time as u32).max(1)
}

/// The calling process's start tag (see [`start_of_current`]).
#[cfg(all(test, not(loom)))]
pub(super) fn current_start() -> u32 {
    start_of_current(current_pid())
}

/// The calling process's start tag, cached with the pid it belongs to (so a forked child,
/// whose pid differs, reads its own), for a caller that has that pid (`pid`, from
/// [`current_pid`]) at hand already: one load and a compare on the lock's hot path. 0 if
/// `/proc` cannot tell: then owners are checked by pid alone.
#[cfg(not(loom))]
#[inline]
pub(super) fn start_of_current(pid: u32) -> u32 {
    /// The pid in the high half, the start tag (maybe 0) in the low half; 0 before the
    /// first use.
    static CACHED: AtomicU64 = AtomicU64::new(0);
    let cached = CACHED.load(Ordering::Relaxed);
    if cached != 0 && (cached >> 32) as u32 == pid {
        return cached as u32;
    }
    let tag = read_start(pid);
    // Cached even when unknown (0): the pid, never 0, keeps the cache word non-zero.
    CACHED.store(u64::from(pid) << 32 | u64::from(tag), Ordering::Relaxed);
    tag
}

/// The start tag of process `pid` from `/proc`, 0 if it cannot tell (first use only).
#[cfg(not(loom))]
#[cold]
fn read_start(pid: u32) -> u32 {
    multiproc_sys::process::stat(pid).map_or(0, |stat| start_tag(stat.start_time))
}

/// Under loom there is no start time to record.
#[cfg(all(test, loom))]
pub(super) fn current_start() -> u32 {
    0
}

/// Under loom there is no start time to record.
#[cfg(loom)]
pub(super) fn start_of_current(_pid: u32) -> u32 {
    0
}

/// Whether the lock owner named by `pid` and `start` (a start tag, 0 if not recorded)
/// still runs. Dead: no such pid, a zombie, or a pid that now runs a process that started
/// at another time (the owner died and its pid was reused).
#[cfg(not(loom))]
pub(super) fn owner_is_alive(pid: u32, start: u32) -> bool {
    if start == 0 {
        return multiproc_sys::process::is_alive(pid);
    }
    match multiproc_sys::process::stat(pid) {
        Ok(stat) => !stat.has_exited() && start_tag(stat.start_time) == start,
        Err(err) if err.kind() == io::ErrorKind::NotFound => false,
        // `/proc` unreadable: fall back on the pid alone.
        Err(_) => multiproc_sys::process::is_alive(pid),
    }
}

/// Under loom the one process is alive.
#[cfg(loom)]
pub(super) fn owner_is_alive(_pid: u32, _start: u32) -> bool {
    true
}
