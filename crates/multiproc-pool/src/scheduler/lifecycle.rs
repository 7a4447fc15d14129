//! The workers' lives as the result thread sees them: it notices deaths and timeouts,
//! buries a worker that ended (or was found corrupt), and starts replacements.

use std::time::Instant;

use multiproc_process::{ExitReason, PanicInfo, Process};
use multiproc_shared::words::OWNER_CHECK_INTERVAL;

use crate::chunk::Chunk;
use crate::error::PoolError;

use super::booking::drain_ring;
use super::result_thread::ResultThread;
use super::start::start_worker;
use super::state::{INIT_FAILURES_TO_BREAK, RunState, Worker};

impl ResultThread {
    /// another process keeps it open), after reading everything they sent.
    pub(super) fn check_liveness(&mut self) {
        let dead: Vec<usize> = {
            let core = self.shared.core();
            (0..core.workers.len())
                .filter(|&slot| {
                    core.workers[slot]
                        .as_ref()
                        .is_some_and(|w| !w.process.is_alive())
                })
                .collect()
        };
        if dead.is_empty() {
            return;
        }
        // Everything a dead worker sent is already in its channel: read it first.
        loop {
            let events = self.select(std::time::Duration::ZERO);
            if events.is_empty() {
                break;
            }
            self.handle(events);
        }
        for slot in dead {
            let worker = self.shared.core().workers[slot].take();
            if let Some(worker) = worker {
                self.bury(worker);
            }
        }
    }

    /// Kills the workers whose running chunk outlived its timeout; their death is handled
    /// like any other, and the chunk reports [`PoolError::Timeout`].
    pub(super) fn check_timeouts(&mut self) {
        let now = Instant::now();
        let mut core = self.shared.core();
        for worker in core.workers.iter_mut().flatten() {
            if worker.timed_out.is_some() || worker.corrupt.is_some() {
                continue;
            }
            if let Some(limit) = worker.in_flight.front().and_then(|c| c.timeout)
                && now.saturating_duration_since(worker.head_since) >= limit
            {
                worker.timed_out = Some(limit);
                if let Err(e) = worker.kill() {
                    log::error!("could not kill pool worker {}: {e}", worker.pid);
                }
            }
        }
    }

    /// Reaps a worker that ended (or was killed for corrupt results), fails the chunk it was
    /// running, puts back the chunks it had not started, and replaces it. A corrupt worker
    /// fails every chunk in flight on it: what it sent can no longer tell which ones ran.
    pub(super) fn bury(&mut self, mut worker: Worker) {
        // What it wrote into its ring before it ended is delivered; its channel has been
        // read to the end by now. If it died inside a `put`, the ring's lock is taken over
        // from it once the lock notices (within `OWNER_CHECK_INTERVAL`), and its half
        // written item dropped. A corrupt ring is not read.
        let mut chunk_time = None;
        let patience = OWNER_CHECK_INTERVAL.saturating_mul(2);
        for booked in drain_ring(&mut worker, &mut chunk_time, patience) {
            booked.deliver();
        }
        let status = exit_status(&mut worker.process);
        self.note_buried(&worker, status);
        let mut in_flight = std::mem::take(&mut worker.in_flight);
        if self.shared.core().state == RunState::Terminated {
            in_flight
                .into_iter()
                .for_each(|c| c.fail(PoolError::Terminated));
        } else if let Some(corrupt) = worker.corrupt.take() {
            if !in_flight.is_empty() {
                log::warn!(
                    "pool worker {} was replaced; {} chunks in flight on it fail: {corrupt}",
                    worker.pid,
                    in_flight.len()
                );
            }
            for chunk in in_flight {
                chunk.fail(PoolError::CorruptResults {
                    pid: worker.pid,
                    detail: corrupt.to_string(),
                });
            }
        } else if let Some(panic) = worker.init_failed.take() {
            for chunk in in_flight {
                chunk.fail(PoolError::Initializer(panic.clone()));
            }
            self.initializer_failed(panic);
        } else {
            // A chunk of several tasks runs again one task per chunk (see
            // `Chunk::take_singles`): only the task that kills a worker fails. A chunk the
            // worker had not started (see `Claims`) is queued again whole.
            let mut again = Vec::new();
            let started = worker.tasks.claims.started();
            let running = in_flight.front().is_some_and(|c| c.seq < started);
            // (Only a chunk it started leaves the list here: the others are queued again.)
            if let Some(mut running) = running.then(|| in_flight.pop_front()).flatten() {
                log::warn!(
                    "pool worker {} ended ({}) while running a chunk of {} tasks",
                    worker.pid,
                    describe(status),
                    running.positions.count()
                );
                match running.take_singles() {
                    Some(singles) => again = singles,
                    // The index is set for each of the chunk's items as it is delivered.
                    None => running.fail(match worker.timed_out {
                        Some(after) => PoolError::Timeout { after, index: 0 },
                        None => match status.and_then(|s| self.shared.spec.limits.explain(s)) {
                            Some(limit) => PoolError::LimitExceeded {
                                limit,
                                status,
                                index: 0,
                            },
                            None => PoolError::WorkerDied { status, index: 0 },
                        },
                    }),
                }
            }
            if !again.is_empty() || !in_flight.is_empty() {
                let mut core = self.shared.core();
                if core.state == RunState::Terminated {
                    let error = core.end_error();
                    drop(core);
                    again
                        .into_iter()
                        .chain(in_flight)
                        .for_each(|c| c.fail(error.clone()));
                } else {
                    for chunk in in_flight.into_iter().rev() {
                        core.pending.push_front(chunk);
                    }
                    for mut single in again.into_iter().rev() {
                        single.id = core.next_id;
                        core.next_id += 1;
                        core.pending.push_front(single);
                    }
                    core.dispatch();
                }
            }
        }
    }

