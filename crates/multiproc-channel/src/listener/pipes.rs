//! The pipes a local [`SocketConnection`](crate::SocketConnection) may move its frames to
//! after the handshake: a pipe round trip costs about half of a Unix-socket one. The
//! socket stays open beside them, unused for data: its end tells a side that the peer is
//! gone, and shutting it down wakes a thread blocked on the pipes.
//!
//! # The exchange
//!
//! The side that offers ([`SocketConnection::offer_pipes`](crate::SocketConnection::offer_pipes))
//! makes two pipes (close-on-exec) and sends the peer's ends, the read end of its own
//! pipe and the write end of the other, as one byte with `SCM_RIGHTS` on the socket. The
//! peer takes it with
//! [`SocketConnection::accept_pipes`](crate::SocketConnection::accept_pipes) and checks
//! that each is the pipe end it should be. The two agree in their own protocol on when
//! that byte comes, and on how the offerer learns that the peer switched.
//!
//! # SIGPIPE
//!
//! A write to a pipe whose reader is gone raises `SIGPIPE`, whose default action kills the
//! process (`MSG_NOSIGNAL`, which the descriptors are sent with, does not exist for pipes).
//! Rust programs ignore `SIGPIPE` (the runtime sets it before `main`), and then such a
//! write is an `EPIPE` error, [`PipeError::Closed`]. A side whose `SIGPIPE` is not ignored
//! when pipes are offered or accepted declines them and stays on the socket. A program
//! that restores `SIGPIPE`'s default action *after* its connections moved to pipes is
//! killed if it writes to one whose peer died: do not do that.

use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use super::stream::Stream;
use crate::error::PipeError;

/// The byte that carries the two descriptors, and the one sent in its place when the
/// offerer has no pipes to give.
pub(super) const WITH_PIPES: u8 = b'P';
pub(super) const WITHOUT_PIPES: u8 = b'N';

/// One side's ends of the two pipes: it reads the peer's frames from `reader` and writes
/// its own to `writer`.
#[derive(Debug)]
pub(super) struct Pipes {
    pub(super) reader: PipeReader,
    pub(super) writer: PipeWriter,
}

/// Whether this process ignores `SIGPIPE`, so that a write to a pipe without a reader is an
/// error rather than its death.
pub(super) fn sigpipe_ignored() -> bool {
    multiproc_sys::fd_passing::sigpipe_ignored()
}

/// The offerer's side of two new pipes, and the peer's ends to send.
pub(super) fn make() -> io::Result<(Pipes, PipeReader, PipeWriter)> {
    let (ours_in, theirs_out) = io::pipe()?;
    let (theirs_in, ours_out) = io::pipe()?;
    Ok((
        Pipes {
            reader: ours_in,
            writer: ours_out,
        },
        theirs_in,
        theirs_out,
    ))
}

/// Reads from the pipe, waiting on the pipe and the socket together: a socket that turns
/// readable (its end: the peer died, or the socket was shut down to wake us) ends the wait
/// with [`io::ErrorKind::ConnectionAborted`] (the caller's [`PipeError::Closed`]).
pub(super) struct Watched<'a> {
    pub(super) pipe: &'a PipeReader,
    pub(super) socket: BorrowedFd<'a>,
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let ready = multiproc_sys::poll::readable(&[self.pipe.as_fd(), self.socket], None)?;
        // Bytes already in the pipe come first: a peer may write its last frame and close.
        if ready[0] {
            return (&*self.pipe).read(buf);
        }
        Err(io::ErrorKind::ConnectionAborted.into())
    }
}

/// Maps an upgrade's I/O error on the socket to the connection's error.
pub(super) fn socket_error(err: io::Error) -> PipeError {
    match err.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => PipeError::Closed,
        _ => PipeError::Io(err),
    }
}

/// The answers to an offer, one byte on the socket.
pub(super) const ACCEPTED: u8 = b'Y';
pub(super) const DECLINED: u8 = b'N';

/// Writes the one-byte answer on the socket.
pub(super) fn write_frame_byte(stream: &Stream, byte: u8) -> Result<(), PipeError> {
    loop {
        match (&*stream).write(&[byte]) {
            Ok(1) => return Ok(()),
            Ok(_) => return Err(PipeError::Closed),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(socket_error(err)),
        }
    }
}

