//! `multiproc-pool`: `Pool` throughput, latency, speed-up, creation and worker memory.
//! Every scenario uses `Pool::new(2)` (the crate's default start method), created before
//! timing unless creation is what is measured, and warmed up as on the Python side.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use multiproc::pool::{Options, Pool};
use multiproc::process::Target;
use multiproc::shared::Event;

use super::fail;
use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};
use crate::work::{self, square};

/// A pool of two workers that has run a first small map.
fn warm_pool() -> Result<Pool, BoxError> {
    let pool = Pool::new(2).map_err(fail)?;
    pool.map(square, 0..100u64).map_err(fail)?;
    Ok(pool)
}

/// `pool.map(square, 0..n)` with the automatic chunksize.
pub(crate) fn map_auto_chunksize(params: &Params) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        time_repeats(params, || -> Result<(), BoxError> {
            let squares = pool.map(square, 0..params.n).map_err(fail)?;
            ensure(squares.len() as u64 == params.n, || "lost results".into())?;
            Ok(())
        })
    })()
    .into()
}

/// `pool.map` of `square` over `0..n` with chunksize 1.
pub(crate) fn map_chunksize_1(params: &Params) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        time_repeats(params, || -> Result<(), BoxError> {
            let squares = pool.chunksize(1).map(square, 0..params.n).map_err(fail)?;
            ensure(squares.len() as u64 == params.n, || "lost results".into())?;
            Ok(())
        })
    })()
    .into()
}

/// `pool.imap(square, 0..n)` (or `imap_unordered`) with `chunksize` (`None`: the default,
/// one task per chunk as in CPython), every result consumed and checked: in input order
/// for `imap`, each square exactly once for `imap_unordered`.
fn imap_squares(params: &Params, ordered: bool, chunksize: Option<usize>) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        let n = usize::try_from(params.n)?;
        let mut seen = vec![false; n];
        time_repeats(params, || -> Result<(), BoxError> {
            let tasks = match chunksize {
                Some(chunksize) => pool.chunksize(chunksize),
                None => pool.with(Options::new()),
            };
            let results = if ordered {
                tasks.imap(square, 0..params.n)
            } else {
                tasks.imap_unordered(square, 0..params.n)
            };
            seen.fill(false);
            let mut count = 0u64;
            for (position, result) in results.enumerate() {
                let result = result.map_err(fail)?;
                let input = if ordered {
                    position as u64
                } else {
                    result.isqrt()
                };
                let index = usize::try_from(input)?;
                ensure(
                    square(input) == result
                        && index < n
                        && !std::mem::replace(&mut seen[index], true),
                    || format!("wrong or repeated result {result} at position {position}"),
                )?;
                count += 1;
            }
            ensure(count == params.n, || "lost results".into())?;
            Ok(())
        })
    })()
    .into()
}

/// `pool.imap(square, 0..n)`, the default chunksize (1).
pub(crate) fn imap_auto_chunksize(params: &Params) -> Outcome {
    imap_squares(params, true, None)
}

/// `pool.chunksize(1).imap(square, 0..n)`.
pub(crate) fn imap_chunksize_1(params: &Params) -> Outcome {
    imap_squares(params, true, Some(1))
}

/// `pool.chunksize(64).imap(square, 0..n)`.
pub(crate) fn imap_chunksize_64(params: &Params) -> Outcome {
    imap_squares(params, true, Some(64))
}

/// `pool.imap_unordered(square, 0..n)`, the default chunksize (1).
pub(crate) fn imap_unordered_auto_chunksize(params: &Params) -> Outcome {
    imap_squares(params, false, None)
}

/// `pool.chunksize(1).imap_unordered(square, 0..n)`.
pub(crate) fn imap_unordered_chunksize_1(params: &Params) -> Outcome {
    imap_squares(params, false, Some(1))
}

/// `pool.chunksize(64).imap_unordered(square, 0..n)`.
pub(crate) fn imap_unordered_chunksize_64(params: &Params) -> Outcome {
    imap_squares(params, false, Some(64))
}

/// `pool.apply_async(square, (i,)).get()`, `n` times one after another, after a warm-up.
pub(crate) fn apply_async_round_trip(params: &Params) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        let exchange = |count: u64| -> Result<(), BoxError> {
            for i in 0..count {
                let result = pool.apply_async(square, (i,)).get().map_err(fail)?;
                ensure(result == i * i, || "wrong result".into())?;
            }
            Ok(())
        };
        exchange(100)?;
        time_repeats(params, || exchange(params.n))
    })()
    .into()
}

/// A current-thread tokio runtime for the await rows.
fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_current_thread().build()?)
}

/// `pool.submit(square, (i,)).await`, `n` times one after another on a current-thread
/// tokio runtime, after a warm-up: the cost of awaiting beside the blocking `get()` of
/// [`apply_async_round_trip`].
pub(crate) fn await_round_trip(params: &Params) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        let runtime = runtime()?;
        let exchange = |count: u64| -> Result<(), BoxError> {
            runtime.block_on(async {
                for i in 0..count {
                    let result = pool.submit(square, (i,)).await.map_err(fail)?;
                    ensure(result == i * i, || "wrong result".into())?;
                }
                Ok(())
            })
        };
        exchange(100)?;
        time_repeats(params, || exchange(params.n))
    })()
    .into()
}

