//! [`BarrierProxy`]: a barrier in a manager.

use std::marker::PhantomData;
use std::time::Duration;

use crate::error::ManagerError;
use crate::proxy::{Handle, proxy_impls, unexpected};
use crate::wire::{BarrierOp, Kind, Reply, Request};

/// A proxy to a barrier in a manager's server: Python's `manager.Barrier(parties)`, from
/// [`Manager::barrier`](crate::Manager::barrier).
///
/// [`wait`](Self::wait) blocks until `parties` clients wait, then lets them all go and
/// returns each a distinct index in `0..parties`. A timeout, [`abort`](Self::abort) or
/// [`reset`](Self::reset) breaks the round with
/// [`RemoteError::BrokenBarrier`](crate::RemoteError::BrokenBarrier), as Python's
/// `BrokenBarrierError`. A waiting client that dies leaves the round rather than counting
/// as a party.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let barrier = manager.barrier(2)?;
/// let other = barrier.clone();
/// let party = std::thread::spawn(move || other.wait());
/// let mine = barrier.wait()?;
/// let theirs = party.join().unwrap()?;
/// assert_eq!(mine + theirs, 1); // indices 0 and 1
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.SyncManager.Barrier")]
pub struct BarrierProxy {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(BarrierProxy, Kind::Barrier);

impl BarrierProxy {
    fn call(&self, op: BarrierOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Barrier(self.handle.id, op))
    }

    fn index(&self, timeout: Option<Duration>) -> Result<u64, ManagerError> {
        match self.call(BarrierOp::Wait(timeout))? {
            Reply::Len(index) => Ok(index),
            other => Err(unexpected(other)),
        }
    }

    /// Waits for the other parties; this party's index in the round.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.barrier(1)?.wait()?, 0);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn wait(&self) -> Result<u64, ManagerError> {
        self.index(None)
    }

    /// Waits at most `timeout`; if the round is not complete by then the barrier breaks.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::{ManagerError, RemoteError};
    /// use std::time::Duration;
    /// let manager = multiproc_manager::Manager::start()?;
    /// let barrier = manager.barrier(2)?;
    /// let alone = barrier.wait_timeout(Duration::from_millis(10));
    /// assert!(matches!(alone, Err(ManagerError::Remote(RemoteError::BrokenBarrier))));
    /// assert!(barrier.broken()?);
    /// # Ok::<(), ManagerError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u64, ManagerError> {
        self.index(Some(timeout))
    }

    /// Breaks the barrier: waiting and later parties get `BrokenBarrier` until a reset.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let barrier = manager.barrier(3)?;
    /// barrier.abort()?;
    /// assert!(barrier.wait().is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn abort(&self) -> Result<(), ManagerError> {
        match self.call(BarrierOp::Abort)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Back to the empty, unbroken state; parties waiting now get `BrokenBarrier`.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let barrier = manager.barrier(1)?;
    /// barrier.abort()?;
    /// barrier.reset()?;
    /// assert_eq!(barrier.wait()?, 0);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn reset(&self) -> Result<(), ManagerError> {
        match self.call(BarrierOp::Reset)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn state(&self) -> Result<(u64, u64, bool), ManagerError> {
        match self.call(BarrierOp::State)? {
            Reply::Barrier {
                parties,
                waiting,
                broken,
            } => Ok((parties, waiting, broken)),
            other => Err(unexpected(other)),
        }
    }

    /// The number of parties a round needs.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.barrier(4)?.parties()?, 4);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn parties(&self) -> Result<u64, ManagerError> {
        Ok(self.state()?.0)
    }

    /// How many parties wait now (Python's `n_waiting`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.barrier(4)?.n_waiting()?, 0);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn n_waiting(&self) -> Result<u64, ManagerError> {
        Ok(self.state()?.1)
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.barrier(4)?.broken()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn broken(&self) -> Result<bool, ManagerError> {
        Ok(self.state()?.2)
    }
}
