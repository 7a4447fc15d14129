//! The test helpers shared by the workspace's tests: forked children that are always reaped,
//! a pipe for ordering steps between a parent and its forked child, a reproducible source of
//! random input, a watchdog that fails a hung test instead of hanging it, looks at the process
//! table, waits for processes to end, counts of this process's descriptors, mappings and
//! resident memory, the library's threads (named `multiproc-*`, see
//! [`LIBRARY_THREAD_PREFIX`]), a [`Census`] of what a test could leak, a hostile peer's
//! tools (this process's own sockets, forged ipc-channel records written on them, postcard
//! lengths that claim too much), a process that escapes its session, and the signal
//! dispositions of the helper programs that tests interrupt.
//!
//! Linux only: it reads `/proc` and waits on pidfds. Not published. Its system calls go through
//! `multiproc-sys`, the one multiproc crate it depends on (the others take this crate as a
//! dev-dependency, and a cycle would put two copies of a crate into that crate's test builds),
//! and, for the hostile peer's raw socket calls that the library has no use for, rustix.

#![deny(unsafe_code)]

mod census;
mod dispositions;
mod escaped;
mod forged_record;
mod own_sockets;
mod postcard_length;
mod threads;

pub use self::census::{Census, settle};
pub use self::dispositions::default_interrupt_dispositions;
pub use self::escaped::start_escaped_sleeper;
pub use self::forged_record::{RECORD_HEADER, forge_huge_record_to, raw_record};
pub use self::own_sockets::{seqpacket_sockets_to, sockets, with_new_sockets};
pub use self::postcard_length::postcard_varint;
pub use self::threads::{LIBRARY_THREAD_PREFIX, library_threads};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

// Forked children.

/// A forked child; SIGKILLed and reaped on drop unless already reaped.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

/// Forks a child that runs `body` under `catch_unwind` and leaves with `_exit`: 0 on success,
/// 101 if it panicked. The child never returns into the test harness.
///
/// State that a forked child must not be the first to set up (such as ipc-channel's lazily
/// initialised statics) is the caller's to initialise before calling this.
#[allow(unsafe_code)]
pub fn fork(body: impl FnOnce()) -> Child {
    // SAFETY: the child only runs `body` and then `_exit`s without unwinding past this
    // frame; glibc makes malloc usable in the child of a threaded parent. A test that forks
    // beside its other threads accepts the contract's remaining risk (a lock held by a
    // vanished thread), which can only hang the child, and the watchdogs catch that.
    match unsafe { multiproc_sys::fork::fork() }.expect("fork failed") {
        Some(pid) => Child {
            pid: pid as libc::pid_t,
            reaped: false,
        },
        None => {
            let code = match catch_unwind(AssertUnwindSafe(body)) {
                Ok(()) => 0,
                Err(_) => 101,
            };
            // Skipping destructors is the point: they belong to the parent's state.
            multiproc_sys::fork::exit_now(code)
        }
    }
}

impl Child {
    /// The child's pid.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Sends SIGKILL, unless the child was already reaped. Does not wait for it to die:
    /// [`wait`](Child::wait) or [`join`](Child::join) does.
    pub fn kill(&self) {
        if !self.reaped {
            send_signal(self.pid as u32, libc::SIGKILL);
        }
    }

    /// Sends SIGSTOP and waits until the kernel reports the child stopped (or gone).
    /// Returns where it stopped: `Some((syscall number, first two arguments))` if it was
    /// inside a system call, `None` if not (`/proc/<pid>/syscall`, see proc(5)).
    pub fn stop(&self) -> Option<(i64, u64, u64)> {
        send_signal(self.pid as u32, libc::SIGSTOP);
        // SIGSTOP cannot be caught or blocked: the child stops or exits, so this returns.
        let stopped = multiproc_sys::wait::wait_stopped(self.pid as u32).expect("waitid");
        assert!(stopped, "child {} did not stop", self.pid);
        let text = std::fs::read_to_string(format!("/proc/{}/syscall", self.pid)).unwrap();
        let mut fields = text.split_whitespace();
        let number: i64 = fields.next()?.parse().ok()?;
        if number < 0 {
            return None;
        }
        let mut arg = || u64::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok();
        Some((number, arg()?, arg()?))
    }

    /// Sends SIGCONT.
    pub fn resume(&self) {
        send_signal(self.pid as u32, libc::SIGCONT);
    }

    /// Waits for the child to exit, however long it takes. Returns the exit code, or
    /// `-signal`.
    pub fn wait(mut self) -> i32 {
        let status = multiproc_sys::wait::waitpid(self.pid as u32, true)
            .expect("waitpid failed")
            .expect("a blocking waitpid returns a status");
        self.reaped = true;
        exit_code(status)
    }

