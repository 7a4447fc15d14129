//! The worker side: the loop each pool worker process runs.

use multiproc_process::{PanicInfo, Target, catch_panic};
use serde::{Deserialize, Serialize};

use crate::partial::Partial;
use crate::wire::{FromWorker, ResultSink, TaskReceiver};

/// What every worker of a pool is started with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct WorkerConfig {
    /// Leave after this many chunks (Python's `maxtasksperchild`).
    pub(crate) max_tasks: Option<u64>,
    /// The CPU time each chunk may use (`Limits::cpu_time`), given afresh before each one.
    pub(crate) cpu_per_chunk: Option<std::time::Duration>,
}

/// The body of a pool worker without an initializer.
pub(crate) fn worker_main(tasks: TaskReceiver, results: ResultSink, config: WorkerConfig) {
    let _descendants = Descendants::adopt();
    run_tasks(&tasks, &results, config);
}

/// Makes the worker a child subreaper for as long as it lives, and ends its descendants
/// when it leaves (on drop).
///
/// A task's descendant that leaves its parent and its session (double `fork`, `setsid`)
/// then becomes the worker's child instead of init's, so it cannot outlive the pool: when
/// the worker leaves (the pool was closed, `maxtasksperchild`), it kills and reaps every
/// child it still has; when the pool terminates or kills the worker, the pool kills the
/// worker's descendants first (`Worker::end_descendants`). As in CPython, where a pool's
/// workers are daemons that may not have children of their own, nothing a task started is
/// meant to outlive its worker.
struct Descendants;

impl Descendants {
    fn adopt() -> Descendants {
        if let Err(e) = multiproc_sys::subreaper::set(true) {
            log::warn!("a pool worker could not become a child subreaper: {e}");
        }
        Descendants
    }
}

impl Drop for Descendants {
    fn drop(&mut self) {
        multiproc_sys::subreaper::end_children();
    }
}

/// The body of a pool worker with an initializer: run it, then the tasks. `initializer` is a
/// zero-sized function item, so a closure that captures it is still a valid process target,
/// and the initializer's arguments travel as ordinary (typed) process arguments: channel and
/// shared-memory handles among them arrive intact under every start method.
pub(crate) fn init_then_run<F, Args>(
    initializer: F,
    args: Args,
    tasks: TaskReceiver,
    results: ResultSink,
    config: WorkerConfig,
) where
    F: Target<Args, Output = ()>,
{
    let _descendants = Descendants::adopt();
    let failure = match catch_panic(true, move || initializer.try_call(args)) {
        Ok(Ok(())) => None,
        // A fallible initializer's `Err`: reported like a panic, with the error's chain.
        Ok(Err(message)) => Some(PanicInfo {
            message,
            location: None,
        }),
        Err(panic) => Some(panic),
    };
    if let Some(failure) = failure {
        results.send(FromWorker::InitFailed(failure));
        return;
    }
    run_tasks(&tasks, &results, config);
}

/// Runs chunks until told to stop, the pool goes away, or `max_tasks` chunks are done.
fn run_tasks(tasks: &TaskReceiver, results: &ResultSink, config: WorkerConfig) {
    let _reserve = reserve_receive_buffer(1);
    let mut done = 0u64;
    let mut buffer = Vec::new();
    // `None`: told to leave, or the pool is gone.
    while let Some(batch) = tasks.next_batch() {
        let count = batch.len();
        for (index, chunk) in batch.into_iter().enumerate() {
            // A chunk the pool took back (to give it to an idle worker) is skipped.
            if !tasks.claims.start(chunk.seq) {
                continue;
            }
            if let Some(budget) = config.cpu_per_chunk
                && let Err(e) = multiproc_sys::rlimit::set_cpu_budget(budget)
            {
                log::warn!("pool worker could not renew its CPU time limit: {e}");
            }
            let mut partial = Partial::new(chunk.id, &chunk.input.0, results, &mut buffer);
            let output = chunk
                .func
                .call_observed(&chunk.input.0, &mut |encoded, done| {
                    partial.task_done(encoded, done)
                });
            // After the last chunk of a batch, the worker has nothing to run until the pool
            // sends more.
            if !partial.finish(output, index + 1 == count) {
                return;
            }
            done += 1;
            if config.max_tasks.is_some_and(|max| done >= max) {
                return;
            }
        }
    }
}

/// ipc-channel allocates a buffer of about 212 KiB for every message it receives. Where that
/// buffer comes from the top of the heap, freeing it hands the memory back to the system and
/// the next receive faults it in again (a few microseconds per message). This leaves a free
/// block below a small live allocation, which the allocator reuses for those buffers instead;
/// keep the returned allocation alive while receiving.
pub(crate) fn reserve_receive_buffer(buffers: usize) -> Box<u64> {
    // Pieces below the allocator's mmap threshold, so that they come from the heap and
    // merge into one free block once dropped.
    const PIECE: usize = 96 * 1024;
    let pieces: Vec<Vec<u8>> = (0..buffers * 3)
        .map(|_| Vec::with_capacity(PIECE))
        .collect();
    let pin = Box::new(std::hint::black_box(0u64));
    drop(std::hint::black_box(pieces));
    pin
}
