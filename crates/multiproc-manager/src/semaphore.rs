//! [`SemaphoreProxy`]: a counting semaphore in a manager, given back when a holder dies.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::error::ManagerError;
use crate::held::{Held, acquire, never_gave_up};
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{Kind, Reply, Request, SemaphoreOp};

/// A proxy to a semaphore in a manager's server: Python's `manager.Semaphore(value)` and
/// `manager.BoundedSemaphore(value)`, from [`Manager::semaphore`](crate::Manager::semaphore)
/// and [`Manager::bounded_semaphore`](crate::Manager::bounded_semaphore).
///
/// [`acquire`](Self::acquire) takes one unit and returns a guard that gives it back when
/// dropped; the unit is tied to the guard's connection, so a holder that dies gives it
/// back too. [`release`](Self::release) adds a unit from anyone, as Python's `release`
/// (a bounded semaphore refuses to go above its initial value).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let slots = manager.semaphore(2)?;
/// let first = slots.acquire()?;
/// let second = slots.acquire()?;
/// assert!(slots.acquire_timeout(Duration::from_millis(10))?.is_none());
/// drop(first);
/// assert_eq!(slots.value()?, 1);
/// # drop(second);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.SyncManager.Semaphore")]
#[doc(alias = "multiprocessing.managers.SyncManager.BoundedSemaphore")]
pub struct SemaphoreProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(SemaphoreProxy, Kind::Semaphore);

impl SemaphoreProxy {
    fn acquire_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<SemaphoreGuard>, ManagerError> {
        let request = Request::Semaphore(self.handle.id, SemaphoreOp::Acquire(timeout));
        Ok(acquire(&self.handle, &request)?.map(|held| SemaphoreGuard { held }))
    }

    /// Waits until the counter is above zero and takes one.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let semaphore = manager.semaphore(1)?;
    /// let unit = semaphore.acquire()?;
    /// assert_eq!(semaphore.value()?, 0);
    /// unit.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire(&self) -> Result<SemaphoreGuard, ManagerError> {
        self.acquire_within(None)?.ok_or_else(never_gave_up)
    }

    /// Waits at most `timeout` for a unit; `None` if none came.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.semaphore(0)?.acquire_timeout(Duration::ZERO)?.is_none());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<SemaphoreGuard>, ManagerError> {
        self.acquire_within(Some(timeout))
    }

    /// Adds one unit, from any client (Python's `release`). A bounded semaphore at its
    /// initial value refuses with
    /// [`RemoteError::SemaphoreReleasedTooOften`](crate::RemoteError::SemaphoreReleasedTooOften).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::{ManagerError, RemoteError};
    /// let manager = multiproc_manager::Manager::start()?;
    /// let plain = manager.semaphore(0)?;
    /// plain.release()?;
    /// assert_eq!(plain.value()?, 1);
    /// let bounded = manager.bounded_semaphore(1)?;
    /// assert!(matches!(
    ///     bounded.release(),
    ///     Err(ManagerError::Remote(RemoteError::SemaphoreReleasedTooOften { bound: 1 }))
    /// ));
    /// # Ok::<(), ManagerError>(())
    /// ```
    pub fn release(&self) -> Result<(), ManagerError> {
        match self
            .handle
            .call(&Request::Semaphore(self.handle.id, SemaphoreOp::Release))?
        {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// The counter now.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.semaphore(3)?.value()?, 3);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn value(&self) -> Result<u64, ManagerError> {
        match self
            .handle
            .call(&Request::Semaphore(self.handle.id, SemaphoreOp::Value))?
        {
            Reply::Len(value) => Ok(value),
            other => Err(unexpected(other)),
        }
    }
}

/// A unit taken from a [`SemaphoreProxy`]: given back when dropped, or with
/// [`release`](Self::release), which reports errors.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let semaphore = manager.semaphore(1)?;
/// drop(semaphore.acquire()?);
/// assert_eq!(semaphore.value()?, 1);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
pub struct SemaphoreGuard {
    held: Held,
}

impl fmt::Debug for SemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("manager", &self.held.handle.endpoint)
            .field("semaphore", &self.held.handle.id)
            .finish()
    }
}

impl SemaphoreGuard {
    /// Gives the unit back now, reporting an error.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// manager.semaphore(1)?.acquire()?.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn release(mut self) -> Result<(), ManagerError> {
        let request = Request::Semaphore(self.held.handle.id, SemaphoreOp::ReleaseHeld);
        self.held.release(&request)
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        let request = Request::Semaphore(self.held.handle.id, SemaphoreOp::ReleaseHeld);
        if let Err(error) = self.held.release(&request) {
            log::debug!(
                "releasing manager semaphore {}: {error}",
                self.held.handle.id
            );
        }
    }
}
