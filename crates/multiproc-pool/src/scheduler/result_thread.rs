//! The pool's result thread: it reads every worker's results, notices deaths and timeouts,
//! replaces workers, hands out work, and leaves when the pool is closed or terminated.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ipc_channel::TrySelectError;
use ipc_channel::ipc::{IpcReceiverSet, IpcSelectionResult};
use multiproc_process::{ExitStatus, Process};
use multiproc_shared::words::OWNER_CHECK_INTERVAL;

use crate::chunk::{Chunk, take_orphans};
use crate::error::TaskError;
use crate::wire::decode_channel_message;

use super::booking::{drain_ring, receive};
use super::start::start_worker;
use super::state::{Core, RunState, Shared, Worker};

/// How often the result thread checks that workers are alive (a dead worker's result channel
/// normally closes at once; the check covers a copy of it inherited by another process).
const TICK: Duration = Duration::from_millis(100);
/// How long a terminated or closed worker gets to leave before it is killed.
const GRACE: Duration = Duration::from_secs(1);

/// The pool's result thread.
pub(super) struct ResultThread {
    shared: Arc<Shared>,
    set: IpcReceiverSet,
    wake_id: u64,
    /// Workers started so far, for their names.
    started: usize,
    last_check: Instant,
}

impl ResultThread {
    /// Starts the result thread of a pool whose first `started` workers' result channels
    /// are in `set`, beside the wake-up channel `wake_id`.
    pub(super) fn spawn(
        shared: Arc<Shared>,
        set: IpcReceiverSet,
        wake_id: u64,
        started: usize,
    ) -> std::io::Result<JoinHandle<()>> {
        let reader = ResultThread {
            shared,
            set,
            wake_id,
            started,
            last_check: Instant::now(),
        };
        std::thread::Builder::new()
            .name("multiproc-pool-results".into())
            .spawn(move || {
                let shared = reader.shared.clone();
                // Quiet: a library thread does not write to stderr; the cause is reported
                // to every task instead.
                if let Err(panic) = multiproc_sys::panic::catch(true, move || reader.run()) {
                    let detail = format!(
                        "its result thread panicked: {} ({})",
                        panic.message,
                        panic.location.as_deref().unwrap_or("unknown location")
                    );
                    log::error!("the pool stopped working: {detail}");
                    break_pool(&shared, detail);
                }
            })
    }

    fn run(mut self) {
        let _reserve = crate::worker::reserve_receive_buffer(24);
        loop {
            #[cfg(test)]
            if tests::PANIC_NEXT_TURN.swap(false, Ordering::SeqCst) {
                panic!("a panic injected by a test");
            }
            let timeout = {
                let core = self.shared.core();
                let tick = self.last_check + TICK;
                let until = core.next_deadline().map_or(tick, |d| d.min(tick));
                until.saturating_duration_since(Instant::now())
            };
            let events = if self.drain_rings() {
                // Busy: look at the channels without waiting.
                self.select(Duration::ZERO)
            } else {
                // Going to sleep: say so, then look at the rings once more, so that a result
                // written in between either is seen here or makes its worker send `Ready`.
                self.shared.asleep.store(1);
                if self.drain_rings() {
                    self.shared.asleep.store(0);
                    self.select(Duration::ZERO)
                } else {
                    let events = self.select(timeout);
                    self.shared.asleep.store(0);
                    events
                }
            };
            self.handle(events);
            if self.last_check.elapsed() >= TICK {
                self.last_check = Instant::now();
                self.check_liveness();
            }
            self.check_timeouts();
            let state = {
                let mut core = self.shared.core();
                if core.state == RunState::Closing && core.is_idle() {
                    core.pending.clear();
                }
                core.state
            };
            self.refill_slots();
            match state {
                RunState::Terminated => return self.shut_down(true),
                RunState::Closing if self.shared.core().is_idle() => return self.shut_down(false),
                _ => {}
            }
        }
    }

