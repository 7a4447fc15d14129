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
//!
//! A record that fits one buffer goes through `send(2)` and `recv(2)` rather than
//! `sendmsg(2)` and `recvmsg(2)`, which first copy in a message header and walk its control
//! data: in C on the 2-core VM, 8-byte payloads behind a 16-byte header, one process
//! sending and one receiving, ran at 845-895 k records/s with `sendmsg`/`recvmsg` and at
//! 1022-1036 k/s with `send`/`recv`, against 940-1025 k/s for bare 8-byte `write`/`read`
//! on a stream socket. A small record gathered from several parts is copied into one
//! buffer for that ([`GATHER`]).

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

/// Records of up to this many bytes, gathered from several parts, are copied into one
/// buffer and sent with `send(2)` (see the module's note).
///
/// ```
/// assert!(multiproc_sys::seqpacket_io::GATHER >= 64); // a header and a small payload
/// ```
pub const GATHER: usize = 128;

/// Takes the next record off `fd` into `buf` with one `recv(2)`: the fast form of
/// [`recv_record`] for one buffer. `whole` is false only if the record was longer than
/// `buf`; descriptors attached to it are closed by the kernel (the record is not marked, as
/// `recv(2)` does not say): use it where no descriptor is expected.
///
/// ```
/// use multiproc_sys::seqpacket_io::{Received, recv_record_into, send_record};
/// use std::io::IoSlice;
/// use std::os::fd::AsFd;
/// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
/// send_record(a.as_fd(), &[IoSlice::new(b"he"), IoSlice::new(b"llo")])?;
/// let mut buf = [0u8; 4];
/// let got = recv_record_into(b.as_fd(), &mut buf, true)?;
/// assert_eq!(got, Received::Record { len: 5, whole: false });
/// assert_eq!(&buf, b"hell");
/// assert_eq!(recv_record_into(b.as_fd(), &mut buf, false)?, Received::Empty);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn recv_record_into(fd: BorrowedFd<'_>, buf: &mut [u8], wait: bool) -> io::Result<Received> {
    let mut flags = RecvFlags::TRUNC;
    if !wait {
        flags |= RecvFlags::DONTWAIT;
    }
    loop {
        match rustix::net::recv(fd, &mut *buf, flags) {
            // See `recv_record`: neither side sends empty records.
            Ok((_, 0)) => return Ok(Received::End),
            Ok((_, len)) => {
                return Ok(Received::Record {
                    len,
                    whole: len <= buf.len(),
                });
            }
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
    let mut gathered = [0u8; GATHER];
    let one: Option<&[u8]> = match parts {
        [part] => Some(part),
        _ => {
            let total = parts
                .iter()
                .try_fold(0usize, |sum, part| sum.checked_add(part.len()))
                .filter(|&total| total <= GATHER);
            total.map(|total| {
                let mut at = 0;
                for part in parts {
                    gathered[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
                &gathered[..total]
            })
        }
    };
    loop {
        let sent = match one {
            Some(record) => rustix::net::send(fd, record, SendFlags::NOSIGNAL),
            None => rustix::net::sendmsg(
                fd,
                parts,
                &mut SendAncillaryBuffer::default(),
                SendFlags::NOSIGNAL,
            ),
        };
        match sent {
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixDatagram;

    use super::*;

    /// A descriptor attached to a record read with `recv_record_into` is closed by the
    /// kernel, never installed here: the write end of a pipe sent that way is gone once the
    /// record is read, so the read end sees the end of the pipe.
    #[test]
    fn a_descriptor_sent_with_a_record_read_into_one_buffer_is_closed() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let (mut pipe_reader, pipe_writer) = std::io::pipe().unwrap();
        crate::fd_passing::send_with_fds(a.as_fd(), 7, &[pipe_writer.as_fd()]).unwrap();
        drop(pipe_writer);
        let mut buf = [0u8; 16];
        let got = recv_record_into(b.as_fd(), &mut buf, true).unwrap();
        assert_eq!(
            got,
            Received::Record {
                len: 1,
                whole: true
            }
        );
        assert_eq!(buf[0], 7);
        let mut rest = Vec::new();
        assert_eq!(pipe_reader.read_to_end(&mut rest).unwrap(), 0);
    }

    /// Records gathered from parts below and above [`GATHER`] arrive whole and in order.
    #[test]
    fn gathered_and_scattered_records_keep_their_bytes() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let big: Vec<u8> = (0..3 * GATHER).map(|i| i as u8).collect();
        for len in [0, 1, GATHER - 3, GATHER - 2, GATHER, 3 * GATHER - 2] {
            send_record(a.as_fd(), &[IoSlice::new(b"hd"), IoSlice::new(&big[..len])]).unwrap();
            let mut buf = vec![0u8; 4 * GATHER];
            let got = recv_record_into(b.as_fd(), &mut buf, true).unwrap();
            assert_eq!(
                got,
                Received::Record {
                    len: len + 2,
                    whole: true
                },
                "len {len}"
            );
            assert_eq!(&buf[..2], b"hd");
            assert_eq!(&buf[2..len + 2], &big[..len], "len {len}");
        }
    }
}
