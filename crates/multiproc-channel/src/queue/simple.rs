//! `SimpleQueue`: Python's reduced queue interface over a [`Queue`].

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Queue;
use crate::error::{QueueError, SendError};

/// A simpler unbounded queue, like Python's `multiprocessing.SimpleQueue`: `put`, `get`,
/// `empty` and `close`.
///
/// It shares [`Queue`]'s implementation (CPython's `SimpleQueue` exists to skip the
/// feeder thread, which `Queue` here does not have either).
///
/// # Examples
///
/// ```
/// use multiproc_channel::SimpleQueue;
///
/// let queue = SimpleQueue::<String>::new()?;
/// queue.put("job".to_owned())?;
/// assert_eq!(queue.get()?, "job");
/// assert!(queue.is_empty());
/// # Ok::<(), multiproc_channel::QueueError>(())
/// ```
#[doc(alias = "multiprocessing.SimpleQueue")]
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct SimpleQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for SimpleQueue<T> {
    fn clone(&self) -> Self {
        SimpleQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("len", &self.queue.ring().len())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned + 'static> SimpleQueue<T> {
    /// Creates an empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::SimpleQueue::<u8>::new()?;
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn new() -> Result<Self, QueueError> {
        Ok(SimpleQueue {
            queue: Queue::new()?,
        })
    }

    /// Puts an item (blocks only while the ring is out of bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// multiproc_channel::SimpleQueue::<u8>::new()?.put(1)?;
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), SendError<T>> {
        self.queue.put(item)
    }

    /// Removes the oldest item, blocking while empty; [`QueueError::Closed`] once closed and
    /// drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::SimpleQueue::<u8>::new()?;
    /// queue.put(3)?;
    /// assert_eq!(queue.get()?, 3);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get(&self) -> Result<T, QueueError> {
        self.queue.get()
    }

    /// Puts raw bytes as one item (see [`Queue::put_bytes`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::SimpleQueue::<()>::new()?;
    /// queue.put_bytes(b"abc")?;
    /// assert_eq!(queue.get_bytes()?, b"abc");
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<(), QueueError> {
        self.queue.put_bytes(bytes)
    }

    /// Removes the oldest item and returns its bytes (see [`Queue::get_bytes`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::SimpleQueue::<u8>::new()?;
    /// queue.put(5)?;
    /// assert_eq!(queue.get_bytes()?, [5]);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_bytes(&self) -> Result<Vec<u8>, QueueError> {
        self.queue.get_bytes()
    }

    /// Whether the queue is empty now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_channel::SimpleQueue::<u8>::new()?.is_empty());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Closes the queue for every process (see [`Queue::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::SimpleQueue::<u8>::new()?;
    /// queue.close();
    /// assert!(queue.put(1).is_err());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn close(&self) {
        self.queue.close();
    }

    pub(crate) fn ready_now(&self) -> bool {
        self.queue.ready_now()
    }
}
