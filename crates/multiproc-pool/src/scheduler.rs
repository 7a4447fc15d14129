//! The parent side of a pool: the task queue, the workers and what each one is running, and
//! the result thread that reads every worker's results, notices deaths and timeouts, replaces
//! workers and hands out work.
//!
//! Invariants that keep the pool from deadlocking:
//!
//! * Sends to a worker never block for long. A worker's task channel is an ipc-channel socket
//!   whose sends block once about 208 KiB are unread, so the pool keeps at most
//!   [`IN_FLIGHT_BYTES`] of arguments unread per worker (a larger chunk is sent only to a
//!   worker with nothing else in flight, which is reading). Sends can therefore happen with
//!   the core lock held.
//! * The result thread only ever blocks in `select` (on the workers' result channels and a
//!   wake-up channel), on the core lock (never held across a blocking call), and while it
//!   joins a worker that already ended or starts a replacement. It reads the workers' result
//!   rings without waiting (their items are smaller than the ring, so they never stream), and
//!   before it sleeps it raises `asleep` and reads them once more (see [`ResultSink`]).
//!   Workers whose results are large are always being read.
//! * A worker's ring is drained before the worker is buried, so a result it wrote is
//!   delivered and only the chunk it was really running is failed.
//! * Every chunk is, at any moment, in exactly one place: the pending queue, one worker's
//!   `in_flight` list (in the order the worker runs them), or delivered.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipc_channel::TrySelectError;
use ipc_channel::ipc::{self, IpcReceiver, IpcReceiverSet, IpcSelectionResult, IpcSender};
use multiproc_process::{ExitStatus, PanicInfo, Process, ProcessError, StartMethod, get_context};

use crate::chunk::Chunk;
use crate::error::TaskError;
use multiproc_channel::Queue;
use multiproc_shared::Value;
use multiproc_shared::words::OWNER_CHECK_INTERVAL;

use crate::worker::{
    Bytes, FromWorker, RING_BYTES, ResultSink, ToWorker, WireChunk, WorkerConfig, worker_main,
};

/// At most this many bytes of arguments wait unread in a busy worker's task channel.
pub(crate) const IN_FLIGHT_BYTES: usize = 64 * 1024;
/// A chunk that runs at least this long is sent only to an idle worker.
const LONG_CHUNK: Duration = Duration::from_millis(5);
/// How often the result thread checks that workers are alive (a dead worker's result channel
/// normally closes at once; the check covers a copy of it inherited by another process).
const TICK: Duration = Duration::from_millis(100);
/// How long a terminated or closed worker gets to leave before it is killed.
const GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    Running,
    /// `close` was called: no new work; leave once the queue and the workers are empty.
    Closing,
    Terminated,
}

/// Makes (does not start) a worker process from its channels.
pub(crate) type MakeWorker = Box<
    dyn Fn(StartMethod, IpcReceiver<ToWorker>, ResultSink, WorkerConfig) -> Process<()>
        + Send
        + Sync,
>;

/// How to start a worker.
pub(crate) struct WorkerSpec {
    pub(crate) method: StartMethod,
    pub(crate) config: WorkerConfig,
    /// `None`: no initializer, run [`worker_main`].
    pub(crate) make: Option<MakeWorker>,
}

pub(crate) struct Worker {
    process: Process<()>,
    pub(crate) pid: u32,
    tasks: IpcSender<ToWorker>,
    /// Its small results, in shared memory (see [`ResultSink`]).
    ring: Queue<()>,
    /// The id of its result channel in the result thread's select set.
    set_id: Option<u64>,
    /// Chunks sent and not answered, in the order the worker runs them: the first one is
    /// running.
    in_flight: VecDeque<Chunk>,
    in_flight_bytes: usize,
    /// Since when the first chunk of `in_flight` has been running (as far as the pool can
    /// tell: since the previous result arrived, or since it was sent to an idle worker).
    head_since: Instant,
    /// Chunks sent so far (for `maxtasksperchild`).
    sent: u64,
    /// The pool killed it because its running chunk outlived this timeout.
    timed_out: Option<Duration>,
    init_failed: Option<PanicInfo>,
}

/// Everything guarded by the core lock.
pub(crate) struct Core {
    pub(crate) state: RunState,
    pending: VecDeque<Chunk>,
    workers: Vec<Option<Worker>>,
    next_id: u64,
    wake: IpcSender<()>,
    /// A running average of how long a chunk takes, to decide how many to queue per worker.
    chunk_time: Option<Duration>,
    cursor: usize,
    max_tasks: Option<u64>,
}

