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
//! pool.
//!
//! Dynamic, as mpi4py's `MPIPoolExecutor` outside `mpi4py.futures`: [`MpiPool::spawn`] starts
//! workers with `MPI_Comm_spawn` of the same binary, from a program started without `mpirun`
//! (a singleton) or with `mpirun -n 1`. A constructor recognises the workers before `main`
//! (by their first argument), so they never run the user's `main`; they serve that one pool
//! and end when it is dropped.
//!
//! # Crash isolation
//!
//! On each serving rank, tasks run in a local multiproc `Pool` (one worker per core unless
//! [`MpiPoolBuilder::processes_per_rank`] says otherwise): a task that segfaults, aborts or is
//! OOM-killed fails alone with [`PoolError::WorkerDied`](multiproc_pool::PoolError) and its
//! signal, and the rank and the job go on. [`MpiPoolBuilder::in_rank`] runs tasks in the
//! rank's own threads instead: no extra hop, but a crash ends the job. An in-rank chunk
//! travels as one encoded batch and runs as one call of the function, which still catches
//! each item's panic on its own; an isolated chunk travels item by item, since each item runs
//! in a local worker on its own so that a crash fails that item alone.
//!
//! # Faults
//!
//! OpenMPI 4 has no fault tolerance (ULFM): a rank that dies takes the job down, and `mpirun`
//! reports which rank and why. A panic or an early exit on rank 0 does not hang the job:
//! rank 0's exit hook tells every serving rank to stop, waits for each to confirm, and ends
//! MPI, so `mpirun` ends with rank 0's status (101 for a panic in `main`).
//!
//! [`MpiPool::spawn`] runs under OpenMPI's default error handler: a spawn that OpenMPI
//! refuses (more workers than slots without `--oversubscribe`, or
//! `OMPI_MCA_rmaps_base_oversubscribe=1` in a singleton; no `orted` on the `PATH`) aborts the
//! program with OpenMPI's message rather than returning an error. A spawned worker that dies
//! takes its parent down with it, as a rank of a static job does.
//!
//! # Scheduling
//!
//! Rank 0 keeps at most a window of chunks (8 by default) in flight on every serving rank,
//! each sent to the least busy rank; results stream back as they finish. `imap` takes from
//! its input only as results are taken. Chunk size is automatic by default: about four chunks
//! per rank's window for an input of known length, 1 for an input of unknown length.
//!
//! Short round trips pay no sleep and no wake-up. A serving rank with nothing running looks for
//! rank 0's messages, yielding the core between looks, for 50 ms after its last event; one
//! with chunks running, rank 0's dispatcher with chunks out and a caller waiting for a result
//! do the same for 200 µs. Only then do they sleep, with a backoff from 20 µs to 2 ms, so an
//! idle job costs no CPU. A blocking MPI probe would poll without yielding under
//! `mpi_yield_when_idle 0` and starve an oversubscribed node. The dispatcher with no chunk
//! out blocks on the pools' commands. A serving rank with nothing running runs an in-rank
//! chunk on its serving thread, with no hop to another thread and back, until a chunk of
//! that pool takes more than 100 µs; from then on, and for isolated pools, it runs chunks on
//! threads it keeps for the next chunk (they look for work for 200 µs, then sleep, and end
//! after 2 s without any), so a round trip pays no thread start. The figures are in the crate's README.
//!
//! # Callbacks
//!
//! [`MpiPool::apply_async`], [`MpiPool::map_async`] and [`MpiPool::starmap_async`] return an
//! [`MpiResult`] that takes Python's `callback` and `error_callback`
//! ([`MpiResult::callback`], [`MpiResult::error_callback`]). They run on the crate's callback
//! thread, never on the thread that talks to MPI, and before `get` returns.
//!
//! # Scaling: when rank 0 becomes the bottleneck
//!
//! Every chunk passes through rank 0's one dispatcher thread, and every item's arguments and
//! result through rank 0's caller. Measured here (`bench/scaling.sh`: 2 CPUs, loopback TCP,
//! 100k trivial tasks, window 8, `mpi_yield_when_idle 1`; medians of 3; measured before
//! in-rank chunks ran as one call and isolated chunks went several items to a local message,
//! which raised the single-job figures of the README about 10× and 6× at auto chunksize, so
//! these are upper bounds on rank 0's cost):
//!
//! | ranks (serving) | mode | map, auto chunksize | map, chunksize 1 | `submit` round trip |
//! |---|---|---|---|---|
//! | 2 (1) | isolated | 146 k tasks/s | 11.7 k tasks/s | 113 µs |
//! | 2 (1) | in-rank | 679 k tasks/s | 25.6 k tasks/s | 71 µs |
//! | 4 (3) | isolated | 216 k tasks/s | 12.3 k tasks/s | 227 µs |
//! | 4 (3) | in-rank | 1.09 M tasks/s | 17.7 k tasks/s | 98 µs |
//! | 8 (7) | isolated | 241 k tasks/s | 12.9 k tasks/s | 226 µs |
//! | 8 (7) | in-rank | 697 k tasks/s | 20.0 k tasks/s | 106 µs |
//!
//! With 2 cores for up to 8 ranks and their workers, these figures are the overhead, not a
//! speed-up: throughput stays flat from 1 to 7 serving ranks because all of them share the
//! same two cores. They bound rank 0's share: everything together, both sides and MPI
//! included, costs at most about 40 µs per chunk and 1 µs per item (the inverses of the best
//! rates above). On a cluster, where
//! rank 0 has a core to itself, take rank 0's limits as about **25 k chunks/s** and **1 M
//! items/s** (trivial arguments; larger ones add their encoding and the network). With `S`
//! serving ranks of `P` workers each, running tasks of `t` seconds in chunks of `k` items:
//!
//! - the ranks ask for `S·P/t` items/s and `S·P/(k·t)` chunks/s;
//! - rank 0 keeps up while `t ≥ S·P / 1 M` and `k·t ≥ S·P / 25 k`. For 64 nodes of 64 cores
//!   (4096 workers) that is tasks of at least 4 ms, in chunks of at least 0.16 s of work.
//!   The automatic chunk size (`len / (4·S·window)` items) usually gets there for a `map`
//!   of a long input; pass a `chunksize` for short inputs of short tasks, and prefer few
//!   large arguments to many small ones.
//! - The window bounds the work a rank holds: with [`MpiPoolBuilder::processes_per_rank`]
//!   `P`, keep `window × chunksize ≥ 2·P` so the local workers never wait for rank 0 (the
//!   default window of 8 at chunksize 1 feeds only 8 of a 64-core node's workers).
//! - Past these limits, rank 0 is the bottleneck and more ranks do not help: make chunks
//!   larger, or split the input and run one job per part.
//!
//! On a cluster, run one rank per node and let each rank's local pool use the node's cores.
//! `--bind-to none` matters: OpenMPI binds a rank to a core by default, the local pool sizes
//! itself to the CPUs the rank may use, and its workers inherit the binding.
//!
//! ```sh
//! # hostfile "hosts": one line per node ("node01 slots=1"). One rank per node: rank 0,
//! # the scheduler, takes node01, which then runs no tasks.
//! mpirun --hostfile hosts --map-by ppr:1:node --bind-to none ./app
//! # Tasks on node01 too: one rank more, node01 with slots=2 in the hostfile.
//! mpirun --hostfile hosts -n $((NODES + 1)) --map-by slot --bind-to none ./app
//! # Slurm (OpenMPI built with PMIx): 16 nodes, one rank per node, all cores to its pool.
//! srun --mpi=pmix --nodes=16 --ntasks-per-node=1 --cpus-per-task=64 --cpu-bind=none ./app
//! ```
//!
//! # Platform support
//!
//! Linux with OpenMPI 4 (tested with 4.1.4 on Debian, ranks on loopback TCP).
#![deny(unsafe_code)]
// Without the `mpi` feature the crate is its docs only, and their links name gated items.
#![cfg_attr(not(feature = "mpi"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "mpi")]
mod callbacks;
#[cfg(feature = "mpi")]
mod crew;
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
mod spawn;
#[cfg(feature = "mpi")]
#[allow(unsafe_code)]
mod sys;
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
