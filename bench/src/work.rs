//! The task functions that our pool, rayon and the floor run, so every implementation does
//! the same work (the Python script mirrors them).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A trivial task.
pub(crate) fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

/// A CPU-bound task: `iterations` rounds of integer arithmetic that the optimiser cannot
/// remove.
pub(crate) fn busy(iterations: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..iterations {
        acc = black_box(acc.wrapping_add(i.wrapping_mul(i)) ^ (acc >> 7));
    }
    acc
}

/// How many iterations of [`busy`] take about `target` on this machine.
pub(crate) fn calibrate_busy(target: Duration) -> u64 {
    let mut iterations = 10_000u64;
    loop {
        let start = Instant::now();
        black_box(busy(iterations));
        let elapsed = start.elapsed();
        if elapsed >= Duration::from_millis(20) {
            let per_iteration = elapsed.as_secs_f64() / iterations as f64;
            return (target.as_secs_f64() / per_iteration).round() as u64;
        }
        iterations *= 2;
    }
}

/// Runs [`busy`] once per task in this thread, returning the results and the seconds taken.
pub(crate) fn sequential_busy(tasks: &[u64]) -> (Vec<u64>, f64) {
    let start = Instant::now();
    let results = tasks.iter().map(|&k| busy(k)).collect();
    (results, start.elapsed().as_secs_f64())
}

/// The resident set size of the calling process in bytes, from `/proc/self/status`.
pub(crate) fn self_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kib = line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?;
                kib.trim().parse::<u64>().ok()
            })
        })
        .map_or(0, |kib| kib * 1024)
}

/// The proportional set size of the calling process in bytes (each page shared with
/// other processes counted as its share), from `/proc/self/smaps_rollup`.
pub(crate) fn self_pss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|rollup| {
            rollup.lines().find_map(|line| {
                let kib = line.strip_prefix("Pss:")?.trim().strip_suffix("kB")?;
                kib.trim().parse::<u64>().ok()
            })
        })
        .map_or(0, |kib| kib * 1024)
}

/// A pool task that reports which worker ran it and that worker's resident set size.
pub(crate) fn worker_rss(_task: u64) -> (u32, u64) {
    (std::process::id(), self_rss_bytes())
}

/// A pool task that reports which worker ran it and that worker's proportional set size.
pub(crate) fn worker_pss(_task: u64) -> (u32, u64) {
    (std::process::id(), self_pss_bytes())
}
