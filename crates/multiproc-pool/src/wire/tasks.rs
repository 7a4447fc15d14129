//! The task direction: the pool sends batches of chunks down each worker's task channel.

use ipc_channel::ipc::{self, IpcReceiver, IpcSender};
use serde::{Deserialize, Serialize};

use super::{ToWorker, WireChunk};

/// The pool's end of a worker's task channel.
#[derive(Debug)]
pub(crate) struct TaskSender(IpcSender<ToWorker>);

/// The worker's end of its task channel; it travels to the worker as a process argument.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TaskReceiver(IpcReceiver<ToWorker>);

/// A new task channel.
pub(crate) fn task_channel() -> std::io::Result<(TaskSender, TaskReceiver)> {
    let (tx, rx) = ipc::channel::<ToWorker>()?;
    Ok((TaskSender(tx), TaskReceiver(rx)))
}

impl TaskSender {
    /// Sends a batch of chunks, to be run in order.
    pub(crate) fn run(&self, chunks: Vec<WireChunk>) -> Result<(), ipc_channel::IpcError> {
        self.0.send(ToWorker::Run(chunks))
    }

    /// Asks the worker to leave once it is done with what it has.
    pub(crate) fn exit(&self) -> Result<(), ipc_channel::IpcError> {
        self.0.send(ToWorker::Exit)
    }
}

impl TaskReceiver {
    /// The next batch of chunks; `None` when the worker is to leave (told so, or the pool
    /// is gone, or the pool's message did not decode).
    pub(crate) fn next_batch(&self) -> Option<Vec<WireChunk>> {
        match self.0.recv() {
            Ok(ToWorker::Run(batch)) => Some(batch),
            Ok(ToWorker::Exit) => None,
            Err(e) => {
                if !matches!(e, ipc_channel::IpcError::Disconnected) {
                    log::error!("a pool worker could not read its tasks: {e}");
                }
                None
            }
        }
    }
}
