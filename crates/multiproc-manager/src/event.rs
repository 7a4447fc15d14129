//! [`EventProxy`]: an event flag in a manager.

use std::marker::PhantomData;
use std::time::Duration;

use crate::error::ManagerError;
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{EventOp, Kind, Reply, Request};

/// A proxy to an event flag in a manager's server: Python's `manager.Event()`, from
/// [`Manager::event`](crate::Manager::event).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let ready = manager.event()?;
/// assert!(!ready.wait_timeout(Duration::from_millis(10))?);
/// ready.set()?;
/// assert!(ready.is_set()?);
/// ready.wait()?;
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.EventProxy")]
pub struct EventProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(EventProxy, Kind::Event);

impl EventProxy {
    fn call(&self, op: EventOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Event(self.handle.id, op))
    }

    fn boolean(&self, op: EventOp) -> Result<bool, ManagerError> {
        match self.call(op)? {
            Reply::Bool(value) => Ok(value),
            other => Err(unexpected(other)),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let e = manager.event()?;
    /// e.set()?;
    /// assert!(e.is_set()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn set(&self) -> Result<(), ManagerError> {
        match self.call(EventOp::Set)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Clears the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let e = manager.event()?;
    /// e.set()?;
    /// e.clear()?;
    /// assert!(!e.is_set()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        match self.call(EventOp::Clear)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.event()?.is_set()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn is_set(&self) -> Result<bool, ManagerError> {
        self.boolean(EventOp::IsSet)
    }

    /// Waits until the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let e = manager.event()?;
    /// let setter = e.clone();
    /// std::thread::spawn(move || setter.set());
    /// e.wait()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait(&self) -> Result<(), ManagerError> {
        self.boolean(EventOp::Wait(None)).map(|_| ())
    }

    /// Waits at most `timeout` for the flag; whether it is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.event()?.wait_timeout(Duration::from_millis(5))?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ManagerError> {
        self.boolean(EventOp::Wait(Some(timeout)))
    }
}
