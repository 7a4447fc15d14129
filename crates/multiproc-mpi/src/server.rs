//! A serving rank: every rank but 0 runs tasks, pool after pool, until rank 0's program ends.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use multiproc_pool::{Pool, PoolError};
use multiproc_process::{ExitReason, FunctionRef};

use crate::crew::Crew;
use crate::wire::{self, ChunkOutcome, Items, RemoteFailure, TO_ROOT, TO_SERVER, ToRoot, ToServer};

/// How long a serving rank with chunks running keeps looking for messages and results
/// without sleeping, after the last thing that happened: a result or a chunk that comes
/// within it is answered at once instead of after a sleep.
const SPIN: Duration = Duration::from_micros(200);
/// The same for a rank with nothing running. It yields the core between looks, whatever
/// `mpi_yield_when_idle` says: a blocking MPI probe here would poll without yielding when
/// that is 0, and on an oversubscribed node made a round trip 100 times slower.
const IDLE_SPIN: Duration = Duration::from_millis(50);
/// After the spin, how long the rank sleeps on its tasks before it looks for a message again;
/// it starts short and doubles up to the longest while nothing happens.
const SHORTEST_IDLE: Duration = Duration::from_micros(20);
const LONGEST_IDLE: Duration = Duration::from_millis(2);

/// The longest chunk of an in-rank pool that the serving loop runs on its own thread before it
/// sends that pool's chunks to the crew instead: longer than a few round trips, and the
/// hops it saves no longer matter.
const INLINE_LIMIT: Duration = Duration::from_micros(100);

/// Where a pool's tasks run on this rank.
enum Runner {
    /// In local worker processes: a task that crashes fails alone.
    Isolated(Pool),
    /// In this rank's own threads: faster, and a crash ends the MPI job.
    InRank,
    /// The local pool could not start; every task fails with this.
    Broken(String),
}

/// Serves the pools of rank 0 of `job` until it says stop, and confirms. The caller then ends
/// MPI and the process: a serving rank never returns to the user's `main`.
pub(crate) fn serve(job: &SimpleCommunicator) {
    let root = job.process_at_rank(0);
    let (done_tx, done_rx) = mpsc::channel::<(u64, ChunkOutcome)>();
    let mut runners: HashMap<u64, Arc<Runner>> = HashMap::new();
    let crew = Crew::default();
    // In-rank pools with a chunk that ran longer than INLINE_LIMIT on this thread.
    let mut slow_pools: HashSet<u64> = HashSet::new();
    let mut idle = SHORTEST_IDLE;
    // Chunks running on this rank, whose results are still to be sent.
    let mut running = 0usize;
    let mut last_event = Instant::now();
    loop {
        let mut busy = false;
        while let Ok((chunk, outcomes)) = done_rx.try_recv() {
            reply(&root, chunk, outcomes);
            running = running.saturating_sub(1);
            busy = true;
        }
        let probed = root.immediate_matched_probe_with_tag(TO_SERVER);
        if let Some(probed) = probed {
            busy = true;
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            match wire::decode::<ToServer>(&bytes) {
                Ok(ToServer::Open {
                    pool,
                    processes,
                    isolated,
                }) => {
                    runners.insert(pool, Arc::new(open(processes, isolated)));
                }
                Ok(ToServer::Chunk {
                    pool,
                    chunk,
                    function,
                    items,
                }) => {
                    let runner = runners
                        .get(&pool)
                        .cloned()
                        .unwrap_or_else(|| Arc::new(Runner::Broken(format!("no pool {pool}"))));
                    if running == 0 && !slow_pools.contains(&pool) && runner.runs_inline() {
                        // Nothing else runs here: run it on this thread, without the two
                        // thread hops of the crew. A pool whose chunk took long is not run
                        // here again, so that it does not hold up the rank's messages.
                        let started = Instant::now();
                        let outcome = run(&runner, function, items);
                        if started.elapsed() > INLINE_LIMIT {
                            slow_pools.insert(pool);
                        }
                        reply(&root, chunk, outcome);
                        idle = SHORTEST_IDLE;
                        last_event = Instant::now();
                        continue;
                    }
                    let done_tx = done_tx.clone();
                    let spawned = crew.run(Box::new(move || {
                        let outcome = run(&runner, function, items);
                        let _ = done_tx.send((chunk, outcome));
                    }));
                    match spawned {
                        Ok(_) => running += 1,
                        Err(e) => {
                            let failure =
                                RemoteFailure::Other(format!("cannot start a thread: {e}"));
                            reply(&root, chunk, ChunkOutcome::Failed(failure));
                        }
                    }
                }
                Ok(ToServer::Close { pool }) => {
                    runners.remove(&pool);
                    slow_pools.remove(&pool);
                }
                Ok(ToServer::Stop) => break,
                Err(e) => log::error!(target: "multiproc::mpi", "rank {}: {e}", job.rank()),
            }
        }
        if busy {
            idle = SHORTEST_IDLE;
            last_event = Instant::now();
            continue;
        }
        // An idle rank spins longer: the next task of a caller's loop comes soon.
        let spin = if running == 0 { IDLE_SPIN } else { SPIN };
        if last_event.elapsed() < spin {
            thread::yield_now();
            continue;
        }
        match done_rx.recv_timeout(idle) {
            Ok((chunk, outcomes)) => {
                reply(&root, chunk, outcomes);
                running = running.saturating_sub(1);
                idle = SHORTEST_IDLE;
                last_event = Instant::now();
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                idle = (idle * 2).min(LONGEST_IDLE);
            }
        }
    }
    // After this, rank 0 hears nothing more from this rank.
    if let Ok(bytes) = wire::encode(&ToRoot::Stopped) {
        root.send_with_tag(&bytes[..], TO_ROOT);
    }
    drop(runners);
}

