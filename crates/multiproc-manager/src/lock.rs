//! [`LockProxy`]: a lock in a manager, released when its holder's connection closes.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use multiproc_channel::SocketConnection;

use crate::endpoint::{exchange, into_result};
use crate::error::ManagerError;
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{Kind, LockOp, Reply, Request};

/// A proxy to a lock in a manager's server: Python's `manager.Lock()` (`AcquirerProxy`),
/// from [`Manager::lock`](crate::Manager::lock).
///
/// [`acquire`](Self::acquire) returns a guard that releases the lock when dropped. The
/// guard holds the connection on which the lock was acquired, and the server ties the
/// lock to that connection: if the holder dies (or its connection breaks), the server
/// releases the lock. CPython's manager lock stays held for ever in that case.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let manager = multiproc_manager::Manager::start()?;
/// let lock = manager.lock()?;
/// {
///     let _guard = lock.acquire()?;
///     assert!(lock.locked()?);
///     // Another holder would wait; a timed attempt gives up.
///     assert!(lock.acquire_timeout(Duration::from_millis(10))?.is_none());
/// }
/// assert!(!lock.locked()?);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.AcquirerProxy")]
pub struct LockProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(LockProxy, Kind::Lock);

impl LockProxy {
    fn acquire_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<LockProxyGuard>, ManagerError> {
        let connection = self.handle.endpoint.checkout()?;
        let request = Request::Lock(self.handle.id, LockOp::Acquire(timeout));
        let reply = exchange(&connection, &request, self.handle.timeout)?;
        match into_result(reply) {
            Ok(Reply::Bool(true)) => Ok(Some(LockProxyGuard {
                handle: self.handle.clone(),
                connection: Some(connection),
            })),
            Ok(Reply::Bool(false)) => {
                self.handle.endpoint.checkin(connection);
                Ok(None)
            }
            Ok(other) => Err(unexpected(other)),
            Err(error) => {
                self.handle.endpoint.checkin(connection);
                Err(error)
            }
        }
    }

    /// Waits until the lock is free and takes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let lock = manager.lock()?;
    /// let guard = lock.acquire()?;
    /// guard.release()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire(&self) -> Result<LockProxyGuard, ManagerError> {
        match self.acquire_within(None)? {
            Some(guard) => Ok(guard),
            None => Err(ManagerError::Codec(
                "the manager gave up an acquire without a timeout".into(),
            )),
        }
    }

    /// Waits at most `timeout` for the lock; `None` if it stayed taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// let lock = manager.lock()?;
    /// let held = lock.acquire_timeout(Duration::from_secs(1))?;
    /// assert!(held.is_some());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<LockProxyGuard>, ManagerError> {
        self.acquire_within(Some(timeout))
    }

    /// Whether someone holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.lock()?.locked()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn locked(&self) -> Result<bool, ManagerError> {
        match self
            .handle
            .call(&Request::Lock(self.handle.id, LockOp::Locked))?
        {
            Reply::Bool(locked) => Ok(locked),
            other => Err(unexpected(other)),
        }
    }
}

/// A held [`LockProxy`]: releases the lock when dropped, or with
/// [`release`](Self::release), which reports errors.
///
/// It owns the connection the lock was acquired on, so it is `Send` (release it from
/// another thread) but not `Sync`.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let lock = manager.lock()?;
/// let guard = lock.acquire()?;
/// std::thread::spawn(move || drop(guard)).join().unwrap();
/// assert!(!lock.locked()?);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
pub struct LockProxyGuard {
    handle: Handle,
    connection: Option<SocketConnection<()>>,
}

impl fmt::Debug for LockProxyGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockProxyGuard")
            .field("manager", &self.handle.endpoint)
            .field("lock", &self.handle.id)
            .finish()
    }
}

impl LockProxyGuard {
    /// Releases the lock now, reporting an error. If the manager cannot be told, the
    /// connection is closed, which releases the lock in a server that is still alive.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let lock = manager.lock()?;
    /// lock.acquire()?.release()?;
    /// assert!(!lock.locked()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn release(mut self) -> Result<(), ManagerError> {
        self.release_now()
    }

    fn release_now(&mut self) -> Result<(), ManagerError> {
        let Some(connection) = self.connection.take() else {
            return Ok(());
        };
        let request = Request::Lock(self.handle.id, LockOp::Release);
        let reply = exchange(&connection, &request, self.handle.timeout)?;
        self.handle.endpoint.checkin(connection);
        match into_result(reply)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

impl Drop for LockProxyGuard {
    fn drop(&mut self) {
        if let Err(error) = self.release_now() {
            log::debug!("releasing manager lock {}: {error}", self.handle.id);
        }
    }
}
