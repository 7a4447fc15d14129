//! [`SocketConnection`]: an authenticated connection over a socket.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::time::Duration;

use multiproc_sys::fd_passing::{self, PipeEnd};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::{self, Role};
use super::codec::{decode, encode};
use super::framing::{Inbox, write_frame};
use super::pipes::{
    self, ACCEPTED, DECLINED, Pipes, WITH_PIPES, WITHOUT_PIPES, Watched, write_frame_byte,
};
use super::stream::Stream;
use crate::error::{ListenerError, PipeError, SendError};
use crate::spin::ReplyWait;

/// An authenticated connection over a socket, from [`Listener::accept`](crate::Listener::accept) or
/// [`Client::connect`](crate::Client::connect): Python's `multiprocessing.connection.Connection` on a socket.
///
/// Messages are values of `T` ([`send`](Self::send)/[`recv`](Self::recv), postcard) or raw
/// bytes ([`send_bytes`](Self::send_bytes)/[`recv_bytes`](Self::recv_bytes)); both are one
/// length-prefixed frame on the wire, so `recv` decodes whatever bytes arrive, as Python's
/// `recv` unpickles them. Unlike a [`Connection`](crate::Connection) over a
/// [`Pipe`](crate::Pipe), a message cannot carry handles: a value holding shared memory or
/// a `Connection` is refused with [`PipeError::Encode`] (raw ipc-channel ends are not
/// detected; do not send them).
///
/// A message above the maximum message size ([`DEFAULT_MAX_MESSAGE_SIZE`](crate::DEFAULT_MAX_MESSAGE_SIZE) unless
/// configured) gives [`PipeError::MessageTooLarge`] without being allocated, and the
/// connection then receives nothing more ([`PipeError::Closed`]), as with Python's
/// `recv_bytes(maxlength)`. A peer that hangs up gives [`PipeError::Closed`].
///
/// `Send` but not `Sync`: one thread uses it at a time. As on a
/// [`Connection`](crate::Connection), a receive or a [`poll`](Self::poll) that follows a
/// send polls briefly for the reply before it sleeps.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Client, Listener};
///
/// let listener = Listener::bind_unix_temp(Some(b"key"))?;
/// let address = listener.address().clone();
/// let client = std::thread::spawn(move || -> Result<(), multiproc_channel::ListenerError> {
///     let connection = Client::new(Some(b"key")).connect::<(u32, String)>(&address)?;
///     connection.send((1, "one".into()))?;
///     Ok(())
/// });
/// let connection = listener.accept::<(u32, String)>()?;
/// assert_eq!(connection.recv()?, (1, "one".to_owned()));
/// client.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.connection.Connection")]
pub struct SocketConnection<T> {
    stream: Option<Stream>,
    /// Where frames travel once moved off a Unix socket ([`offer_pipes`](Self::offer_pipes)).
    pipes: Option<Pipes>,
    /// Cleared once the incoming bytes may no longer be at a frame boundary.
    readable: Cell<bool>,
    /// Cleared once a frame may have been sent in part.
    writable: Cell<bool>,
    /// Bytes read ahead of the next frame.
    inbox: RefCell<Inbox>,
    /// How long a receive for a reply polls before it blocks.
    reply: ReplyWait,
    max_message_size: usize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for SocketConnection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.stream {
            Some(Stream::Unix(_)) if self.pipes.is_some() => "unix+pipes",
            Some(Stream::Unix(_)) => "unix",
            Some(Stream::Tcp(_)) => "tcp",
            None => "closed",
        };
        f.debug_struct("SocketConnection")
            .field("transport", &transport)
            .field("readable", &self.readable.get())
            .field("writable", &self.writable.get())
            .field("max_message_size", &self.max_message_size)
            .finish()
    }
}

impl<T> SocketConnection<T> {
    /// Runs the handshake (if there is a key) and wraps the stream.
    pub(super) fn establish(
        stream: Stream,
        role: Role,
        authkey: Option<&[u8]>,
        handshake_timeout: Duration,
        max_message_size: usize,
    ) -> Result<SocketConnection<T>, ListenerError> {
        if let Some(authkey) = authkey {
            let nonce = auth::random_nonce()?;
            auth::handshake(&mut &stream, role, authkey, &nonce, handshake_timeout)?;
        }
        Ok(SocketConnection::established(stream, max_message_size))
    }

    /// Wraps a stream whose handshake is done.
    pub(super) fn established(stream: Stream, max_message_size: usize) -> SocketConnection<T> {
        SocketConnection {
            stream: Some(stream),
            pipes: None,
            readable: Cell::new(true),
            writable: Cell::new(true),
            inbox: RefCell::new(Inbox::default()),
            reply: ReplyWait::default(),
            max_message_size,
            _items: PhantomData,
        }
    }