pub(crate) struct Shared {
    core: Mutex<Core>,
    /// 1 while the result thread sleeps or is about to (see [`ResultSink`]).
    asleep: Value<u32>,
    pub(crate) spec: WorkerSpec,
    pub(crate) processes: usize,
    /// The result thread has left (every worker is reaped).
    pub(crate) finished: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// Queues chunks (ids are assigned here) and hands out what the workers can take. Gives
    /// the chunks back if the pool no longer accepts work.
    pub(crate) fn submit(&self, chunks: Vec<Chunk>) -> Result<(), Vec<Chunk>> {
        let mut core = self.core();
        if core.state != RunState::Running {
            return Err(chunks);
        }
        for mut chunk in chunks {
            chunk.id = core.next_id;
            core.next_id += 1;
            core.pending.push_back(chunk);
        }
        core.dispatch();
        Ok(())
    }

    /// Wakes the result thread up.
    pub(crate) fn wake(&self) {
        let _ = self.core().wake.send(());
    }
}

impl Core {
    pub(crate) fn worker_pids(&self) -> Vec<u32> {
        self.workers.iter().flatten().map(|w| w.pid).collect()
    }

    /// How many chunks to keep per worker (the running one included): enough that a worker
    /// never waits for the next one when chunks are short; only the running one when they
    /// are long (the next one arrives a round trip after the result, a fraction of a percent
    /// of the chunk), so that no worker sits on chunks at the end while another one is idle.
    fn depth(&self) -> usize {
        match self.chunk_time {
            None => 4,
            Some(t) if t >= LONG_CHUNK => 1,
            Some(t) => (2_000_000 / t.as_nanos().max(1)).clamp(2, 64) as usize,
        }
    }

    /// Sends queued chunks to workers with room for them, several chunks per message.
    pub(crate) fn dispatch(&mut self) {
        let n = self.workers.len();
        let depth = self.depth();
        // Spread the queue evenly over the workers that can take work now, so that a short
        // queue of long chunks is not piled onto one worker.
        let takers = self
            .workers
            .iter()
            .flatten()
            .filter(|w| {
                w.timed_out.is_none() && w.init_failed.is_none() && w.in_flight.len() <= depth / 2
            })
            .count()
            .max(1);
        let share = self.pending.len().div_ceil(takers).max(1);
        for k in 0..n {
            if self.pending.is_empty() {
                break;
            }
            let slot = (self.cursor + k) % n;
            let Some(worker) = self.workers[slot].as_mut() else {
                continue;
            };
            if worker.timed_out.is_some() || worker.init_failed.is_some() {
                continue;
            }
            let busy = worker.in_flight.len();
            // Refill in batches: one message carries several chunks.
            if busy > depth / 2 {
                continue;
            }
            let mut room = (depth - busy).min(share);
            if let Some(max) = self.max_tasks {
                room = room.min(max.saturating_sub(worker.sent) as usize);
            }
            let mut batch = Vec::new();
            let mut bytes = worker.in_flight_bytes;
            while room > 0 {
                let Some(front) = self.pending.front() else {
                    break;
                };
                if front.sink.is_cancelled() {
                    self.pending.pop_front();
                    continue;
                }
                let size = front.input.0.len();
                if (busy > 0 || !batch.is_empty()) && bytes + size > IN_FLIGHT_BYTES {
                    break;
                }
                bytes += size;
                room -= 1;
                batch.extend(self.pending.pop_front());
            }
            if batch.is_empty() {
                continue;
            }
            let wire = batch
                .iter()
                .map(|c| WireChunk {
                    id: c.id,
                    func: c.func,
                    input: c.input.clone(),
                })
                .collect();
            if busy == 0 {
                worker.head_since = Instant::now();
            }
            worker.sent += batch.len() as u64;
            worker.in_flight_bytes = bytes;
            worker.in_flight.extend(batch);
            if let Err(e) = worker.tasks.send(ToWorker::Run(wire)) {
                // The worker died; the result thread notices and fails or requeues its chunks.
                log::debug!("could not send work to pool worker {}: {e}", worker.pid);
            }
        }
        self.cursor = (self.cursor + 1) % n.max(1);
    }

    /// Sends SIGTERM to every worker (the result thread reaps them).
    pub(crate) fn terminate_workers(&self) {
        for worker in self.workers.iter().flatten() {
            if let Err(e) = worker.process.terminate() {
                log::error!("could not terminate pool worker {}: {e}", worker.pid);
            }
        }
    }

    fn is_idle(&self) -> bool {
        self.pending.iter().all(|c| c.sink.is_cancelled())
            && self
                .workers
                .iter()
                .flatten()
                .all(|w| w.in_flight.is_empty())
    }

    /// The earliest moment a running chunk times out.
    fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .iter()
            .flatten()
            .filter(|w| w.timed_out.is_none())
            .filter_map(|w| Some(w.head_since + w.in_flight.front()?.timeout?))
            .min()
    }
}

