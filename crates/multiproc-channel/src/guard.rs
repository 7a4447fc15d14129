//! The decode guard: decoding that may panic inside ipc-channel becomes an error.
//!
//! ipc-channel indexes its descriptor table without a bounds check when it decodes a
//! handle from corrupt bytes, so hostile bytes from a peer can panic there. That is bad
//! input, not a bug of this process: the guard catches the panic, keeps it off stderr, and
//! the receiver gets [`Error::Decode`](crate::Error::Decode). It needs nothing else from
//! this crate, so the codecs of pipes and sockets and the fuzz entry points all build on it.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs a decode that may panic inside ipc-channel (it indexes its descriptor table without
/// a bounds check when it decodes a handle from corrupt bytes) and turns the panic into an
/// error, without printing it. Other panics still reach the previous panic hook.
pub(crate) fn guard_decode<R>(decode: impl FnOnce() -> R) -> Result<R, String> {
    // 0: no hook yet, 1: being installed, 2: installed. Not a `Once`: a child forked while
    // another thread was installing it would wait for that thread forever. Here such a child
    // (it sees 1) only decodes without the quiet hook.
    static HOOK: AtomicU8 = AtomicU8::new(0);
    if HOOK
        .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
        HOOK.store(2, Ordering::Release);
    }
    let was_quiet = QUIET.with(|quiet| quiet.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(decode));
    QUIET.with(|quiet| quiet.set(was_quiet));
    result.map_err(|_| "malformed message".to_owned())
}
