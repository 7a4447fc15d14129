//! `Connection`, one end of a pipe, on ipc-channel.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use ipc_channel::IpcError;
use ipc_channel::ipc::{IpcReceiver, OpaqueIpcSender};
use multiproc_sys::ipc_sender::WatchedSender;
use multiproc_sys::time::{deadline_after, remaining};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::direct;
use crate::error::{PipeError, SendError};
use crate::frame::{self, FrameOut, MAX_HANDLES, Received};
use crate::guard::guard_decode;
use crate::listener::DEFAULT_MAX_MESSAGE_SIZE;
use crate::record::{self, Next};
use crate::spin::ReplyWait;
use crate::sys::{self, Receiver};
use crate::wire;

/// One end of a [`Pipe`](crate::Pipe): Python's `multiprocessing.connection.Connection`.
///
/// Messages are values of `T` ([`send`](Self::send) / [`recv`](Self::recv)) or raw bytes
/// ([`send_bytes`](Self::send_bytes) / [`recv_bytes`](Self::recv_bytes)). A value may carry
/// handles: another `Connection`, a `Queue`, shared memory, or raw ipc-channel ends (at
/// most 61 per message, see [`PipeError::TooManyHandles`]).
///
/// A `Connection` is `Serialize`/`Deserialize`, so it passes to a child as a `Process`
/// argument under every start method, or travels inside a message on another pipe.
/// Serializing it *moves* its receiving end into the message, so serialize it once and
/// drop the original. A plain (non-ipc) serialization, such as putting it into a
/// [`Queue`](crate::Queue), is refused with an error because the fd cannot travel there.
///
/// A closed or dead peer gives [`PipeError::Closed`], never a hang or a panic. Sends block
/// while the peer has ~208 KiB unread (the kernel socket buffer).
///
/// A `Connection` is `Send` but not `Sync`: one thread receives at a time, as with Python.
/// It holds one fd per direction and at most one received message that
/// [`poll`](Self::poll) or a too-small [`recv_bytes_into`](Self::recv_bytes_into) buffer
/// left for the next receive.
///
/// A receive that follows a send on the same end (a request waiting for its reply) polls
/// for the reply for up to 50 µs before it sleeps, once replies have been seen to come
/// that fast; this spares the wake-up of an idle CPU, most of a round trip on a virtual
/// machine (a `Pipe` round trip across two CPUs of the benchmark VM: 43 µs sleeping, 7 µs
/// polling). The budget adapts per end and falls to zero when replies are slow or waking
/// is cheap; a receiver that only receives never polls.
///
/// # Examples
///
/// ```
/// use multiproc_channel::Pipe;
///
/// let (a, b) = Pipe::<Vec<u8>>::duplex()?;
/// a.send_bytes(b"ping")?;
/// assert_eq!(b.recv_bytes()?, b"ping");
/// # Ok::<(), multiproc_channel::PipeError>(())
/// ```
#[doc(alias = "multiprocessing.connection.Connection")]
pub struct Connection<T> {
    sender: Option<WatchedSender>,
    receiver: Option<Receiver<Received<T>>>,
    /// The largest message received, in encoded bytes.
    max_message_size: usize,
    /// A message taken off the socket by `poll` or kept back by `recv_bytes_into`.
    pending: RefCell<Option<Received<T>>>,
    /// How long a receive for a reply polls before it blocks.
    reply: ReplyWait,
}

impl<T> fmt::Debug for Connection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("readable", &self.receiver.is_some())
            .field("writable", &self.sender.is_some())
            .field("max_message_size", &self.max_message_size)
            .field(
                "pending",
                &self.pending.borrow().as_ref().map(Received::kind),
            )
            .finish()
    }
}

fn closed_or_io(err: io::Error) -> PipeError {
    match err.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => PipeError::Closed,
        _ => PipeError::Io(err),
    }
}

fn from_ipc(err: IpcError) -> PipeError {
    match err {
        IpcError::Disconnected => PipeError::Closed,
        IpcError::Io(err) => closed_or_io(err),
        IpcError::SerializationError(err) => PipeError::Decode(err.to_string()),
    }
}