/// `tokio::task::spawn_blocking(move || square(i)).await`, `n` times one after another: the
/// same work offloaded to tokio's blocking threads in this process, without a process
/// boundary (no isolation from a crash).
pub(crate) fn spawn_blocking_round_trip(params: &Params) -> Outcome {
    (|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()?;
        let exchange = |count: u64| -> Result<(), BoxError> {
            runtime.block_on(async {
                for i in 0..count {
                    let result = tokio::task::spawn_blocking(move || square(i)).await?;
                    ensure(result == i * i, || "wrong result".into())?;
                }
                Ok(())
            })
        };
        exchange(100)?;
        time_repeats(params, || exchange(params.n))
    })()
    .into()
}

/// The events of [`short_task_behind_long`]'s long task, given to each worker by the pool's
/// initializer (shared-memory handles travel as process arguments, not task arguments).
static EVENTS: std::sync::OnceLock<(Event, Event)> = std::sync::OnceLock::new();

fn keep_events(started: Event, release: Event) {
    let _ = EVENTS.set((started, release));
}

/// Says it started, then runs until released (a minute at most).
fn long_task() -> bool {
    let Some((started, release)) = EVENTS.get() else {
        return false;
    };
    started.set();
    release.wait_timeout(Duration::from_secs(60))
}

/// `pool.apply_async(square, (i,)).get()`, `n` times one after another, while the other
/// worker runs a task that ends only once they are done: a short task must not queue
/// behind it.
pub(crate) fn short_task_behind_long(params: &Params) -> Outcome {
    (|| {
        let (started, release) = (Event::new().map_err(fail)?, Event::new().map_err(fail)?);
        let pool = Pool::builder()
            .processes(2)
            .initializer(keep_events, (started.clone(), release.clone()))
            .build()
            .map_err(fail)?;
        pool.map(square, 0..100u64).map_err(fail)?;
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            started.clear();
            release.clear();
            let long = pool.apply_async(long_task, ());
            ensure(started.wait_timeout(Duration::from_secs(60)), || {
                "the long task never started".into()
            })?;
            let start = Instant::now();
            for i in 0..params.n {
                let result = pool
                    .apply_async(square, (i,))
                    .get_timeout(Duration::from_secs(60))
                    .map_err(fail)?;
                ensure(result == i * i, || "wrong result".into())?;
            }
            samples.push(start.elapsed().as_secs_f64());
            release.set();
            ensure(long.get().map_err(fail)?, || {
                "the long task was not released".into()
            })?;
        }
        Ok::<_, BoxError>(samples)
    })()
    .into()
}

/// `n` calls of `crate::work::busy` calibrated to ~10 ms, sequentially in this process
/// (before and after, averaged) and with `pool.map` (chunksize 1) on 2 workers; a sample is
/// the speed-up.
pub(crate) fn cpu_bound_speedup(params: &Params) -> Outcome {
    (|| {
        let pool = warm_pool()?;
        let iterations = work::calibrate_busy(Duration::from_millis(10));
        let tasks = vec![iterations; params.n as usize];
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            // Sequential before and after, averaged, as in the floor (CPU speed drifts).
            let (sequential, before) = work::sequential_busy(&tasks);
            let start = Instant::now();
            let parallel = pool.chunksize(1).map(work::busy, tasks.iter().copied());
            let parallel_time = start.elapsed().as_secs_f64();
            let (_, after) = work::sequential_busy(&tasks);
            let sequential_time = (before + after) / 2.0;
            ensure(parallel.map_err(fail)? == sequential, || {
                "results differ".into()
            })?;
            samples.push(sequential_time / parallel_time);
        }
        Ok::<_, BoxError>(samples)
    })()
    .into()
}

/// `Pool::new(2)`, `pool.map(square, 0..2)`, `close`, `join`; `n` times.
pub(crate) fn pool_create(params: &Params) -> Outcome {
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            let pool = Pool::new(2).map_err(fail)?;
            ensure(pool.map(square, 0..2u64).map_err(fail)? == [0, 1], || {
                "wrong squares".into()
            })?;
            pool.close();
            pool.join().map_err(fail)?;
        }
        Ok(())
    })
    .into()
}

/// A fresh `Pool::new(2)` maps `crate::work::worker_rss` over a few items; a sample is the
/// mean resident set size of the distinct workers that answered, in bytes.
pub(crate) fn worker_rss(params: &Params) -> Outcome {
    worker_memory(params, work::worker_rss).into()
}

/// As [`worker_rss`], the proportional set size (`crate::work::worker_pss`).
pub(crate) fn worker_pss(params: &Params) -> Outcome {
    worker_memory(params, work::worker_pss).into()
}

fn worker_memory<F>(params: &Params, task: F) -> Result<Vec<f64>, BoxError>
where
    F: Target<(u64,), Output = (u32, u64)>,
{
    let mut samples = Vec::with_capacity(params.repeats);
    for _ in 0..params.repeats {
        let pool = Pool::new(2).map_err(fail)?;
        let answers = pool.chunksize(1).map(task, 0..8u64).map_err(fail)?;
        let by_worker: HashMap<u32, u64> = answers.into_iter().collect();
        let total: u64 = by_worker.values().sum();
        samples.push(total as f64 / by_worker.len() as f64);
    }
    Ok(samples)
}
