//! Whole records on a `SOCK_SEQPACKET` socket, written and read by the caller's own framing
//! (a pipe's byte messages) beside ipc-channel's records on the same socket: one record
//! gathered from several parts, one record scattered into several buffers, and the socket's
//! send buffer, which bounds the largest record.
//!
//! ```
//! use multiproc_sys::seqpacket_io::{Received, recv_record, send_record};
//! use std::io::{IoSlice, IoSliceMut};
//! use std::os::fd::AsFd;
//! let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
//! send_record(a.as_fd(), &[IoSlice::new(b"he"), IoSlice::new(b"llo")])?;
//! let (mut head, mut rest) = ([0u8; 2], [0u8; 8]);
//! let got = recv_record(b.as_fd(), &mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut rest)], true)?;
//! assert_eq!(got, Received::Record { len: 5, whole: true });
//! assert_eq!((&head, &rest[..3]), (b"he", &b"llo"[..]));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::BorrowedFd;

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendAncillaryBuffer, SendFlags};

/// What [`recv_record`] took off the socket.
///
/// ```
/// use multiproc_sys::seqpacket_io::{Received, recv_record};
/// use std::os::fd::AsFd;
/// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// assert_eq!(recv_record(b.as_fd(), &mut [], false)?, Received::Empty);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// A record of `len` bytes; `whole` is false if it was longer than the buffers (the rest
    /// is lost) or descriptors came with it (the kernel closed them).
    Record {
        /// The record's full length.
        len: usize,
        /// The whole record fitted and carried no descriptor.
        whole: bool,
    },
    /// The peer closed the socket and nothing is left.
    End,
    /// Nothing is waiting (only without `wait`, or on a non-blocking descriptor).
    Empty,
}

/// Takes the next record off `fd` into `parts`, in order. With `wait`, blocks until a record
/// or the end arrives (unless the descriptor was made non-blocking elsewhere, which gives
/// [`Received::Empty`]). Descriptors attached to the record are not accepted: the kernel
/// closes them, and the record is reported as not `whole`.
///
/// ```
/// use multiproc_sys::seqpacket_io::{Received, recv_record};
/// use std::io::IoSliceMut;
/// use std::os::fd::AsFd;
/// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// a.send(b"longer than four")?;
/// let mut buf = [0u8; 4];
/// let got = recv_record(b.as_fd(), &mut [IoSliceMut::new(&mut buf)], true)?;
/// assert_eq!(got, Received::Record { len: 16, whole: false });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn recv_record(
    fd: BorrowedFd<'_>,
    parts: &mut [IoSliceMut<'_>],
    wait: bool,
) -> io::Result<Received> {
    let mut flags = RecvFlags::TRUNC;
    if !wait {
        flags |= RecvFlags::DONTWAIT;
    }
    loop {
        match rustix::net::recvmsg(fd, parts, &mut RecvAncillaryBuffer::default(), flags) {
            Ok(message) if message.bytes == 0 && !message.flags.contains(ReturnFlags::CTRUNC) => {
                // A zero-length record and the end look alike; neither side here sends
                // empty records, so this is the end.
                return Ok(Received::End);
            }
            Ok(message) => {
                let cut = message.flags.contains(ReturnFlags::TRUNC)
                    || message.flags.contains(ReturnFlags::CTRUNC);
                return Ok(Received::Record {
                    len: message.bytes,
                    whole: !cut,
                });
            }
            // ECONNRESET: the peer closed with records unread by it; reported once, ahead
            // of the records still queued here (see `seqpacket::peek`).
            Err(Errno::INTR | Errno::CONNRESET) => continue,
            Err(Errno::AGAIN) => return Ok(Received::Empty),
            Err(err) => return Err(err.into()),
        }
    }
}

/// Sends `parts` as one record, blocking while the socket's buffer is full (also on a
/// descriptor made non-blocking elsewhere), without `SIGPIPE`: a closed peer gives
/// `BrokenPipe`. A record larger than the socket's send buffer allows gives `EMSGSIZE` (or
/// `ENOBUFS` under memory pressure): send it in smaller records.
///
/// ```
/// use multiproc_sys::seqpacket_io::send_record;
/// use std::io::IoSlice;
/// use std::os::fd::AsFd;
/// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// drop(b);
/// let err = send_record(a.as_fd(), &[IoSlice::new(b"x")]).unwrap_err();
/// assert!(matches!(err.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::BrokenPipe));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn send_record(fd: BorrowedFd<'_>, parts: &[IoSlice<'_>]) -> io::Result<()> {
    loop {
        match rustix::net::sendmsg(
            fd,
            parts,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        ) {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                let mut poll = [PollFd::new(&fd, PollFlags::OUT)];
                match rustix::event::poll(&mut poll, None) {
                    Ok(_) | Err(Errno::INTR) => continue,
                    Err(err) => return Err(err.into()),
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Asks for a send buffer of `bytes` on `fd` (the kernel doubles the request and caps it at
/// `net.core.wmem_max`) and returns what it granted, as `SO_SNDBUF` reports it.
///
/// ```
/// use std::os::fd::AsFd;
/// let (a, _b) = std::os::unix::net::UnixDatagram::pair()?;
/// let granted = multiproc_sys::seqpacket_io::raise_send_buffer(a.as_fd(), 1 << 20)?;
/// assert!(granted >= 4096);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn raise_send_buffer(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let current = send_buffer(fd)?;
    if current < bytes {
        // Refused or capped: the buffer stays as it was, which is still usable.
        let _ = rustix::net::sockopt::set_socket_send_buffer_size(fd, bytes);
    }
    send_buffer(fd)
}

/// The send buffer of `fd` in bytes, as `SO_SNDBUF` reports it.
///
/// ```
/// use std::os::fd::AsFd;
/// let (a, _b) = std::os::unix::net::UnixDatagram::pair()?;
/// assert!(multiproc_sys::seqpacket_io::send_buffer(a.as_fd())? > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn send_buffer(fd: BorrowedFd<'_>) -> io::Result<usize> {
    Ok(rustix::net::sockopt::socket_send_buffer_size(fd)?)
}

/// Whether `err`, from [`send_record`], says the record is too large for the socket now
/// (`EMSGSIZE`, or `ENOBUFS` under memory pressure): a smaller record may pass.
///
/// ```
/// use multiproc_sys::seqpacket_io::too_large;
/// assert!(too_large(&std::io::Error::from_raw_os_error(90)));
/// assert!(!too_large(&std::io::Error::other("no")));
/// ```
pub fn too_large(err: &io::Error) -> bool {
    err.raw_os_error().is_some_and(|code| {
        code == Errno::MSGSIZE.raw_os_error() || code == Errno::NOBUFS.raw_os_error()
    })
}
