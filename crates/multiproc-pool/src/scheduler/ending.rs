//! How the result thread ends: after `close`, once the work is done; after `terminate`, at
//! once.

use std::sync::atomic::Ordering;

use super::broken::GRACE;
use super::result_thread::ResultThread;
use super::state::Worker;

impl ResultThread {
    /// Leaves: after `close`, once every task is done (workers are asked to exit); after
    /// `terminate`, at once (workers are terminated, their tasks fail).
    pub(super) fn shut_down(self, terminate: bool) {
        let (workers, pending, error) = {
            let mut core = self.shared.core();
            let workers: Vec<Worker> = core.workers.iter_mut().filter_map(Option::take).collect();
            let error = core.end_error();
            (workers, core.pending.drain(..).collect::<Vec<_>>(), error)
        };
        for chunk in pending {
            chunk.fail(error.clone());
        }
        for worker in &workers {
            if terminate {
                let _ = worker.terminate();
            } else {
                let _ = worker.tasks.exit();
            }
        }
        for mut worker in workers {
            if worker.process.join_timeout(GRACE).is_err() && worker.process.is_alive() {
                let _ = worker.kill();
                let _ = worker.process.join();
            }
            for chunk in worker.in_flight.drain(..) {
                chunk.fail(error.clone());
            }
        }
        // Close the select set's descriptors before telling anyone we are done.
        let shared = self.shared.clone();
        drop(self);
        shared.finished.store(true, Ordering::SeqCst);
    }
}
