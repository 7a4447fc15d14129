//! How a child ended, and how to learn it.

use std::io;

use multiproc_sys::wait::WaitStatus;

/// How a process ended, as `waitpid(2)` reports it.
///
/// ```
/// use multiproc_process::{ExitReason, Process};
/// fn crash() { std::process::abort() }
/// let mut p = Process::new(crash, ());
/// p.start()?;
/// assert!(p.join().is_err());
/// assert_eq!(p.exit_status(), Some(ExitReason::Signal(6)));
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// The process called `exit` (or returned from `main`) with this code.
    Code(i32),
    /// The process was ended by this signal.
    Signal(i32),
}

impl ExitReason {
    /// The status as Python's `Process.exitcode` gives it: the exit code, or the negated signal
    /// number when a signal ended the process.
    ///
    /// ```
    /// use multiproc_process::ExitReason;
    /// assert_eq!(ExitReason::Code(3).exitcode(), 3);
    /// assert_eq!(ExitReason::Signal(9).exitcode(), -9);
    /// ```
    pub fn exitcode(self) -> i32 {
        match self {
            ExitReason::Code(code) => code,
            ExitReason::Signal(signal) => -signal,
        }
    }

    /// Whether the process exited with code 0.
    ///
    /// ```
    /// use multiproc_process::ExitReason;
    /// assert!(ExitReason::Code(0).success());
    /// assert!(!ExitReason::Code(1).success());
    /// assert!(!ExitReason::Signal(9).success());
    /// ```
    pub fn success(self) -> bool {
        self == ExitReason::Code(0)
    }
}

impl std::fmt::Display for ExitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ExitReason::Code(code) => write!(f, "exit code {code}"),
            ExitReason::Signal(signal) => write!(
                f,
                "signal {signal} ({})",
                multiproc_sys::signal::name(signal)
            ),
        }
    }
}

impl From<WaitStatus> for ExitReason {
    fn from(status: WaitStatus) -> ExitReason {
        match status {
            WaitStatus::Exited(code) => ExitReason::Code(code),
            WaitStatus::Signaled(signal) => ExitReason::Signal(signal),
        }
    }
}

/// Reaps child `pid` (`block = false`: `None` while it runs). Only for the fork server, whose
/// SIGCHLD has its default disposition and which reaps only the pids it was asked to.
pub(crate) fn waitpid(pid: u32, block: bool) -> io::Result<Option<ExitReason>> {
    Ok(multiproc_sys::wait::waitpid(pid, block)?.map(ExitReason::from))
}

/// Reaps the child behind `pidfd` (`block = false`: `None` while it runs); `ECHILD` when its
/// status was taken by someone else.
pub(crate) fn waitid(
    pidfd: std::os::fd::BorrowedFd<'_>,
    block: bool,
) -> io::Result<Option<ExitReason>> {
    Ok(multiproc_sys::wait::waitid_pidfd(pidfd, block)?.map(ExitReason::from))
}

/// The exit status of a zombie: a child of the fork server, which this process cannot
/// `waitpid`; the fork server leaves it unreaped until asked, so the pid stays valid.
pub(crate) fn zombie_exit_status(pid: u32) -> io::Result<ExitReason> {
    let stat = multiproc_sys::process::stat(pid)?;
    match stat.exit_status {
        Some(raw) if stat.has_exited() => Ok(WaitStatus::from_raw(raw).into()),
        _ => Err(io::Error::other(format!(
            "process {pid} has not exited (state {})",
            char::from(stat.state)
        ))),
    }
}
