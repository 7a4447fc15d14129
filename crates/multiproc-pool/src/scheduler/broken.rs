//! A broken pool: should the result thread ever panic, no result can arrive any more, so
//! nothing may wait for one.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::chunk::take_orphans;
use crate::error::PoolError;

use super::state::{RunState, Shared, Worker};

/// How long a terminated or closed worker gets to leave before it is killed.
pub(super) const GRACE: Duration = Duration::from_secs(1);

/// After the result thread died: no result can arrive any more, so every chunk queued or in
/// flight fails with [`PoolError::PoolBroken`], later submissions are refused with it, and
/// the workers are killed and reaped.
pub(super) fn break_pool(shared: &Shared, detail: String) {
    let (workers, pending) = {
        let mut core = shared.core();
        core.broken = Some(detail.clone());
        core.state = RunState::Terminated;
        let workers: Vec<Worker> = core.workers.iter_mut().filter_map(Option::take).collect();
        (workers, core.pending.drain(..).collect::<Vec<_>>())
    };
    let error = PoolError::PoolBroken { detail };
    for (sink, positions) in take_orphans() {
        let _ = multiproc_sys::panic::catch(true, || {
            sink.chunk_done(&positions, Err(error.clone()));
        });
    }
    for chunk in pending {
        chunk.fail(error.clone());
    }
    for mut worker in workers {
        let _ = worker.kill();
        if worker.process.join_timeout(GRACE).is_err() {
            log::error!("could not reap pool worker {}", worker.pid);
        }
        for chunk in worker.in_flight.drain(..) {
            chunk.fail(error.clone());
        }
    }
    shared.finished.store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use multiproc_process::{FunctionRef, StartMethod};

    use super::*;
    use crate::chunk::{Chunk, Outcome, Positions, Sink};
    use crate::scheduler::launch;
    use crate::scheduler::state::WorkerSpec;
    use crate::wire::Bytes;
    use crate::worker::WorkerConfig;

    #[derive(Default)]
    struct Errors(Mutex<Vec<PoolError>>);

    impl Sink for Errors {
        fn chunk_done(&self, _: &Positions, outcome: Outcome) {
            if let Err(e) = outcome {
                self.0.lock().unwrap().push(e);
            }
        }
        fn task_failed(&self, _: usize, error: PoolError) {
            self.0.lock().unwrap().push(error);
        }
    }

    fn double(x: u32) -> u32 {
        x * 2
    }

    #[test]
    fn a_dead_result_thread_fails_every_pending_and_later_task() {
        let spec = WorkerSpec {
            method: StartMethod::Fork,
            config: WorkerConfig {
                max_tasks: None,
                cpu_per_chunk: None,
            },
            make: None,
            max_result_size: crate::DEFAULT_MAX_RESULT_SIZE,
            limits: Default::default(),
        };
        // No workers: submitted chunks stay pending.
        let (shared, handle) = launch(spec, 0, None).unwrap();
        let errors = Arc::new(Errors::default());
        let chunk = || {
            let positions = Positions {
                start: 0,
                len: 1,
                skipped: Vec::new(),
            };
            let func = FunctionRef::new::<_, (u32,)>(double);
            Chunk::new(
                func,
                Bytes::default(),
                positions,
                None,
                errors.clone(),
                None,
            )
        };
        assert!(shared.submit(vec![chunk(), chunk()]).is_ok());
        crate::scheduler::result_thread::PANIC_NEXT_TURN.store(true, Ordering::SeqCst);
        shared.wake();
        handle
            .join()
            .expect("the result thread catches its own panic");
        assert!(shared.finished.load(Ordering::SeqCst));
        let failed = std::mem::take(&mut *errors.0.lock().unwrap());
        assert_eq!(failed.len(), 2);
        for error in failed {
            assert!(
                matches!(&error, PoolError::PoolBroken { detail } if detail.contains("injected")),
                "{error}"
            );
        }
        let Err((refused, error)) = shared.submit(vec![chunk()]) else {
            panic!("a broken pool took work");
        };
        assert_eq!(refused.len(), 1);
        assert!(
            error.to_string().contains("a panic injected by a test"),
            "{error}"
        );
        refused.into_iter().for_each(|c| c.fail(error.clone()));
    }
}
