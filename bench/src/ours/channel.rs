//! `multiproc-channel`: `Queue` and `Pipe` throughput, and round-trip latency. Every child
//! is fork-started, as on the Python side.

use multiproc::channel::{self, Connection, Pipe, PipeWriter, Queue};
use multiproc::process::{StartMethod, Target, get_context};
use multiproc::shared::Segment;

use super::fail;
use crate::measure::{BoxError, Outcome, Params, Pinning, ensure, time_repeats};

const MIB: usize = 1 << 20;

/// Child target: put `0..n`.
fn put_items(queue: Queue<u64>, n: u64) -> bool {
    (0..n).all(|i| queue.put(i).is_ok())
}

/// Child target: put `n` items of 1 MiB.
fn put_mib_items(queue: Queue<Vec<u8>>, n: u64) -> bool {
    let payload = vec![7u8; MIB];
    (0..n).all(|_| queue.put(payload.clone()).is_ok())
}

/// Child target: `put_bytes` `n` items of 1 MiB.
fn put_mib_bytes(queue: Queue<Vec<u8>>, n: u64) -> bool {
    let payload = vec![7u8; MIB];
    (0..n).all(|_| queue.put_bytes(&payload).is_ok())
}

/// Child target: send `0..n`.
fn send_items(conn: PipeWriter<u64>, n: u64) -> bool {
    (0..n).all(|i| conn.send(i).is_ok())
}

/// Child target: send `n` byte messages of 1 MiB.
fn send_mib_messages(conn: PipeWriter<u64>, n: u64) -> bool {
    let payload = vec![7u8; MIB];
    (0..n).all(|_| conn.send_bytes(&payload).is_ok())
}

