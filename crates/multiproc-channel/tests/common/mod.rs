//! Test helpers: forked children that are always reaped, and fd counting.
#![allow(dead_code, unreachable_pub)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// A forked child; SIGKILLed and reaped on drop unless already reaped.
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

/// Forks a child that runs `body` and leaves with `_exit(0)`, or `_exit(101)` if it
/// panicked. The child never returns into the test harness.
pub fn fork(body: impl FnOnce()) -> Child {
    // ipc-channel's lazies must be initialised before forking (deps.md §1.6).
    drop(ipc_channel::ipc::channel::<()>().unwrap());
    let _ = ipc_channel::platform::OsIpcSender::get_max_fragment_size();
    // SAFETY: the child only runs `body` and then `_exit`s without unwinding past this
    // frame; glibc makes malloc usable in the child of a threaded parent.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(()) => 0,
            Err(_) => 101,
        };
        // SAFETY: `_exit` is async-signal-safe and never returns; skipping destructors is
        // the point (they belong to the parent's state).
        unsafe { libc::_exit(code) };
    }
    Child { pid, reaped: false }
}

impl Child {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Sends SIGKILL.
    pub fn kill(&self) {
        if !self.reaped {
            // SAFETY: plain syscall on our own unreaped child's pid.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }

    /// Sends SIGSTOP and waits until the kernel reports the child stopped (or gone).
    /// Returns where it stopped: `Some((syscall number, first two arguments))` if it was
    /// inside a system call, `None` if not (`/proc/<pid>/syscall`, see proc(5)).
    pub fn stop(&self) -> Option<(i64, u64, u64)> {
        // SAFETY: plain syscall on our own unreaped child's pid.
        unsafe { libc::kill(self.pid, libc::SIGSTOP) };
        // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid out pointer; WNOWAIT leaves the child's state to be
        // collected later. SIGSTOP cannot be caught or blocked: the child stops or exits,
        // so this returns.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WSTOPPED | libc::WEXITED | libc::WNOWAIT,
            )
        };
        assert_eq!(r, 0, "waitid: {}", std::io::Error::last_os_error());
        assert_eq!(
            info.si_code,
            libc::CLD_STOPPED,
            "child {} did not stop",
            self.pid
        );
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
        // SAFETY: plain syscall on our own unreaped child's pid.
        unsafe { libc::kill(self.pid, libc::SIGCONT) };
    }

    /// Waits for the child to exit, at most `timeout` (then kills it and panics).
    /// Returns the exit code, or `-signal`.
    pub fn join(mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_micros(100);
        loop {
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid out pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if r == self.pid {
                self.reaped = true;
                return if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    -libc::WTERMSIG(status)
                };
            }
            assert!(r == 0, "waitpid: {}", std::io::Error::last_os_error());
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

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            let mut status = 0;
            // SAFETY: reaping our own killed child.
            unsafe { libc::waitpid(self.pid, &mut status, 0) };
        }
    }
}

/// Open fds of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

pub const LONG: Duration = Duration::from_secs(60);