    fn stream(&self) -> Result<&Stream, PipeError> {
        self.stream.as_ref().ok_or(PipeError::Closed)
    }

    /// Sends raw bytes, like Python's `Connection.send_bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<()>(listener.address())?;
    /// client.send_bytes(b"\x00\x01")?;
    /// assert_eq!(listener.accept::<()>()?.recv_bytes()?, [0, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), PipeError> {
        // The next receive waits for a reply (see `spin`).
        self.reply.sent();
        let stream = self.stream()?;
        if !self.writable.get() {
            return Err(PipeError::Closed);
        }
        match &self.pipes {
            Some(pipes) => write_frame(&mut &pipes.writer, bytes),
            None => write_frame(&mut &*stream, bytes),
        }
        .inspect_err(|_| self.writable.set(false))
    }

    /// Receives a bytes message, blocking until one arrives, like Python's
    /// `Connection.recv_bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<u16>(listener.address())?;
    /// client.send(513)?;
    /// // A typed message is its postcard encoding.
    /// assert_eq!(listener.accept::<u16>()?.recv_bytes()?, postcard::to_stdvec(&513u16).unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>, PipeError> {
        // A receive that may wait polls briefly first (see `spin`).
        self.reply
            .wait(None, || self.poll_now(), || self.read_frame())
    }

    /// Whether [`poll`](Self::poll) reports something at once (an error counts: the next
    /// receive reports it).
    fn poll_now(&self) -> bool {
        self.poll_until(Some(Duration::ZERO)).unwrap_or(true)
    }

    /// Reads the next frame, blocking until it is whole.
    fn read_frame(&self) -> Result<Vec<u8>, PipeError> {
        let stream = self.stream()?;
        if !self.readable.get() {
            return Err(PipeError::Closed);
        }
        let mut inbox = self.inbox.borrow_mut();
        match &self.pipes {
            Some(pipes) => {
                let mut watched = Watched {
                    pipe: &pipes.reader,
                    socket: stream.as_fd(),
                };
                inbox.read_frame(&mut watched, self.max_message_size)
            }
            None => inbox.read_frame(&mut &*stream, self.max_message_size),
        }
        .inspect_err(|_| self.readable.set(false))
    }

    /// Whether a message (or the end of the stream) is ready, waiting at most `timeout`
    /// (`None`: until one is), like Python's `Connection.poll`.
    ///
    /// It reports that bytes arrived; a peer that sent half a frame makes the next receive
    /// wait for the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    /// use std::time::Duration;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<u8>(listener.address())?;
    /// let server_side = listener.accept::<u8>()?;
    /// assert!(!server_side.poll(Some(Duration::ZERO))?);
    /// client.send(9)?;
    /// assert!(server_side.poll(Some(Duration::from_secs(10)))?);
    /// assert_eq!(server_side.recv()?, 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        if timeout.is_some_and(|timeout| timeout.is_zero()) {
            return self.poll_until(timeout);
        }
        // A poll that may wait polls briefly first (see `spin`).
        let deadline = multiproc_sys::time::deadline_after(timeout);
        self.reply.wait(
            deadline,
            || self.poll_now(),
            || self.poll_until(multiproc_sys::time::remaining(deadline)),
        )
    }

    /// [`poll`](Self::poll) without polling first.
    fn poll_until(&self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        let stream = self.stream()?;
        if !self.readable.get() || !self.inbox.borrow().is_empty() {
            return Ok(true);
        }
        match &self.pipes {
            // The socket's end counts: the next receive reports it.
            Some(pipes) => Ok(multiproc_sys::poll::readable(
                &[pipes.reader.as_fd(), stream.as_fd()],
                timeout,
            )?
            .contains(&true)),
            None => Ok(multiproc_sys::poll::wait_readable(stream.as_fd(), timeout)?),
        }
    }

    /// Offers to move this connection's frames onto a pair of pipes: about half the cost
    /// of a Unix-socket round trip. This side makes two pipes (close-on-exec) and sends the
    /// peer its ends as one byte with `SCM_RIGHTS` on the socket. The
    /// socket stays open beside them, and its end (the peer died, or it was shut down)
    /// still ends any wait. TCP connections do not move.
    ///
    /// The peer must be about to call [`accept_pipes`](Self::accept_pipes), with nothing
    /// unread on either side (agree on that in your protocol). This sends the two pipe
    /// ends, then waits at most `timeout` (`None` or `Duration::MAX`: no limit) for the
    /// peer's one-byte answer on the socket, and moves only if the peer took them. Returns
    /// whether the connection now uses pipes; either way it stays in step.
    ///
    /// If this side cannot make the pipes, or does not ignore `SIGPIPE` (a write to a pipe
    /// whose reader died would kill it), it sends the byte without pipes, and the peer
    /// declines. No answer in time gives [`PipeError::Timeout`], the end of the socket
    /// [`PipeError::Closed`]; after an error the connection should be dropped.
    ///
    /// # SIGPIPE
    ///
    /// A write to a pipe whose reader is gone raises `SIGPIPE`, whose default action kills
    /// the process. Rust programs ignore `SIGPIPE` (the
    /// runtime sets that before `main`), so such a write is an `EPIPE`:
    /// [`PipeError::Closed`]. Both sides check this when the pipes are offered and
    /// accepted, and stay on the socket if `SIGPIPE` is not ignored; a program that
    /// restores its default action *later* is killed if it writes to a connection on
    /// pipes whose peer died.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    /// use std::time::Duration;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let mut client = Client::new(None).connect::<u32>(listener.address())?;
    /// let mut server = listener.accept::<u32>()?;
    /// let server = std::thread::spawn(move || -> Result<bool, multiproc_channel::PipeError> {
    ///     let moved = server.accept_pipes(Some(Duration::from_secs(10)))?;
    ///     let n = server.recv()?; // on the pipes now
    ///     server.send(n + 1).map_err(|e| e.into_parts().1)?;
    ///     Ok(moved)
    /// });
    /// assert!(client.offer_pipes(Some(Duration::from_secs(10)))?);
    /// assert!(client.uses_pipes());
    /// client.send(41)?;
    /// assert_eq!(client.recv()?, 42);
    /// assert!(server.join().unwrap()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offer_pipes(&mut self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        let stream = self.stream()?;
        if !self.readable.get() || !self.writable.get() {
            return Err(PipeError::Closed);
        }
        if !self.inbox.borrow().is_empty() {
            return Err(PipeError::Decode(
                "bytes arrived ahead of the answer to the pipes".to_owned(),
            ));
        }
        let deadline = multiproc_sys::time::deadline_after(timeout);
        let offer = match stream {
            Stream::Unix(_) if self.pipes.is_none() && pipes::sigpipe_ignored() => pipes::make()
                .inspect_err(|error| log::debug!("no pipes for a connection: {error}"))
                .ok(),
            _ => None,
        };
        let sent = match &offer {
            Some((_, their_reader, their_writer)) => fd_passing::send_with_fds(
                stream.as_fd(),
                WITH_PIPES,
                &[their_reader.as_fd(), their_writer.as_fd()],
            ),
            None => fd_passing::send_with_fds(stream.as_fd(), WITHOUT_PIPES, &[]),
        };
        if let Err(error) = sent {
            self.writable.set(false);
            return Err(pipes::socket_error(error));
        }
        // Our copies of the peer's ends close here: once the peer's process is gone, so
        // are all the writers of the pipe we read.
        let ours = offer.map(|(ours, _, _)| ours);
        let answer = pipes::read_answer(stream, multiproc_sys::time::remaining(deadline));
        let answer = answer.inspect_err(|_| self.readable.set(false))?;
        match (answer, ours) {
            (ACCEPTED, Some(ours)) => {
                self.pipes = Some(ours);
                Ok(true)
            }
            (ACCEPTED | DECLINED, _) => Ok(false),
            (other, _) => {
                self.readable.set(false);
                Err(PipeError::Decode(format!(
                    "unexpected answer {other:#04x} to the pipes"
                )))
            }
        }
    }

    /// Takes the pipe ends that the peer sends with [`offer_pipes`](Self::offer_pipes),
    /// waiting at most `timeout` for them (`None` or `Duration::MAX`: no limit), and moves
    /// this connection's frames onto them. Returns whether it moved: not if the peer sent
    /// no pipes, or descriptors that are not a blocking pipe's read end and write end (a
    /// hostile peer's file or socket is closed unused), or if this process does not ignore
    /// `SIGPIPE`. Either way the connection stays in step: tell the peer the answer.
    ///
    /// It answers the peer with one byte on the socket. Nothing else of the peer's may be
    /// unread: a byte already read ahead gives [`PipeError::Decode`]. No byte in time gives [`PipeError::Timeout`], the end of the
    /// socket [`PipeError::Closed`]; after an error the connection should be dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener, PipeError};
    /// use std::time::Duration;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<()>(listener.address())?;
    /// let mut server = listener.accept::<()>()?;
    /// let quiet = server.accept_pipes(Some(Duration::from_millis(10)));
    /// assert!(matches!(quiet, Err(PipeError::Timeout)));
    /// drop(client);
    /// assert!(matches!(server.accept_pipes(None), Err(PipeError::Closed)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept_pipes(&mut self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        let stream = self.stream()?;
        if !self.readable.get() {
            return Err(PipeError::Closed);
        }
        if !self.inbox.borrow().is_empty() {
            self.readable.set(false);
            return Err(PipeError::Decode(
                "bytes arrived ahead of the pipes".to_owned(),
            ));
        }
        let received = fd_passing::recv_with_fds(stream.as_fd(), 2, timeout).map_err(|error| {
            if error.kind() == std::io::ErrorKind::TimedOut {
                PipeError::Timeout
            } else {
                pipes::socket_error(error)
            }
        });
        let (byte, fds) = match received {
            Ok(Some(received)) => received,
            Ok(None) => return Err(PipeError::Closed).inspect_err(|_| self.readable.set(false)),
            Err(error) => return Err(error).inspect_err(|_| self.readable.set(false)),
        };
        let fit = match <[_; 2]>::try_from(fds) {
            Ok([reader, writer])
                if byte == WITH_PIPES
                    && matches!(stream, Stream::Unix(_))
                    && self.pipes.is_none()
                    && pipes::sigpipe_ignored()
                    && fd_passing::is_pipe_end(reader.as_fd(), PipeEnd::Read).unwrap_or(false)
                    && fd_passing::is_pipe_end(writer.as_fd(), PipeEnd::Write).unwrap_or(false) =>
            {
                Some(Pipes {
                    reader: reader.into(),
                    writer: writer.into(),
                })
            }
            _ => None,
        };
        let answer = if fit.is_some() { ACCEPTED } else { DECLINED };
        if let Err(error) = write_frame_byte(stream, answer) {
            self.writable.set(false);
            return Err(error);
        }
        self.pipes = fit;
        Ok(self.pipes.is_some())
    }

    /// Whether this connection's frames travel on pipes ([`offer_pipes`](Self::offer_pipes)).
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = multiproc_channel::Listener::bind_unix_temp(None)?;
    /// let client = multiproc_channel::Client::new(None).connect::<u8>(listener.address())?;
    /// assert!(!client.uses_pipes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn uses_pipes(&self) -> bool {
        self.pipes.is_some()
    }

    /// Closes the connection, like Python's `Connection.close`; later calls give
    /// [`PipeError::Closed`] and the peer sees the end of the stream. Dropping does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, PipeError, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let mut client = Client::new(None).connect::<u8>(listener.address())?;
    /// let server_side = listener.accept::<u8>()?;
    /// client.close();
    /// assert!(client.closed());
    /// assert!(matches!(server_side.recv(), Err(PipeError::Closed)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&mut self) {
        self.pipes = None;
        self.stream = None;
    }

    /// Whether [`close`](Self::close) was called, like Python's `Connection.closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = multiproc_channel::Listener::bind_unix_temp(None)?;
    /// let mut client = multiproc_channel::Client::new(None).connect::<u8>(listener.address())?;
    /// assert!(!client.closed());
    /// client.close();
    /// assert!(client.closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn closed(&self) -> bool {
        self.stream.is_none()
    }
}

