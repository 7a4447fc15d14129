//! The crate's error.

/// Starting or using the MPI side of a pool failed.
///
/// Task failures are [`PoolError`](multiproc_pool::PoolError)s, as with a local pool.
///
/// ```
/// use multiproc_mpi::MpiError;
/// let e = MpiError::Init("no MPI".into());
/// assert_eq!(e.to_string(), "cannot start MPI: no MPI");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MpiError {
    /// MPI could not be started, or the ranks could not agree on the function key.
    #[error("cannot start MPI: {0}")]
    Init(String),
    /// The job has one rank only: there is no rank to serve tasks.
    #[error("the MPI job has a single rank; start it with `mpirun -n 2` or more")]
    NoServers,
    /// `MPI_Comm_spawn` of the workers failed, or they could not join.
    #[error("cannot spawn MPI workers: {0}")]
    Spawn(String),
    /// The pool's dispatcher stopped (rank 0's program is ending).
    #[error("the MPI dispatcher has stopped")]
    Stopped,
}
