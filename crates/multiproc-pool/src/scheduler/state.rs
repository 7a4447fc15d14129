//! The pool's state: the run state, the workers and what each one is running, the queue of
//! chunks not yet sent, and the lock around them.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipc_channel::ipc::IpcSender;
use multiproc_channel::Queue;
use multiproc_process::{PanicInfo, Process, StartMethod};
use multiproc_shared::Value;

use crate::callbacks::Callbacks;
use crate::chunk::Chunk;
use crate::error::PoolError;
use crate::get_wake::GetWake;
use crate::wire::{Corrupt, ResultSink, TaskReceiver, TaskSender};
use crate::worker::WorkerConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    Running,
    /// `close` was called: no new work; leave once the queue and the workers are empty.
    Closing,
    Terminated,
}

/// Makes (does not start) a worker process from its channels.
pub(crate) type MakeWorker =
    Box<dyn Fn(StartMethod, TaskReceiver, ResultSink, WorkerConfig) -> Process<()> + Send + Sync>;

/// How to start a worker.
pub(crate) struct WorkerSpec {
    pub(crate) method: StartMethod,
    pub(crate) config: WorkerConfig,
    /// `None`: no initializer, run [`worker_main`](crate::worker::worker_main).
    pub(crate) make: Option<MakeWorker>,
    /// The largest message a worker may send on its result channel.
    pub(crate) max_result_size: usize,
    /// Every worker's resource limits.
    pub(crate) limits: multiproc_process::Limits,
}

pub(crate) struct Worker {
    pub(super) process: Process<()>,
    pub(crate) pid: u32,
    pub(super) tasks: TaskSender,
    /// Its small results, in shared memory (see [`ResultSink`]).
    pub(super) ring: Queue<()>,
    /// The id of its result channel in the result thread's select set.
    pub(super) set_id: Option<u64>,
    /// Chunks sent and not answered, in the order the worker runs them: the first one is
    /// running.
    pub(super) in_flight: VecDeque<Chunk>,
    pub(super) in_flight_bytes: usize,
    /// Since when the first chunk of `in_flight` has been running (as far as the pool can
    /// tell: since the previous result arrived, or since it was sent to an idle worker).
    pub(super) head_since: Instant,
    /// Chunks sent so far and not taken back (for `maxtasksperchild`).
    pub(super) sent: u64,
    /// The sequence number of the next chunk sent to it (see [`Claims`](crate::wire::Claims)).
    pub(super) next_seq: u64,
    /// Chunks taken back from it that may still sit unread in its task channel, by sequence
    /// number and size: their bytes count in `in_flight_bytes` until it has read past them.
    pub(super) taken_back: VecDeque<(u64, usize)>,
    /// The pool killed it because its running chunk outlived this timeout.
    pub(super) timed_out: Option<Duration>,
    pub(super) init_failed: Option<PanicInfo>,
    /// What it sent could not be trusted (see [`Corrupt`]): it was killed, and every chunk
    /// in flight on it fails.
    pub(super) corrupt: Option<Corrupt>,
}

impl Worker {
    /// Kills the worker's living descendants, before the worker itself is signalled: the
    /// worker is a child subreaper (see `worker.rs`), so while it lives every one of them,
    /// an escaped one included, is in its tree; once it is gone they would go to init. The
    /// worker is unreaped here (its handle was not joined), so its pid is still its own.
    pub(super) fn end_descendants(&self) {
        if self.process.is_alive() {
            multiproc_sys::subreaper::end_descendants_of(self.pid);
        }
    }

    /// SIGTERM to the worker, after [`end_descendants`](Self::end_descendants).
    pub(super) fn terminate(&self) -> Result<(), multiproc_process::ProcessError> {
        self.end_descendants();
        self.process.terminate()
    }

    /// SIGKILL to the worker, after [`end_descendants`](Self::end_descendants).
    pub(super) fn kill(&self) -> Result<(), multiproc_process::ProcessError> {
        self.end_descendants();
        self.process.kill()
    }

    /// Stops trusting the worker: it is killed now, and the result thread buries it.
    pub(super) fn mark_corrupt(&mut self, corrupt: Corrupt) {
        if self.corrupt.is_some() {
            return;
        }
        log::error!("pool worker {} sent corrupt results: {corrupt}", self.pid);
        if let Err(e) = self.kill() {
            log::error!("could not kill pool worker {}: {e}", self.pid);
        }
        self.corrupt = Some(corrupt);
    }

    /// The worker answered chunk `seq`, so it has read every chunk sent before it: those
    /// taken back no longer fill its task channel.
    pub(super) fn forget_taken_back(&mut self, seq: u64) {
        while let Some(&(taken, size)) = self.taken_back.front() {
            if taken >= seq {
                break;
            }
            self.in_flight_bytes = self.in_flight_bytes.saturating_sub(size);
            self.taken_back.pop_front();
        }
    }

