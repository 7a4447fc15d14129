//! Shared-memory descriptors that a re-executed child inherited by accident, and their
//! closing. See proc(5) (`/proc/self/fd`), dup(2) and execve(2).
//!
//! ipc-channel duplicates a shared-memory descriptor with plain dup(2), without
//! `FD_CLOEXEC`, each time it clones an `IpcSharedMemory`, and it clones one for every
//! message that carries it (the copy lives until the message is sent). A program re-executed
//! by another thread of the parent during that window keeps the copy across execve: the
//! child then holds another process's shared memory open for its whole life (the memory is
//! not freed while it lives, and the child can read and write it). ipc-channel creates its
//! memfds under one name prefix, so a child that has run nothing yet can tell them apart and
//! close them: it cannot have made one itself.
//!
//! ```
//! // The process running this example inherited none: it has nothing to close.
//! assert_eq!(multiproc_sys::inherited::close_ipc_memfds(), 0);
//! ```

use std::fs;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The start of `/proc/self/fd/<n>`'s link target for a memfd that ipc-channel made.
const IPC_MEMFD: &str = "/memfd:/ipc-channel-shared-memory";

/// Closes every descriptor above the standard streams that names a memfd made by
/// ipc-channel, and returns how many it closed.
///
/// Only for the start of a re-executed process, before anything in it has used
/// ipc-channel: such a descriptor can then only have come through execve, and nothing in
/// the process owns it. Elsewhere it would close descriptors that live values own.
/// Without `/proc` it closes nothing.
///
/// ```
/// // A process that never inherited one closes nothing.
/// assert_eq!(multiproc_sys::inherited::close_ipc_memfds(), 0);
/// ```
pub fn close_ipc_memfds() -> usize {
    let Ok(entries) = fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    // Collected first: the directory's own descriptor is open while it is read.
    let strays: Vec<RawFd> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
            let target = fs::read_link(entry.path()).ok()?;
            (fd > 2 && target.to_str()?.starts_with(IPC_MEMFD)).then_some(fd)
        })
        .collect();
    for &fd in &strays {
        // SAFETY: `fd` was open a moment ago and names an ipc-channel memfd. The caller
        // runs this before anything in the process has used ipc-channel, so no value of
        // this process owns the descriptor (it came through execve) and nothing else
        // closes it: taking ownership here and dropping it closes it exactly once.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    strays.len()
}
