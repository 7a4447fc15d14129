//! Prints rough pool throughput figures (the project's benchmark harness is the reference).
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

fn main() {
    let pool = Pool::new(2).unwrap();
    pool.map(double, 0..1000).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let r = pool.map(double, 0..100_000u64).unwrap();
        let e = t.elapsed();
        assert_eq!(r.len(), 100_000);
        println!(
            "map 100k auto chunksize: {e:?} = {:.2} M tasks/s",
            0.1 / e.as_secs_f64()
        );
    }
    for _ in 0..3 {
        let t = Instant::now();
        pool.chunksize(1).map(double, 0..10_000u64).unwrap();
        let e = t.elapsed();
        println!(
            "map 10k chunksize=1: {e:?} = {:.0} k tasks/s",
            10.0 / e.as_secs_f64()
        );
    }
    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        pool.apply_async(double, (i,)).get().unwrap();
    }
    println!(
        "apply_async round trip: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..40 {
        spin(10);
    }
    let seq = t.elapsed();
    let t = Instant::now();
    pool.map(spin, vec![10u64; 40]).unwrap();
    let par = t.elapsed();
    println!(
        "40 x 10 ms: sequential {seq:?}, pool {par:?}, speed-up {:.2}x",
        seq.as_secs_f64() / par.as_secs_f64()
    );
    for pid in pool.worker_pids() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .unwrap_or("");
        println!("worker {pid} ({}): {rss}", pool.start_method());
    }
}
