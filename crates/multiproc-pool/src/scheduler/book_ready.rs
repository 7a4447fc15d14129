//! Booking from a thread blocked in `AsyncResult::get`: woken by a worker through
//! [`GetWake`](crate::get_wake::GetWake), it books the results waiting in the workers' rings
//! itself, so that a lone task's result reaches it with one wake-up instead of two (worker →
//! result thread → caller).

use std::time::Duration;

use multiproc_sys::panic::catch;

use super::booking::drain_ring;
use super::broken::break_pool;
use super::state::{RunState, Shared};

impl Shared {
    /// Books every result waiting in the workers' rings, hands out more work, and delivers
    /// the results on this thread: what the result thread does at each turn, but for
    /// burials. A worker found corrupt stays marked in its slot (it was killed), and the
    /// result thread is woken to bury it; so it is when the pool is closing or terminated
    /// and results were booked here (it may be the last of them).
    ///
    /// A panic in here (a bug) breaks the pool, as one in the result thread does.
    pub(crate) fn book_ready(&self) {
        if let Err(panic) = catch(true, || self.book_ready_unguarded()) {
            let detail = format!(
                "booking results in `get` panicked: {} ({})",
                panic.message,
                panic.location.as_deref().unwrap_or("unknown location")
            );
            log::error!("the pool stopped working: {detail}");
            break_pool(self, detail);
        }
    }

    /// Books the ready results once more if the result thread sleeps: called by a thread
    /// that stops waiting in `get`, since a worker that saw it waiting did not wake the
    /// result thread. (If the result thread is awake, it looks at the rings before it sleeps
    /// again.)
    pub(crate) fn hand_on_ready(&self) {
        if self.asleep.load() == 1 {
            self.book_ready();
        }
    }

    fn book_ready_unguarded(&self) {
        let mut delivered = Vec::new();
        let (corrupt, stopping) = {
            let mut core = self.core();
            let core = &mut *core;
            // An empty ring is one atomic load: no lock, no clock.
            for worker in core.workers.iter_mut().flatten() {
                if !worker.ring.is_empty() {
                    delivered.extend(drain_ring(worker, &mut core.chunk_time, Duration::ZERO));
                }
            }
            let corrupt = core.workers.iter().flatten().any(|w| w.corrupt.is_some());
            if !delivered.is_empty() {
                core.start_succeeded();
                if core.state != RunState::Terminated {
                    core.dispatch();
                }
            }
            (
                corrupt,
                !delivered.is_empty() && core.state != RunState::Running,
            )
        };
        for booked in delivered {
            booked.deliver();
        }
        if corrupt || stopping {
            self.wake();
        }
    }
}
