//! [`RLockProxy`]: a reentrant lock in a manager, released when its holder dies.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::error::ManagerError;
use crate::held::{Held, acquire, never_gave_up};
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{Kind, RLockOp, Reply, Request};

/// A proxy to a reentrant lock in a manager's server: Python's `manager.RLock()`, from
/// [`Manager::rlock`](crate::Manager::rlock).
///
/// The thread that holds it may acquire it again; it is free once every guard is dropped.
/// The owner is the client's process and thread, so a guard may be dropped on another
/// thread. Each acquisition is tied to a connection of its own: if the holder dies, the
/// server releases what it held (CPython's stays held).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let rlock = manager.rlock()?;
/// let outer = rlock.acquire()?;
/// let inner = rlock.acquire()?; // the same thread: no deadlock
/// drop(inner);
/// assert!(rlock.locked()?);
/// // Another thread waits while this one holds it.
/// let other = rlock.clone();
/// let waited = std::thread::spawn(move || other.acquire_timeout(Duration::from_millis(20)).map(|g| g.is_some()));
/// assert!(!waited.join().unwrap()?);
/// drop(outer);
/// assert!(!rlock.locked()?);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.SyncManager.RLock")]
pub struct RLockProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(RLockProxy, Kind::RLock);

impl RLockProxy {
    fn acquire_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<RLockGuard>, ManagerError> {
        let owner = (
            multiproc_sys::process::pid(),
            multiproc_sys::process::thread_id(),
        );
        let request = Request::RLock(self.handle.id, RLockOp::Acquire { owner, timeout });
        Ok(acquire(&self.handle, &request)?.map(|held| RLockGuard { held }))
    }

    /// Waits until the lock is free or this thread's, and takes it (once more).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let rlock = manager.rlock()?;
    /// rlock.acquire()?.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire(&self) -> Result<RLockGuard, ManagerError> {
        self.acquire_within(None)?.ok_or_else(never_gave_up)
    }

    /// Waits at most `timeout`; `None` if another thread kept it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.rlock()?.acquire_timeout(Duration::from_secs(1))?.is_some());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Option<RLockGuard>, ManagerError> {
        self.acquire_within(Some(timeout))
    }

    /// Whether anyone holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.rlock()?.locked()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn locked(&self) -> Result<bool, ManagerError> {
        match self
            .handle
            .call(&Request::RLock(self.handle.id, RLockOp::Locked))?
        {
            Reply::Bool(locked) => Ok(locked),
            other => Err(unexpected(other)),
        }
    }
}

/// One acquisition of an [`RLockProxy`]: released when dropped, or with
/// [`release`](Self::release), which reports errors.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let rlock = manager.rlock()?;
/// let guard = rlock.acquire()?;
/// drop(guard);
/// assert!(!rlock.locked()?);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
pub struct RLockGuard {
    held: Held,
}

impl fmt::Debug for RLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("manager", &self.held.handle.endpoint)
            .field("rlock", &self.held.handle.id)
            .finish()
    }
}

impl RLockGuard {
    /// Releases this acquisition now, reporting an error.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// manager.rlock()?.acquire()?.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn release(mut self) -> Result<(), ManagerError> {
        let request = Request::RLock(self.held.handle.id, RLockOp::Release);
        self.held.release(&request)
    }
}

impl Drop for RLockGuard {
    fn drop(&mut self) {
        let request = Request::RLock(self.held.handle.id, RLockOp::Release);
        if let Err(error) = self.held.release(&request) {
            log::debug!("releasing manager rlock {}: {error}", self.held.handle.id);
        }
    }
}
