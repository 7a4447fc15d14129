//! `MpiResult`: the handle of a submission's result (`apply_async`, `map_async`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use multiproc_pool::PoolError;

use crate::callbacks;
use crate::job::{Job, JobState};

/// Decodes a finished job's typed result from its state, without taking it.
pub(crate) type Decode<T> = fn(&JobState, usize) -> Result<T, PoolError>;

/// The pending result of work sent to the ranks, like Python's `AsyncResult` (and
/// `concurrent.futures.Future`'s blocking half): one task's value for
/// [`apply_async`](crate::MpiPool::apply_async), every item's for
/// [`map_async`](crate::MpiPool::map_async).
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
pub struct MpiResult<T> {
    job: Arc<Job>,
    total: usize,
    decode: Decode<T>,
}

impl<T> fmt::Debug for MpiResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiResult")
            .field("ready", &self.is_ready())
            .field("total", &self.total)
            .finish()
    }
}

impl<T> MpiResult<T> {
    pub(crate) fn new(job: Arc<Job>, total: usize, decode: Decode<T>) -> Self {
        MpiResult { job, total, decode }
    }

    /// The result is back (or will never be) and its callbacks have run.
    fn settled(state: &mut JobState) -> bool {
        state.finished() && (state.running_hooks == 0 || callbacks::is_current())
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
        Self::settled(&mut self.job.lock())
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
        let _ = self.job.wait_until(None, Self::settled);
    }

    /// Waits for the result and returns it.
    ///
    /// ```no_run
    /// # fn square(x: u64) -> u64 { x * x }
    /// # let pool = multiproc_mpi::MpiPool::new()?;
    /// assert_eq!(pool.apply_async(square, (5,))?.get()?, 25);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(self) -> Result<T, PoolError> {
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
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, PoolError> {
        let deadline = multiproc_sys::time::deadline_after(Some(timeout));
        let Some(state) = self.job.wait_until(deadline, Self::settled) else {
            return Err(PoolError::NotReady);
        };
        (self.decode)(&state, self.total)
    }
}

impl<T: 'static> MpiResult<T> {
    /// Python's `callback`: `f` is called with the value when the work succeeds, on the
    /// crate's callback thread (never the thread that talks to MPI), before
    /// [`get`](Self::get) returns. Registered after the result is back, it runs at once on
    /// the caller's thread. A callback that panics is logged and dropped; one that never
    /// returns holds up the callbacks after it.
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let (tx, rx) = mpsc::channel();
    /// let result = pool.apply_async(square, (9,))?.callback(move |v| tx.send(*v).unwrap());
    /// assert_eq!(rx.recv()?, 81);
    /// assert_eq!(result.get()?, 81);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn callback(self, f: impl FnOnce(&T) + Send + 'static) -> Self {
        self.hook(move |result| {
            if let Ok(value) = result {
                f(value);
            }
        })
    }

    /// Python's `error_callback`: `f` is called with the error when the work fails (for a
    /// `map_async`, the first failed item's), on the callback thread, like
    /// [`callback`](Self::callback).
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// use multiproc_pool::PoolError;
    /// fn fail(_: u8) -> u8 { panic!("no luck") }
    /// let pool = multiproc_mpi::MpiPool::new()?;
    /// let (tx, rx) = mpsc::channel();
    /// let _result = pool.map_async(fail, [1, 2])?.error_callback(move |e| tx.send(e.clone()).unwrap());
    /// assert!(matches!(rx.recv()?, PoolError::Panicked { panic, .. } if panic.message == "no luck"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn error_callback(self, f: impl FnOnce(&PoolError) + Send + 'static) -> Self {
        self.hook(move |result| {
            if let Err(error) = result {
                f(error);
            }
        })
    }

    fn hook(self, f: impl FnOnce(&Result<T, PoolError>) + Send + 'static) -> Self {
        let job = Arc::clone(&self.job);
        let (total, decode) = (self.total, self.decode);
        self.job.add_hook(Box::new(move || {
            let result = decode(&job.lock(), total);
            callbacks::run(|| f(&result));
            job.hook_done();
        }));
        self
    }
}