    fn select(&mut self, timeout: Duration) -> Vec<IpcSelectionResult> {
        match self.set.try_select_timeout(timeout) {
            Ok(events) => events,
            Err(TrySelectError::Empty) => Vec::new(),
            Err(TrySelectError::IoError(e)) => {
                log::error!("the pool could not read its workers' results: {e}");
                std::thread::sleep(TICK);
                Vec::new()
            }
        }
    }

    /// Books results in, hands out more work, then delivers the results (outside the lock: a
    /// callback may use the pool) and handles workers whose channel closed.
    fn handle(&mut self, events: Vec<IpcSelectionResult>) {
        if events.is_empty() {
            return;
        }
        let mut delivered = Vec::new();
        let mut ended = Vec::new();
        {
            let mut core = self.shared.core();
            for event in events {
                match event {
                    IpcSelectionResult::MessageReceived(id, _) if id == self.wake_id => {}
                    IpcSelectionResult::MessageReceived(id, message) => {
                        let core = &mut *core;
                        let Some(worker) = worker_of(&mut core.workers, id) else {
                            continue;
                        };
                        if worker.corrupt.is_some() {
                            continue;
                        }
                        match decode_channel_message(message) {
                            Ok(message) => {
                                delivered.extend(receive(worker, &mut core.chunk_time, message))
                            }
                            Err(corrupt) => worker.mark_corrupt(corrupt),
                        }
                    }
                    IpcSelectionResult::ChannelClosed(id) => {
                        let slot = slot_of(&core, id);
                        if let Some(mut worker) = slot.and_then(|s| core.workers.get_mut(s)?.take())
                        {
                            worker.set_id = None;
                            ended.push(worker);
                        }
                    }
                }
            }
            ended.extend(take_corrupt(&mut core));
            if core.state != RunState::Terminated {
                core.dispatch();
            }
        }
        for (chunk, outcome) in delivered {
            chunk.deliver(outcome);
        }
        for worker in ended {
            self.bury(worker);
        }
    }

    /// Takes every result waiting in the workers' rings, hands out more work, and delivers
    /// the results. Returns whether there were any.
    fn drain_rings(&mut self) -> bool {
        let mut delivered = Vec::new();
        let corrupt = {
            let mut core = self.shared.core();
            let core = &mut *core;
            for worker in core.workers.iter_mut().flatten() {
                delivered.extend(drain_ring(worker, &mut core.chunk_time, Duration::ZERO));
            }
            let corrupt = take_corrupt(core);
            if !delivered.is_empty() && core.state != RunState::Terminated {
                core.dispatch();
            }
            corrupt
        };
        let any = !delivered.is_empty() || !corrupt.is_empty();
        for (chunk, outcome) in delivered {
            chunk.deliver(outcome);
        }
        for worker in corrupt {
            self.bury(worker);
        }
        any
    }

    /// Finds workers that died without their channel closing (a copy of it inherited by
    /// another process keeps it open), after reading everything they sent.
    fn check_liveness(&mut self) {
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
        while let Ok(events) = self.set.try_select() {
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
    /// like any other, and the chunk reports [`TaskError::Timeout`].
    fn check_timeouts(&mut self) {
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
                if let Err(e) = worker.process.kill() {
                    log::error!("could not kill pool worker {}: {e}", worker.pid);
                }
            }
        }
    }

