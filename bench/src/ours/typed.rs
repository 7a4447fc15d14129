//! `multiproc-channel` on the paths a user writes first: typed `Pipe` and `Queue` items of
//! `Vec<u8>`, `String`, `Vec<f64>` and a small struct, and `recv_bytes` into a fresh `Vec`.
//! Each scenario is one instantiation of a generic function (payload type × size), so the
//! table names the size in the scenario and the code has one body per transport.

use multiproc::channel::{Pipe, PipeWriter, Queue};
use multiproc::process::{StartMethod, get_context};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::fail;
use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};

/// An item type of the typed rows, made at a given encoded size.
pub(crate) trait Payload:
    Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// An item of about `size` bytes of content.
    fn make(size: usize) -> Self;
    /// The content size, to check what arrived.
    fn content_size(&self) -> usize;
}

impl Payload for Vec<u8> {
    fn make(size: usize) -> Self {
        vec![7u8; size]
    }
    fn content_size(&self) -> usize {
        self.len()
    }
}

impl Payload for String {
    fn make(size: usize) -> Self {
        "x".repeat(size)
    }
    fn content_size(&self) -> usize {
        self.len()
    }
}

impl Payload for Vec<f64> {
    fn make(size: usize) -> Self {
        (0..(size / 8).max(1)).map(|i| i as f64 * 0.5).collect()
    }
    fn content_size(&self) -> usize {
        self.len() * 8
    }
}

/// The small struct of the typed rows (CPython's side sends the same fields as a tuple).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sample {
    id: u64,
    x: f64,
    y: f64,
    tag: u32,
    valid: bool,
}

impl Payload for Sample {
    fn make(_size: usize) -> Self {
        Sample {
            id: 42,
            x: 1.5,
            y: -2.25,
            tag: 7,
            valid: true,
        }
    }
    fn content_size(&self) -> usize {
        29
    }
}

/// Child target: `send` `n` items of about `size` bytes.
fn send_typed<P: Payload>(conn: PipeWriter<P>, n: u64, size: u64) -> bool {
    let item = P::make(size as usize);
    (0..n).all(|_| conn.send(item.clone()).is_ok())
}

/// Child target: `put` `n` items of about `size` bytes.
fn put_typed<P: Payload>(queue: Queue<P>, n: u64, size: u64) -> bool {
    let item = P::make(size as usize);
    (0..n).all(|_| queue.put(item.clone()).is_ok())
}

/// Child target: `send_bytes` `n` messages of `size` bytes.
fn send_byte_messages(conn: PipeWriter<()>, n: u64, size: u64) -> bool {
    let payload = vec![7u8; size as usize];
    (0..n).all(|_| conn.send_bytes(&payload).is_ok())
}

/// A fork-started child `send`s `n` items of `P` of about `SIZE` bytes on a one-way
/// `Pipe<P>` (a clone per send, as CPython pickles each); the parent `recv`s them.
pub(crate) fn pipe<P: Payload, const SIZE: usize>(params: &Params) -> Outcome {
    let n = params.n;
    let expected = P::make(SIZE).content_size();
    time_repeats(params, || -> Result<(), BoxError> {
        let (reader, writer) = Pipe::<P>::new().map_err(fail)?;
        let mut child =
            get_context(StartMethod::Fork).process(send_typed::<P>, (writer, n, SIZE as u64));
        child.start().map_err(fail)?;
        for _ in 0..n {
            let item = reader.recv().map_err(fail)?;
            ensure(item.content_size() == expected, || "wrong item".into())?;
        }
        ensure(child.join().map_err(fail)?, || "sender failed".into())?;
        Ok(())
    })
    .into()
}

/// As [`pipe`], through a `Queue<P>`: the child `put`s, the parent `get`s.
pub(crate) fn queue<P: Payload, const SIZE: usize>(params: &Params) -> Outcome {
    let n = params.n;
    let expected = P::make(SIZE).content_size();
    time_repeats(params, || -> Result<(), BoxError> {
        let queue = Queue::<P>::new().map_err(fail)?;
        let mut child =
            get_context(StartMethod::Fork).process(put_typed::<P>, (queue.clone(), n, SIZE as u64));
        child.start().map_err(fail)?;
        for _ in 0..n {
            let item = queue.get().map_err(fail)?;
            ensure(item.content_size() == expected, || "wrong item".into())?;
        }
        ensure(child.join().map_err(fail)?, || "producer failed".into())?;
        Ok(())
    })
    .into()
}

/// A fork-started child `send_bytes` `n` messages of `SIZE` bytes; the parent takes each
/// with `recv_bytes`, a fresh `Vec` per message (what a user writes first).
pub(crate) fn recv_bytes_fresh<const SIZE: usize>(params: &Params) -> Outcome {
    let n = params.n;
    time_repeats(params, || -> Result<(), BoxError> {
        let (reader, writer) = Pipe::<()>::new().map_err(fail)?;
        let mut child =
            get_context(StartMethod::Fork).process(send_byte_messages, (writer, n, SIZE as u64));
        child.start().map_err(fail)?;
        for _ in 0..n {
            let message = reader.recv_bytes().map_err(fail)?;
            ensure(message.len() == SIZE, || {
                format!("message of {} bytes", message.len())
            })?;
        }
        ensure(child.join().map_err(fail)?, || "sender failed".into())?;
        Ok(())
    })
    .into()
}
