//! Reaping one child by its pid: waitpid(2).
//!
//! ```
//! let child = std::process::Command::new("true").spawn()?;
//! let status = multiproc_sys::wait::waitpid(child.id(), true)?;
//! assert_eq!(status, Some(multiproc_sys::wait::WaitStatus::Exited(0)));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// How a process ended, as waitpid(2) reports it.
///
/// ```
/// use std::process::Command;
/// use multiproc_sys::wait::{WaitStatus, waitpid};
/// let child = Command::new("sh").args(["-c", "exit 4"]).spawn()?;
/// assert_eq!(waitpid(child.id(), true)?, Some(WaitStatus::Exited(4)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitStatus {
    /// It called `exit` (or returned from `main`) with this code.
    Exited(i32),
    /// It was ended by this signal.
    Signaled(i32),
}

impl WaitStatus {
    /// Decodes a raw wait status (the `int` that waitpid(2) fills in, also field 52 of
    /// `/proc/<pid>/stat`).
    ///
    /// ```
    /// use multiproc_sys::wait::WaitStatus;
    /// assert_eq!(WaitStatus::from_raw(3 << 8), WaitStatus::Exited(3));
    /// assert_eq!(WaitStatus::from_raw(9), WaitStatus::Signaled(9));
    /// ```
    pub fn from_raw(status: i32) -> WaitStatus {
        if libc::WIFSIGNALED(status) {
            WaitStatus::Signaled(libc::WTERMSIG(status))
        } else {
            WaitStatus::Exited(libc::WEXITSTATUS(status))
        }
    }
}

/// `waitpid(2)` on the one child `pid`, never `-1`: another part of the program may reap its
/// own children. With `block == false` (`WNOHANG`) it returns `None` while the child runs.
/// `EINTR` is retried.
///
/// ```
/// let child = std::process::Command::new("true").spawn()?;
/// let status = multiproc_sys::wait::waitpid(child.id(), true)?;
/// assert_eq!(status, Some(multiproc_sys::wait::WaitStatus::Exited(0)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn waitpid(pid: u32, block: bool) -> io::Result<Option<WaitStatus>> {
    let pid = i32::try_from(pid)
        .ok()
        .filter(|&pid| pid > 0)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let flags = if block { 0 } else { libc::WNOHANG };
    let mut status = 0;
    let ret = crate::time::retry_eintr(None, |_| {
        // SAFETY: `status` is a valid out-pointer for the duration of the call.
        crate::cvt(unsafe { libc::waitpid(pid, &mut status, flags) })
    })?;
    Ok((ret != 0).then(|| WaitStatus::from_raw(status)))
}

/// Waits until the child `pid` has stopped (SIGSTOP) or exited, and leaves its state to be
/// collected later (`waitid(2)` with `WSTOPPED | WEXITED | WNOWAIT`). Returns `true` if it
/// stopped, `false` if it exited. `EINTR` is retried.
///
/// ```
/// let mut child = std::process::Command::new("sleep").arg("60").spawn()?;
/// multiproc_sys::signal::kill(child.id(), multiproc_sys::signal::number::SIGSTOP)?;
/// assert!(multiproc_sys::wait::wait_stopped(child.id())?);
/// child.kill()?;
/// child.wait()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait_stopped(pid: u32) -> io::Result<bool> {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let options = WaitIdOptions::STOPPED | WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
    let status = crate::time::retry_eintr(None, |_| {
        waitid(WaitId::Pid(pid), options).map_err(io::Error::from)
    })?;
    Ok(status.is_some_and(|status| status.stopped()))
}

/// `waitid(2)` with `P_PIDFD` (Linux 5.4): reaps the child behind `pidfd`, which no reused pid
/// can alias. With `block == false` (`WNOHANG`) it returns `None` while the child runs.
/// `EINTR` is retried. Fails with `ECHILD` when the exit status is gone: SIGCHLD is ignored
/// (`SIG_IGN`, or `SA_NOCLDWAIT`), so the kernel discarded it, or another part of the program
/// (a SIGCHLD handler, another thread) reaped the child with `waitpid(-1)` first.
///
/// ```
/// # use std::os::fd::AsFd;
/// let child = std::process::Command::new("true").spawn()?;
/// let pidfd = multiproc_sys::pidfd::open(child.id())?;
/// let status = multiproc_sys::wait::waitid_pidfd(pidfd.as_fd(), true)?;
/// assert_eq!(status, Some(multiproc_sys::wait::WaitStatus::Exited(0)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn waitid_pidfd(
    pidfd: std::os::fd::BorrowedFd<'_>,
    block: bool,
) -> io::Result<Option<WaitStatus>> {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let mut options = WaitIdOptions::EXITED;
    if !block {
        options |= WaitIdOptions::NOHANG;
    }
    let status = crate::time::retry_eintr(None, |_| {
        waitid(WaitId::PidFd(pidfd), options).map_err(io::Error::from)
    })?;
    Ok(status.and_then(|status| {
        if let Some(signal) = status.terminating_signal() {
            Some(WaitStatus::Signaled(signal))
        } else {
            status.exit_status().map(WaitStatus::Exited)
        }
    }))
}
