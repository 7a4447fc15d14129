//! The typed ends of a one-way [`Pipe`](crate::Pipe): a [`PipeReader`] only receives and a
//! [`PipeWriter`] only sends, so swapping them does not compile.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::connection::Connection;
use crate::error::{PipeError, SendError};

/// The receiving end of a one-way [`Pipe`](crate::Pipe), Python's `Pipe(duplex=False)[0]`.
///
/// It has the receiving half of [`Connection`]'s methods, and passes to a child as a
/// `Process` argument in the same way. Sending on it does not compile:
///
/// ```compile_fail
/// let (reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
/// reader.send(1)?; // no `send` on a reader
/// # Ok::<(), multiproc_channel::PipeError>(())
/// ```
///
/// # Examples
///
/// ```
/// use multiproc_channel::Pipe;
///
/// let (reader, writer) = Pipe::<u64>::new()?;
/// writer.send(7)?;
/// assert_eq!(reader.recv()?, 7);
/// # Ok::<(), multiproc_channel::PipeError>(())
/// ```
#[doc(alias = "multiprocessing.connection.Connection")]
pub struct PipeReader<T>(Connection<T>);

/// The sending end of a one-way [`Pipe`](crate::Pipe), Python's `Pipe(duplex=False)[1]`.
///
/// It has the sending half of [`Connection`]'s methods. Receiving on it does not compile:
///
/// ```compile_fail
/// let (_reader, writer) = multiproc_channel::Pipe::<u8>::new()?;
/// writer.recv()?; // no `recv` on a writer
/// # Ok::<(), multiproc_channel::PipeError>(())
/// ```
///
/// # Examples
///
/// ```
/// use multiproc_channel::Pipe;
///
/// let (reader, writer) = Pipe::<String>::new()?;
/// writer.send("hello".to_owned())?;
/// assert_eq!(reader.recv()?, "hello");
/// # Ok::<(), multiproc_channel::PipeError>(())
/// ```
#[doc(alias = "multiprocessing.connection.Connection")]
pub struct PipeWriter<T>(Connection<T>);

impl<T> PipeReader<T> {
    pub(crate) fn new(connection: Connection<T>) -> Self {
        PipeReader(connection)
    }

    /// The underlying [`Connection`], whose sending methods return
    /// [`PipeError::WrongDirection`].
    ///
    /// ```
    /// let (reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// let connection = reader.into_connection();
    /// assert!(connection.readable() && !connection.writable());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn into_connection(self) -> Connection<T> {
        self.0
    }

    /// Borrows the underlying [`Connection`] (for [`wait`](crate::wait), for example).
    ///
    /// ```
    /// use multiproc_channel::{Pipe, wait};
    ///
    /// let (reader, writer) = Pipe::<u8>::new()?;
    /// writer.send(1)?;
    /// assert_eq!(wait(&[reader.as_connection().into()], None)?, [0]);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn as_connection(&self) -> &Connection<T> {
        &self.0
    }
}

impl<T: Serialize + DeserializeOwned> PipeReader<T> {
    /// Receives the next value, blocking until one arrives; see [`Connection::recv`].
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<(u8, String)>::new()?;
    /// writer.send((1, "one".into()))?;
    /// assert_eq!(reader.recv()?, (1, "one".to_owned()));
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv(&self) -> Result<T, PipeError> {
        self.0.recv()
    }

    /// Receives the next value, waiting at most `timeout`; see [`Connection::recv_timeout`].
    ///
    /// ```
    /// use multiproc_channel::{Pipe, PipeError};
    /// use std::time::Duration;
    ///
    /// let (reader, _writer) = Pipe::<u8>::new()?;
    /// assert!(matches!(reader.recv_timeout(Duration::ZERO), Err(PipeError::Timeout)));
    /// # Ok::<(), PipeError>(())
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, PipeError> {
        self.0.recv_timeout(timeout)
    }

