//! Process file descriptors: a handle on one process that a reused pid can never alias.
//! See pidfd_open(2) and pidfd_send_signal(2) (Linux 5.3 and 5.1).
//!
//! ```
//! use std::os::fd::AsFd;
//! let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
//! let pidfd = multiproc_sys::pidfd::open(child.id())?;
//! multiproc_sys::pidfd::send_signal(pidfd.as_fd(), multiproc_sys::signal::number::SIGKILL)?;
//! assert!(multiproc_sys::poll::wait_readable(pidfd.as_fd(), None)?); // readable once it ended
//! child.wait()?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// `pidfd_open(2)`: a descriptor for process `pid` that becomes readable when it ends.
///
/// ```
/// let child = std::process::Command::new("true").spawn()?;
/// let pidfd = multiproc_sys::pidfd::open(child.id())?;
/// # use std::os::fd::AsFd;
/// assert!(multiproc_sys::poll::wait_readable(pidfd.as_fd(), None)?);
/// # multiproc_sys::wait::waitpid(child.id(), true)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open(pid: u32) -> io::Result<OwnedFd> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).map_err(Into::into)
}

/// `pidfd_send_signal(2)`: sends `signal` to the process behind `pidfd`. Fails with `ESRCH`
/// once it has exited, even if its pid was since reused.
///
/// ```
/// let mut child = std::process::Command::new("sleep").arg("60").spawn()?;
/// let pidfd = multiproc_sys::pidfd::open(child.id())?;
/// # use std::os::fd::AsFd;
/// multiproc_sys::pidfd::send_signal(pidfd.as_fd(), multiproc_sys::signal::number::SIGKILL)?;
/// assert!(!child.wait()?.success());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    if signal == 0 {
        // rustix has no Signal for 0; the existence check is a poll for exit.
        return if crate::poll::wait_readable(pidfd, Some(std::time::Duration::ZERO))? {
            Err(io::Error::from_raw_os_error(libc::ESRCH))
        } else {
            Ok(())
        };
    }
    let signal = rustix::process::Signal::from_named_raw(signal)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    rustix::process::pidfd_send_signal(pidfd, signal).map_err(Into::into)
}

/// `pidfd_getfd(2)` (Linux 5.6): a duplicate, in this process, of descriptor `target_fd` of
/// the process behind `pidfd`, with `FD_CLOEXEC` set. The caller needs ptrace access to that
/// process (the same user; under Yama's `ptrace_scope` 1, a descendant of the caller).
///
/// ```
/// # use std::os::fd::{AsFd, AsRawFd};
/// let me = multiproc_sys::pidfd::open(multiproc_sys::process::pid())?;
/// let file = std::fs::File::open("/dev/null")?;
/// // Some sandboxes refuse the call; it then fails instead of returning a descriptor.
/// if let Ok(copy) = multiproc_sys::pidfd::get_fd(me.as_fd(), file.as_raw_fd()) {
///     assert_ne!(copy.as_raw_fd(), file.as_raw_fd());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn get_fd(pidfd: BorrowedFd<'_>, target_fd: i32) -> io::Result<OwnedFd> {
    rustix::process::pidfd_getfd(pidfd, target_fd, rustix::process::PidfdGetfdFlags::empty())
        .map_err(Into::into)
}
