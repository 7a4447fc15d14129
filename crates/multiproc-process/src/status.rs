//! How a child ended, and how to learn it.

use std::io;

use multiproc_sys::wait::WaitStatus;

/// How a process ended, as `waitpid(2)` reports it.
///
/// ```
/// use multiproc_process::{ExitStatus, Process};
/// fn crash() { std::process::abort() }
/// let mut p = Process::new(crash, ());
/// p.start()?;
/// assert!(p.join().is_err());
/// assert_eq!(p.exit_status(), Some(ExitStatus::Signal(6)));
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// The process called `exit` (or returned from `main`) with this code.
    Code(i32),
    /// The process was ended by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// The status as Python's `Process.exitcode` gives it: the exit code, or the negated signal
    /// number when a signal ended the process.
    ///
    /// ```
    /// use multiproc_process::ExitStatus;
    /// assert_eq!(ExitStatus::Code(3).exitcode(), 3);
    /// assert_eq!(ExitStatus::Signal(9).exitcode(), -9);
    /// ```
    pub fn exitcode(self) -> i32 {
        match self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal(signal) => -signal,
        }
    }

    /// Whether the process exited with code 0.
    ///
    /// ```
    /// use multiproc_process::ExitStatus;
    /// assert!(ExitStatus::Code(0).success());
    /// assert!(!ExitStatus::Code(1).success());
    /// assert!(!ExitStatus::Signal(9).success());
    /// ```
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ExitStatus::Code(code) => write!(f, "exit code {code}"),
            ExitStatus::Signal(signal) => write!(
                f,
                "signal {signal} ({})",
                multiproc_sys::signal::name(signal)
            ),
        }
    }
}

impl From<WaitStatus> for ExitStatus {
    fn from(status: WaitStatus) -> ExitStatus {
        match status {
            WaitStatus::Exited(code) => ExitStatus::Code(code),
            WaitStatus::Signaled(signal) => ExitStatus::Signal(signal),
        }
    }
}

/// Reaps child `pid` (`block = false`: `None` while it runs). Only for the fork server, whose
/// SIGCHLD has its default disposition and which reaps only the pids it was asked to.
pub(crate) fn waitpid(pid: u32, block: bool) -> io::Result<Option<ExitStatus>> {
    Ok(multiproc_sys::wait::waitpid(pid, block)?.map(ExitStatus::from))
}

/// Reaps the child behind `pidfd` (`block = false`: `None` while it runs); `ECHILD` when its
/// status was taken by someone else.
pub(crate) fn waitid(
    pidfd: std::os::fd::BorrowedFd<'_>,
    block: bool,
) -> io::Result<Option<ExitStatus>> {
    Ok(multiproc_sys::wait::waitid_pidfd(pidfd, block)?.map(ExitStatus::from))
}

/// The exit status of a zombie: a child of the fork server, which this process cannot
/// `waitpid`; the fork server leaves it unreaped until asked, so the pid stays valid.
pub(crate) fn zombie_exit_status(pid: u32) -> io::Result<ExitStatus> {
    let stat = multiproc_sys::process::stat(pid)?;
    match stat.exit_status {
        Some(raw) if stat.has_exited() => Ok(WaitStatus::from_raw(raw).into()),
        _ => Err(io::Error::other(format!(
            "process {pid} has not exited (state {})",
            char::from(stat.state)
        ))),
    }
}
