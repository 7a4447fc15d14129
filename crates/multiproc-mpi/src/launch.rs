//! The static launch model: under `mpirun -n N`, rank 0 runs the program and every other
//! rank serves.

use std::sync::Once;

use crate::error::MpiError;
use crate::{dispatcher, server, universe};

static EXIT_HOOK: Once = Once::new();

/// On rank 0, returns how many ranks serve. On every other rank, serves tasks until rank 0's
/// program ends and then exits the process: it never returns.
pub(crate) fn rank_zero_or_serve() -> Result<usize, MpiError> {
    let place = universe::place()?;
    if place.rank != 0 {
        server::serve(&universe::world());
        universe::finalize();
        std::process::exit(0);
    }
    EXIT_HOOK.call_once(|| {
        if !multiproc_sys::fork::atexit(at_exit) {
            log::warn!(
                target: "multiproc::mpi",
                "cannot register the exit hook; the serving ranks will not be told to stop"
            );
        }
    });
    Ok(usize::try_from(place.size.saturating_sub(1)).unwrap_or(0))
}

/// Rank 0's program is ending (main returned, `exit` was called, or main panicked and the
/// runtime exits with 101): stop the serving ranks and end MPI, so that the job ends with
/// rank 0's status instead of hanging in `MPI_Finalize`.
extern "C" fn at_exit() {
    dispatcher::stop();
    universe::finalize();
}
