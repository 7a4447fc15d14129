//! Errors of the queues.

use std::io;

/// Everything that can go wrong in a [`Queue`](crate::Queue),
/// [`SimpleQueue`](crate::SimpleQueue) or [`JoinableQueue`](crate::JoinableQueue).
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Queue, QueueError};
///
/// let queue = Queue::<u32>::new()?;
/// assert!(matches!(queue.get_nowait(), Err(QueueError::Empty)));
/// # Ok::<(), QueueError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue was closed.
    #[error("the queue is closed")]
    Closed,
    /// A non-blocking or timed `get` found nothing (Python's `queue.Empty`).
    #[doc(alias = "queue.Empty")]
    #[error("the queue is empty")]
    Empty,
    /// A non-blocking or timed `put` found no room (Python's `queue.Full`).
    #[doc(alias = "queue.Full")]
    #[error("the queue is full")]
    Full,
    /// An item tried to carry more channel or shared-memory handles than one
    /// `SCM_RIGHTS` message holds.
    #[error("an item may carry at most {max} handles, this one carries {count}")]
    TooManyHandles {
        /// Handles found in the item.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The value could not be serialized.
    #[error("cannot encode the item: {0}")]
    Encode(String),
    /// The bytes received do not decode as the expected type.
    #[error("cannot decode the item: {0}")]
    Decode(String),
    /// `JoinableQueue::task_done` was called more often than items were put.
    #[error("task_done() called more times than there were items")]
    TaskDoneTooOften,
    /// A process died inside a queue operation and the queue was repaired; the operation
    /// that noticed it carried on.
    #[error("a process died while holding the queue lock")]
    OwnerDied,
    /// An item is larger than the queue's maximum message size; nothing was allocated.
    #[error("a {size}-byte item exceeds the maximum message size of {max} bytes")]
    MessageTooLarge {
        /// The size of the item.
        size: u64,
        /// The limit.
        max: usize,
    },
    /// The queue's shared memory holds values that no queue operation writes (a length or
    /// position out of range, counters that disagree): another process scribbled on it.
    /// The queue is poisoned: every later operation on it in this process fails with this
    /// error too.
    #[error("the queue's shared memory is corrupt: {0}")]
    Corrupt(String),
    /// An operating-system error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// An error from the shared-memory layer (the queue's segment or lock).
    #[error(transparent)]
    Shared(#[from] multiproc_shared::SharedError),
}
