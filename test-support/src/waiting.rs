//! Waits for processes to end, on their pidfds.

use std::os::fd::AsFd;
use std::time::Duration;

use crate::process_table::stat_of;

/// Waits on a pidfd for process `pid` to end, at most `limit`: `Some(true)` if it ended (it
/// may still be a zombie), `Some(false)` if not, `None` if no pidfd could be opened (with
/// ESRCH: there is no such process, it has been reaped).
fn wait_on_pidfd(pid: u32, limit: Duration) -> Option<bool> {
    let pidfd = multiproc_sys::pidfd::open(pid).ok()?;
    Some(multiproc_sys::poll::wait_readable(pidfd.as_fd(), Some(limit)).unwrap_or(false))
}

/// Waits until process `pid` (any process, not only a child of ours) has exited, for at most
/// `limit`; returns whether it did. Watches a pidfd, so the wait ends the moment the process
/// does, with no polling loop.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    // No pidfd: ESRCH, already gone (and reaped).
    wait_on_pidfd(pid, limit).unwrap_or(true)
}

/// Whether process `pid` is gone: it has ended (waiting up to `limit` on its pidfd), and if it
/// was our child, we reaped it. A process whose parent is another process (a pool worker
/// under the fork server, say) is reaped by that parent on its own time, so it may still
/// exist as that parent's zombie; and its pidfd reports its end a moment before `/proc` shows
/// it as a zombie. Hence the wait on the pidfd rather than one look at `/proc`.
pub fn gone(pid: u32, limit: Duration) -> bool {
    let me = std::process::id();
    match wait_on_pidfd(pid, limit) {
        // ESRCH: no such process (reaped); anything else: judge by /proc alone.
        None => match stat_of(pid) {
            None => true,
            Some((ppid, state)) => state == 'Z' && ppid != me,
        },
        // It ended; if it still exists it must not be a zombie of ours (we reap our children).
        Some(ended) => ended && stat_of(pid).is_none_or(|(ppid, _)| ppid != me),
    }
}
