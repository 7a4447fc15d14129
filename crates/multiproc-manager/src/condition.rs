//! [`ConditionProxy`]: a condition variable with its own lock in a manager.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::error::ManagerError;
use crate::held::{Held, acquire, never_gave_up};
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{ConditionOp, Kind, Reply, Request};

/// A proxy to a condition variable in a manager's server: Python's `manager.Condition()`,
/// from [`Manager::condition`](crate::Manager::condition).
///
/// The condition has its own lock. [`acquire`](Self::acquire) takes it and returns a
/// [`ConditionGuard`], on which [`wait`](ConditionGuard::wait) releases the lock, waits for a
/// [`notify`](ConditionGuard::notify), and takes the lock back, as Python's `wait` does.
/// Waiting and notifying without the lock cannot be written: they are methods of the
/// guard. A holder that dies releases the lock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let ready = manager.condition()?;
/// let flag = manager.value(false)?;
/// let (ready2, flag2) = (ready.clone(), flag.clone());
/// let waiter = std::thread::spawn(move || -> Result<bool, multiproc_manager::ManagerError> {
///     let mut guard = ready2.acquire()?;
///     guard.wait_for(|| flag2.get(), Some(Duration::from_secs(30)))
/// });
/// {
///     let mut guard = ready.acquire()?;
///     flag.set(true)?;
///     guard.notify_all()?;
/// }
/// assert!(waiter.join().unwrap()?);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.SyncManager.Condition")]
pub struct ConditionProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(ConditionProxy, Kind::Condition);

impl ConditionProxy {
    fn acquire_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<ConditionGuard>, ManagerError> {
        let request = Request::Condition(self.handle.id, ConditionOp::Acquire(timeout));
        Ok(acquire(&self.handle, &request)?.map(|held| ConditionGuard { held }))
    }

    /// Waits until the condition's lock is free and takes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let condition = manager.condition()?;
    /// condition.acquire()?.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire(&self) -> Result<ConditionGuard, ManagerError> {
        self.acquire_within(None)?.ok_or_else(never_gave_up)
    }

    /// Waits at most `timeout` for the lock; `None` if it stayed taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// let condition = manager.condition()?;
    /// let _held = condition.acquire()?;
    /// assert!(condition.acquire_timeout(Duration::from_millis(10))?.is_none());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<ConditionGuard>, ManagerError> {
        self.acquire_within(Some(timeout))
    }
}

/// The held lock of a [`ConditionProxy`]: wait and notify here. Released when dropped, or
/// with [`release`](Self::release), which reports errors.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let manager = multiproc_manager::Manager::start()?;
/// let condition = manager.condition()?;
/// let mut guard = condition.acquire()?;
/// // Nobody notifies: the wait times out, with the lock held again.
/// assert!(!guard.wait_timeout(Duration::from_millis(10))?);
/// guard.notify(1)?;
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
pub struct ConditionGuard {
    held: Held,
}

impl fmt::Debug for ConditionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("manager", &self.held.handle.endpoint)
            .field("condition", &self.held.handle.id)
            .finish()
    }
}

impl ConditionGuard {
    fn call(&mut self, op: ConditionOp) -> Result<Reply, ManagerError> {
        let request = Request::Condition(self.held.handle.id, op);
        self.held.call(&request)
    }

    fn wait_within(&mut self, timeout: Option<Duration>) -> Result<bool, ManagerError> {
        match self.call(ConditionOp::Wait(timeout))? {
            Reply::Bool(notified) => Ok(notified),
            other => Err(unexpected(other)),
        }
    }

    /// Releases the lock, waits for a notify, and takes the lock back.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let condition = manager.condition()?;
    /// let other = condition.clone();
    /// let mut guard = condition.acquire()?;
    /// let notifier = std::thread::spawn(move || -> Result<(), multiproc_manager::ManagerError> {
    ///     // Gets the lock only once the waiter has released it in `wait`.
    ///     other.acquire()?.notify(1)
    /// });
    /// guard.wait()?;
    /// notifier.join().unwrap()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait(&mut self) -> Result<(), ManagerError> {
        self.wait_within(None).map(|_| ())
    }

    /// As [`wait`](Self::wait), for at most `timeout`; whether a notify came.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// let mut guard = manager.condition()?.acquire()?;
    /// assert!(!guard.wait_timeout(Duration::ZERO)?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<bool, ManagerError> {
        self.wait_within(Some(timeout))
    }

    /// Waits until `predicate` gives true, checking it with the lock held before each
    /// wait and after it (Python's `wait_for`); at most `timeout` in all (`None`: no
    /// limit). The predicate's last value.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let mut guard = manager.condition()?.acquire()?;
    /// assert!(guard.wait_for(|| Ok(true), None)?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait_for(
        &mut self,
        mut predicate: impl FnMut() -> Result<bool, ManagerError>,
        timeout: Option<Duration>,
    ) -> Result<bool, ManagerError> {
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        loop {
            if predicate()? {
                return Ok(true);
            }
            match (timeout, deadline) {
                (None, _) | (Some(_), None) => self.wait()?,
                (Some(_), Some(deadline)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    self.wait_timeout(left)?;
                }
            }
        }
    }

    /// Wakes up to `count` waiters (Python's `notify(n)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// manager.condition()?.acquire()?.notify(1)?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn notify(&mut self, count: u64) -> Result<(), ManagerError> {
        match self.call(ConditionOp::Notify(count))? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Wakes every waiter (Python's `notify_all`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// manager.condition()?.acquire()?.notify_all()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn notify_all(&mut self) -> Result<(), ManagerError> {
        self.notify(u64::MAX)
    }

    /// Releases the lock now, reporting an error.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// manager.condition()?.acquire()?.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn release(mut self) -> Result<(), ManagerError> {
        let request = Request::Condition(self.held.handle.id, ConditionOp::Release);
        self.held.release(&request)
    }
}

impl Drop for ConditionGuard {
    fn drop(&mut self) {
        let request = Request::Condition(self.held.handle.id, ConditionOp::Release);
        if let Err(error) = self.held.release(&request) {
            log::debug!(
                "releasing manager condition {}: {error}",
                self.held.handle.id
            );
        }
    }
}
