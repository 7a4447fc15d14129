//! A serving rank: every rank but 0 runs tasks, pool after pool, until rank 0's program ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use mpi::traits::*;
use multiproc_pool::{Pool, PoolError};
use multiproc_process::{ExitReason, FunctionRef};

use crate::universe;
use crate::wire::{self, RemoteFailure, TO_ROOT, TO_SERVER, ToRoot, ToServer};

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

/// Where a pool's tasks run on this rank.
enum Runner {
    /// In local worker processes: a task that crashes fails alone.
    Isolated(Pool),
    /// In this rank's own threads: faster, and a crash ends the MPI job.
    InRank,
    /// The local pool could not start; every task fails with this.
    Broken(String),
}

type Outcomes = Vec<Result<Vec<u8>, RemoteFailure>>;

/// Serves until rank 0 says stop, then ends MPI and the process with status 0. Never returns
/// to the caller, the user's `main`.
pub(crate) fn serve() -> ! {
    let world = universe::world();
    let root = world.process_at_rank(0);
    let (done_tx, done_rx) = mpsc::channel::<(u64, Outcomes)>();
    let mut runners: HashMap<u64, Arc<Runner>> = HashMap::new();
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
                    let done_tx = done_tx.clone();
                    let spawned = thread::Builder::new()
                        .name(format!("multiproc-mpi-chunk-{chunk}"))
                        .spawn(move || {
                            let outcomes = run(&runner, function, items);
                            let _ = done_tx.send((chunk, outcomes));
                        });
                    match spawned {
                        Ok(_) => running += 1,
                        Err(e) => {
                            let failure =
                                RemoteFailure::Other(format!("cannot start a thread: {e}"));
                            reply(&root, chunk, vec![Err(failure)]);
                        }
                    }
                }
                Ok(ToServer::Close { pool }) => {
                    runners.remove(&pool);
                }
                Ok(ToServer::Stop) => break,
                Err(e) => log::error!(target: "multiproc::mpi", "rank {}: {e}", world.rank()),
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
    universe::finalize();
    std::process::exit(0)
}

fn reply(root: &mpi::topology::Process<'_>, chunk: u64, outcomes: Outcomes) {
    match wire::encode(&ToRoot::Done { chunk, outcomes }) {
        Ok(bytes) => root.send_with_tag(&bytes[..], TO_ROOT),
        Err(e) => {
            // A chunk whose results cannot be encoded still gets an answer.
            let failure = ToRoot::Done {
                chunk,
                outcomes: vec![Err(RemoteFailure::Other(e))],
            };
            if let Ok(bytes) = wire::encode(&failure) {
                root.send_with_tag(&bytes[..], TO_ROOT);
            }
        }
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

fn run(runner: &Runner, function: FunctionRef, items: Vec<Vec<u8>>) -> Outcomes {
    match runner {
        Runner::InRank => items
            .iter()
            .map(|item| function.call(item).map_err(RemoteFailure::Other))
            .collect(),
        Runner::Broken(why) => items
            .iter()
            .map(|_| Err(RemoteFailure::Other(why.clone())))
            .collect(),
        Runner::Isolated(pool) => {
            let count = items.len();
            let tasks = items.into_iter().map(|item| (function, item));
            let mut outcomes: Outcomes = pool
                .chunksize(1)
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
            outcomes
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