impl<T: Serialize + DeserializeOwned> SocketConnection<T> {
    /// Sends a value (postcard-encoded), like Python's `Connection.send`.
    ///
    /// On failure the value comes back in the [`SendError`]. A value holding shared memory
    /// or a `Connection` is refused with [`PipeError::Encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    /// use multiproc_shared::Value;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<Value<i32>>(listener.address())?;
    /// let err = client.send(Value::new(1)?).unwrap_err();
    /// assert!(err.error().to_string().contains("cannot travel over a socket"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T, PipeError>> {
        match encode(&value).and_then(|bytes| self.send_bytes(&bytes)) {
            Ok(()) => Ok(()),
            Err(error) => Err(SendError::new(value, error)),
        }
    }

    /// Receives a value, blocking until one arrives, like Python's `Connection.recv`.
    ///
    /// Bytes that do not decode as exactly one `T` give [`PipeError::Decode`]; the connection
    /// stays usable.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, PipeError, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<String>(listener.address())?;
    /// let server_side = listener.accept::<String>()?;
    /// client.send_bytes(&[0xff])?;
    /// client.send("fine".into())?;
    /// assert!(matches!(server_side.recv(), Err(PipeError::Decode(_))));
    /// assert_eq!(server_side.recv()?, "fine");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv(&self) -> Result<T, PipeError> {
        decode(&self.recv_bytes()?)
    }
}
