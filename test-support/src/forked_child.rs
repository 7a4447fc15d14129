//! Forked children that are always reaped: SIGKILLed and waited for on drop.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::process_table::send_signal;

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
