//! Prints rough pool throughput figures (the project's benchmark harness is the reference).
//!
//! `pool_throughput [SCENARIO...] [--runs N]`, scenarios `map`, `chunk1`, `apply`, `cpu` and
//! `rss` (all by default); each prints the median and the min–max of its runs.
use std::time::{Duration, Instant};

use multiproc_pool::Pool;

fn double(x: u64) -> u64 {
    x * 2
}

fn spin(ms: u64) -> u64 {
    let end = Instant::now() + Duration::from_millis(ms);
    let mut n = 0u64;
    while Instant::now() < end {
        n = n.wrapping_add(1);
    }
    n
}

/// Median, min and max.
fn summary(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    (median, samples[0], samples[samples.len() - 1])
}

fn report(what: &str, unit: &str, samples: Vec<f64>) {
    let (median, min, max) = summary(samples);
    println!("{what}: median {median:.2} {unit} (min {min:.2}, max {max:.2})");
}

fn main() {
    let mut scenarios = Vec::new();
    let mut runs = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--runs" {
            runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N");
        } else {
            scenarios.push(arg);
        }
    }
    let all = scenarios.is_empty();
    let wants = |name: &str| all || scenarios.iter().any(|s| s == name);
    let pool = Pool::new(2).unwrap();
    pool.map(double, 0..1000).unwrap();
    if wants("map") {
        let samples = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let r = pool.map(double, 0..100_000u64).unwrap();
                let e = t.elapsed();
                assert_eq!(r.len(), 100_000);
                0.1 / e.as_secs_f64()
            })
            .collect();
        report("map 100k auto chunksize", "M tasks/s", samples);
    }
    if wants("chunk1") {
        let samples = (0..runs)
            .map(|_| {
                let t = Instant::now();
                pool.chunksize(1).map(double, 0..10_000u64).unwrap();
                10.0 / t.elapsed().as_secs_f64()
            })
            .collect();
        report("map 10k chunksize=1", "k tasks/s", samples);
    }
    if wants("apply") {
        for i in 0..200 {
            pool.apply_async(double, (i,)).get().unwrap();
        }
        let n = 2000;
        let samples = (0..runs)
            .map(|_| {
                let t = Instant::now();
                for i in 0..n {
                    pool.apply_async(double, (i,)).get().unwrap();
                }
                t.elapsed().as_secs_f64() * 1e6 / n as f64
            })
            .collect();
        report("apply_async round trip", "us", samples);
    }
    if wants("cpu") {
        let samples = (0..runs)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..40 {
                    spin(10);
                }
                let seq = t.elapsed();
                let t = Instant::now();
                pool.map(spin, vec![10u64; 40]).unwrap();
                seq.as_secs_f64() / t.elapsed().as_secs_f64()
            })
            .collect();
        report("40 x 10 ms speed-up (auto chunksize)", "x", samples);
        let samples = (0..runs)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..40 {
                    spin(10);
                }
                let seq = t.elapsed();
                let t = Instant::now();
                pool.chunksize(1).map(spin, vec![10u64; 40]).unwrap();
                seq.as_secs_f64() / t.elapsed().as_secs_f64()
            })
            .collect();
        report("40 x 10 ms speed-up (chunksize 1)", "x", samples);
    }
    if wants("rss") {
        for pid in pool.worker_pids() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let rss = status
                .lines()
                .find(|l| l.starts_with("VmRSS"))
                .unwrap_or("");
            println!("worker {pid} ({}): {rss}", pool.start_method());
        }
    }
}
