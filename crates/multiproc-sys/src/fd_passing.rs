//! Passing descriptors over a Unix stream socket: one byte with `SCM_RIGHTS` attached
//! (sendmsg(2), recvmsg(2), unix(7)), and the check that a received descriptor is the end
//! of a pipe that it claims to be (fstat(2), fcntl(2)).
//!
//! A stream socket glues bytes of one writer together on reading, but not across a record
//! that carries descriptors: a `read` that takes the marked byte drops its descriptors. So
//! the receiver must take that byte with [`recv_with_fds`], with nothing else of the peer's
//! unread before it: the two sides agree in their own protocol when the byte comes.
//!
//! ```
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixStream;
//! use std::time::Duration;
//! use multiproc_sys::fd_passing::{PipeEnd, is_pipe_end, recv_with_fds, send_with_fds};
//!
//! let (a, b) = UnixStream::pair()?;
//! let (reader, writer) = std::io::pipe()?;
//! send_with_fds(a.as_fd(), b'P', &[reader.as_fd()])?;
//! let (byte, fds) = recv_with_fds(b.as_fd(), 2, Some(Duration::from_secs(10)))?.unwrap();
//! assert_eq!((byte, fds.len()), (b'P', 1));
//! assert!(is_pipe_end(fds[0].as_fd(), PipeEnd::Read)?);
//! assert!(!is_pipe_end(fds[0].as_fd(), PipeEnd::Write)?);
//! # drop(writer);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::fs::{FileType, OFlags};
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

/// Most descriptors [`recv_with_fds`] takes at once (the kernel's `SCM_MAX_FD`).
///
/// ```
/// assert_eq!(multiproc_sys::fd_passing::MAX_FDS, 253);
/// ```
pub const MAX_FDS: usize = 253;

/// Sends the one byte `byte` on the stream socket `socket` with `fds` attached (the peer
/// gets its own copies; ours stay open). Without `SIGPIPE` (`MSG_NOSIGNAL`): a peer that is
/// gone gives `EPIPE`. An `EINTR` is retried.
///
/// ```
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
/// let (a, b) = UnixStream::pair()?;
/// drop(b);
/// let err = multiproc_sys::fd_passing::send_with_fds(a.as_fd(), 0, &[]).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn send_with_fds(socket: BorrowedFd<'_>, byte: u8, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(fds.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors for one message",
        ));
    }
    let bytes = [byte];
    let iov = [io::IoSlice::new(&bytes)];
    loop {
        match rustix::net::sendmsg(socket, &iov, &mut control, SendFlags::NOSIGNAL) {
            Ok(1) => return Ok(()),
            Ok(_) => return Err(io::ErrorKind::WriteZero.into()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// Waits at most `timeout` (`None` or `Duration::MAX`: no limit) for one byte on the stream
/// socket `socket` and takes it with the descriptors attached to it (close-on-exec), at
/// most `max_fds` of them (more are closed by the kernel; `max_fds` is capped at
/// [`MAX_FDS`]). `Ok(None)`: the peer closed the socket. A timeout is
/// [`io::ErrorKind::TimedOut`].
///
/// ```
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
/// use multiproc_sys::fd_passing::recv_with_fds;
/// let (a, b) = UnixStream::pair()?;
/// let err = recv_with_fds(b.as_fd(), 1, Some(Duration::ZERO)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// drop(a);
/// assert!(recv_with_fds(b.as_fd(), 1, None)?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn recv_with_fds(
    socket: BorrowedFd<'_>,
    max_fds: usize,
    timeout: Option<Duration>,
) -> io::Result<Option<(u8, Vec<OwnedFd>)>> {
    if !crate::poll::wait_readable(socket, timeout)? {
        return Err(io::ErrorKind::TimedOut.into());
    }
    let max_fds = max_fds.clamp(1, MAX_FDS);
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(max_fds))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut byte)];
    // Readable: this does not block (unless another thread took the byte first).
    let received = loop {
        match rustix::net::recvmsg(socket, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC) {
            Ok(message) => break message.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    };
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    if received == 0 {
        return Ok(None);
    }
    Ok(Some((byte[0], fds)))
}

/// Which end of a pipe a descriptor should be.
///
/// ```
/// use multiproc_sys::fd_passing::PipeEnd;
/// assert_ne!(PipeEnd::Read, PipeEnd::Write);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeEnd {
    /// Opened for reading only.
    Read,
    /// Opened for writing only.
    Write,
}

/// Whether `fd` is a pipe (or FIFO) opened for `end` only, and blocking: what a peer that
/// passed it said it was.
///
/// ```
/// use std::os::fd::AsFd;
/// use multiproc_sys::fd_passing::{PipeEnd, is_pipe_end};
/// let (reader, writer) = std::io::pipe()?;
/// assert!(is_pipe_end(writer.as_fd(), PipeEnd::Write)?);
/// let file = std::fs::File::open("/dev/null")?;
/// assert!(!is_pipe_end(file.as_fd(), PipeEnd::Read)?);
/// # drop(reader);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn is_pipe_end(fd: BorrowedFd<'_>, end: PipeEnd) -> io::Result<bool> {
    let stat = rustix::fs::fstat(fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Fifo {
        return Ok(false);
    }
    let flags = rustix::fs::fcntl_getfl(fd)?;
    let mode = flags & OFlags::RWMODE;
    let wanted = match end {
        PipeEnd::Read => OFlags::RDONLY,
        PipeEnd::Write => OFlags::WRONLY,
    };
    Ok(mode == wanted && !flags.contains(OFlags::NONBLOCK))
}

/// Whether this process ignores `SIGPIPE`, so that a write to a pipe whose reader is gone is
/// an `EPIPE` error rather than the process's death (Rust programs ignore it unless they
/// restore it). A program that passes pipe ends checks this before writing to one.
///
/// ```
/// // The Rust runtime ignores SIGPIPE before `main`, also in tests.
/// assert!(multiproc_sys::fd_passing::sigpipe_ignored());
/// ```
pub fn sigpipe_ignored() -> bool {
    crate::disposition::is_ignored(libc::SIGPIPE)
}
