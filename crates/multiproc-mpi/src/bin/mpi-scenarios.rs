//! Scenarios for the crate's tests, each run under `mpirun` by `tests/mpirun.rs`; the first
//! argument names the scenario. Not part of the crate's API.
use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::time::Duration;

use multiproc_mpi::MpiPool;
use multiproc_pool::PoolError;
use multiproc_process::{ExitReason, fallible};

/// How long a spawned worker may take to end after its pool is dropped (the drop waits for
/// their disconnection; the rest is their `MPI_Finalize` and exit).
const ENDS_WITHIN: Duration = Duration::from_secs(60);

fn square(x: u64) -> u64 {
    x * x
}

fn fails_on_seven(x: u64) -> u64 {
    if x == 7 {
        panic!("seven is not welcome");
    }
    x
}

fn segfaults_on_three(x: u64) -> u64 {
    if x == 3 {
        // A real crash, not a panic: the local worker dies with SIGSEGV.
        let _ = multiproc_sys::signal::kill(std::process::id(), libc_sigsegv());
    }
    x + 1
}

fn libc_sigsegv() -> i32 {
    multiproc_sys::signal::number::SIGSEGV
}

/// A task longer than a serving loop runs on its own thread.
fn slow_square(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(2));
    x * x
}

/// Which process ran the task: with `in_rank`, the serving worker itself.
fn worker_pid(_: u64) -> u32 {
    std::process::id()
}