/// Child target: move to CPU 1 if asked, then send back every message until `u64::MAX`.
fn echo(conn: Connection<u64>, cross_cpu: bool) -> bool {
    if cross_cpu && crate::sys::pin_to_cpu(1).is_err() {
        return false;
    }
    loop {
        match conn.recv() {
            Ok(u64::MAX) => return true,
            Ok(message) => {
                if conn.send(message).is_err() {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

/// A fork-started child `put`s `0..n` (`u64`) into a `Queue`; the parent `get`s them all.
/// A sample runs from the child's start to its join.
pub(crate) fn queue_small_items(params: &Params) -> Outcome {
    let n = params.n;
    time_repeats(params, || -> Result<(), BoxError> {
        let queue = Queue::<u64>::new().map_err(fail)?;
        let mut child = get_context(StartMethod::Fork).process(put_items, (queue.clone(), n));
        child.start().map_err(fail)?;
        let mut checksum = 0u64;
        for _ in 0..n {
            checksum = checksum.wrapping_add(queue.get().map_err(fail)?);
        }
        ensure(child.join().map_err(fail)?, || "producer failed".into())?;
        ensure(checksum == n * (n - 1) / 2, || {
            format!("checksum {checksum}")
        })?;
        Ok(())
    })
    .into()
}

/// As [`queue_small_items`] with `n` items of 1 MiB (`Vec<u8>`).
pub(crate) fn queue_1mib_items(params: &Params) -> Outcome {
    move_mib_items(params, put_mib_items, Queue::get)
}

/// As `queue_1mib_items`, through the byte path: the child `put_bytes`, the parent
/// `get_bytes` (one copy in, one copy out; CPython's side puts and gets `bytes` objects).
pub(crate) fn queue_1mib_bytes(params: &Params) -> Outcome {
    move_mib_items(params, put_mib_bytes, Queue::get_bytes)
}

/// How the parent takes an item: `Queue::get` or `Queue::get_bytes`.
type Take = fn(&Queue<Vec<u8>>) -> Result<Vec<u8>, channel::QueueError>;

/// A fork-started `producer` puts `n` items of 1 MiB; the parent takes them with `get`.
fn move_mib_items<F>(params: &Params, producer: F, get: Take) -> Outcome
where
    F: Target<(Queue<Vec<u8>>, u64), Output = bool> + Copy,
{
    let n = params.n;
    time_repeats(params, || -> Result<(), BoxError> {
        let queue = Queue::<Vec<u8>>::new().map_err(fail)?;
        let mut child = get_context(StartMethod::Fork).process(producer, (queue.clone(), n));
        child.start().map_err(fail)?;
        for _ in 0..n {
            let item = get(&queue).map_err(fail)?;
            ensure(item.len() == MIB, || {
                format!("item of {} bytes", item.len())
            })?;
        }
        ensure(child.join().map_err(fail)?, || "producer failed".into())?;
        Ok(())
    })
    .into()
}

/// The copy under every queue item alone, with nothing racing it: `n` times,
/// `Segment::write_at` of 4 KiB from private memory, then `read_at` of the same bytes
/// back, at offsets that walk a 1 MiB segment with every alignment.
pub(crate) fn segment_copy_4k(params: &Params) -> Outcome {
    const SIZE: usize = 4096;
    const SPAN: usize = MIB;
    let n = params.n;
    (|| {
        let segment = Segment::new(SPAN + SIZE).map_err(fail)?;
        let source = vec![7u8; SIZE];
        let mut back = vec![0u8; SIZE];
        time_repeats(params, || -> Result<(), BoxError> {
            let mut offset = 0;
            for _ in 0..n {
                segment.write_at(offset, &source).map_err(fail)?;
                segment.read_at(offset, &mut back).map_err(fail)?;
                offset = (offset + SIZE + 5) % SPAN;
            }
            ensure(back == source, || "copied bytes differ".into())?;
            Ok(())
        })
    })()
    .into()
}

/// A fork-started child `send`s `0..n` (`u64`) on a one-way `Pipe`; the parent `recv`s.
pub(crate) fn pipe_small_messages(params: &Params) -> Outcome {
    let n = params.n;
    time_repeats(params, || -> Result<(), BoxError> {
        let (reader, writer) = Pipe::<u64>::new().map_err(fail)?;
        let mut child = get_context(StartMethod::Fork).process(send_items, (writer, n));
        child.start().map_err(fail)?;
        let mut checksum = 0u64;
        for _ in 0..n {
            checksum = checksum.wrapping_add(reader.recv().map_err(fail)?);
        }
        ensure(child.join().map_err(fail)?, || "sender failed".into())?;
        ensure(checksum == n * (n - 1) / 2, || {
            format!("checksum {checksum}")
        })?;
        Ok(())
    })
    .into()
}

/// A fork-started child `send_bytes` `n` messages of 1 MiB; the parent `recv_bytes_into`
/// one reused buffer (as the floor reads into one).
pub(crate) fn pipe_1mib_messages(params: &Params) -> Outcome {
    let n = params.n;
    let mut buffer = vec![0u8; MIB];
    time_repeats(params, || -> Result<(), BoxError> {
        let (reader, writer) = Pipe::<u64>::new().map_err(fail)?;
        let mut child = get_context(StartMethod::Fork).process(send_mib_messages, (writer, n));
        child.start().map_err(fail)?;
        for _ in 0..n {
            let size = reader.recv_bytes_into(&mut buffer).map_err(fail)?;
            ensure(size == MIB, || format!("message of {size} bytes"))?;
        }
        ensure(child.join().map_err(fail)?, || "sender failed".into())?;
        Ok(())
    })
    .into()
}

/// Round trips of a `u64` over a duplex `Pipe` with a fork-started echo child; a sample
/// times `n` round trips after a warm-up of 100.
pub(crate) fn round_trip(params: &Params) -> Outcome {
    (|| {
        let (ours, theirs) = Pipe::<u64>::duplex().map_err(fail)?;
        let mut child = get_context(StartMethod::Fork)
            .process(echo, (theirs, params.pinning == Pinning::CrossCpu));
        child.start().map_err(fail)?;
        let exchange = |count: u64| -> Result<(), BoxError> {
            for i in 0..count {
                ours.send(i).map_err(fail)?;
                ensure(ours.recv().map_err(fail)? == i, || "wrong echo".into())?;
            }
            Ok(())
        };
        exchange(100)?;
        let samples = time_repeats(params, || exchange(params.n))?;
        ours.send(u64::MAX).map_err(fail)?;
        ensure(child.join().map_err(fail)?, || "echo child failed".into())?;
        Ok::<_, BoxError>(samples)
    })()
    .into()
}