    /// Reaps a worker that ended (or was killed for corrupt results), fails the chunk it was
    /// running, puts back the chunks it had not started, and replaces it. A corrupt worker
    /// fails every chunk in flight on it: what it sent can no longer tell which ones ran.
    fn bury(&mut self, mut worker: Worker) {
        // What it wrote into its ring before it ended is delivered; its channel has been
        // read to the end by now. If it died inside a `put`, the ring's lock is taken over
        // from it once the lock notices (within `OWNER_CHECK_INTERVAL`), and its half
        // written item dropped. A corrupt ring is not read.
        let mut chunk_time = None;
        let patience = OWNER_CHECK_INTERVAL.saturating_mul(2);
        for (chunk, outcome) in drain_ring(&mut worker, &mut chunk_time, patience) {
            chunk.deliver(outcome);
        }
        let status = exit_status(&mut worker.process);
        let mut in_flight = std::mem::take(&mut worker.in_flight);
        if self.shared.core().state == RunState::Terminated {
            in_flight
                .into_iter()
                .for_each(|c| c.fail(TaskError::Terminated));
        } else if let Some(corrupt) = worker.corrupt.take() {
            if !in_flight.is_empty() {
                log::warn!(
                    "pool worker {} was replaced; {} chunks in flight on it fail: {corrupt}",
                    worker.pid,
                    in_flight.len()
                );
            }
            for chunk in in_flight {
                chunk.fail(TaskError::CorruptResults {
                    pid: worker.pid,
                    detail: corrupt.to_string(),
                });
            }
        } else if let Some(panic) = worker.init_failed.take() {
            for chunk in in_flight {
                chunk.fail(TaskError::Initializer(panic.clone()));
            }
        } else {
            if let Some(running) = in_flight.pop_front() {
                let error = match worker.timed_out {
                    Some(after) => TaskError::Timeout { after },
                    None => TaskError::WorkerDied { status },
                };
                log::warn!(
                    "pool worker {} ended ({}) while running a task",
                    worker.pid,
                    describe(status)
                );
                running.fail(error);
            }
            if !in_flight.is_empty() {
                let mut core = self.shared.core();
                if core.state == RunState::Terminated {
                    drop(core);
                    in_flight
                        .into_iter()
                        .for_each(|c| c.fail(TaskError::Terminated));
                } else {
                    for chunk in in_flight.into_iter().rev() {
                        core.pending.push_front(chunk);
                    }
                    core.dispatch();
                }
            }
        }
    }

    /// Starts workers in empty slots while there is (or may be) work for them.
    fn refill_slots(&mut self) {
        let empty: Vec<usize> = {
            let core = self.shared.core();
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
            match start_worker(&self.shared.spec, &self.shared.asleep, self.started) {
                Ok((mut worker, results)) => match self.set.add(results) {
                    Ok(id) => {
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
                        let _ = worker.process.kill();
                        let _ = worker.process.join();
                    }
                },
                Err(e) => {
                    log::error!("could not start a pool worker: {e}");
                    let mut core = self.shared.core();
                    if core.workers.iter().all(Option::is_none) {
                        // Nobody can run the queue: fail it rather than hang.
                        let detail = e.to_string();
                        let pending: Vec<Chunk> = core.pending.drain(..).collect();
                        drop(core);
                        for chunk in pending {
                            chunk.fail(TaskError::NoWorkers {
                                detail: detail.clone(),
                            });
                        }
                    }
                }
            }
        }
    }

    /// Leaves: after `close`, once every task is done (workers are asked to exit); after
    /// `terminate`, at once (workers are terminated, their tasks fail).
    fn shut_down(self, terminate: bool) {
        let (workers, pending) = {
            let mut core = self.shared.core();
            let workers: Vec<Worker> = core.workers.iter_mut().filter_map(Option::take).collect();
            (workers, core.pending.drain(..).collect::<Vec<_>>())
        };
        for chunk in pending {
            chunk.fail(TaskError::Terminated);
        }
        for worker in &workers {
            if terminate {
                let _ = worker.process.terminate();
            } else {
                let _ = worker.tasks.exit();
            }
        }
        for mut worker in workers {
            if worker.process.join_timeout(GRACE).is_err() && worker.process.is_alive() {
                let _ = worker.process.kill();
                let _ = worker.process.join();
            }
            for chunk in worker.in_flight.drain(..) {
                chunk.fail(TaskError::Terminated);
            }
        }
        // Close the select set's descriptors before telling anyone we are done.
        let shared = self.shared.clone();
        drop(self);
        shared.finished.store(true, Ordering::SeqCst);
    }
}

