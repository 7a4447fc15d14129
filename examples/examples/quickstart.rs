//! The whole walkthrough in one program: processes, arguments, a shared value, pools, logging
//! and error handling, each under its own heading.
//!
//! ```text
//! cargo run --release -p multiproc-examples --example quickstart
//! ```

use std::time::Instant;

use multiproc::pool::PoolError;
use multiproc::prelude::*;

fn heading(title: &str) {
    println!("\n== {title}");
}

/// 1. A function that runs in a new process.
fn worker() {
    println!("Worker process started (pid {})", std::process::id());
}

/// 2. A function with an argument, and a result that comes back to `join`.
fn worker_with_arg(num: u32) -> String {
    println!("Worker {num} started");
    format!("worker {num} done")
}

/// 3. A shared counter: each process adds one under the value's lock.
fn add_one(counter: Value<i32>) {
    *counter.lock().expect("no process died holding the lock") += 1;
}

/// 4. and 6. A task for the pool.
fn square(x: u64) -> u64 {
    x * x
}

/// 5. A task of two arguments, for `starmap`.
fn multiply(a: u64, b: u64) -> u64 {
    a * b
}

/// 7. Logging from a child: the record reaches the parent's logger.
fn log_from_child() {
    log::info!(target: multiproc::LOG_TARGET, "Worker started");
}

/// 8. One task panics, one crashes its worker, the rest succeed.
fn risky(x: u32) -> u32 {
    match x {
        3 => panic!("three is unlucky"),
        5 => std::process::abort(),
        _ => x * 10,
    }
}

fn main() -> Result<(), multiproc::Error> {
    let started = Instant::now();
    println!(
        "multiproc quickstart: start method {}, {} CPUs",
        multiproc::get_start_method(),
        cpu_count()
    );

    heading("1. A process");
    let mut p = Process::new(worker, ());
    p.start()?;
    p.join()?;

    heading("2. A process with arguments");
    let mut p = Process::new(worker_with_arg, (5,));
    p.start()?;
    println!("join() returned {:?}", p.join()?);

    heading("3. Five processes increment a shared value");
    let counter = Value::<i32>::new(0)?;
    let mut processes: Vec<_> = (0..5)
        .map(|_| Process::new(add_one, (counter.clone(),)))
        .collect();
    for p in &mut processes {
        p.start()?;
    }
    for p in &mut processes {
        p.join()?;
    }
    println!("Final value: {}", counter.get());

    heading("4. Pool.map");
    let pool = Pool::new(4)?;
    println!("{:?}", pool.map(square, 0..10)?);

    heading("5. Pool.starmap");
    println!(
        "{:?}",
        pool.starmap(multiply, [(1, 2), (3, 4), (5, 6), (7, 8)])?
    );
    drop(pool);

    heading("6. A pool sized by cpu_count() - 1");
    let workers = cpu_count().saturating_sub(1).max(1);
    let pool = Pool::new(workers)?;
    let squares = pool.map(square, 0..100)?;
    println!(
        "{workers} worker(s): squares of 0..100 sum to {}",
        squares.iter().sum::<u64>()
    );
    drop(pool);

    heading("7. Logging from a child process");
    multiproc::log_to_stderr(multiproc::LevelFilter::Info).expect("no other logger is installed");
    let mut p = Process::new(log_from_child, ()).with_name("Worker1");
    p.start()?;
    p.join()?;

    heading("8. Error handling: a failing task and a crashing worker");
    let pool = Pool::new(2)?;
    let mut failures = 0;
    for (x, result) in pool.chunksize(1).imap(risky, 0..8).enumerate() {
        match result {
            Ok(value) => println!("{x} -> {value}"),
            Err(error @ (PoolError::Panicked { .. } | PoolError::WorkerDied { .. })) => {
                failures += 1;
                println!("{x} -> error: {error}");
            }
            Err(other) => return Err(other.into()),
        }
    }
    println!("{failures} tasks failed; the pool replaced its crashed worker and finished the rest");

    println!("\nDone in {:.2} s.", started.elapsed().as_secs_f64());
    Ok(())
}
