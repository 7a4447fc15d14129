//! The multiproc Pool across machines, on MPI: rank 0 schedules, every rank runs tasks in a
//! crash-isolated local pool.
//!
//! A program started with `mpirun -n N` runs the same binary on every rank, so a function's
//! offset and a postcard payload mean the same everywhere. [`MpiPool::new`] returns the pool
//! on rank 0; every other rank turns into a server and never returns to `main`. Tasks travel
//! as checked [`FunctionRef`](multiproc_process::FunctionRef)s: rank 0 shares its
//! function-identity key with the other ranks over the job's own communicator when MPI starts,
//! and a rank decodes no offset whose tag does not verify.
//!
//! ```no_run
//! # #[cfg(feature = "mpi")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use multiproc_mpi::MpiPool;
//!
//! fn square(x: u64) -> u64 { x * x }
//!
//! let pool = MpiPool::new()?; // ranks 1.. serve from here on and never return
//! println!("{:?}", pool.map(square, 0..10)?);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "mpi"))]
//! # fn main() {}
//! ```
//!
//! `mpirun --oversubscribe -n 4 target/release/examples/mpi_map` prints the same as the
//! local-pool run of the same function; [`TaskPool`] is the trait both pools implement.
//!
//! # Which crate do I need
//!
//! | to… | use |
//! |---|---|
//! | run a pool on one machine | `multiproc` (or `multiproc-pool`) |
//! | run the same pool over the ranks of an MPI job | `multiproc-mpi` with feature `mpi` |
//!
//! # Feature flags
//!
//! - `mpi` (off by default): the crate's whole API. It needs an MPI library and libclang when
//!   it is built (Debian: `openmpi-bin libopenmpi-dev libclang-dev`). Without it the crate
//!   is these docs only, so that `cargo test --workspace` builds on a machine with no MPI;
//!   `default-members` would not help there, since `--workspace` ignores it.
//!
//! # Launch model
//!
//! Static, as `python -m mpi4py.futures`: rank 0 returns the pool to the user's code; the
//! other ranks serve tasks, pool after pool, until rank 0's program ends, then exit with 0.
//! mpi4py's `MPICommExecutor` instead lets the worker ranks go on with the rest of the
//! program after the `with` block; we do not, because a worker rank that runs the user's
//! code after serving would run every side effect of `main` once per rank, which is rarely
//! what a program ported from `multiprocessing.Pool` means. Make the `MpiPool` first thing
//! in `main`: a rank must adopt rank 0's function key before it makes any local process or
//! pool. Dynamic spawning (`MPI_Comm_spawn`) is not offered yet.
//!
//! # Crash isolation
//!
//! On each serving rank, tasks run in a local multiproc `Pool` (one worker per core unless
//! [`MpiPoolBuilder::processes_per_rank`] says otherwise): a task that segfaults, aborts or is
//! OOM-killed fails alone with [`PoolError::WorkerDied`](multiproc_pool::PoolError) and its
//! signal, and the rank and the job go on. [`MpiPoolBuilder::in_rank`] runs tasks in the
//! rank's own threads instead: no extra hop, but a crash ends the job.
//!
//! # Faults
//!
//! OpenMPI 4 has no fault tolerance (ULFM): a rank that dies takes the job down, and `mpirun`
//! reports which rank and why. A panic or an early exit on rank 0 does not hang the job:
//! rank 0's exit hook tells every serving rank to stop, waits for each to confirm, and ends
//! MPI, so `mpirun` ends with rank 0's status (101 for a panic in `main`).
//!
//! # Scheduling
//!
//! Rank 0 keeps at most a window of chunks (2 by default) in flight on every serving rank,
//! each sent to the least busy rank; results stream back as they finish. `imap` takes from
//! its input only as results are taken. Chunk size is automatic by default: about four chunks
//! per rank's window for an input of known length, 1 for an input of unknown length. Idle
//! ranks poll with a backoff from 20 µs to 2 ms, so that oversubscribed ranks do not spin on
//! the cores that the tasks need.
//!
//! # Platform support
//!
//! Linux with OpenMPI 4 (tested with 4.1.4 on Debian, ranks on loopback TCP).
#![deny(unsafe_code)]
// Without the `mpi` feature the crate is its docs only, and their links name gated items.
#![cfg_attr(not(feature = "mpi"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "mpi")]
mod dispatcher;
#[cfg(feature = "mpi")]
mod error;
#[cfg(feature = "mpi")]
mod handle;
#[cfg(feature = "mpi")]
mod imap;
#[cfg(feature = "mpi")]
mod job;
#[cfg(feature = "mpi")]
mod launch;
#[cfg(feature = "mpi")]
mod pool;
#[cfg(feature = "mpi")]
mod result;
#[cfg(feature = "mpi")]
mod server;
#[cfg(feature = "mpi")]
mod task_pool;
#[cfg(feature = "mpi")]
mod universe;
#[cfg(feature = "mpi")]
mod wire;

#[cfg(feature = "mpi")]
pub use self::error::MpiError;
#[cfg(feature = "mpi")]
pub use self::handle::MpiResult;
#[cfg(feature = "mpi")]
pub use self::imap::MpiIMap;
#[cfg(feature = "mpi")]
pub use self::pool::{MpiPool, MpiPoolBuilder};
#[cfg(feature = "mpi")]
pub use self::task_pool::TaskPool;
