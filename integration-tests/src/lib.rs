//! Cross-crate tests for multiproc live in `tests/`; this library holds what they share:
//! looking at the process table, waiting for processes to end, watchdogs.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// (parent pid, state) of every process on the machine, from `/proc/<pid>/stat`.
pub fn process_table() -> HashMap<u32, (u32, char)> {
    let mut table = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let Some(ppid) = fields.next().and_then(|p| p.parse().ok()) else {
            continue;
        };
        table.insert(pid, (ppid, state));
    }
    table
}

/// Every living descendant of `root` (children, their children, ...), zombies excluded.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = process_table();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, &(ppid, state)) in &table {
            if ppid == parent && !found.contains(&pid) {
                if state != 'Z' {
                    found.push(pid);
                }
                frontier.push(pid);
            }
        }
    }
    found
}

/// The direct children of this process (zombies included).
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    process_table()
        .into_iter()
        .filter(|(_, (ppid, _))| *ppid == me)
        .map(|(pid, _)| pid)
        .collect()
}

/// Waits until `pid` (any process) has exited, for at most `limit`; returns whether it did.
/// Watches a pidfd, so the wait ends the moment the process does.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0) };
    if fd < 0 {
        return true; // ESRCH: already gone (and reaped)
    }
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if n > 0 {
            return true;
        }
        if n == 0 {
            return false;
        }
    }
}

/// Sends `signal` to `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: `kill` touches no memory of ours.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// The number of open descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Runs `body` on a thread; if it does not finish within `limit`, SIGKILLs every descendant of
/// this process and fails with a message naming `what`.
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
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            for pid in descendants(std::process::id()) {
                send_signal(pid, libc::SIGKILL);
            }
            panic!("watchdog: {what} did not finish within {limit:?}");
        }
        _ => match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}
