//! A watchdog that fails a hung test, and ends what it started, instead of hanging.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use crate::process_table::{descendants, kill};

/// Runs `body` on a thread and returns its value (or re-raises its panic); if it has not
/// finished after `limit`, SIGKILLs every descendant of this process, so that none outlives
/// the test, and fails with a message naming `what`.
pub fn watchdog<T: Send + 'static>(
    limit: Duration,
    what: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let value = body();
        let _ = tx.send(());
        value
    });
    match rx.recv_timeout(limit) {
        Err(RecvTimeoutError::Timeout) => {
            for pid in descendants(std::process::id()) {
                kill(pid);
            }
            panic!("watchdog: {what} did not finish within {limit:?}");
        }
        // Finished, or panicked (the sender went unused): the thread is done either way.
        Ok(()) | Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}
