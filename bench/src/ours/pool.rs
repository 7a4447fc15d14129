//! `multiproc-pool`: `Pool` throughput, latency, speed-up, creation and worker memory.
//! Every scenario uses `Pool::new(2)`, created before timing unless creation is what is
//! measured.

use crate::measure::{Outcome, Params};

/// `pool.map(square, 0..n)` with the automatic chunksize.
pub(crate) fn map_auto_chunksize(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::Pool::{new, map}")
}

/// `pool.map` of `square` over `0..n` with chunksize 1.
pub(crate) fn map_chunksize_1(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::Pool::map with chunksize")
}

/// `pool.apply_async(square, (i,)).get()`, `n` times one after another, after a warm-up.
pub(crate) fn apply_async_round_trip(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::{Pool::apply_async, AsyncResult::get}")
}

/// `n` calls of `crate::work::busy` calibrated to ~10 ms, sequentially in this process and
/// then with `pool.map` (chunksize 1) on 2 workers; a sample is the speed-up.
pub(crate) fn cpu_bound_speedup(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::Pool::map with chunksize")
}

/// `Pool::new(2)`, `pool.map(square, 0..2)`, `close`, `join`; `n` times.
pub(crate) fn pool_create(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::Pool::{new, map, close, join}")
}

/// A fresh `Pool::new(2)` maps `crate::work::worker_rss` over a few items; a sample is the
/// mean resident set size of the distinct workers that answered, in bytes.
pub(crate) fn worker_rss(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::pool::Pool::{new, map}")
}
