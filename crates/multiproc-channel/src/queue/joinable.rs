//! `JoinableQueue`: a [`Queue`] that counts unfinished tasks.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Queue;
use crate::deadline::Deadline;
use crate::error::QueueError;

/// A [`Queue`] that also counts unfinished tasks, like Python's
/// `multiprocessing.JoinableQueue`: every `put` adds one, [`task_done`](Self::task_done)
/// removes one, and [`join`](Self::join) waits for zero.
///
/// It derefs to [`Queue`] for `put`, `get` and the rest. A consumer that dies between
/// `get` and `task_done` leaves its task unfinished, as in Python; use
/// [`join_timeout`](Self::join_timeout) where that can happen.
///
/// # Examples
///
/// ```
/// use multiproc_channel::JoinableQueue;
///
/// let queue = JoinableQueue::<u32>::new()?;
/// queue.put(1)?;
/// let job = queue.get()?;
/// queue.task_done()?;
/// queue.join()?;
/// assert!(queue.task_done().is_err()); // one too many
/// # let _ = job;
/// # Ok::<(), multiproc_channel::QueueError>(())
/// ```
#[doc(alias = "multiprocessing.JoinableQueue")]
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct JoinableQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("qsize", &self.queue.ring().len())
            .field("unfinished", &self.queue.ring().unfinished())
            .finish()
    }
}

impl<T> std::ops::Deref for JoinableQueue<T> {
    type Target = Queue<T>;

    fn deref(&self) -> &Queue<T> {
        &self.queue
    }
}

impl<T: Serialize + DeserializeOwned + 'static> JoinableQueue<T> {
    /// An unbounded joinable queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::new()?;
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn new() -> Result<Self, QueueError> {
        Ok(JoinableQueue {
            queue: Queue::new()?,
        })
    }

    /// A joinable queue holding at most `maxsize` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::bounded(8)?;
    /// assert_eq!(queue.maxsize(), Some(8));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn bounded(maxsize: usize) -> Result<Self, QueueError> {
        Ok(JoinableQueue {
            queue: Queue::bounded(maxsize)?,
        })
    }

    /// A joinable queue of at most `maxsize` items (`None`: unbounded) in a ring of
    /// `ring_bytes` bytes, like [`Queue::with_capacity`].
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::with_capacity(Some(4), 4096)?;
    /// assert_eq!(queue.maxsize(), Some(4));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn with_capacity(maxsize: Option<usize>, ring_bytes: usize) -> Result<Self, QueueError> {
        Ok(JoinableQueue {
            queue: Queue::with_capacity(maxsize, ring_bytes)?,
        })
    }

    /// Marks one item as processed; [`QueueError::TaskDoneTooOften`] if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::new()?;
    /// queue.put(1)?;
    /// queue.get()?;
    /// queue.task_done()?;
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn task_done(&self) -> Result<(), QueueError> {
        self.queue.ring().task_done()
    }

    /// Blocks until every item put has been marked done with
    /// [`task_done`](Self::task_done).
    ///
    /// Fails with [`QueueError::Corrupt`] at once on a queue found corrupt (by this call or an
    /// earlier one in this process), whose count cannot be trusted: like `put`, `get` and
    /// `task_done`, a wait on a poisoned queue is an error, never a silent return.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::new()?;
    /// queue.join()?; // nothing outstanding
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn join(&self) -> Result<(), QueueError> {
        self.queue.ring().join(Deadline::Never).map(|_| ())
    }

    /// Like [`join`](Self::join), giving up after `timeout` (`Duration::ZERO`: check once;
    /// `Duration::MAX`: no limit); returns whether all tasks were done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let queue = multiproc_channel::JoinableQueue::<u8>::new()?;
    /// queue.put(1)?;
    /// assert!(!queue.join_timeout(Duration::from_millis(10))?);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, QueueError> {
        self.queue.ring().join(Deadline::After(timeout))
    }

    /// Items put and not yet marked done.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::JoinableQueue::<u8>::new()?;
    /// queue.put(1)?;
    /// assert_eq!(queue.unfinished_tasks(), 1);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.queue.ring().unfinished()
    }
}