/// Starts one worker process.
pub(crate) fn start_worker(
    spec: &WorkerSpec,
    asleep: &Value<u32>,
    number: usize,
) -> Result<(Worker, IpcReceiver<FromWorker>), ProcessError> {
    let io = |context| move |source| ProcessError::Io { context, source };
    let (task_tx, task_rx) =
        ipc::channel::<ToWorker>().map_err(io("could not create a task channel"))?;
    let (result_tx, result_rx) =
        ipc::channel::<FromWorker>().map_err(io("could not create a result channel"))?;
    let ring = Queue::with_capacity(None, RING_BYTES).map_err(|e| ProcessError::Io {
        context: "could not create a result ring",
        source: std::io::Error::other(e),
    })?;
    let sink = ResultSink {
        channel: result_tx,
        ring: ring.clone(),
        asleep: asleep.clone(),
    };
    let process = match &spec.make {
        Some(make) => make(spec.method, task_rx, sink, spec.config),
        None => get_context(spec.method).process(worker_main, (task_rx, sink, spec.config)),
    };
    let mut process = process
        .with_name(format!("PoolWorker-{number}"))
        .with_daemon(true);
    process.start()?;
    let worker = Worker {
        pid: process.pid().unwrap_or(0),
        process,
        tasks: task_tx,
        ring,
        set_id: None,
        in_flight: VecDeque::new(),
        in_flight_bytes: 0,
        head_since: Instant::now(),
        sent: 0,
        timed_out: None,
        init_failed: None,
    };
    Ok((worker, result_rx))
}

/// Builds the shared state around the first workers and starts the result thread.
pub(crate) fn launch(
    spec: WorkerSpec,
    processes: usize,
    max_tasks: Option<u64>,
) -> Result<(Arc<Shared>, std::thread::JoinHandle<()>), ProcessError> {
    let io = |context| move |source| ProcessError::Io { context, source };
    let mut set = IpcReceiverSet::new().map_err(io("could not create the result selector"))?;
    let (wake, wake_rx) = ipc::channel::<()>().map_err(io("could not create a channel"))?;
    let wake_id = set.add(wake_rx).map_err(io("could not watch a channel"))?;
    let asleep = Value::new(0u32).map_err(|e| ProcessError::Io {
        context: "could not create the pool's shared state",
        source: std::io::Error::other(e),
    })?;
    let mut workers = Vec::with_capacity(processes);
    for number in 1..=processes {
        match start_worker(&spec, &asleep, number) {
            Ok((mut worker, results)) => {
                worker.set_id = Some(set.add(results).map_err(io("could not watch a channel"))?);
                workers.push(Some(worker));
            }
            Err(e) => {
                for mut worker in workers.into_iter().flatten() {
                    let _ = worker.process.kill();
                    let _ = worker.process.join();
                }
                return Err(e);
            }
        }
    }
    let core = Core {
        state: RunState::Running,
        pending: VecDeque::new(),
        workers,
        next_id: 0,
        wake,
        chunk_time: None,
        cursor: 0,
        max_tasks,
    };
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        asleep,
        spec,
        processes,
        finished: AtomicBool::new(false),
    });
    let reader = ResultThread {
        shared: shared.clone(),
        set,
        wake_id,
        started: processes,
        last_check: Instant::now(),
    };
    let handle = std::thread::Builder::new()
        .name("multiproc-pool-results".into())
        .spawn(move || reader.run())
        .map_err(io("could not start the pool's result thread"))?;
    Ok((shared, handle))
}

/// The pool's result thread.
struct ResultThread {
    shared: Arc<Shared>,
    set: IpcReceiverSet,
    wake_id: u64,
    /// Workers started so far, for their names.
    started: usize,
    last_check: Instant,
}