    /// Whether new work may go to it.
    pub(super) fn takes_work(&self) -> bool {
        self.timed_out.is_none() && self.init_failed.is_none() && self.corrupt.is_none()
    }
}

/// Everything guarded by the core lock.
pub(crate) struct Core {
    pub(crate) state: RunState,
    pub(super) pending: VecDeque<Chunk>,
    pub(super) workers: Vec<Option<Worker>>,
    pub(super) next_id: u64,
    pub(super) wake: IpcSender<()>,
    /// A running average of how long a chunk takes, to decide how many to queue per worker.
    pub(super) chunk_time: Option<Duration>,
    pub(super) cursor: usize,
    pub(super) max_tasks: Option<u64>,
    /// Why the result thread stopped, if it did other than by `close` or `terminate`.
    pub(super) broken: Option<String>,
    /// The initializer failed in [`INIT_FAILURES_TO_BREAK`] workers in a row: every task
    /// fails with its error.
    pub(super) init_broken: Option<PanicInfo>,
    /// Workers in a row whose initializer failed or that could not be started, since the
    /// last result arrived.
    pub(super) start_failures: u32,
    /// No worker is started before this moment (the back-off after a failed start).
    pub(super) restart_at: Option<Instant>,
}

/// After this many workers in a row whose initializer failed (no result arrived in
/// between), the pool gives up: every pending and later task fails with the initializer's
/// error.
pub(crate) const INIT_FAILURES_TO_BREAK: u32 = 5;
/// The first pause before a worker is started again after a failed start; it doubles with
/// each failure in a row, up to [`RESTART_BACKOFF_MAX`].
const RESTART_BACKOFF_FIRST: Duration = Duration::from_millis(50);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(5);

pub(crate) struct Shared {
    pub(super) core: Mutex<Core>,
    /// 1 while the result thread sleeps or is about to (see [`ResultSink`]).
    pub(crate) asleep: Value<u32>,
    /// What threads blocked in `get` sleep on (see [`GetWake`]).
    pub(crate) get_wake: GetWake,
    pub(crate) spec: WorkerSpec,
    pub(crate) processes: usize,
    /// The result thread has left (every worker is reaped).
    pub(crate) finished: AtomicBool,
    /// The process that made the pool: its workers, channels and result thread exist only
    /// there (a forked child has copies of the handles and no thread behind them).
    pub(crate) owner: u32,
    /// The thread where `callback` and `error_callback` run.
    pub(crate) callbacks: Arc<Callbacks>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    /// `Err(PoolError::WrongProcess)` unless called in the process that made the pool.
    pub(crate) fn check_process(&self) -> Result<(), PoolError> {
        crate::error::check_owner(self.owner)
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

    /// Sends SIGTERM to every worker (the result thread reaps them).
    pub(crate) fn terminate_workers(&self) {
        for worker in self.workers.iter().flatten() {
            if let Err(e) = worker.terminate() {
                log::error!("could not terminate pool worker {}: {e}", worker.pid);
            }
        }
    }

    pub(super) fn is_idle(&self) -> bool {
        self.pending.iter().all(|c| c.sink.is_cancelled())
            && self
                .workers
                .iter()
                .flatten()
                .all(|w| w.in_flight.is_empty())
    }

    /// The earliest moment a running chunk times out.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .iter()
            .flatten()
            .filter(|w| w.timed_out.is_none() && w.corrupt.is_none())
            .filter_map(|w| w.head_since.checked_add(w.in_flight.front()?.timeout?))
            .min()
    }

    /// Books a failed start (an initializer that failed, or a worker that could not be
    /// started): the next start waits, exponentially longer with each failure in a row.
    /// Returns how many failures in a row there have been.
    pub(super) fn start_failed(&mut self) -> u32 {
        self.start_failures = self.start_failures.saturating_add(1);
        let doublings = self.start_failures.saturating_sub(1).min(16);
        let backoff = RESTART_BACKOFF_FIRST
            .saturating_mul(1 << doublings)
            .min(RESTART_BACKOFF_MAX);
        self.restart_at = Instant::now().checked_add(backoff);
        self.start_failures
    }

    /// A result arrived: the workers do start, so failures no longer count.
    pub(super) fn start_succeeded(&mut self) {
        self.start_failures = 0;
        self.restart_at = None;
    }

    /// The error for tasks that can no longer run: the initializer's once it has failed too
    /// often, else [`PoolError::Terminated`].
    pub(super) fn end_error(&self) -> PoolError {
        match &self.init_broken {
            Some(panic) => PoolError::Initializer(panic.clone()),
            None => PoolError::Terminated,
        }
    }

    /// The error for work the pool no longer takes.
    pub(crate) fn refusal(&self) -> PoolError {
        if let Some(panic) = &self.init_broken {
            return PoolError::Initializer(panic.clone());
        }
        match &self.broken {
            Some(detail) => PoolError::PoolBroken {
                detail: detail.clone(),
            },
            None => PoolError::Closed,
        }
    }
}