    /// Books a worker whose initializer failed: the next start backs off, and after
    /// [`INIT_FAILURES_TO_BREAK`] in a row the pool gives up, failing every pending and later
    /// task with the initializer's error rather than starting processes forever.
    fn initializer_failed(&mut self, panic: PanicInfo) {
        let mut core = self.shared.core();
        let failures = core.start_failed();
        if failures < INIT_FAILURES_TO_BREAK || core.state == RunState::Terminated {
            return;
        }
        log::error!(
            "the pool initializer failed in {failures} workers in a row; the pool stops: {panic}"
        );
        core.broken = Some(format!(
            "its initializer failed in {failures} workers in a row: {panic}"
        ));
        core.init_broken = Some(panic.clone());
        core.state = RunState::Terminated;
        core.terminate_workers();
        let pending: Vec<Chunk> = core.pending.drain(..).collect();
        drop(core);
        for chunk in pending {
            chunk.fail(PoolError::Initializer(panic.clone()));
        }
    }

    /// Starts workers in empty slots while there is (or may be) work for them, unless a
    /// failed start asked to wait.
    pub(super) fn refill_slots(&mut self) {
        let empty: Vec<usize> = {
            let core = self.shared.core();
            if core.restart_at.is_some_and(|at| Instant::now() < at) {
                return;
            }
            let wanted = match core.state {
                RunState::Running => true,
                RunState::Closing => !core.is_idle(),
                RunState::Terminated => false,
            };
            if !wanted {
                return;
            }
            (0..core.workers.len())
                .filter(|&s| core.workers[s].is_none())
                .collect()
        };
        for slot in empty {
            self.started += 1;
            match start_worker(
                &self.shared.spec,
                &self.shared.asleep,
                &self.shared.get_wake,
                self.started,
            ) {
                Ok((mut worker, results)) => match self.set.add(results) {
                    Ok(id) => {
                        self.log_started(worker.pid);
                        worker.set_id = Some(id);
                        let mut core = self.shared.core();
                        core.workers[slot] = Some(worker);
                        if core.state != RunState::Terminated {
                            core.dispatch();
                        } else {
                            drop(core);
                            self.shared.wake();
                        }
                    }
                    Err(e) => {
                        log::error!("could not watch a new pool worker: {e}");
                        let _ = worker.kill();
                        let _ = worker.process.join();
                    }
                },
                Err(e) => {
                    log::error!("could not start a pool worker: {e}");
                    let mut core = self.shared.core();
                    core.start_failed();
                    if core.workers.iter().all(Option::is_none) {
                        // Nobody can run the queue: fail it rather than hang.
                        let detail = e.to_string();
                        let pending: Vec<Chunk> = core.pending.drain(..).collect();
                        drop(core);
                        for chunk in pending {
                            chunk.fail(PoolError::NoWorkers {
                                detail: detail.clone(),
                            });
                        }
                    }
                    // The other slots wait for the back-off too.
                    break;
                }
            }
        }
    }
}

/// The target of the pool's lifecycle records (CPython's `util.debug`).
const POOL_TARGET: &str = "multiproc::pool";

impl ResultThread {
    /// Remembers why a worker ended, for the record of its replacement.
    fn note_buried(&mut self, worker: &Worker, status: Option<ExitReason>) {
        let why = if let Some(after) = worker.timed_out {
            format!("killed: its task outlived its timeout of {after:?}")
        } else if let Some(corrupt) = &worker.corrupt {
            format!("killed: it sent corrupt results ({corrupt})")
        } else if worker.init_failed.is_some() {
            "its initializer panicked".to_owned()
        } else if status == Some(ExitReason::Code(0)) && worker.in_flight.is_empty() {
            "it left (maxtasksperchild, or the pool is ending)".to_owned()
        } else {
            format!("it died: {}", describe(status))
        };
        log::debug!(target: POOL_TARGET, "pool worker {} ended: {why}", worker.pid);
        // Bounded: a pool that is ending buries workers it does not replace.
        let slots = self.shared.core().workers.len().max(1);
        if self.buried.len() >= slots {
            self.buried.pop_front();
        }
        self.buried.push_back((worker.pid, why));
    }

    /// The record of a worker started: a replacement names the worker it replaces.
    fn log_started(&mut self, pid: u32) {
        match self.buried.pop_front() {
            Some((old, why)) => log::debug!(
                target: POOL_TARGET,
                "pool worker {old} replaced by {pid} ({why})"
            ),
            None => log::debug!(target: POOL_TARGET, "pool worker {pid} started"),
        }
    }
}

/// Reaps a worker that ended and says how.
fn exit_status(process: &mut Process<()>) -> Option<ExitReason> {
    match process.join() {
        Ok(()) => Some(ExitReason::Code(0)),
        Err(e) => e.exit_status().or_else(|| process.exit_status()),
    }
}

fn describe(status: Option<ExitReason>) -> String {
    status.map_or_else(|| "exit status unknown".to_owned(), |s| s.to_string())
}
