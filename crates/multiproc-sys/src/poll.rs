//! Waiting for descriptors to become readable: the workspace's one `poll`. See poll(2).
//!
//! ```
//! use std::os::fd::AsFd;
//! use std::time::Duration;
//! let quiet = multiproc_sys::eventfd::new()?;
//! let woken = multiproc_sys::eventfd::new()?;
//! multiproc_sys::eventfd::signal(woken.as_fd());
//! let ready = multiproc_sys::poll::readable(&[quiet.as_fd(), woken.as_fd()], Some(Duration::ZERO))?;
//! assert_eq!(ready, [false, true]);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};

/// Waits until at least one of `fds` is readable (or hung up, or in error), for at most
/// `timeout` (`None` or `Duration::MAX`: no limit; zero: check once), and returns one flag per
/// descriptor. An `EINTR` is retried with the time that is left.
///
/// ```
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// let (reader, writer) = std::io::pipe()?;
/// assert_eq!(multiproc_sys::poll::readable(&[reader.as_fd()], Some(Duration::ZERO))?, [false]);
/// drop(writer); // hang-up counts as readable: a read would not block
/// assert_eq!(multiproc_sys::poll::readable(&[reader.as_fd()], None)?, [true]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut pollfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(fd, PollFlags::IN))
        .collect();
    let deadline = crate::time::deadline_after(timeout);
    crate::time::retry_eintr(deadline, |left| {
        let timespec = left.map(crate::time::timespec);
        rustix::event::poll(&mut pollfds, timespec.as_ref()).map_err(io::Error::from)
    })?;
    Ok(pollfds.iter().map(|p| !p.revents().is_empty()).collect())
}

/// Waits until `fd` is readable (or hung up), for at most `timeout`; returns whether it became
/// so in time. Same rules as [`readable`].
///
/// ```
/// use std::os::fd::AsFd;
/// use std::time::Duration;
/// let (reader, _writer) = std::io::pipe()?;
/// assert!(!multiproc_sys::poll::wait_readable(reader.as_fd(), Some(Duration::from_millis(1)))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    Ok(readable(&[fd], timeout)?[0])
}

/// Waits without limit until one of `fds` is readable and returns the index of the first
/// ready one.
///
/// ```
/// use std::os::fd::AsFd;
/// let (r1, _w1) = std::io::pipe()?;
/// let (r2, w2) = std::io::pipe()?;
/// drop(w2);
/// assert_eq!(multiproc_sys::poll::first_readable(&[r1.as_fd(), r2.as_fd()])?, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn first_readable(fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    let ready = readable(fds, None)?;
    Ok(ready.iter().position(|&r| r).unwrap_or(0))
}
