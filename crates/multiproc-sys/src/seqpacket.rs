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

/// What [`peek_head`] found at the head of the socket.
///
/// ```
/// use multiproc_sys::seqpacket::{Head, peek_head};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"x")?;
/// let found = peek_head(b.as_fd(), &mut [], false)?;
/// assert_eq!(found, Head::Record { len: 1, fds: false });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// A record of `len` bytes (its first bytes are in `head`); `fds` says whether
    /// descriptors are attached to it (seen as `MSG_CTRUNC`: none is received).
    Record {
        /// The whole record's length, however much of it was copied.
        len: usize,
        /// Whether descriptors travel with the record.
        fds: bool,
    },
    /// The peer closed the socket (or sent an empty record), and nothing else is queued.
    End,
    /// Nothing is queued now (only without `wait`, or on a non-blocking descriptor).
    Empty,
}

/// As [`peek`], and also says whether descriptors are attached to the record. With
/// `wait`, blocks until a record arrives or the peer closes, so a receiver without a
/// deadline needs no poll(2) first (a descriptor set to `O_NONBLOCK` elsewhere still gives
/// [`Head::Empty`]). Descriptors are never received: no control buffer is given, so the
/// kernel only reports them (`MSG_CTRUNC`). See recvmsg(2).
///
/// ```
/// use multiproc_sys::seqpacket::{Head, peek_head};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// let mut head = [0u8; 2];
/// assert_eq!(peek_head(b.as_fd(), &mut head, false)?, Head::Empty);
/// a.send(b"hello")?;
/// assert_eq!(peek_head(b.as_fd(), &mut head, true)?, Head::Record { len: 5, fds: false });
/// assert_eq!(&head, b"he");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn peek_head(fd: BorrowedFd<'_>, head: &mut [u8], wait: bool) -> io::Result<Head> {
    let mut flags = RecvFlags::PEEK | RecvFlags::TRUNC;
    if !wait {
        flags |= RecvFlags::DONTWAIT;
    }
    let mut iov = [io::IoSliceMut::new(head)];
    loop {
        match rustix::net::recvmsg(fd, &mut iov, &mut RecvAncillaryBuffer::default(), flags) {
            Ok(message) if message.bytes == 0 => return Ok(Head::End),
            Ok(message) => {
                return Ok(Head::Record {
                    len: message.bytes,
                    fds: message.flags.contains(rustix::net::ReturnFlags::CTRUNC),
                });
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => return Ok(Head::Empty),
            Err(err) => return Err(err.into()),
        }
    }
}

/// Takes the next record off the socket into `parts`, one after the other, without
/// blocking and without a control buffer (descriptors attached to it are closed by the
/// kernel). Returns the record's whole length and whether it fitted: a record longer than
/// `parts` is cut and the rest of it lost. `Ok(None)` if nothing was queued. See
/// recvmsg(2).
///
/// ```
/// use multiproc_sys::seqpacket::recv_parts;
/// use std::io::IoSliceMut;
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"headbody")?;
/// let (mut head, mut body) = ([0u8; 4], [0u8; 4]);
/// let got = recv_parts(b.as_fd(), &mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)])?;
/// assert_eq!(got, Some((8, true)));
/// assert_eq!((&head, &body), (b"head", b"body"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn recv_parts(
    fd: BorrowedFd<'_>,
    parts: &mut [io::IoSliceMut<'_>],
) -> io::Result<Option<(usize, bool)>> {
    let flags = RecvFlags::DONTWAIT | RecvFlags::TRUNC;
    loop {
        match rustix::net::recvmsg(fd, parts, &mut RecvAncillaryBuffer::default(), flags) {
            Ok(message) => {
                let cut = message.flags.contains(rustix::net::ReturnFlags::TRUNC)
                    || message.flags.contains(rustix::net::ReturnFlags::CTRUNC);
                return Ok(Some((message.bytes, !cut)));
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => return Ok(None),
            Err(err) => return Err(err.into()),
        }
    }
}
