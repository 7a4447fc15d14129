//! Soak: one million tasks through a `Pool` while a worker is SIGKILLed every 100 ms. Prints
//! throughput, the resident memory of the parent and the workers, and the descriptor count as
//! it goes, and at the end the number of lost items, which must be 0.
//!
//! Not part of the test suite (it runs for a while). Run it with
//! `cargo run --release -p multiproc-integration-tests --bin soak [-- TASKS [START_METHOD]]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use multiproc::pool::PoolError;
use multiproc::{Pool, StartMethod};
use multiproc_test_support::{fd_count, send_signal};

/// About 20 µs of arithmetic, so that a million tasks keep two workers busy for a while.
fn work(x: u64) -> u64 {
    let mut acc = x;
    for _ in 0..4_000 {
        acc = acc.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    }
    acc
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let tasks: u64 = args
        .next()
        .map(|a| a.parse().expect("a task count"))
        .unwrap_or(1_000_000);
    let method: StartMethod = args
        .next()
        .map(|a| a.parse().expect("a start method"))
        .unwrap_or(StartMethod::Forkserver);
    let pool = Arc::new(
        Pool::builder()
            .processes(2)
            .start_method(method)
            .build()
            .expect("a pool"),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (pool, stop, kills) = (pool.clone(), stop.clone(), kills.clone());
        std::thread::spawn(move || {
            let mut turn = 0usize;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let pids = pool.worker_pids();
                if let Some(&pid) = pids.get(turn % pids.len().max(1)) {
                    send_signal(pid, libc::SIGKILL);
                    kills.fetch_add(1, Ordering::Relaxed);
                }
                turn += 1;
            }
        })
    };

    println!("soak: {tasks} tasks, 2 workers, start method {method}, a worker killed every 100 ms");
    println!(
        "{:>9} {:>8} {:>12} {:>11} {:>16} {:>5} {:>6} {:>7}",
        "done", "secs", "tasks/s", "parent KiB", "workers KiB", "fds", "kills", "failed"
    );
    let started = Instant::now();
    let (mut ok, mut failed, mut wrong) = (0u64, 0u64, 0u64);
    let report_every = (tasks / 10).max(1);
    for (index, result) in pool.chunksize(16).imap(work, 0..tasks).enumerate() {
        match result {
            Ok(value) if value == work(index as u64) => ok += 1,
            Ok(_) => wrong += 1,
            Err(PoolError::WorkerDied { .. }) => failed += 1,
            Err(other) => panic!("item {index}: {other}"),
        }
        let done = index as u64 + 1;
        if done.is_multiple_of(report_every) {
            let secs = started.elapsed().as_secs_f64();
            let workers: Vec<String> = pool
                .worker_pids()
                .iter()
                .map(|&p| rss_kib(p).to_string())
                .collect();
            println!(
                "{done:>9} {secs:>8.2} {:>12.0} {:>11} {:>16} {:>5} {:>6} {:>7}",
                done as f64 / secs,
                rss_kib(std::process::id()),
                workers.join("/"),
                fd_count(),
                kills.load(Ordering::Relaxed),
                failed
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let lost = tasks - ok - failed - wrong;
    println!(
        "done: {ok} results, {failed} failed with their worker, {wrong} wrong, {lost} lost, {} kills, {:.1} s",
        kills.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if lost != 0 || wrong != 0 {
        std::process::exit(1);
    }
}