    /// Waits for the child to exit, at most `timeout` (then kills it and panics).
    /// Returns the exit code, or `-signal`.
    pub fn join(mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_micros(100);
        loop {
            if let Some(status) =
                multiproc_sys::wait::waitpid(self.pid as u32, false).expect("waitpid")
            {
                self.reaped = true;
                return exit_code(status);
            }
            if Instant::now() >= deadline {
                panic!(
                    "watchdog: child {} did not exit within {timeout:?}",
                    self.pid
                );
            }
            // Polling the exit status of a child, not synchronising with it.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Joins and asserts a clean exit.
    pub fn join_ok(self, timeout: Duration) {
        let pid = self.pid;
        let code = self.join(timeout);
        assert_eq!(code, 0, "child {pid} failed with {code}");
    }
}

/// The exit code in a wait status, or minus the signal that ended the process.
fn exit_code(status: multiproc_sys::wait::WaitStatus) -> i32 {
    match status {
        multiproc_sys::wait::WaitStatus::Exited(code) => code,
        multiproc_sys::wait::WaitStatus::Signaled(signal) => -signal,
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            let _ = multiproc_sys::wait::waitpid(self.pid as u32, true);
        }
    }
}

/// Waits for every child to exit with status 0.
pub fn wait_all_ok(children: Vec<Child>) {
    for child in children {
        let pid = child.pid();
        assert_eq!(child.wait(), 0, "child {pid} failed");
    }
}

/// A one-byte-per-step channel between processes (inherited across fork).
#[derive(Debug)]
pub struct Signal {
    ours: UnixStream,
    theirs: UnixStream,
}

impl Signal {
    /// A connected pair of sockets: the parent's end and the child's.
    pub fn new() -> Signal {
        let (ours, theirs) = UnixStream::pair().unwrap();
        Signal { ours, theirs }
    }

    /// Sends a byte from the child side.
    pub fn child_send(&self, byte: u8) {
        (&self.theirs).write_all(&[byte]).unwrap();
    }

    /// Receives a byte on the parent side.
    pub fn parent_recv(&self) -> u8 {
        let mut buf = [0];
        (&self.ours).read_exact(&mut buf).unwrap();
        buf[0]
    }

    /// Sends a byte from the parent side.
    pub fn parent_send(&self, byte: u8) {
        (&self.ours).write_all(&[byte]).unwrap();
    }

    /// Receives a byte on the child side.
    pub fn child_recv(&self) -> u8 {
        let mut buf = [0];
        (&self.theirs).read_exact(&mut buf).unwrap();
        buf[0]
    }
}

impl Default for Signal {
    fn default() -> Signal {
        Signal::new()
    }
}

// Random input.

/// A small deterministic generator (xorshift64*), so failures reproduce. The field is the
/// seed and then the state; it must not start at 0 (the sequence would stay 0).
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Between 0 and `max_len` bytes (the length is random too).
    pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next_u64() as usize) % (max_len + 1);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

// The watchdog.

/// Runs `body` on a thread and returns its value (or re-raises its panic); if it has not
/// finished after `limit`, SIGKILLs every descendant of this process, so that none outlives
/// the test, and fails with a message naming `what`.
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
        Err(RecvTimeoutError::Timeout) => {
            for pid in descendants(std::process::id()) {
                kill(pid);
            }
            panic!("watchdog: {what} did not finish within {limit:?}");
        }
        // Finished, or panicked (the sender went unused): the thread is done either way.
        Ok(()) | Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}

// The process table.

/// (parent pid, state) of process `pid`, from `/proc/<pid>/stat`; `None` if there is no such
/// process (a zombie still has its entry).
pub fn stat_of(pid: u32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// (parent pid, state) of every process on the machine, from `/proc/<pid>/stat`.
pub fn process_table() -> HashMap<u32, (u32, char)> {
    let mut table = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(stat) = stat_of(pid) {
            table.insert(pid, stat);
        }
    }
    table
}

/// Whether process `pid` still exists (a zombie counts as existing).
pub fn exists(pid: u32) -> bool {
    stat_of(pid).is_some()
}

/// The pids of this process's direct children (running or zombie), in ascending order.
pub fn child_pids() -> Vec<u32> {
    let me = std::process::id();
    let mut pids: Vec<u32> = process_table()
        .into_iter()
        .filter(|&(_, (ppid, _))| ppid == me)
        .map(|(pid, _)| pid)
        .collect();
    pids.sort_unstable();
    pids
}

/// The zombie children of this process.
pub fn zombie_children() -> Vec<u32> {
    child_pids()
        .into_iter()
        .filter(|&p| matches!(stat_of(p), Some((_, 'Z'))))
        .collect()
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

/// Sends `signal` to `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    let _ = multiproc_sys::signal::kill(pid, signal);
}

/// Sends `signal` to every process of the process group `group`.
pub fn send_signal_to_group(group: u32, signal: i32) {
    let _ = multiproc_sys::signal::kill_group(group, signal);
}

/// SIGKILLs a process.
pub fn kill(pid: u32) {
    send_signal(pid, libc::SIGKILL);
}

// Waiting for processes to end.

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

// Counts of this process's resources.

/// The number of open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The number of memory mappings of this process.
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
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