/// After the result thread died: no result can arrive any more, so every chunk queued or in
/// flight fails with [`TaskError::PoolBroken`], later submissions are refused with it, and
/// the workers are killed and reaped.
fn break_pool(shared: &Shared, detail: String) {
    let (workers, pending) = {
        let mut core = shared.core();
        core.broken = Some(detail.clone());
        core.state = RunState::Terminated;
        let workers: Vec<Worker> = core.workers.iter_mut().filter_map(Option::take).collect();
        (workers, core.pending.drain(..).collect::<Vec<_>>())
    };
    let error = TaskError::PoolBroken { detail };
    for (sink, positions) in take_orphans() {
        let _ = multiproc_sys::panic::catch(true, || {
            sink.chunk_done(&positions, Err(error.clone()));
        });
    }
    for chunk in pending {
        chunk.fail(error.clone());
    }
    for mut worker in workers {
        let _ = worker.process.kill();
        if worker.process.join_timeout(GRACE).is_err() {
            log::error!("could not reap pool worker {}", worker.pid);
        }
        for chunk in worker.in_flight.drain(..) {
            chunk.fail(error.clone());
        }
    }
    shared.finished.store(true, Ordering::SeqCst);
}

/// Takes the workers marked corrupt out of their slots, to be buried.
fn take_corrupt(core: &mut Core) -> Vec<Worker> {
    core.workers
        .iter_mut()
        .filter(|slot| slot.as_ref().is_some_and(|w| w.corrupt.is_some()))
        .filter_map(Option::take)
        .collect()
}

fn worker_of(workers: &mut [Option<Worker>], set_id: u64) -> Option<&mut Worker> {
    workers
        .iter_mut()
        .flatten()
        .find(|w| w.set_id == Some(set_id))
}

fn slot_of(core: &Core, set_id: u64) -> Option<usize> {
    core.workers
        .iter()
        .position(|w| w.as_ref().is_some_and(|w| w.set_id == Some(set_id)))
}

/// Reaps a worker that ended and says how.
fn exit_status(process: &mut Process<()>) -> Option<ExitStatus> {
    match process.join() {
        Ok(()) => Some(ExitStatus::Code(0)),
        Err(e) => e.exit_status().or_else(|| process.exit_status()),
    }
}

fn describe(status: Option<ExitStatus>) -> String {
    status.map_or_else(|| "exit status unknown".to_owned(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    use multiproc_process::{FunctionRef, StartMethod};

    use super::*;
    use crate::chunk::{Outcome, Positions, Sink};
    use crate::scheduler::launch;
    use crate::scheduler::state::WorkerSpec;
    use crate::wire::Bytes;
    use crate::worker::WorkerConfig;

    /// Makes the result thread panic at its next turn (one pool test uses it).
    pub(super) static PANIC_NEXT_TURN: AtomicBool = AtomicBool::new(false);

    #[derive(Default)]
    struct Errors(Mutex<Vec<TaskError>>);

    impl Sink for Errors {
        fn chunk_done(&self, _: &Positions, outcome: Outcome) {
            if let Err(e) = outcome {
                self.0.lock().unwrap().push(e);
            }
        }
        fn task_failed(&self, _: usize, error: TaskError) {
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
            config: WorkerConfig { max_tasks: None },
            make: None,
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
            Chunk::new(func, Bytes::default(), positions, None, errors.clone())
        };
        assert!(shared.submit(vec![chunk(), chunk()]).is_ok());
        PANIC_NEXT_TURN.store(true, Ordering::SeqCst);
        shared.wake();
        handle
            .join()
            .expect("the result thread catches its own panic");
        assert!(shared.finished.load(Ordering::SeqCst));
        let failed = std::mem::take(&mut *errors.0.lock().unwrap());
        assert_eq!(failed.len(), 2);
        for error in failed {
            assert!(
                matches!(&error, TaskError::PoolBroken { detail } if detail.contains("injected")),
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