fn parse(text: String) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "map" => {
            let pool = MpiPool::new()?;
            let got = pool.map(square, 0..1000u64)?;
            let want: Vec<u64> = (0..1000u64).map(square).collect();
            assert_eq!(got, want);
            let pending = pool.apply_async(square, (12,))?;
            assert_eq!(pending.get_timeout(Duration::from_secs(60))?, 144);
            println!("map ok on {} serving ranks", pool.servers());
        }
        "imap_lazy" => {
            let pool = MpiPool::builder().chunksize(4).build()?;
            // An endless input: only the window is ever taken from it.
            let first: Vec<u64> = pool
                .imap(square, 0u64..)
                .take(100)
                .collect::<Result<_, _>>()?;
            assert_eq!(first, (0..100u64).map(square).collect::<Vec<_>>());
            let mut unordered: Vec<u64> = pool
                .imap_unordered(square, 0..50u64)
                .collect::<Result<_, _>>()?;
            unordered.sort_unstable();
            assert_eq!(unordered, (0..50u64).map(square).collect::<Vec<_>>());
            println!("imap ok");
        }
        "errors" => {
            let pool = MpiPool::new()?;
            let results: Vec<_> = pool.imap(fails_on_seven, 0..10u64).collect();
            for (i, result) in results.iter().enumerate() {
                match result {
                    Err(PoolError::Panicked {
                        panic: info,
                        index: 7,
                    }) if i == 7 => {
                        assert_eq!(info.message, "seven is not welcome");
                    }
                    Ok(value) if i != 7 => assert_eq!(*value, i as u64),
                    other => panic!("item {i}: {other:?}"),
                }
            }
            assert!(matches!(
                pool.map(fails_on_seven, 0..10u64),
                Err(PoolError::Panicked { .. })
            ));
            // A fallible function's `Err` comes back as the item's failure, with its index.
            let words = ["1", "2", "three", "4"].map(String::from);
            assert_eq!(
                pool.map(fallible(parse), words),
                Err(PoolError::Failed {
                    message: "invalid digit found in string".into(),
                    index: 2,
                })
            );
            println!("errors ok");
        }
        "segfault" => {
            let pool = MpiPool::builder().processes_per_rank(1).build()?;
            let results: Vec<_> = pool.imap(segfaults_on_three, 0..8u64).collect();
            for (i, result) in results.iter().enumerate() {
                match result {
                    Err(PoolError::WorkerDied { status, index: 3 }) if i == 3 => {
                        assert_eq!(*status, Some(ExitReason::Signal(libc_sigsegv())));
                    }
                    Ok(value) if i != 3 => assert_eq!(*value, i as u64 + 1),
                    other => panic!("item {i}: {other:?}"),
                }
            }
            // The rank and its pool go on.
            assert_eq!(pool.map(square, 0..5u64)?, [0, 1, 4, 9, 16]);
            // One chunk of 16 items, several to a local worker's message: still only the
            // crashing item fails.
            let pool = MpiPool::builder()
                .processes_per_rank(1)
                .chunksize(16)
                .build()?;
            let results: Vec<_> = pool.imap(segfaults_on_three, 0..16u64).collect();
            for (i, result) in results.iter().enumerate() {
                match result {
                    Err(PoolError::WorkerDied { index: 3, .. }) if i == 3 => {}
                    Ok(value) if i != 3 => assert_eq!(*value, i as u64 + 1),
                    other => panic!("item {i} of a chunk of 16: {other:?}"),
                }
            }
            println!("segfault isolated");
        }
        "two_pools" => {
            let first = MpiPool::new()?;
            assert_eq!(first.map(square, 0..10u64)?.len(), 10);
            drop(first);
            let second = MpiPool::builder().in_rank().build()?;
            assert_eq!(second.map(square, 0..10u64)?[9], 81);
            // Chunks that take long run on the rank's crew, not its serving loop; after them,
            // the same pool still answers.
            let slow: Vec<u64> = second.map(slow_square, 0..24u64)?;
            assert_eq!(slow, (0..24u64).map(square).collect::<Vec<_>>());
            assert_eq!(second.apply(square, (12,))?, 144);
            println!("two pools ok");
        }
        "early_drop" => {
            let pool = MpiPool::builder().chunksize(1).build()?;
            let mut results = pool.imap(square, 0..100_000u64);
            assert_eq!(results.next().transpose()?, Some(0));
            // Rank 0's program ends with work in flight: the job must still end, with 0.
            println!("dropped early");
        }
        "panic" => {
            let pool = MpiPool::new()?;
            assert_eq!(pool.map(square, 0..4u64)?.len(), 4);
            panic!("rank 0 panics on purpose");
        }
        "callbacks" => {
            for pool in [MpiPool::new()?, MpiPool::builder().in_rank().build()?] {
                let (tx, rx) = mpsc::channel();
                let sent = tx.clone();
                let single = pool
                    .apply_async(square, (9,))?
                    .callback(move |v| sent.send(format!("value {v}")).unwrap());
                let sent = tx.clone();
                let many = pool.map_async(square, 0..100u64)?.callback(move |all| {
                    sent.send(format!("sum {}", all.iter().sum::<u64>()))
                        .unwrap()
                });
                let sent = tx.clone();
                let failing = pool
                    .map_async(fails_on_seven, 0..10u64)?
                    .callback(|_| panic!("the callback of a failed map ran"))
                    .error_callback(move |e| sent.send(format!("error {e}")).unwrap());
                // `get` returns after the callbacks: their messages are already there.
                assert_eq!(single.get()?, 81);
                assert_eq!(many.get()?.len(), 100);
                assert!(
                    matches!(failing.get(), Err(PoolError::Panicked { panic, index: 7 }) if panic.message == "seven is not welcome")
                );
                drop(tx);
                let mut heard: Vec<String> = rx.try_iter().collect();
                heard.sort();
                assert_eq!(heard.len(), 3, "{heard:?}");
                assert_eq!(heard[1], "sum 328350");
                assert_eq!(heard[2], "value 81");
                assert!(heard[0].starts_with("error "), "{heard:?}");
                // A callback added once the result is back runs at once.
                let (tx, rx) = mpsc::channel();
                let done = pool.apply_async(square, (3,))?;
                done.wait();
                let _done = done.callback(move |v| tx.send(*v).unwrap());
                assert_eq!(rx.try_recv()?, 9);
                // A failing item of a batch fails alone, with its index.
                let results: Vec<_> = pool.imap(fails_on_seven, 0..10u64).collect();
                assert!(matches!(
                    &results[7],
                    Err(PoolError::Panicked { index: 7, .. })
                ));
                assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 9);
                let words = ["1", "2", "three", "4"].map(String::from);
                assert!(matches!(
                    pool.map(fallible(parse), words),
                    Err(PoolError::Failed { index: 2, .. })
                ));
            }
            println!("callbacks ok");
        }
        "spawn" => {
            // A spawned worker that ran `main` would print this line too.
            println!("MAIN {}", std::process::id());
            let pool = MpiPool::spawn(2)?;
            assert_eq!(pool.servers(), 2);
            let want: Vec<u64> = (0..100u64).map(square).collect();
            assert_eq!(pool.map(square, 0..100u64)?, want);
            drop(pool);
            let pool = MpiPool::builder().spawn(2).in_rank().chunksize(1).build()?;
            let pids: BTreeSet<u32> = pool.map(worker_pid, 0..64u64)?.into_iter().collect();
            assert!(!pids.is_empty() && !pids.contains(&std::process::id()));
            let watched = (pids.iter())
                .map(|&pid| multiproc_sys::pidfd::open(pid))
                .collect::<Result<Vec<_>, _>>()?;
            drop(pool);
            for pidfd in &watched {
                let ended = multiproc_sys::poll::wait_readable(pidfd.as_fd(), Some(ENDS_WITHIN))?;
                assert!(
                    ended,
                    "a spawned worker outlived its pool by {ENDS_WITHIN:?}"
                );
            }
            println!("spawn ok: {} workers ended with their pool", pids.len());
        }
        other => return Err(format!("unknown scenario {other:?}").into()),
    }
    Ok(())
}
