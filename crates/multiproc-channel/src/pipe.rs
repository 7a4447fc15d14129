//! `Pipe`, which makes connected pipe ends.

use std::fmt;
use std::marker::PhantomData;

use ipc_channel::ipc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::connection::Connection;
use crate::error::PipeError;
use crate::frame::Received;
use crate::pipe_end::{PipeReader, PipeWriter};
use crate::wire;

/// Creates connected pipe ends, like Python's `multiprocessing.Pipe`.
///
/// `Pipe::<T>::new()` is `Pipe(duplex=False)`: it returns a typed `(PipeReader, PipeWriter)`,
/// so the two ends cannot be swapped by mistake. [`Pipe::duplex`] is `Pipe()`: two
/// [`Connection`]s that both send and receive.
///
/// Byte messages, and values of types that cannot carry a descriptor (numbers, strings,
/// vectors of them, `Vec<u8>`), travel as the pipe's own length-prefixed records on its
/// socket, each received straight into one buffer; values that may carry a connection, a queue
/// or shared memory go through ipc-channel, in order with the rest. As with Python, one
/// end is for one sender at a time: messages of up to 16 KiB from several processes at
/// once stay whole, but two larger ones sent at the same moment can interleave, which the
/// receiver reports as an error.
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
#[doc(alias = "multiprocessing.Pipe")]
pub struct Pipe<T>(PhantomData<fn(T) -> T>);

impl<T> fmt::Debug for Pipe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pipe")
    }
}

impl<T: Serialize + DeserializeOwned> Pipe<T> {
    /// A one-way pipe: `(reader, writer)`, as Python's `Pipe(duplex=False)`. The ends are
    /// typed: a [`PipeReader`] only receives and a [`PipeWriter`] only sends.
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
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Result<(PipeReader<T>, PipeWriter<T>), PipeError> {
        let (sender, receiver) = ipc::channel::<Received<T>>()?;
        let sender = wire::raise_send_buffer(sender);
        Ok((
            PipeReader::new(Connection::from_parts(None, Some(receiver))),
            PipeWriter::new(Connection::from_parts(Some(sender.to_opaque()), None)),
        ))
    }

    /// A two-way pipe: two connections that both send and receive, as Python's `Pipe()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Pipe;
    ///
    /// let (left, right) = Pipe::<i32>::duplex()?;
    /// left.send(1)?;
    /// right.send(right.recv()? + 1)?;
    /// assert_eq!(left.recv()?, 2);
    /// # Ok::<(), multiproc_channel::PipeError>(())
    /// ```
    pub fn duplex() -> Result<(Connection<T>, Connection<T>), PipeError> {
        let (left_sender, right_receiver) = ipc::channel::<Received<T>>()?;
        let (right_sender, left_receiver) = ipc::channel::<Received<T>>()?;
        let (left_sender, right_sender) = (
            wire::raise_send_buffer(left_sender),
            wire::raise_send_buffer(right_sender),
        );
        Ok((
            Connection::from_parts(Some(left_sender.to_opaque()), Some(left_receiver)),
            Connection::from_parts(Some(right_sender.to_opaque()), Some(right_receiver)),
        ))
    }
}
