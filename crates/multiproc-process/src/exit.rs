//! What Python does at interpreter exit: terminate daemonic children, wait for the others,
//! and close the fork server. A child's way out is in `leave`.

use std::sync::Once;

use crate::logging;
use crate::registry;

/// Makes sure the exit handler runs when this process exits (once a child was started).
pub(crate) fn install_handler() {
    static ATEXIT: Once = Once::new();
    ATEXIT.call_once(|| {
        let _ = multiproc_sys::fork::atexit(at_exit);
    });
}

/// Terminates daemonic children, then waits for the others.
fn cleanup_children() {
    // At exit another thread may hold the lock forever (it is being torn down): then leave the
    // children to the parent-death signal rather than hang.
    let Some(children) = registry::take_children_at_exit() else {
        return;
    };
    for child in children.iter().filter(|c| c.daemon) {
        let _ = child.signal(multiproc_sys::signal::number::SIGTERM);
    }
    for child in &children {
        child.wait(None);
    }
    logging::flush_child_records();
    crate::forkserver::shut_down_at_exit();
}

extern "C" fn at_exit() {
    // By the time exit handlers run, glibc has destroyed the exiting thread's thread-locals,
    // and ipc-channel's sends need theirs (to ask the fork server to reap, to flush child log
    // records). A fresh thread has its own.
    let cleanup = || {
        let _ = std::thread::Builder::new()
            .name("multiproc-exit".into())
            .spawn(cleanup_children)
            .map(|thread| thread.join());
    };
    // Never unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(cleanup);
}

/// Called by a child right before it leaves: its own children are handled as at exit.
pub(crate) fn before_child_exit() {
    cleanup_children();
}
