//! `MpiResult`: the handle of one task submitted with `apply_async`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use multiproc_pool::PoolError;
use multiproc_process::Portable;

use crate::job::Job;
use crate::result::{abandoned, typed};

/// The pending result of a task sent to a rank, like Python's `AsyncResult` (and
/// `concurrent.futures.Future`'s blocking half).
///
/// ```no_run
/// use multiproc_mpi::MpiPool;
/// fn square(x: u64) -> u64 { x * x }
/// let pool = MpiPool::new()?; // under mpirun -n 2 or more
/// let pending = pool.apply_async(square, (7,))?;
/// assert_eq!(pending.get()?, 49);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.pool.AsyncResult")]
pub struct MpiResult<R> {
    job: Arc<Job>,
    _result: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for MpiResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiResult")
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl<R> MpiResult<R> {
    pub(crate) fn new(job: Arc<Job>) -> Self {
        MpiResult {
            job,
            _result: PhantomData,
        }
    }

    /// `true` once the result is back.
    ///
    /// ```no_run
    /// # fn square(x: u64) -> u64 { x * x }
    /// # let pool = multiproc_mpi::MpiPool::new()?;
    /// let pending = pool.apply_async(square, (3,))?;
    /// pending.wait();
    /// assert!(pending.is_ready());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "ready")]
    pub fn is_ready(&self) -> bool {
        let state = self.job.lock();
        state.abandoned || state.outcomes.contains_key(&0)
    }

    /// Waits until the result is back.
    ///
    /// ```no_run
    /// # fn square(x: u64) -> u64 { x * x }
    /// # let pool = multiproc_mpi::MpiPool::new()?;
    /// let pending = pool.apply_async(square, (3,))?;
    /// pending.wait();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&self) {
        let _ = self.job.wait_until(None, |state| {
            state.abandoned || state.outcomes.contains_key(&0)
        });
    }
}

impl<R: Portable> MpiResult<R> {
    /// Waits for the result and returns it.
    ///
    /// ```no_run
    /// # fn square(x: u64) -> u64 { x * x }
    /// # let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.apply_async(square, (5,))?.get()?, 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(self) -> Result<R, PoolError> {
        self.get_timeout(Duration::MAX)
    }

    /// Waits at most `timeout` for the result (`Duration::MAX`: no limit).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # fn square(x: u64) -> u64 { x * x }
    /// # let pool = multiproc_mpi::MpiPool::new()?;
    /// let value = pool.apply_async(square, (5,))?.get_timeout(Duration::from_secs(60))?;
    /// assert_eq!(value, 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_timeout(self, timeout: Duration) -> Result<R, PoolError> {
        let deadline = multiproc_sys::time::deadline_after(Some(timeout));
        let Some(mut state) = self.job.wait_until(deadline, |state| {
            state.abandoned || state.outcomes.contains_key(&0)
        }) else {
            return Err(PoolError::NotReady);
        };
        match state.outcomes.remove(&0) {
            Some(outcome) => typed(outcome, 0),
            None => Err(abandoned()),
        }
    }
}
