//! The crate's error type, and the wrapper that gives a rejected payload back.

use std::fmt;
use std::io;

/// Everything that can go wrong in a pipe or a queue.
///
/// `Display` is lowercase without a trailing period, so it composes into longer messages.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Error, Pipe};
///
/// let (mut reader, writer) = Pipe::<u32>::new()?;
/// drop(writer);
/// assert!(matches!(reader.recv(), Err(Error::Closed)));
/// # Ok::<(), multiproc_channel::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer closed its end (or died), or the queue was closed.
    #[error("the channel is closed")]
    Closed,
    /// A non-blocking or timed `get` found nothing (Python's `queue.Empty`).
    #[doc(alias = "queue.Empty")]
    #[error("the queue is empty")]
    Empty,
    /// A non-blocking or timed `put` found no room (Python's `queue.Full`).
    #[doc(alias = "queue.Full")]
    #[error("the queue is full")]
    Full,
    /// A timed receive on a connection saw no message in time.
    #[error("timed out waiting for a message")]
    Timeout,
    /// `recv_bytes_into` was given a buffer smaller than the message; the message stays
    /// queued and the next receive returns it.
    #[error("buffer too small: the message has {needed} bytes, the buffer holds {capacity}")]
    BufferTooSmall {
        /// The size of the waiting message.
        needed: usize,
        /// The size of the buffer that was passed.
        capacity: usize,
    },
    /// A message tried to carry more channel or shared-memory handles than one
    /// `SCM_RIGHTS` message holds.
    #[error("a message may carry at most {max} handles, this one carries {count}")]
    TooManyHandles {
        /// Handles found in the message.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The value could not be serialized.
    #[error("cannot encode the message: {0}")]
    Encode(String),
    /// The bytes received do not decode as the expected type.
    #[error("cannot decode the message: {0}")]
    Decode(String),
    /// A `recv` met a `send_bytes` message that does not decode, or `recv_bytes` met a
    /// message sent with `send`.
    #[error("expected a {expected} message, received a {received} message")]
    UnexpectedKind {
        /// What the call reads: `"bytes"` or `"value"`.
        expected: &'static str,
        /// What was waiting.
        received: &'static str,
    },
    /// This end of a one-way pipe cannot do that (sending on the reading end or the reverse).
    #[error("this end of the pipe is {0}")]
    WrongDirection(&'static str),
    /// `JoinableQueue::task_done` was called more often than items were put.
    #[error("task_done() called more times than there were items")]
    TaskDoneTooOften,
    /// A process died inside a queue operation and the queue was repaired; the operation
    /// that noticed it carried on.
    #[error("a process died while holding the queue lock")]
    OwnerDied,
    /// The `authkey` handshake of a [`Listener`](crate::Listener) or
    /// [`Client`](crate::Client) failed: a different key, or a peer that does not speak the
    /// protocol (Python's `multiprocessing.AuthenticationError`).
    #[doc(alias = "multiprocessing.AuthenticationError")]
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// A TCP listener or client was made without an `authkey`, or a key was empty.
    #[error(
        "an authkey is required: TCP connections must be authenticated and the key must not be empty"
    )]
    AuthkeyRequired,
    /// The peer did not complete the `authkey` handshake in time.
    #[error("the peer did not complete the authentication handshake within {0:?}")]
    HandshakeTimeout(std::time::Duration),
    /// A message announced more bytes than the connection's maximum message size, and
    /// nothing was allocated for it. On a [`SocketConnection`](crate::SocketConnection)
    /// the connection can no longer receive (the stream is no longer at a frame boundary);
    /// on a pipe's [`Connection`](crate::Connection) the message is dropped unread and the
    /// next one can be received.
    #[error("a {size}-byte message exceeds the maximum message size of {max} bytes")]
    MessageTooLarge {
        /// The size the peer announced.
        size: u64,
        /// The limit.
        max: usize,
    },
    /// A queue's shared memory holds values that no queue operation writes (a length or
    /// position out of range, counters that disagree): another process scribbled on it.
    /// The queue is poisoned: every later operation on it in this process fails with this
    /// error too.
    #[error("the queue's shared memory is corrupt: {0}")]
    Corrupt(String),
    /// An operating-system error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// An error from the shared-memory layer.
    #[error(transparent)]
    Shared(#[from] multiproc_shared::Error),
}

/// A failed `send` or `put` that gives the value back, like crossbeam's `SendError`.
///
/// `Debug` and `Display` do not require `T: Debug`.
///
/// # Examples
///
/// ```
/// use multiproc_channel::Queue;
/// use std::time::Duration;
///
/// let queue = Queue::<String>::bounded(1)?;
/// queue.put("first".to_owned())?;
/// let err = queue.put_timeout("second".to_owned(), Duration::from_millis(10)).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.into_inner(), "second");
/// # Ok::<(), multiproc_channel::Error>(())
/// ```
pub struct SendError<T> {
    value: T,
    error: Error,
}

impl<T> SendError<T> {
    pub(crate) fn new(value: T, error: Error) -> Self {
        SendError { value, error }
    }

    /// Gives the value back.
    ///
    /// ```
    /// use multiproc_channel::SimpleQueue;
    /// let queue = SimpleQueue::<String>::new()?;
    /// queue.close();
    /// let err = queue.put("kept".to_owned()).unwrap_err();
    /// assert_eq!(err.into_inner(), "kept");
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Why it failed.
    ///
    /// ```
    /// use multiproc_channel::{Error, Queue};
    /// let queue = Queue::<u8>::bounded(1)?;
    /// queue.close();
    /// assert!(matches!(queue.put(1).unwrap_err().error(), Error::Closed));
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Splits into the value and the reason.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_channel::{Error, Queue};
    /// let queue = Queue::<u8>::bounded(1)?;
    /// queue.put(1)?;
    /// let (value, why) = queue.put_timeout(2, Duration::ZERO).unwrap_err().into_parts();
    /// assert_eq!(value, 2);
    /// assert!(matches!(why, Error::Full));
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn into_parts(self) -> (T, Error) {
        (self.value, self.error)
    }

    /// `true` if the queue had no room in time ([`Error::Full`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_channel::Queue;
    /// let queue = Queue::<u8>::bounded(1)?;
    /// queue.put(1)?;
    /// assert!(queue.put_timeout(2, Duration::ZERO).unwrap_err().is_full());
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self.error, Error::Full)
    }

    /// `true` if the peer or the queue is closed ([`Error::Closed`]).
    ///
    /// ```
    /// use multiproc_channel::Queue;
    /// let queue = Queue::<u8>::bounded(4)?;
    /// queue.close();
    /// assert!(queue.put(1).unwrap_err().is_closed());
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self.error, Error::Closed)
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T> std::error::Error for SendError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<SendError<T>> for Error {
    fn from(err: SendError<T>) -> Error {
        err.error
    }
}
