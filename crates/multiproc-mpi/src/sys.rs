//! The crate's only unsafe code: the constructor that routes a spawned worker before `main`,
//! and the one MPI call rsmpi 0.8 does not wrap for a parent communicator.

use mpi::raw::AsRaw;
use mpi::topology::InterCommunicator;

// `ctor` registers the function in `.init_array` (unsafe) and puts `#[allow(unsafe_code)]` on
// it; the function only calls plain ones, so no unsafe code of ours runs under that
// allowance. The parent link is disconnected here so that `spawn.rs` never reaches back
// into this file.
#[ctor::ctor(unsafe)]
fn multiproc_mpi_spawned_entry() {
    if let Some(parent) = crate::spawn::serve_if_spawned() {
        disconnect_parent(parent);
        crate::spawn::leave();
    }
}

/// Makes sure the constructor above is linked into every binary that spawns workers: it is
/// referenced from the code that spawns them.
pub(crate) fn ensure_linked() {
    std::hint::black_box(multiproc_mpi_spawned_entry as fn());
}

/// `MPI_Comm_disconnect` of the parent intercommunicator (from `MPI_Comm_get_parent`), which
/// rsmpi leaves connected when it is dropped: a spawned worker disconnects before it ends
/// MPI, so that its `MPI_Finalize` does not wait for the parent's.
fn disconnect_parent(parent: InterCommunicator) {
    let mut raw = parent.as_raw();
    // rsmpi does nothing when a parent communicator is dropped: forgetting it is the same.
    std::mem::forget(parent);
    // SAFETY: `raw` is the live parent intercommunicator; the only wrapper of it was consumed
    // above, so nothing uses the handle after this call sets it to MPI_COMM_NULL.
    unsafe {
        mpi::ffi::MPI_Comm_disconnect(&mut raw);
    }
}
