//! The wrapper that gives a rejected payload back.

use std::fmt;

use super::{PipeError, QueueError};

/// A failed `send` or `put` that gives the value back, like crossbeam's `SendError`.
///
/// `E` is the family's error: [`QueueError`] for a queue's `put`, [`PipeError`] for a
/// pipe's or connection's `send`. `Debug` and `Display` do not require `T: Debug`.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Queue, QueueError};
/// use std::time::Duration;
///
/// let queue = Queue::<String>::bounded(1)?;
/// queue.put("first".to_owned())?;
/// let err = queue.put_timeout("second".to_owned(), Duration::from_millis(10)).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.into_inner(), "second");
/// # Ok::<(), QueueError>(())
/// ```
pub struct SendError<T, E = QueueError> {
    value: T,
    error: E,
}

impl<T, E> SendError<T, E> {
    pub(crate) fn new(value: T, error: E) -> Self {
        SendError { value, error }
    }

    /// Gives the value back.
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<String>::new()?;
    /// drop(reader);
    /// let err = writer.send("kept".to_owned()).unwrap_err();
    /// assert_eq!(err.into_inner(), "kept");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Why it failed.
    ///
    /// ```
    /// use multiproc_channel::{Pipe, PipeError};
    ///
    /// let (reader, writer) = Pipe::<u8>::new()?;
    /// drop(reader);
    /// let err = writer.send(1).unwrap_err();
    /// assert!(matches!(err.error(), PipeError::Closed));
    /// # Ok::<(), PipeError>(())
    /// ```
    pub fn error(&self) -> &E {
        &self.error
    }

    /// Splits into the value and the reason.
    ///
    /// ```
    /// use multiproc_channel::{Queue, QueueError};
    ///
    /// let queue = Queue::<u8>::bounded(1)?;
    /// queue.put(1)?;
    /// let (value, why) = queue.put_nowait(2).unwrap_err().into_parts();
    /// assert_eq!(value, 2);
    /// assert!(matches!(why, QueueError::Full));
    /// # Ok::<(), QueueError>(())
    /// ```
    pub fn into_parts(self) -> (T, E) {
        (self.value, self.error)
    }
}

impl<T> SendError<T, QueueError> {
    /// `true` if the queue had no room in time ([`QueueError::Full`]).
    ///
    /// ```
    /// use multiproc_channel::Queue;
    ///
    /// let queue = Queue::<u8>::bounded(1)?;
    /// queue.put(1)?;
    /// assert!(queue.put_nowait(2).unwrap_err().is_full());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self.error, QueueError::Full)
    }

    /// `true` if the queue is closed ([`QueueError::Closed`]).
    ///
    /// ```
    /// use multiproc_channel::Queue;
    ///
    /// let mut queue = Queue::<u8>::new()?;
    /// queue.close();
    /// assert!(queue.put(1).unwrap_err().is_closed());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self.error, QueueError::Closed)
    }
}

impl<T> SendError<T, PipeError> {
    /// `true` if the peer closed its end ([`PipeError::Closed`]).
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (reader, writer) = Pipe::<u8>::new()?;
    /// drop(reader);
    /// assert!(writer.send(1).unwrap_err().is_closed());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self.error, PipeError::Closed)
    }
}

impl<T, E: fmt::Debug> fmt::Debug for SendError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T, E: fmt::Display> fmt::Display for SendError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T, E: std::error::Error + 'static> std::error::Error for SendError<T, E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<SendError<T, QueueError>> for QueueError {
    fn from(err: SendError<T, QueueError>) -> QueueError {
        err.error
    }
}

impl<T> From<SendError<T, PipeError>> for PipeError {
    fn from(err: SendError<T, PipeError>) -> PipeError {
        err.error
    }
}

impl<T> From<SendError<T, PipeError>> for super::ListenerError {
    fn from(err: SendError<T, PipeError>) -> super::ListenerError {
        super::ListenerError::Connection(err.error)
    }
}