    /// Receives the next raw message; see [`Connection::recv_bytes`].
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<()>::new()?;
    /// writer.send_bytes(b"raw")?;
    /// assert_eq!(reader.recv_bytes()?, b"raw");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>, PipeError> {
        self.0.recv_bytes()
    }

    /// Receives the next raw message into `buf`; see [`Connection::recv_bytes_into`].
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<()>::new()?;
    /// writer.send_bytes(b"raw")?;
    /// let mut buf = [0u8; 16];
    /// let n = reader.recv_bytes_into(&mut buf)?;
    /// assert_eq!(&buf[..n], b"raw");
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn recv_bytes_into(&self, buf: &mut [u8]) -> Result<usize, PipeError> {
        self.0.recv_bytes_into(buf)
    }

    /// Whether a message is waiting, waiting at most `timeout` (`None`: no limit); see
    /// [`Connection::poll`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (reader, writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// assert!(!reader.poll(Some(Duration::ZERO))?);
    /// writer.send(1)?;
    /// assert!(reader.poll(None)?);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, PipeError> {
        self.0.poll(timeout)
    }

    /// Sets the largest message this end accepts; see
    /// [`Connection::with_max_message_size`].
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<Vec<u8>>::new()?;
    /// let reader = reader.with_max_message_size(4);
    /// writer.send_bytes(&[0; 8])?;
    /// assert!(reader.recv_bytes().is_err());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn with_max_message_size(self, bytes: usize) -> Self {
        PipeReader(self.0.with_max_message_size(bytes))
    }

    /// The largest message this end accepts.
    ///
    /// ```
    /// let (reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// assert_eq!(reader.max_message_size(), multiproc_channel::DEFAULT_MAX_MESSAGE_SIZE);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.0.max_message_size()
    }

    /// Closes this end: later receives give [`PipeError::Closed`]. Dropping does the same.
    ///
    /// ```
    /// let (mut reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// reader.close();
    /// assert!(reader.closed());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn close(&mut self) {
        self.0.close()
    }

    /// `true` once [`close`](Self::close) was called.
    ///
    /// ```
    /// let (reader, _writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// assert!(!reader.closed());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn closed(&self) -> bool {
        self.0.closed()
    }
}

impl<T> PipeWriter<T> {
    pub(crate) fn new(connection: Connection<T>) -> Self {
        PipeWriter(connection)
    }

    /// The underlying [`Connection`], whose receiving methods return
    /// [`PipeError::WrongDirection`].
    ///
    /// ```
    /// let (_reader, writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// let connection = writer.into_connection();
    /// assert!(connection.writable() && !connection.readable());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn into_connection(self) -> Connection<T> {
        self.0
    }
}

impl<T: Serialize + DeserializeOwned> PipeWriter<T> {
    /// Sends a value; see [`Connection::send`]. A failed send gives the value back.
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<Vec<u32>>::new()?;
    /// writer.send(vec![1, 2, 3])?;
    /// assert_eq!(reader.recv()?, [1, 2, 3]);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T, PipeError>> {
        self.0.send(value)
    }

    /// Sends raw bytes; see [`Connection::send_bytes`].
    ///
    /// ```
    /// let (reader, writer) = multiproc_channel::Pipe::<()>::new()?;
    /// writer.send_bytes(&[1, 2])?;
    /// assert_eq!(reader.recv_bytes()?, [1, 2]);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), PipeError> {
        self.0.send_bytes(bytes)
    }

    /// Closes this end: the reader sees [`PipeError::Closed`] once it has drained what was
    /// sent. Dropping does the same.
    ///
    /// ```
    /// use multiproc_channel::{Pipe, PipeError};
    ///
    /// let (reader, mut writer) = Pipe::<u8>::new()?;
    /// writer.send(1)?;
    /// writer.close();
    /// assert_eq!(reader.recv()?, 1);
    /// assert!(matches!(reader.recv(), Err(PipeError::Closed)));
    /// # Ok::<(), PipeError>(())
    /// ```
    pub fn close(&mut self) {
        self.0.close()
    }

    /// `true` once [`close`](Self::close) was called.
    ///
    /// ```
    /// let (_reader, mut writer) = multiproc_channel::Pipe::<u8>::new()?;
    /// writer.close();
    /// assert!(writer.closed());
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn closed(&self) -> bool {
        self.0.closed()
    }
}

impl<T> fmt::Debug for PipeReader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PipeReader").field(&self.0).finish()
    }
}

impl<T> fmt::Debug for PipeWriter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PipeWriter").field(&self.0).finish()
    }
}

impl<T: Serialize + DeserializeOwned> Serialize for PipeReader<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Serialize + DeserializeOwned> Deserialize<'de> for PipeReader<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Connection::deserialize(deserializer).map(PipeReader)
    }
}

impl<T: Serialize + DeserializeOwned> Serialize for PipeWriter<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Serialize + DeserializeOwned> Deserialize<'de> for PipeWriter<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Connection::deserialize(deserializer).map(PipeWriter)
    }
}
