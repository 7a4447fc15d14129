//! An eventfd: a descriptor one thread makes readable to wake another's `poll`. eventfd(2).
//!
//! ```
//! use std::os::fd::AsFd;
//! let wake = multiproc_sys::eventfd::new()?;
//! multiproc_sys::eventfd::signal(wake.as_fd());
//! assert_eq!(multiproc_sys::poll::first_readable(&[wake.as_fd()])?, 0);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// A new close-on-exec eventfd with counter 0.
///
/// ```
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// let fd = multiproc_sys::eventfd::new()?;
/// assert!(!multiproc_sys::poll::wait_readable(fd.as_fd(), Some(Duration::ZERO))?);
/// multiproc_sys::eventfd::signal(fd.as_fd());
/// assert!(multiproc_sys::poll::wait_readable(fd.as_fd(), Some(Duration::ZERO))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn new() -> io::Result<OwnedFd> {
    rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC).map_err(Into::into)
}

/// Makes the eventfd readable (adds 1 to its counter). A failure can only mean the counter is
/// saturated, which leaves it readable anyway.
///
/// ```
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// use multiproc_sys::{eventfd, poll};
/// let fd = eventfd::new()?;
/// assert!(!poll::wait_readable(fd.as_fd(), Some(Duration::ZERO))?);
/// eventfd::signal(fd.as_fd());
/// assert!(poll::wait_readable(fd.as_fd(), Some(Duration::ZERO))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(fd: BorrowedFd<'_>) {
    let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
}
