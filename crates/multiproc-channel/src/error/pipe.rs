//! Errors of pipes and connections.

use std::io;

/// Everything that can go wrong on a [`Pipe`](crate::Pipe) end, a duplex
/// [`Connection`](crate::Connection) or a [`SocketConnection`](crate::SocketConnection).
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Pipe, PipeError};
///
/// let (reader, writer) = Pipe::<u32>::new()?;
/// drop(writer);
/// assert!(matches!(reader.recv(), Err(PipeError::Closed)));
/// # Ok::<(), PipeError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipeError {
    /// The peer closed its end, or died.
    #[error("the channel is closed")]
    Closed,
    /// A timed receive saw no message in time.
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
    /// A message announced more bytes than the connection's maximum message size, and
    /// nothing was allocated for it. On a [`SocketConnection`](crate::SocketConnection)
    /// the connection can no longer receive (the stream is no longer at a frame boundary);
    /// on a pipe the message is dropped unread and the next one can be received.
    #[error("a {size}-byte message exceeds the maximum message size of {max} bytes")]
    MessageTooLarge {
        /// The size the peer announced.
        size: u64,
        /// The limit.
        max: usize,
    },
    /// An operating-system error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
