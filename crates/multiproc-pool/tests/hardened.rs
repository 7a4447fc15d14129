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

// Class 5: a pool used in a forked child.

fn is_wrong_process(error: &TaskError, owner: u32) -> bool {
    matches!(error, TaskError::WrongProcess { owner: o, .. } if *o == owner)
        && error
            .to_string()
            .contains(&format!("this pool belongs to process {owner}"))
}

#[test]
fn a_pool_used_in_a_forked_child_says_whose_it_is() {
    watchdog(LIMIT, "pool in a forked child", || {
        for method in common::METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .build()
                .unwrap();
            let owner = std::process::id();
            let workers = pool.worker_pids();
            let pending = pool.apply_async(nap, (300,));
            let mut running = pool.imap(nap, [100, 300, 300]);
            // Submits the whole input: the rest is in flight when the child looks.
            assert_eq!(running.next(), Some(Ok(100)));
            let mut unstarted = pool.imap(square, 0..3);
            // Dropped in the child only (the parent keeps its own `Some`).
            let mut doomed = Some(pool.map_async(nap, [100, 100]));
            let mut doomed_pool = Some(
                Pool::builder()
                    .processes(1)
                    .start_method(method)
                    .build()
                    .unwrap(),
            );
            let doomed_workers = doomed_pool.as_ref().unwrap().worker_pids();
            let child = multiproc_test_support::fork(|| {
                let wrong = |e: &TaskError| is_wrong_process(e, owner);
                assert!(wrong(&pool.apply(square, (3,)).unwrap_err()));
                assert!(wrong(&pool.map(square, 0..10).unwrap_err()));
                assert!(wrong(&pool.map_async(square, 0..10).get().unwrap_err()));
                let first = pool.imap(square, 0..10).next().unwrap();
                assert!(wrong(&first.unwrap_err()));
                assert!(!pending.wait_timeout(Duration::from_secs(5)));
                pending.wait();
                assert!(wrong(&pending.get_timeout(Duration::MAX).unwrap_err()));
                assert!(wrong(&running.next().unwrap().unwrap_err()));
                let after = running.next();
                assert!(after.is_none(), "{after:?}");
                // Never advanced in the parent: every item is refused in the child.
                let refused: Vec<_> = unstarted.by_ref().collect();
                assert_eq!(refused.len(), 3);
                assert!(refused.iter().all(|r| wrong(r.as_ref().unwrap_err())));
                assert!(wrong(&pool.join().unwrap_err()));
                pool.close();
                pool.terminate();
                drop(doomed.take());
                drop(doomed_pool.take());
            });
            assert_eq!(child.join(Duration::from_secs(30)), 0, "{method:?}");
            // The parent's pool lost nothing: same workers, every result.
            assert_eq!(pool.worker_pids(), workers, "{method:?}");
            assert_eq!(pending.get(), Ok(300));
            assert_eq!(running.map(Result::unwrap).collect::<Vec<_>>(), [300; 2]);
            assert_eq!(unstarted.map(Result::unwrap).collect::<Vec<_>>(), [0, 1, 4]);
            assert_eq!(pool.apply(square, (5,)), Ok(25));
            assert_eq!(doomed.unwrap().get(), Ok(vec![100, 100]));
            let doomed_pool = doomed_pool.unwrap();
            assert_eq!(doomed_pool.worker_pids(), doomed_workers, "{method:?}");
            assert_eq!(doomed_pool.apply(square, (6,)), Ok(36));
        }
    });
}

// Class 14: Python's ValueErrors, and imap's chunk size.

#[test]
fn zero_chunksize_buffersize_and_maxtasksperchild_are_errors() {
    watchdog(LIMIT, "zero sizes", || {
        let error = Pool::builder().processes(1).maxtasksperchild(0).build();
        assert!(
            error.unwrap_err().to_string().contains("maxtasksperchild"),
            "maxtasksperchild(0) accepted"
        );
        let pool = Pool::builder()
            .processes(1)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let invalid = |e: TaskError, what: &str| {
            assert!(
                matches!(&e, TaskError::InvalidArgument { detail } if detail.contains(what)),
                "{e}"
            );
        };
        invalid(
            pool.chunksize(0).map(square, 0..4).unwrap_err(),
            "chunksize",
        );
        invalid(
            pool.chunksize(0).apply(square, (1,)).unwrap_err(),
            "chunksize",
        );
        let mut imap = pool.chunksize(0).imap(square, 0..4);
        invalid(imap.next().unwrap().unwrap_err(), "chunksize");
        assert!(imap.next().is_none());
        let zero_window = Options::new().buffersize(0);
        let mut imap = pool.with(zero_window).imap_unordered(square, 0..4);
        invalid(imap.next().unwrap().unwrap_err(), "buffersize");
        assert!(imap.next().is_none());
        assert_eq!(pool.map(square, 0..4), Ok(vec![0, 1, 4, 9]));
    });
}
