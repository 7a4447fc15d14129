//! The dynamic launch model: `MpiPool::spawn(n)` starts `n` copies of this binary with
//! `MPI_Comm_spawn`; they serve the pool and never run the user's `main`.
//!
//! A spawned copy is recognised before `main` by its first argument, [`MARKER`], by a
//! constructor (in `sys.rs`), the way multiproc-process routes its re-executed children. The
//! parent and its workers merge the spawn's intercommunicator into one communicator where
//! the parent is rank 0 and the workers 1..=n; over it, the parent shares its
//! function-identity key and then sends chunks as to the ranks of a static job.

use std::process::Command;

use mpi::topology::{Communicator, InterCommunicator, MergeOrder, SimpleCommunicator};
use mpi::traits::*;

use crate::{server, universe};

/// The first argument of a spawned worker.
pub(crate) const MARKER: &str = "--multiproc-mpi-spawned-worker";

/// Exit status of a spawned worker that could not start serving.
const START_FAILED: i32 = 70;

/// In every process that links this crate, before `main` (called by the constructor in
/// `sys.rs`): if this process is a worker that `MpiPool::spawn` started, serves its
/// parent's pools and returns the intercommunicator to the parent, to be disconnected before
/// [`leave`]; otherwise returns `None` at once. A worker that cannot start exits here.
pub(crate) fn serve_if_spawned() -> Option<InterCommunicator> {
    // Every process that OpenMPI starts has this; the cheap test first.
    std::env::var_os("OMPI_COMM_WORLD_SIZE")?;
    // `std::env::args` may not be ready in a constructor; the kernel's copy always is.
    let cmdline = std::fs::read("/proc/self/cmdline").ok()?;
    if cmdline.split(|&b| b == 0).nth(1) != Some(MARKER.as_bytes()) {
        return None;
    }
    match universe::start_spawned() {
        Ok((parent, job)) => {
            server::serve(&job);
            drop(job);
            Some(parent)
        }
        Err(e) => {
            log::error!(target: "multiproc::mpi", "a spawned worker cannot start: {e}");
            std::process::exit(START_FAILED)
        }
    }
}

/// Ends a spawned worker that has served and disconnected from its parent: MPI is finalized
/// and the process exits 0, never reaching the user's `main`.
pub(crate) fn leave() -> ! {
    universe::finalize();
    std::process::exit(0)
}

/// On the parent: spawns `count` workers and returns the intercommunicator to them (to be
/// disconnected when they are done) and the merged communicator (the parent is rank 0).
///
/// MPI must be started, and this thread the only one calling MPI.
pub(crate) fn spawn_workers(
    count: usize,
) -> Result<(InterCommunicator, SimpleCommunicator), String> {
    let count = i32::try_from(count)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("cannot spawn {count} workers"))?;
    // The real path: the spawn may be carried out by another process (OpenMPI's daemon), for
    // which /proc/self/exe is not this binary.
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program's executable: {e}"))?;
    let mut command = Command::new(exe);
    command.arg(MARKER);
    let this = SimpleCommunicator::self_comm();
    let workers = this
        .process_at_rank(0)
        .spawn(&command, count)
        .map_err(|e| format!("MPI_Comm_spawn failed: {e}"))?;
    let job = workers.merge(MergeOrder::Low);
    let mut key = multiproc_process::function_key();
    job.process_at_rank(0).broadcast_into(&mut key[..]);
    Ok((workers, job))
}
