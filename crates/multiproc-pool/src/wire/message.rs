//! The messages of the protocol, in both directions.

use multiproc_process::{FunctionRef, PanicInfo};
use serde::{Deserialize, Serialize};

use super::Bytes;

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