impl<T: Serialize + DeserializeOwned> Connection<T> {
    pub(crate) fn from_parts(
        sender: Option<OpaqueIpcSender>,
        receiver: Option<IpcReceiver<Received<T>>>,
    ) -> Self {
        Connection {
            sender: sender.map(WatchedSender::new),
            receiver: receiver.map(Receiver::new),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            pending: RefCell::new(None),
            reply: ReplyWait::default(),
        }
    }

    /// Sets the largest message this end receives, in encoded bytes (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`], 64 MiB). A larger one is refused with
    /// [`PipeError::MessageTooLarge`] before anything is allocated for it; it is dropped unread
    /// and the connection stays usable. The setting travels with the connection to another
    /// process.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{PipeError, Pipe};
    ///
    /// let (reader, writer) = Pipe::<Vec<u8>>::new()?;
    /// let reader = reader.with_max_message_size(1024);
    /// writer.send_bytes(&[0; 4096])?;
    /// writer.send_bytes(b"small")?;
    /// assert!(matches!(reader.recv_bytes(), Err(PipeError::MessageTooLarge { max: 1024, .. })));
    /// assert_eq!(reader.recv_bytes()?, b"small");
    /// # Ok::<(), PipeError>(())
    /// ```
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Like [`with_max_message_size`](Self::with_max_message_size), in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut reader, _writer) = multiproc_channel::Pipe::<u8>::duplex()?;
    /// reader.set_max_message_size(1 << 20);
    /// assert_eq!(reader.max_message_size(), 1 << 20);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.max_message_size = bytes;
    }

    /// The largest message this end receives, in encoded bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// assert_eq!(reader.max_message_size(), multiproc_channel::DEFAULT_MAX_MESSAGE_SIZE);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    fn receiver(&self) -> Result<&Receiver<Received<T>>, PipeError> {
        match &self.receiver {
            Some(receiver) => Ok(receiver),
            None if self.sender.is_some() => Err(PipeError::WrongDirection("write-only")),
            None => Err(PipeError::Closed),
        }
    }

    fn send_frame(&self, frame: FrameOut<'_, T>) -> Result<(), PipeError> {
        // The next receive waits for a reply (see `spin`).
        if self.receiver.is_some() {
            self.reply.sent();
        }
        let sender = match &self.sender {
            // Bytes and descriptor-free values go as the pipe's own frame.
            Some(sender) => match sender.fd().and_then(|fd| wire::send(fd, &frame)) {
                Some(sent) => return sent,
                None => sender.inner().clone().to::<FrameOut<'_, T>>(),
            },
            None if self.receiver.is_some() => return Err(PipeError::WrongDirection("read-only")),
            None => return Err(PipeError::Closed),
        };
        match sender.send(frame) {
            Ok(()) => Ok(()),
            Err(IpcError::SerializationError(err)) => {
                frame::drain_stale_handles();
                Err(match frame::take_too_many_handles() {
                    Some(count) => PipeError::TooManyHandles {
                        count,
                        max: MAX_HANDLES,
                    },
                    None => PipeError::Encode(err.to_string()),
                })
            }
            Err(err) => Err(from_ipc(err)),
        }
    }

    /// Sends a value, like Python's `Connection.send`.
    ///
    /// Blocks while the peer has about 208 KiB unread. On failure the value comes back in
    /// the [`SendError`] (handles inside it may already have been moved out).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<(u8, String)>::new()?;
    /// writer.send((1, "one".into()))?;
    /// drop(reader);
    /// let err = writer.send((2, "two".into())).unwrap_err();
    /// assert!(err.is_closed());
    /// assert_eq!(err.into_inner().1, "two");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T, PipeError>> {
        match self.send_frame(FrameOut::Value(&value)) {
            Ok(()) => Ok(()),
            Err(error) => Err(SendError::new(value, error)),
        }
    }

    /// Sends raw bytes, like Python's `Connection.send_bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<()>::new()?;
    /// writer.send_bytes(&[1, 2, 3])?;
    /// assert_eq!(reader.recv_bytes()?, [1, 2, 3]);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), PipeError> {
        self.send_frame(FrameOut::Bytes(bytes))
    }

    /// Takes the next message off the socket, waiting up to `timeout` (`None`, or a
    /// timeout beyond the clock such as `Duration::MAX`: forever). Returns `Ok(None)` on
    /// timeout.
    ///
    /// The header of the next record is checked first ([`record::check_next`]): a message
    /// above the maximum size, or a header that does not add up, is dropped unread with an
    /// error, and only a record that passed reaches ipc-channel, whose blocking receive then
    /// returns at once. A receiver has one reader, so nothing takes the record in between;
    /// `try_recv` is never used because it flips `O_NONBLOCK` on the open file
    /// description, which a forked copy of this end would share (deps.md §1.7).
    fn fetch(&self, timeout: Option<Duration>) -> Result<Option<Received<T>>, PipeError> {
        let receiver = self.receiver()?;
        let Some(fd) = receiver.fd() else {
            return Err(PipeError::Io(io::Error::other(
                "this connection's receiving end was moved into a message, or its descriptor \
                 is unknown (ipc-channel other than 0.23)",
            )));
        };
        let deadline = timeout.and_then(|timeout| deadline_after(Some(timeout)));
        if !self.reply.awaits_reply() || timeout.is_some_and(|timeout| timeout.is_zero()) {
            return self.fetch_until(fd, deadline);
        }
        self.fetch_reply(fd, deadline)
    }

    /// [`fetch`](Self::fetch) of a reply that may wait: polls briefly first (see `spin`).
    /// Kept out of line, so that a receive in a stream pays little more than the check
    /// (callgrind, `send_bytes_8b`: 752 instructions; 758 with this inlined, 710 before
    /// replies were polled for).
    #[inline(never)]
    fn fetch_reply(
        &self,
        fd: BorrowedFd<'_>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Option<Received<T>>, PipeError> {
        self.reply.wait(
            deadline,
            || multiproc_sys::poll::wait_readable(fd, Some(Duration::ZERO)).unwrap_or(true),
            || self.fetch_until(fd, deadline),
        )
    }

    /// [`fetch`](Self::fetch) from `fd`, waiting until `deadline` (`None`: no limit).
    fn fetch_until(
        &self,
        fd: BorrowedFd<'_>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Option<Received<T>>, PipeError> {
        if sys::is_handle_free::<T>() {
            // Only the pipe's own frames come: one receive per message, no peek.
            return wire::fetch(fd, self.max_message_size, deadline);
        }
        // Without a deadline the peek itself blocks: one system call fewer per message.
        let mut wait = deadline.is_none();
        loop {
            if !wait && !multiproc_sys::poll::wait_readable(fd, remaining(deadline))? {
                return Ok(None);
            }
            match record::check_next(fd, self.max_message_size, deadline, wait)? {
                Next::Message {
                    len,
                    fds: false,
                    head,
                } => {
                    if let Some(message) = direct::recv::<T>(fd, len, &head, self.max_message_size)?
                    {
                        return Ok(Some(message));
                    }
                    break;
                }
                Next::Message { .. } | Next::End => break,
                Next::Nothing => {
                    // A blocking peek finds nothing only on a descriptor made non-blocking
                    // elsewhere: poll from now on.
                    wait = false;
                    if remaining(deadline).is_some_and(|left| left.is_zero()) {
                        return Ok(None);
                    }
                }
            }
        }
        // ipc-channel indexes handle lists without bounds checks on malformed input;
        // the guard turns such a panic into a decode error, without printing it.
        let result = guard_decode(|| self.receiver()?.recv().map(Some).map_err(from_ipc));
        result.unwrap_or_else(|message| Err(PipeError::Decode(message)))
    }

    fn next_message(&self, timeout: Option<Duration>) -> Result<Option<Received<T>>, PipeError> {
        if let Some(message) = self.pending.borrow_mut().take() {
            return Ok(Some(message));
        }
        self.fetch(timeout)
    }

    fn into_value(message: Received<T>) -> Result<T, PipeError> {
        match message {
            Received::Value(value) => Ok(value),
            Received::Copied(_) => Err(PipeError::Decode(
                "internal: a message was received into a caller's buffer".into(),
            )),
            // Python's recv() unpickles whatever bytes arrive; ours decodes postcard. Raw
            // bytes that claim a handle (a `T` holding a connection or a queue) make
            // ipc-channel index an empty descriptor table: the guard turns that panic into
            // a decode error.
            Received::Bytes(bytes) => {
                guard_decode(|| postcard::from_bytes(&bytes).map_err(|err| err.to_string()))
                    .and_then(|decoded| decoded)
                    .map_err(|err| {
                        PipeError::Decode(format!(
                            "{} bytes sent with send_bytes do not decode as {}: {err}",
                            bytes.len(),
                            std::any::type_name::<T>()
                        ))
                    })
            }
        }
    }

    /// Receives a value, blocking until one arrives, like Python's `Connection.recv`.
    ///
    /// A message sent with [`send_bytes`](Self::send_bytes) is decoded from postcard;
    /// bytes that do not decode give [`PipeError::Decode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<Option<f64>>::new()?;
    /// writer.send(Some(2.5))?;
    /// assert_eq!(reader.recv()?, Some(2.5));
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv(&self) -> Result<T, PipeError> {
        let message = self.next_message(None)?.ok_or(PipeError::Closed)?;
        Self::into_value(message)
    }

    /// Receives a value, waiting at most `timeout`; [`PipeError::Timeout`] if none came.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{PipeError, Pipe};
    /// use std::time::Duration;
    ///
    /// let (reader, _writer) = Pipe::<u8>::new()?;
    /// assert!(matches!(reader.recv_timeout(Duration::from_millis(5)), Err(PipeError::Timeout)));
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, PipeError> {
        let message = self
            .next_message(Some(timeout))?
            .ok_or(PipeError::Timeout)?;
        Self::into_value(message)
    }

    /// Receives a bytes message, like Python's `Connection.recv_bytes`.
    ///
    /// A message sent with [`send`](Self::send) gives [`PipeError::UnexpectedKind`] and stays
    /// queued for [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<()>::new()?;
    /// writer.send_bytes(b"abc")?;
    /// assert_eq!(reader.recv_bytes()?, b"abc");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>, PipeError> {
        match self.next_message(None)?.ok_or(PipeError::Closed)? {
            Received::Bytes(bytes) => Ok(bytes),
            Received::Copied(_) => Err(PipeError::Decode(
                "internal: a message was received into a caller's buffer".into(),
            )),
            other => {
                *self.pending.borrow_mut() = Some(other);
                Err(PipeError::UnexpectedKind {
                    expected: "bytes",
                    received: "value",
                })
            }
        }
    }

    /// Receives a bytes message into `buf` and returns its length, like Python's
    /// `Connection.recv_bytes_into`.
    ///
    /// If `buf` is too small, the message is kept for the next receive and the error
    /// [`PipeError::BufferTooSmall`] says how many bytes it needs.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{PipeError, Pipe};
    ///
    /// let (reader, writer) = Pipe::<()>::new()?;
    /// writer.send_bytes(b"twelve bytes")?;
    /// let mut small = [0u8; 4];
    /// match reader.recv_bytes_into(&mut small) {
    ///     Err(PipeError::BufferTooSmall { needed, .. }) => assert_eq!(needed, 12),
    ///     other => panic!("{other:?}"),
    /// }
    /// let mut big = [0u8; 64];
    /// let n = reader.recv_bytes_into(&mut big)?;
    /// assert_eq!(&big[..n], b"twelve bytes");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv_bytes_into(&self, buf: &mut [u8]) -> Result<usize, PipeError> {
        let pending = self.pending.borrow_mut().take();
        let message = match pending {
            Some(message) => message,
            // Straight off the socket: a bytes payload that fits is copied from the
            // received message into `buf` while it is decoded (no intermediate Vec).
            None => sys::with_sink(buf, || self.fetch(None))?.ok_or(PipeError::Closed)?,
        };
        let error = match &message {
            Received::Copied(len) => return Ok(*len),
            Received::Bytes(bytes) if bytes.len() <= buf.len() => {
                buf[..bytes.len()].copy_from_slice(bytes);
                return Ok(bytes.len());
            }
            Received::Bytes(bytes) => PipeError::BufferTooSmall {
                needed: bytes.len(),
                capacity: buf.len(),
            },
            Received::Value(_) => PipeError::UnexpectedKind {
                expected: "bytes",
                received: "value",
            },
        };
        *self.pending.borrow_mut() = Some(message);
        Err(error)
    }

    /// Whether a message is ready, waiting at most `timeout` (`None`: until one arrives or
    /// the peer closes), like Python's `Connection.poll`.
    ///
    /// A closed peer counts as ready (the next receive returns [`PipeError::Closed`] at once),
    /// as in Python. ipc-channel exposes no fd to poll, so this receives the message into
    /// the connection's one-message buffer, where the next receive finds it.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    /// use std::time::Duration;
    ///
    /// let (reader, writer) = Pipe::<u8>::new()?;
    /// assert!(!reader.poll(Some(Duration::ZERO))?);
    /// writer.send(1)?;
    /// assert!(reader.poll(Some(Duration::from_secs(5)))?);
    /// assert_eq!(reader.recv()?, 1);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        if self.pending.borrow().is_some() {
            return Ok(true);
        }
        match self.fetch(timeout) {
            Ok(Some(message)) => {
                *self.pending.borrow_mut() = Some(message);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(PipeError::Closed) => Ok(true),
            Err(err) => Err(err),
        }
    }

    /// Non-blocking readiness check used by [`wait`](crate::wait).
    pub(crate) fn ready_now(&self) -> bool {
        self.receiver.is_none() || self.poll(Some(Duration::ZERO)).unwrap_or(true)
    }

    /// Closes both directions, like Python's `Connection.close`; later calls give
    /// [`PipeError::Closed`]. Dropping the connection does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{PipeError, Pipe};
    ///
    /// let (mut reader, writer) = Pipe::<u8>::new()?;
    /// reader.close();
    /// assert!(writer.send(1).unwrap_err().is_closed());
    /// assert!(matches!(reader.recv(), Err(PipeError::Closed)));
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn close(&mut self) {
        self.sender = None;
        self.receiver = None;
        self.pending.get_mut().take();
    }

    /// Whether [`close`](Self::close) was called, like Python's `Connection.closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (mut reader, _writer) = Pipe::<u8>::new()?;
    /// assert!(!reader.closed());
    /// reader.close();
    /// assert!(reader.closed());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn closed(&self) -> bool {
        self.sender.is_none() && self.receiver.is_none()
    }

    /// Whether this end can receive, like Python's `Connection.readable`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// let (reader, writer) = (reader.into_connection(), writer.into_connection());
    /// assert!(reader.readable() && !writer.readable());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn readable(&self) -> bool {
        self.receiver.is_some()
    }

    /// Whether this end can send, like Python's `Connection.writable`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// let (reader, writer) = (reader.into_connection(), writer.into_connection());
    /// assert!(writer.writable() && !reader.writable());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn writable(&self) -> bool {
        self.sender.is_some()
    }
}

