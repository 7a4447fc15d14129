//! [`SocketConnection`]: an authenticated connection over a socket.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::{self, Role};
use super::codec::{decode, encode};
use super::framing::{Inbox, write_frame};
use super::stream::Stream;
use crate::error::{ListenerError, PipeError, SendError};

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
/// `Send` but not `Sync`: one thread uses it at a time.
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
    /// Cleared once the incoming bytes may no longer be at a frame boundary.
    readable: Cell<bool>,
    /// Cleared once a frame may have been sent in part.
    writable: Cell<bool>,
    /// Bytes read ahead of the next frame.
    inbox: RefCell<Inbox>,
    max_message_size: usize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for SocketConnection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.stream {
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
            readable: Cell::new(true),
            writable: Cell::new(true),
            inbox: RefCell::new(Inbox::default()),
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
        let stream = self.stream()?;
        if !self.writable.get() {
            return Err(PipeError::Closed);
        }
        write_frame(&mut &*stream, bytes).inspect_err(|_| self.writable.set(false))
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
        let stream = self.stream()?;
        if !self.readable.get() {
            return Err(PipeError::Closed);
        }
        self.inbox
            .borrow_mut()
            .read_frame(&mut &*stream, self.max_message_size)
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
        let stream = self.stream()?;
        if !self.readable.get() || !self.inbox.borrow().is_empty() {
            return Ok(true);
        }
        Ok(multiproc_sys::poll::wait_readable(stream.as_fd(), timeout)?)
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