/// Reads the one-byte answer from the socket, waiting at most `timeout` (`None`: no limit).
pub(super) fn read_answer(stream: &Stream, timeout: Option<Duration>) -> Result<u8, PipeError> {
    let ready =
        multiproc_sys::poll::wait_readable(stream.as_fd(), timeout).map_err(socket_error)?;
    if !ready {
        return Err(PipeError::Timeout);
    }
    let mut byte = [0u8; 1];
    loop {
        match (&*stream).read(&mut byte) {
            Ok(0) => return Err(PipeError::Closed),
            Ok(_) => return Ok(byte[0]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(socket_error(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;

    use multiproc_sys::fd_passing::send_with_fds;

    use super::*;
    use crate::SocketConnection;
    use crate::listener::framing::write_frame;

    const LONG: Option<Duration> = Some(Duration::from_secs(60));

    /// A connection on one end of a socket pair, and the raw other end.
    fn pair() -> (SocketConnection<()>, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        (
            SocketConnection::established(Stream::Unix(ours), 1 << 20),
            theirs,
        )
    }

    fn answer(peer: &UnixStream) -> u8 {
        let mut byte = [0];
        (&*peer).read_exact(&mut byte).unwrap();
        byte[0]
    }

    #[test]
    fn descriptors_that_are_not_a_pipes_two_ends_are_declined_and_the_socket_still_works() {
        let (mut connection, peer) = pair();
        let null = std::fs::File::open("/dev/null").unwrap();
        let (reader, writer) = io::pipe().unwrap();
        let offers: [(u8, Vec<BorrowedFd<'_>>); 5] = [
            (WITH_PIPES, vec![null.as_fd(), peer.as_fd()]),
            // The two ends the wrong way round.
            (WITH_PIPES, vec![writer.as_fd(), reader.as_fd()]),
            (WITH_PIPES, vec![reader.as_fd()]),
            (WITHOUT_PIPES, vec![reader.as_fd(), writer.as_fd()]),
            (WITHOUT_PIPES, vec![]),
        ];
        for (byte, fds) in offers {
            send_with_fds(peer.as_fd(), byte, &fds).unwrap();
            assert!(!connection.accept_pipes(LONG).unwrap());
            assert_eq!(answer(&peer), DECLINED);
            assert!(!connection.uses_pipes());
            write_frame(&mut &peer, b"still here").unwrap();
            assert_eq!(connection.recv_bytes().unwrap(), b"still here");
        }
    }

    #[test]
    fn frames_move_to_the_pipes_and_the_sockets_end_wakes_a_waiting_reader() {
        let (mut connection, peer) = pair();
        // The peer's own ends: it keeps them open, as a forked copy of it would after it died.
        let (our_reader, peer_writer) = io::pipe().unwrap();
        let (peer_reader, our_writer) = io::pipe().unwrap();
        send_with_fds(
            peer.as_fd(),
            WITH_PIPES,
            &[our_reader.as_fd(), our_writer.as_fd()],
        )
        .unwrap();
        drop((our_reader, our_writer));
        assert!(connection.accept_pipes(LONG).unwrap());
        assert_eq!(answer(&peer), ACCEPTED);
        assert!(connection.uses_pipes());
        write_frame(&mut &peer_writer, b"on the pipe").unwrap();
        assert!(connection.poll(LONG).unwrap());
        assert_eq!(connection.recv_bytes().unwrap(), b"on the pipe");
        connection.send_bytes(b"back").unwrap();
        let mut inbox = super::super::framing::Inbox::default();
        assert_eq!(inbox.read_frame(&mut &peer_reader, 100).unwrap(), b"back");
        // A wait with a limit ends in time.
        assert!(!connection.poll(Some(Duration::from_millis(10))).unwrap());
        // A claimed length above the limit is refused before anything is allocated.
        (&peer_writer)
            .write_all(&(2_i32 << 20).to_be_bytes())
            .unwrap();
        assert!(matches!(
            connection.recv_bytes(),
            Err(PipeError::MessageTooLarge { .. })
        ));
        let (mut connection, peer) = pair();
        let (our_reader, _peer_writer) = io::pipe().unwrap();
        let (_peer_reader, our_writer) = io::pipe().unwrap();
        send_with_fds(
            peer.as_fd(),
            WITH_PIPES,
            &[our_reader.as_fd(), our_writer.as_fd()],
        )
        .unwrap();
        assert!(connection.accept_pipes(LONG).unwrap());
        let waiter = std::thread::spawn(move || connection.recv_bytes());
        // The pipe's writer stays open: only the socket's end can wake the reader.
        drop(peer);
        assert!(matches!(waiter.join().unwrap(), Err(PipeError::Closed)));
    }

    #[test]
    fn an_offer_declined_by_the_peer_leaves_the_offerer_on_the_socket() {
        let (mut connection, peer) = pair();
        let answering = std::thread::spawn(move || {
            let received = multiproc_sys::fd_passing::recv_with_fds(peer.as_fd(), 2, LONG)
                .unwrap()
                .unwrap();
            (&peer).write_all(&[DECLINED]).unwrap();
            write_frame(&mut &peer, b"socket").unwrap();
            received
        });
        assert!(!connection.offer_pipes(LONG).unwrap());
        assert!(!connection.uses_pipes());
        assert_eq!(connection.recv_bytes().unwrap(), b"socket");
        let (byte, fds) = answering.join().unwrap();
        assert_eq!((byte, fds.len()), (WITH_PIPES, 2));
    }
}
