//! State that the manager's server threads wait on, the lock they take it with, and the
//! client a waiting thread serves (whose hang-up ends the wait).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How often a server thread blocked for a client (queue get, lock acquire, event wait)
/// checks that the client is still connected, so that a dead client's wait ends.
const PEER_CHECK: Duration = Duration::from_millis(200);

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a registered handler or an `update_with` function is caught where it
    // happens; the data it leaves is the user's, as in a Python server.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// State that threads wait on.
#[derive(Debug, Default)]
pub(crate) struct Waitable<T> {
    pub(crate) state: Mutex<T>,
    pub(crate) changed: Condvar,
}

impl<T> Waitable<T> {
    pub(crate) fn new(state: T) -> Waitable<T> {
        Waitable {
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    /// Waits until `ready` gives a value, `timeout` passes (`None`: no limit), or the peer
    /// hangs up; `None` in the last two cases.
    pub(crate) fn wait_for<R>(
        &self,
        timeout: Option<Duration>,
        peer: &dyn Peer,
        mut ready: impl FnMut(&mut T) -> Option<R>,
    ) -> Option<R> {
        let deadline = multiproc_sys::time::deadline_after(timeout);
        let mut state = lock(&self.state);
        loop {
            if let Some(value) = ready(&mut state) {
                return Some(value);
            }
            let slice = match multiproc_sys::time::remaining(deadline) {
                Some(Duration::ZERO) => return None,
                Some(left) => left.min(PEER_CHECK),
                None if timeout.is_some_and(|t| t.is_zero()) => return None,
                None => PEER_CHECK,
            };
            state = self
                .changed
                .wait_timeout(state, slice)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if peer.gone() {
                return None;
            }
        }
    }
}

/// The client of one server thread, as the store sees it.
pub(crate) trait Peer {
    /// A number that no other connection of this server has.
    fn id(&self) -> u64;
    /// Whether the client hung up (checked during long waits).
    fn gone(&self) -> bool;
}
