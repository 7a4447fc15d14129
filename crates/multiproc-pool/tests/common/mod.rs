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

/// Whether worker `pid` is gone: not running, and if it is still a zombie, then one that the
/// fork server (its parent under that start method) reaps on its own time, never ours.
pub fn gone(pid: u32) -> bool {
    match stat_of(pid) {
        None => true,
        Some((ppid, state)) => state == 'Z' && ppid != std::process::id(),
    }
}
