//! What only the channel tests share: a `fork` that first sets up ipc-channel's lazily
//! initialised state, and the generous timeout for joins and receives. The rest comes from
//! `multiproc-test-support`.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use multiproc_test_support::Child;

/// Forks a child that runs `body` and leaves with `_exit(0)`, or `_exit(101)` if it
/// panicked (see [`multiproc_test_support::fork`]), after initialising ipc-channel's lazies
/// in this process, so that the child inherits them rather than setting them up itself.
pub fn fork(body: impl FnOnce()) -> Child {
    // ipc-channel's lazies must be initialised before forking (deps.md §1.6).
    drop(ipc_channel::ipc::channel::<()>().unwrap());
    let _ = ipc_channel::platform::OsIpcSender::get_max_fragment_size();
    multiproc_test_support::fork(body)
}

/// How long a test waits for a child to exit or a message to arrive.
pub const LONG: Duration = Duration::from_secs(60);
