//! The messages of the protocol, in both directions.

use multiproc_process::{FunctionRef, PanicInfo};
use serde::{Deserialize, Serialize};

use super::Bytes;

/// One chunk of tasks as it travels to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireChunk {
    pub(crate) id: u64,
    /// Its sequence number on this worker, to claim it with (see [`Claims`](super::Claims)).
    pub(crate) seq: u64,
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
    /// Look at the task channel: a message went there (only ever in the task ring).
    Wake,
}

/// From a worker to the pool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// A chunk finished: postcard of `Vec<Result<Output, PanicInfo>>` (for its tasks not sent
    /// in a `Partial` before), or why the arguments or
    /// results did not (de)serialize.
    Done {
        id: u64,
        output: Result<Bytes, String>,
    },
    /// The first tasks of a chunk that is still running: postcard of
    /// `Vec<Result<Output, PanicInfo>>` for the tasks after those already sent. The chunk's
    /// `Done` carries the rest.
    Partial { id: u64, output: Bytes },
    /// The initializer panicked; the worker leaves without running any task.
    InitFailed(PanicInfo),
    /// Results wait in the worker's ring (the result thread was asleep).
    Ready,
}
