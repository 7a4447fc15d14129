//! Helpers shared by the pool tests: watchdogs, process-table and descriptor checks.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use multiproc_process::StartMethod;

/// Every start method, for tests that run under each.
pub const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];

/// Runs `body` on a thread; if it has not finished after `limit`, kills every child this
/// process started and fails the test with a message.
pub fn watchdog<T: Send + 'static>(
    limit: Duration,
    what: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let value = body();
        let _ = tx.send(());
        value
    });
    match rx.recv_timeout(limit) {
        Ok(()) => handle.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            kill_all_children();
            panic!("watchdog: {what} did not finish within {limit:?}");
        }
    }
}

/// SIGKILLs a process.
pub fn kill(pid: u32) {
    // SAFETY: `kill` touches no memory of ours.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
}

/// SIGKILLs every direct child of this process (used when a test fails, so none outlives it).
pub fn kill_all_children() {
    for pid in child_pids() {
        kill(pid);
    }
}

/// The pids of this process's direct children (running or zombie), from /proc.
pub fn child_pids() -> Vec<u32> {
    let me = std::process::id();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some((ppid, _)) = stat_of(pid)
            && ppid == me
        {
            pids.push(pid);
        }
    }
    pids.sort();
    pids
}

/// (ppid, state) of a process, from /proc/<pid>/stat.
pub fn stat_of(pid: u32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Whether process `pid` still exists (a zombie counts as existing).
pub fn exists(pid: u32) -> bool {
    stat_of(pid).is_some()
}

/// The number of open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Resident set size of this process, in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// How long [`gone`] waits for a worker to end.
pub const GONE_LIMIT: Duration = Duration::from_secs(10);

/// Whether worker `pid` is gone: it has ended (waiting up to [`GONE_LIMIT`] on its pidfd), and
/// if it was our child, we reaped it. A worker whose parent is the fork server is reaped by
/// the server on its own time, so it may still exist as the server's zombie; and its pidfd
/// reports its end a moment before `/proc` shows it as a zombie. Hence the wait on the pidfd
/// rather than one look at `/proc`.
pub fn gone(pid: u32) -> bool {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: `pidfd_open` touches no memory of ours.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if raw < 0 {
        // ESRCH: no such process (reaped); anything else: judge by /proc alone.
        return match stat_of(pid) {
            None => true,
            Some((ppid, state)) => state == 'Z' && ppid != std::process::id(),
        };
    }
    // SAFETY: `raw` is a descriptor that was just opened for us and nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let deadline = std::time::Instant::now() + GONE_LIMIT;
    let ended = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid `pollfd`, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, left.as_millis() as libc::c_int) };
        if ready < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break ready > 0;
    };
    // It ended; if it still exists it must not be a zombie of ours (we reap our children).
    ended && stat_of(pid).is_none_or(|(ppid, _)| ppid != std::process::id())
}