/// The serialized form: both ends and the buffered message, if any.
#[derive(Serialize)]
struct WireOut<'a, T: Serialize> {
    sender: &'a Option<WatchedSender>,
    receiver: &'a Option<Receiver<Received<T>>>,
    pending: &'a Option<Received<T>>,
    max_message_size: u64,
}

#[derive(Deserialize)]
#[serde(bound = "T: Serialize + DeserializeOwned")]
struct WireIn<T> {
    sender: Option<WatchedSender>,
    receiver: Option<Receiver<Received<T>>>,
    pending: Option<Received<T>>,
    max_message_size: u64,
}

impl<T: Serialize + DeserializeOwned> Serialize for Connection<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if multiproc_shared::plain_serialization_active() {
            return Err(multiproc_shared::refuse_plain_serialization(
                "a Connection cannot travel by plain serialization (for example through a \
                 Queue); send it over a Pipe or pass it as a Process argument",
            ));
        }
        WireOut {
            sender: &self.sender,
            receiver: &self.receiver,
            pending: &self.pending.borrow(),
            max_message_size: u64::try_from(self.max_message_size).unwrap_or(u64::MAX),
        }
        .serialize(serializer)
    }
}

impl<'de, T: Serialize + DeserializeOwned> Deserialize<'de> for Connection<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::<T>::deserialize(deserializer)?;
        Ok(Connection {
            sender: wire.sender,
            receiver: wire.receiver,
            max_message_size: usize::try_from(wire.max_message_size).unwrap_or(usize::MAX),
            pending: RefCell::new(wire.pending),
            reply: ReplyWait::default(),
        })
    }
}
