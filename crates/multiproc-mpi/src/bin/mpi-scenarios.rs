//! Scenarios for the crate's tests, each run under `mpirun` by `tests/mpirun.rs`; the first
//! argument names the scenario. Not part of the crate's API.
use std::time::Duration;

use multiproc_mpi::MpiPool;
use multiproc_pool::PoolError;
use multiproc_process::{ExitReason, fallible};

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
            println!("segfault isolated");
        }
        "two_pools" => {
            let first = MpiPool::new()?;
            assert_eq!(first.map(square, 0..10u64)?.len(), 10);
            drop(first);
            let second = MpiPool::builder().in_rank().build()?;
            assert_eq!(second.map(square, 0..10u64)?[9], 81);
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
        other => return Err(format!("unknown scenario {other:?}").into()),
    }
    Ok(())
}
