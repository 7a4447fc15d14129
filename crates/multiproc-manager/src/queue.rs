//! [`QueueProxy`]: a FIFO queue in a manager.

use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Kind, QueueOp, Reply, Request};

/// A proxy to an unbounded FIFO queue in a manager's server: Python's `manager.Queue()`,
/// from [`Manager::queue`](crate::Manager::queue).
///
/// A blocking [`get`](Self::get) waits in the server, on the thread that serves this
/// connection, so it holds up no other client. If the client dies while waiting, the
/// server notices within a fraction of a second and stops waiting; an item taken for a
/// client whose connection is gone when the reply is written goes back to the front of
/// the queue. For queues between processes of one machine, `multiproc::channel::Queue`
/// (shared memory, no server) is much faster.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let jobs = manager.queue::<u32>()?;
/// jobs.put(1)?;
/// jobs.put(2)?;
/// assert_eq!(jobs.len()?, 2);
/// assert_eq!(jobs.get()?, 1);
/// assert_eq!(jobs.get_timeout(Duration::from_secs(1))?, 2);
/// assert!(matches!(jobs.get_nowait(), Err(multiproc_manager::ManagerError::Empty)));
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.BaseProxy")]
pub struct QueueProxy<T> {
    handle: Handle,
    _types: PhantomData<fn() -> T>,
}

proxy_impls!(QueueProxy<T>, Kind::Queue);

impl<T: Serialize + DeserializeOwned> QueueProxy<T> {
    fn call(&self, op: QueueOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Queue(self.handle.id, op))
    }

    /// Appends `item`; never blocks (the queue is unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<String>()?;
    /// q.put("job".into())?;
    /// assert_eq!(q.get()?, "job");
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), ManagerError> {
        match self.call(QueueOp::Put(encode(&item)?))? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn take(&self, timeout: Option<Duration>) -> Result<T, ManagerError> {
        match self.call(QueueOp::Get(timeout))? {
            Reply::Bytes(Some(bytes)) => decode(&bytes),
            Reply::TimedOut => Err(ManagerError::Empty),
            other => Err(unexpected(other)),
        }
    }

    /// Removes and returns the first item, waiting for one as long as it takes (bounded by
    /// the proxy's [`with_timeout`](crate::Proxy::with_timeout), if set).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<u8>()?;
    /// let producer = q.clone();
    /// std::thread::spawn(move || producer.put(9));
    /// assert_eq!(q.get()?, 9);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get(&self) -> Result<T, ManagerError> {
        self.take(None)
    }

    /// Like [`get`](Self::get), but gives up with [`ManagerError::Empty`] after `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<u8>()?;
    /// assert!(q.get_timeout(Duration::from_millis(10)).is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, ManagerError> {
        self.take(Some(timeout))
    }

    /// The first item if there is one now, else [`ManagerError::Empty`].
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<u8>()?;
    /// assert!(q.get_nowait().is_err());
    /// q.put(1)?;
    /// assert_eq!(q.get_nowait()?, 1);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get_nowait(&self) -> Result<T, ManagerError> {
        self.take(Some(Duration::ZERO))
    }

    /// The number of items (Python's `qsize()`, exact here).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<u8>()?;
    /// q.put(1)?;
    /// assert_eq!(q.len()?, 1);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(QueueOp::Len)? {
            Reply::Len(len) => usize::try_from(len).map_err(|e| ManagerError::Codec(e.to_string())),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the queue is empty now.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.queue::<u8>()?.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }
}
