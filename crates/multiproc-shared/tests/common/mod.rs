//! Test helpers: forked children that are always reaped, a watchdog, and a pipe for
//! ordering steps between processes.
//!
//! The process crate is developed separately, so these tests fork directly.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::Duration;

/// Every child started and not yet reaped, so the watchdog can kill them.
static LIVE_CHILDREN: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// A forked child. Dropping it SIGKILLs and reaps it unless it was already waited for.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

/// Forks; the child runs `body` under `catch_unwind` and leaves with `_exit`: 0 on
/// success, 101 on panic. It never returns into the test harness.
pub fn fork(body: impl FnOnce()) -> Child {
    // SAFETY: glibc's fork makes malloc usable in the child; the child only runs `body`
    // and then `_exit`s without unwinding into the harness or running destructors.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(()) => 0,
            Err(_) => 101,
        };
        // SAFETY: leaves the child immediately; nothing inherited is dropped or flushed.
        unsafe { libc::_exit(code) };
    }
    LIVE_CHILDREN.lock().unwrap().push(pid);
    Child { pid, reaped: false }
}

impl Child {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Waits for the child: its exit code, or minus the signal that killed it.
    pub fn wait(mut self) -> i32 {
        self.reap()
    }

    /// Sends SIGKILL and reaps; returns the wait status as in `wait`.
    pub fn kill(mut self) -> i32 {
        // SAFETY: signals our own, not yet reaped child.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.reap()
    }

    fn reap(&mut self) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child by pid; `status` is a valid out pointer.
            let ret = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if ret == self.pid {
                break;
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                panic!("waitpid failed: {}", std::io::Error::last_os_error());
            }
        }
        self.reaped = true;
        LIVE_CHILDREN.lock().unwrap().retain(|&pid| pid != self.pid);
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -libc::WTERMSIG(status)
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: signals our own, not yet reaped child.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            self.reap();
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

/// Runs `body` on a thread; if it does not finish within `limit`, kills every live child
/// and fails the test with a message instead of hanging.
pub fn watchdog(limit: Duration, body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(body));
        let _ = done_tx.send(());
        result
    });
    match done_rx.recv_timeout(limit) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = runner.join().unwrap() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            for pid in LIVE_CHILDREN.lock().unwrap().drain(..) {
                // SAFETY: our own children; reaped right after so no pid is reused meanwhile.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let mut status = 0;
                // SAFETY: as above.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            }
            panic!("test did not finish within {limit:?} (watchdog killed its children)");
        }
    }
}

/// A one-byte-per-step channel between processes (inherited across fork).
#[derive(Debug)]
pub struct Signal {
    ours: UnixStream,
    theirs: UnixStream,
}

impl Signal {
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

/// Number of open fds in this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Number of mappings in this process.
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}
