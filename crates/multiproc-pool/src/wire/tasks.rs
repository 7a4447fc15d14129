//! The task direction: the pool sends batches of chunks down each worker's task channel.

use ipc_channel::ipc::{self, IpcReceiver, IpcSender};
use serde::{Deserialize, Serialize};

use super::{Claims, ToWorker, WireChunk};

/// The pool's end of a worker's task channel, with the worker's [`Claims`].
pub(crate) struct TaskSender {
    channel: IpcSender<ToWorker>,
    pub(crate) claims: Claims,
}

/// The worker's end of its task channel; it travels to the worker as a process argument.
#[derive(Serialize, Deserialize)]
pub(crate) struct TaskReceiver {
    channel: IpcReceiver<ToWorker>,
    pub(crate) claims: Claims,
}

/// A new task channel.
pub(crate) fn task_channel() -> std::io::Result<(TaskSender, TaskReceiver)> {
    let (tx, rx) = ipc::channel::<ToWorker>()?;
    let claims = Claims::new()?;
    let receiver = TaskReceiver {
        channel: rx,
        claims: claims.handle(),
    };
    Ok((
        TaskSender {
            channel: tx,
            claims,
        },
        receiver,
    ))
}

impl std::fmt::Debug for TaskSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSender").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TaskReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskReceiver").finish_non_exhaustive()
    }
}

impl TaskSender {
    /// Sends a batch of chunks, to be run in order (each one only if the worker can still
    /// claim it, see [`Claims`]).
    pub(crate) fn run(&self, chunks: Vec<WireChunk>) -> Result<(), ipc_channel::IpcError> {
        self.channel.send(ToWorker::Run(chunks))
    }

    /// Asks the worker to leave once it is done with what it has.
    pub(crate) fn exit(&self) -> Result<(), ipc_channel::IpcError> {
        self.channel.send(ToWorker::Exit)
    }
}

impl TaskReceiver {
    /// The next batch of chunks; `None` when the worker is to leave (told so, or the pool
    /// is gone, or the pool's message did not decode).
    pub(crate) fn next_batch(&self) -> Option<Vec<WireChunk>> {
        match self.channel.recv() {
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