fn reply(root: &mpi::topology::Process<'_>, chunk: u64, outcome: ChunkOutcome) {
    match wire::encode(&ToRoot::Done { chunk, outcome }) {
        Ok(bytes) => root.send_with_tag(&bytes[..], TO_ROOT),
        Err(e) => {
            // A chunk whose results cannot be encoded still gets an answer.
            let failure = ToRoot::Done {
                chunk,
                outcome: ChunkOutcome::Failed(RemoteFailure::Other(e)),
            };
            if let Ok(bytes) = wire::encode(&failure) {
                root.send_with_tag(&bytes[..], TO_ROOT);
            }
        }
    }
}

impl Runner {
    /// Whether a chunk may run on the serving loop's thread: in-rank (an isolated chunk waits
    /// for local workers) or broken (it fails at once).
    fn runs_inline(&self) -> bool {
        !matches!(self, Runner::Isolated(_))
    }
}

fn open(processes: Option<usize>, isolated: bool) -> Runner {
    if !isolated {
        return Runner::InRank;
    }
    let pool = match processes {
        Some(n) => Pool::new(n),
        None => Pool::builder().build(),
    };
    match pool {
        Ok(pool) => Runner::Isolated(pool),
        Err(e) => Runner::Broken(format!("the rank's local pool could not start: {e}")),
    }
}

/// Runs one task in a local worker: `input` is the postcard of a one-element `Vec` of the
/// function's argument tuple.
fn run_one((function, input): (FunctionRef, Vec<u8>)) -> Result<Vec<u8>, String> {
    function.call(&input)
}

fn run(runner: &Runner, function: FunctionRef, items: Items) -> ChunkOutcome {
    match (runner, items) {
        (Runner::Broken(why), _) => ChunkOutcome::Failed(RemoteFailure::Other(why.clone())),
        // The whole chunk in one call: its items are decoded, run and encoded in one go.
        (Runner::InRank, Items::Batch(batch)) => match function.call(&batch) {
            Ok(results) => ChunkOutcome::Batch(results),
            Err(e) => ChunkOutcome::Failed(RemoteFailure::Other(e)),
        },
        (Runner::InRank, Items::Each(items)) => ChunkOutcome::Each(
            (items.iter())
                .map(|item| function.call(item).map_err(RemoteFailure::Other))
                .collect(),
        ),
        (Runner::Isolated(pool), Items::Batch(batch)) => {
            // Sent by a pool that thinks this rank runs tasks in its own threads: still
            // isolated, as one task.
            match pool.apply(run_one, ((function, batch),)) {
                Ok(Ok(bytes)) => ChunkOutcome::Batch(bytes),
                Ok(Err(detail)) => ChunkOutcome::Failed(RemoteFailure::Other(detail)),
                Err(e) => ChunkOutcome::Failed(failure(e)),
            }
        }
        (Runner::Isolated(pool), Items::Each(items)) => {
            let count = items.len();
            let tasks = items.into_iter().map(|item| (function, item));
            // Several items to a local message, a few messages per worker: the local pool
            // still fails only the item whose worker died, and runs the rest again.
            let local = count.div_ceil(4 * pool.processes().max(1)).max(1);
            let mut outcomes: Vec<_> = pool
                .chunksize(local)
                .imap(run_one, tasks)
                .map(|result| match result {
                    Ok(Ok(bytes)) => Ok(bytes),
                    Ok(Err(detail)) => Err(RemoteFailure::Other(detail)),
                    Err(e) => Err(failure(e)),
                })
                .collect();
            outcomes.resize_with(count, || {
                Err(RemoteFailure::Other("the task's result was lost".into()))
            });
            ChunkOutcome::Each(outcomes)
        }
    }
}

fn failure(error: PoolError) -> RemoteFailure {
    match error {
        PoolError::WorkerDied { status, .. } => RemoteFailure::WorkerDied {
            signal: match status {
                Some(ExitReason::Signal(signal)) => Some(signal),
                _ => None,
            },
            code: match status {
                Some(ExitReason::Code(code)) => Some(code),
                _ => None,
            },
        },
        PoolError::Panicked { panic: info, .. } => RemoteFailure::Panicked(info),
        other => RemoteFailure::Other(other.to_string()),
    }
}
