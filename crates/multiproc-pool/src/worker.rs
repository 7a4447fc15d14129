//! The worker side: the loop each pool worker process runs, and the messages it exchanges
//! with the pool.

use std::fmt;
use std::time::Duration;

use ipc_channel::ipc::{IpcReceiver, IpcSender};
use multiproc_channel::{Error as ChannelError, Queue};
use multiproc_process::{FunctionRef, PanicInfo, Target, catch_panic};
use multiproc_shared::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A result whose message is at most this long goes through the worker's ring; a longer one
/// through its channel.
pub(crate) const RING_MESSAGE_MAX: usize = 16 * 1024;
/// The size of each worker's result ring.
pub(crate) const RING_BYTES: usize = 64 * 1024;
/// How long a worker waits for room in a full ring before it nudges the result thread (and
/// learns whether the pool is still there).
const RING_FULL_NUDGE: Duration = Duration::from_millis(100);

/// Encoded bytes that serialize as one byte string (a single copy), not as a sequence of
/// `u8` values.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Bytes(pub(crate) Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Bytes, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element()? {
                    bytes.push(b);
                }
                Ok(Bytes(bytes))
            }
        }
        deserializer.deserialize_byte_buf(Visitor)
    }
}

/// One chunk of tasks as it travels to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireChunk {
    pub(crate) id: u64,
    pub(crate) func: FunctionRef,
    /// postcard of `Vec<Args>`.
    pub(crate) input: Bytes,
}

/// From the pool to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// Run these chunks, in order, and answer each with [`FromWorker::Done`].
    Run(Vec<WireChunk>),
    /// Leave the loop (the pool was closed and has no work left).
    Exit,
}

/// From a worker to the pool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// A chunk finished: postcard of `Vec<Result<Output, PanicInfo>>`, or why the arguments or
    /// results did not (de)serialize.
    Done {
        id: u64,
        output: Result<Bytes, String>,
    },
    /// The initializer panicked; the worker leaves without running any task.
    InitFailed(PanicInfo),
    /// Results wait in the worker's ring (the result thread was asleep).
    Ready,
}

/// Where a worker's messages go.
///
/// A small result is written into a ring of shared memory ([`Queue`]'s byte path) that the
/// pool's result thread drains at every turn: no system call on either side while the
/// result thread is busy, and a result written there is delivered even if the worker dies
/// right after (the memory outlives it). The result thread sleeps only on the channels:
/// before it does, it sets `asleep` and looks at the rings once more; the worker that next
/// writes a result clears `asleep` and sends [`FromWorker::Ready`].
///
/// Large results, and everything else, go through the channel, whose end also tells the
/// pool at once that the worker is gone.
#[derive(Serialize, Deserialize)]
pub(crate) struct ResultSink {
    pub(crate) channel: IpcSender<FromWorker>,
    pub(crate) ring: Queue<()>,
    /// Shared by every worker of the pool: 1 while the result thread sleeps or is about to.
    pub(crate) asleep: Value<u32>,
}

impl ResultSink {
    /// Sends a message; `false` once the pool is gone.
    pub(crate) fn send(&self, message: FromWorker) -> bool {
        self.channel.send(message).is_ok()
    }

    /// Hands a finished chunk to the pool; `false` once the pool is gone.
    fn done(&self, id: u64, output: Result<Bytes, String>, buffer: &mut Vec<u8>) -> bool {
        // The message is the output plus a few bytes (variant, id, lengths): decide on the
        // output's length, before encoding anything.
        const FRAMING: usize = 64;
        let small = match &output {
            Ok(bytes) => bytes.0.len() < RING_MESSAGE_MAX - FRAMING,
            Err(detail) => detail.len() < RING_MESSAGE_MAX - FRAMING,
        };
        let message = FromWorker::Done { id, output };
        if !small {
            return self.send(message);
        }
        buffer.clear();
        match postcard::to_extend(&message, std::mem::take(buffer)) {
            Ok(encoded) => *buffer = encoded,
            Err(_) => return self.send(message),
        }
        loop {
            match self.ring.put_bytes_timeout(buffer, RING_FULL_NUDGE) {
                Ok(()) => break,
                // The result thread has not drained the ring for a while: nudge it, which
                // also finds out whether the pool is still there.
                Err(ChannelError::Full) if self.send(FromWorker::Ready) => {}
                Err(_) => return false,
            }
        }
        if self.asleep.swap(0) == 1 {
            return self.send(FromWorker::Ready);
        }
        true
    }
}

/// What every worker of a pool is started with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct WorkerConfig {
    /// Leave after this many chunks (Python's `maxtasksperchild`).
    pub(crate) max_tasks: Option<u64>,
}

/// The body of a pool worker without an initializer.
pub(crate) fn worker_main(tasks: IpcReceiver<ToWorker>, results: ResultSink, config: WorkerConfig) {
    run_tasks(&tasks, &results, config);
}

/// The body of a pool worker with an initializer: run it, then the tasks. `initializer` is a
/// zero-sized function item, so a closure that captures it is still a valid process target,
/// and the initializer's arguments travel as ordinary (typed) process arguments: channel and
/// shared-memory handles among them arrive intact under every start method.
pub(crate) fn init_then_run<F, Args>(
    initializer: F,
    args: Args,
    tasks: IpcReceiver<ToWorker>,
    results: ResultSink,
    config: WorkerConfig,
) where
    F: Target<Args, Output = ()>,
{
    if let Err(panic) = catch_panic(true, move || initializer.call(args)) {
        results.send(FromWorker::InitFailed(panic));
        return;
    }
    run_tasks(&tasks, &results, config);
}

/// Runs chunks until told to stop, the pool goes away, or `max_tasks` chunks are done.
fn run_tasks(tasks: &IpcReceiver<ToWorker>, results: &ResultSink, config: WorkerConfig) {
    let _reserve = reserve_receive_buffer(1);
    let mut done = 0u64;
    let mut buffer = Vec::new();
    loop {
        let batch = match tasks.recv() {
            Ok(ToWorker::Run(batch)) => batch,
            // Told to leave, or the pool is gone.
            Ok(ToWorker::Exit) | Err(_) => return,
        };
        for chunk in batch {
            let output = chunk.func.call(&chunk.input.0).map(Bytes);
            if !results.done(chunk.id, output, &mut buffer) {
                return;
            }
            done += 1;
            if config.max_tasks.is_some_and(|max| done >= max) {
                return;
            }
        }
    }
}

/// ipc-channel allocates a buffer of about 212 KiB for every message it receives. Where that
/// buffer comes from the top of the heap, freeing it hands the memory back to the system and
/// the next receive faults it in again (a few microseconds per message). This leaves a free
/// block below a small live allocation, which the allocator reuses for those buffers instead;
/// keep the returned allocation alive while receiving.
pub(crate) fn reserve_receive_buffer(buffers: usize) -> Box<u64> {
    // Pieces below the allocator's mmap threshold, so that they come from the heap and
    // merge into one free block once dropped.
    const PIECE: usize = 96 * 1024;
    let pieces: Vec<Vec<u8>> = (0..buffers * 3)
        .map(|_| Vec::with_capacity(PIECE))
        .collect();
    let pin = Box::new(std::hint::black_box(0u64));
    drop(std::hint::black_box(pieces));
    pin
}
