//! MPI, started once per process and ended when rank 0's program ends.

use std::sync::{Mutex, OnceLock};

use mpi::Threading;
use mpi::environment::Universe;
use mpi::topology::{Communicator, InterCommunicator, MergeOrder, SimpleCommunicator};
use mpi::traits::*;

use crate::error::MpiError;

/// What this process is in the job.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    /// This rank.
    pub(crate) rank: i32,
    /// How many ranks the job has.
    pub(crate) size: i32,
}

/// The MPI environment; taken (and so finalized) once, when rank 0's program ends or a
/// serving rank stops.
static UNIVERSE: Mutex<Option<Universe>> = Mutex::new(None);
static PLACE: OnceLock<Result<Place, String>> = OnceLock::new();

/// Starts MPI on first use and gives this process's place in the job.
///
/// Rank 0 then shares its function-identity key with every rank, so that the `FunctionRef`s
/// it sends verify there: every rank must call this before it makes or checks one.
pub(crate) fn place() -> Result<Place, MpiError> {
    PLACE.get_or_init(start).clone().map_err(MpiError::Init)
}

/// `MPI_Init_thread` with serialized threading: one thread at a time talks to MPI (the
/// dispatcher on rank 0, the serving loop elsewhere).
fn initialize() -> Result<Universe, String> {
    let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
        .ok_or("MPI was already initialized by other code in this process")?;
    if threading < Threading::Serialized {
        return Err(format!(
            "the MPI library offers {threading:?} threading; multiproc-mpi needs Serialized"
        ));
    }
    Ok(universe)
}

/// Starts MPI in a worker that `MpiPool::spawn` started, joins its parent, and adopts the
/// parent's function-identity key. Returns the intercommunicator to the parent and the
/// merged communicator (the parent is rank 0, the workers 1..).
pub(crate) fn start_spawned() -> Result<(InterCommunicator, SimpleCommunicator), String> {
    let universe = initialize()?;
    let parent = universe
        .world()
        .parent()
        .ok_or("started with the spawned worker's marker, but no parent spawned it")?;
    let job = parent.merge(MergeOrder::High);
    let mut key = [0u8; 32];
    job.process_at_rank(0).broadcast_into(&mut key[..]);
    multiproc_process::adopt_function_key(key).map_err(|e| e.to_string())?;
    *lock() = Some(universe);
    Ok((parent, job))
}

fn start() -> Result<Place, String> {
    let universe = initialize()?;
    let world = universe.world();
    let place = Place {
        rank: world.rank(),
        size: world.size(),
    };
    let mut key = if place.rank == 0 {
        multiproc_process::function_key()
    } else {
        [0u8; 32]
    };
    world.process_at_rank(0).broadcast_into(&mut key[..]);
    if place.rank != 0 {
        multiproc_process::adopt_function_key(key)
            .map_err(|e| format!("{e}: make the MpiPool before any local process or pool"))?;
    }
    *lock() = Some(universe);
    Ok(place)
}

fn lock() -> std::sync::MutexGuard<'static, Option<Universe>> {
    UNIVERSE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The world communicator.
pub(crate) fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

/// Ends MPI in this process (`MPI_Finalize`), once.
pub(crate) fn finalize() {
    drop(lock().take());
}
