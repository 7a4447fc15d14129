//! Looking at the next record of a `SOCK_SEQPACKET` socket without taking it, and dropping
//! it unread: recv(2) with `MSG_PEEK | MSG_TRUNC`, and a plain recv(2) without a control
//! buffer.
//!
//! A receiver uses these to check the header of a record before a library that trusts it
//! reads it (the channel crate bounds ipc-channel's message sizes this way).
//!
//! ```
//! use std::os::fd::AsFd;
//! use std::os::unix::net::UnixDatagram;
//! let (a, b) = UnixDatagram::pair()?;
//! a.send(b"unwanted")?;
//! assert!(multiproc_sys::seqpacket::discard(b.as_fd())?); // dropped unread
//! let mut head = [0u8; 1];
//! assert_eq!(multiproc_sys::seqpacket::peek(b.as_fd(), &mut head)?, multiproc_sys::seqpacket::Peeked::Empty);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

/// Most descriptors one record may carry (the kernel's `SCM_MAX_FD` is 253; ipc-channel
/// sends at most 64).
const MAX_FDS: usize = 253;

/// What [`peek`] found at the head of the socket.
///
/// ```
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
/// use multiproc_sys::seqpacket::{Peeked, peek};
/// let (a, b) = UnixDatagram::pair()?;
/// let mut head = [0u8; 4];
/// assert_eq!(peek(b.as_fd(), &mut head)?, Peeked::Empty);
/// a.send(b"hi")?;
/// assert_eq!(peek(b.as_fd(), &mut head)?, Peeked::Record { len: 2 });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peeked {
    /// A record of `len` bytes; its first `min(len, head.len())` bytes are in `head`.
    Record {
        /// The whole record's length, however much of it was copied.
        len: usize,
    },
    /// The peer closed the socket (or sent an empty record), and nothing else is queued.
    End,
    /// Nothing is queued now.
    Empty,
}

/// Copies the start of the next record into `head` without taking it off the socket and
/// without blocking, and says how long the whole record is (`MSG_PEEK | MSG_TRUNC |
/// MSG_DONTWAIT`). Descriptors attached to the record are not received. A pending
/// `ECONNRESET` (the peer closed with records of its own unread) is skipped: what is queued
/// here is still there to read.
///
/// ```
/// use multiproc_sys::seqpacket::{Peeked, peek};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// let mut head = [0u8; 2];
/// assert_eq!(peek(b.as_fd(), &mut head)?, Peeked::Empty);
/// a.send(b"hello")?;
/// assert_eq!(peek(b.as_fd(), &mut head)?, Peeked::Record { len: 5 });
/// assert_eq!(&head, b"he");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn peek(fd: BorrowedFd<'_>, head: &mut [u8]) -> io::Result<Peeked> {
    let flags = RecvFlags::PEEK | RecvFlags::TRUNC | RecvFlags::DONTWAIT;
    loop {
        match rustix::net::recv(fd, &mut *head, flags) {
            Ok((_, 0)) => return Ok(Peeked::End),
            Ok((_, len)) => return Ok(Peeked::Record { len }),
            Err(rustix::io::Errno::INTR) => continue,
            // The peer closed its end while records it had been sent were unread: the kernel
            // reports that once (reporting clears it), ahead of the records still queued here.
            Err(rustix::io::Errno::CONNRESET) => continue,
            Err(rustix::io::Errno::AGAIN) => return Ok(Peeked::Empty),
            Err(err) => return Err(err.into()),
        }
    }
}

/// Takes the next record off the socket and drops it unread, without blocking. The
/// descriptors attached to it, if any, are closed by the kernel (no control buffer is
/// given). Returns whether there was a record.
///
/// ```
/// use multiproc_sys::seqpacket::{Peeked, discard, peek};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"first")?;
/// a.send(b"second!")?;
/// assert!(discard(b.as_fd())?);
/// assert_eq!(peek(b.as_fd(), &mut [])?, Peeked::Record { len: 7 });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn discard(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let mut byte = [0u8; 1];
    loop {
        match rustix::net::recv(fd, &mut byte[..], RecvFlags::DONTWAIT) {
            Ok(_) => return Ok(true),
            // Reported once, ahead of the records still queued (see `peek`).
            Err(rustix::io::Errno::INTR | rustix::io::Errno::CONNRESET) => continue,
            Err(rustix::io::Errno::AGAIN) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
    }
}

/// Takes the next record off the socket without blocking, drops its bytes, and returns the
/// descriptors attached to it (close-on-exec), or `None` if nothing was queued.
///
/// ```
/// use multiproc_sys::seqpacket::take_fds;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// assert!(take_fds(b.as_fd())?.is_none());
/// a.send(b"no descriptors")?;
/// assert!(take_fds(b.as_fd())?.unwrap().is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn take_fds(fd: BorrowedFd<'_>) -> io::Result<Option<Vec<OwnedFd>>> {
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut byte)];
    let flags = RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC;
    loop {
        match rustix::net::recvmsg(fd, &mut iov, &mut control, flags) {
            Ok(_) => break,
            // Reported once, ahead of the records still queued (see `peek`).
            Err(rustix::io::Errno::INTR | rustix::io::Errno::CONNRESET) => continue,
            Err(rustix::io::Errno::AGAIN) => return Ok(None),
            Err(err) => return Err(err.into()),
        }
    }
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    Ok(Some(fds))
}