impl ResultThread {
    fn run(mut self) {
        let _reserve = crate::worker::reserve_receive_buffer(24);
        loop {
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
                        let Some(slot) = slot_of(&core, id) else {
                            continue;
                        };
                        match message.to::<FromWorker>() {
                            Ok(FromWorker::Done { id, output }) => {
                                let core = &mut *core;
                                let worker = core.workers[slot].as_mut().expect("slot_of found it");
                                delivered.extend(book(worker, &mut core.chunk_time, id, output));
                            }
                            Ok(FromWorker::Ready) => {}
                            Ok(FromWorker::InitFailed(panic)) => {
                                let worker = core.workers[slot].as_mut().expect("slot_of found it");
                                log::error!(
                                    "the pool initializer panicked in worker {}: {panic}",
                                    worker.pid
                                );
                                worker.init_failed = Some(panic);
                            }
                            Err(e) => log::error!("undecodable message from a pool worker: {e}"),
                        }
                    }
                    IpcSelectionResult::ChannelClosed(id) => {
                        if let Some(slot) = slot_of(&core, id) {
                            let mut worker = core.workers[slot].take().expect("slot_of found it");
                            worker.set_id = None;
                            ended.push(worker);
                        }
                    }
                }
            }
            if core.state != RunState::Terminated {
                core.dispatch();
            }
        }
        for (chunk, outcome) in delivered {
            chunk.sink.chunk_done(&chunk.positions, outcome);
        }
        for worker in ended {
            self.bury(worker);
        }
    }

    /// Takes every result waiting in the workers' rings, hands out more work, and delivers
    /// the results. Returns whether there were any.
    fn drain_rings(&mut self) -> bool {
        let mut delivered = Vec::new();
        {
            let mut core = self.shared.core();
            let core = &mut *core;
            for worker in core.workers.iter_mut().flatten() {
                delivered.extend(drain_ring(worker, &mut core.chunk_time, Duration::ZERO));
            }
            if !delivered.is_empty() && core.state != RunState::Terminated {
                core.dispatch();
            }
        }
        let any = !delivered.is_empty();
        for (chunk, outcome) in delivered {
            chunk.sink.chunk_done(&chunk.positions, outcome);
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
            if worker.timed_out.is_some() {
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

    /// Reaps a worker that ended, fails the chunk it was running, puts back the chunks it had
    /// not started, and replaces it.
    fn bury(&mut self, mut worker: Worker) {
        // What it wrote into its ring before it ended is delivered; its channel has been
        // read to the end by now. If it died inside a `put`, the ring's lock is taken over
        // from it once the lock notices (within `OWNER_CHECK_INTERVAL`), and its half
        // written item dropped.
        let mut chunk_time = None;
        let patience = OWNER_CHECK_INTERVAL * 2;
        for (chunk, outcome) in drain_ring(&mut worker, &mut chunk_time, patience) {
            chunk.sink.chunk_done(&chunk.positions, outcome);
        }
        let status = exit_status(&mut worker.process);
        let mut in_flight = std::mem::take(&mut worker.in_flight);
        if self.shared.core().state == RunState::Terminated {
            in_flight
                .into_iter()
                .for_each(|c| c.fail(TaskError::Terminated));
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
                let _ = worker.tasks.send(ToWorker::Exit);
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

/// What the pool hands back for a chunk: its output, or why there is none.
type Outcome = Result<Vec<u8>, TaskError>;

/// Books a worker's answer for chunk `id`: the chunk leaves its in-flight list and the
/// running average of chunk times is updated. `None` for a chunk it does not have.
fn book(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    id: u64,
    output: Result<Bytes, String>,
) -> Option<(Chunk, Outcome)> {
    let Some(index) = worker.in_flight.iter().position(|c| c.id == id) else {
        log::error!("pool worker {} answered an unknown chunk", worker.pid);
        return None;
    };
    let chunk = worker.in_flight.remove(index).expect("index is in range");
    worker.in_flight_bytes -= chunk.input.0.len();
    let now = Instant::now();
    let took = now.saturating_duration_since(worker.head_since);
    if index == 0 {
        worker.head_since = now;
    }
    *chunk_time = Some(match *chunk_time {
        None => took,
        Some(avg) => (avg * 7 + took) / 8,
    });
    let outcome = output
        .map(|bytes| bytes.0)
        .map_err(|detail| TaskError::Transfer { detail });
    Some((chunk, outcome))
}

/// Books every result waiting in a worker's ring. Items that are there (`qsize` counts only
/// whole ones) are waited for up to `patience` each, which lets a lock held by a dead
/// worker be taken over; a live worker holds it only for a copy.
fn drain_ring(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    patience: Duration,
) -> Vec<(Chunk, Outcome)> {
    let mut booked = Vec::new();
    loop {
        let wait = if worker.ring.qsize() > 0 {
            patience
        } else {
            Duration::ZERO
        };
        let message = match worker.ring.get_bytes_timeout(wait) {
            Ok(message) => message,
            Err(multiproc_channel::Error::Empty | multiproc_channel::Error::Closed) => break,
            Err(e) => {
                log::error!("could not read pool worker {}'s results: {e}", worker.pid);
                break;
            }
        };
        match postcard::from_bytes::<FromWorker>(&message) {
            Ok(FromWorker::Done { id, output }) => {
                booked.extend(book(worker, chunk_time, id, output))
            }
            Ok(_) => log::error!("pool worker {} put a stray message in its ring", worker.pid),
            Err(e) => log::error!("undecodable result from pool worker {}: {e}", worker.pid),
        }
    }
    booked
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
