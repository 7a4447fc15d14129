//! Careless and hostile use of the pool's own API (issue 13): extreme durations, re-entrant
//! and panicking callbacks, an initializer that always fails, a pool used in a forked child,
//! zero chunk sizes, and a worker that dies in the middle of a chunk.

mod common;

use std::time::Duration;

use multiproc_pool::{Options, Pool, TaskError};
use multiproc_process::StartMethod;
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(60);

fn square(x: u64) -> u64 {
    x * x
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

// Class 1: extreme durations.

#[test]
fn duration_max_means_no_limit_for_get_and_wait() {
    watchdog(LIMIT, "Duration::MAX waits", || {
        let pool = Pool::builder()
            .processes(1)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let result = pool.apply_async(nap, (50,));
        assert!(result.wait_timeout(Duration::MAX));
        assert_eq!(result.get_timeout(Duration::MAX), Ok(50));
        let result = pool.apply_async(nap, (50,));
        assert_eq!(result.get_timeout(Duration::MAX), Ok(50));
        let map = pool.map_async(square, 0..10);
        assert_eq!(map.get_timeout(Duration::MAX).unwrap()[9], 81);
    });
}

#[test]
fn zero_timeout_polls_once() {
    watchdog(LIMIT, "zero timeouts", || {
        let pool = Pool::builder()
            .processes(1)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let slow = pool.apply_async(nap, (300,));
        assert!(!slow.wait_timeout(Duration::ZERO));
        assert_eq!(slow.get_timeout(Duration::ZERO), Err(TaskError::NotReady));
        assert_eq!(slow.get(), Ok(300));
        let quick = pool.apply_async(square, (3,));
        quick.wait();
        assert!(quick.wait_timeout(Duration::ZERO));
        assert_eq!(quick.get_timeout(Duration::ZERO), Ok(9));
    });
}

#[test]
fn duration_max_as_a_task_timeout_means_no_limit() {
    watchdog(LIMIT, "Duration::MAX task timeouts", || {
        let pool = Pool::builder()
            .processes(2)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let forever = Options::new().timeout(Duration::MAX);
        // A timeout times the chunk size is beyond any `Duration`: no limit, no panic.
        let big_chunks = forever.chunksize(1000);
        assert_eq!(
            pool.with(big_chunks).map(square, 0..5000).unwrap()[4999],
            4999 * 4999
        );
        assert_eq!(pool.with(forever).apply(nap, (20,)), Ok(20));
        let imapped: Vec<_> = pool.with(big_chunks).imap(square, 0..3000).collect();
        assert_eq!(imapped[2999], Ok(2999 * 2999));
        let half = Options::new().timeout(Duration::MAX / 2).chunksize(3);
        assert_eq!(pool.with(half).map(square, 0..9).unwrap()[8], 64);
        // The pool's result thread still works afterwards.
        assert_eq!(pool.apply(square, (7,)), Ok(49));
    });
}
