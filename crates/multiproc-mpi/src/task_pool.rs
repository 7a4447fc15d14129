//! One trait for the local pool and the MPI pool, so that code is written once for both.

use multiproc_pool::{Pool, PoolError};
use multiproc_process::{Portable, Target};

use crate::pool::MpiPool;

/// The blocking part of the Pool family that [`Pool`] and [`MpiPool`] share: write a
/// pipeline against `&impl TaskPool` and run it on one machine or on an MPI job.
///
/// ```
/// use multiproc_mpi::TaskPool;
/// use multiproc_pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// fn sum_of_squares(pool: &impl TaskPool, n: u64) -> u64 {
///     pool.map(square, 0..n).unwrap().into_iter().sum()
/// }
///
/// let local = Pool::new(2)?;
/// assert_eq!(sum_of_squares(&local, 10), 285);
/// // Under mpirun, the same call runs on the ranks:
/// // assert_eq!(sum_of_squares(&multiproc_mpi::MpiPool::new()?, 10), 285);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TaskPool {
    /// Runs `f(args)` once and waits for the result.
    fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable;

    /// Applies `f` to every item; the results in order.
    fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>;

    /// Applies `f` to every tuple of arguments; the results in order.
    fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>;
}

impl TaskPool for Pool {
    fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        Pool::apply(self, f, args)
    }

    fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        Pool::map(self, f, iterable)
    }

    fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        Pool::starmap(self, f, iterable)
    }
}

impl TaskPool for MpiPool {
    fn apply<F, Args>(&self, f: F, args: Args) -> Result<F::Output, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        MpiPool::apply(self, f, args)
    }

    fn map<F, A, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<(A,)>,
        A: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = A>,
    {
        MpiPool::map(self, f, iterable)
    }

    fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
        I: IntoIterator<Item = Args>,
    {
        MpiPool::starmap(self, f, iterable)
    }
}
