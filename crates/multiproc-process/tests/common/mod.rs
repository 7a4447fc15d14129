//! Helpers shared by the process tests: watchdogs, process-table checks.
#![allow(dead_code, unreachable_pub)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

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

/// SIGKILLs every direct child of this process (used when a test fails, so none outlives it).
pub fn kill_all_children() {
    for pid in child_pids() {
        // SAFETY: `kill` touches no memory of ours; the pids are our own children.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
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

/// The zombie children of this process.
pub fn zombie_children() -> Vec<u32> {
    child_pids()
        .into_iter()
        .filter(|&p| matches!(stat_of(p), Some((_, 'Z'))))
        .collect()
}

/// The number of open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Waits until process `pid` (not necessarily our child) has exited, up to `limit`; returns
/// whether it did. Uses a pidfd, so no polling loop.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0) };
    if fd < 0 {
        return true; // ESRCH: already gone
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
        if n == 0 || left.is_zero() {
            return false;
        }
    }
}
