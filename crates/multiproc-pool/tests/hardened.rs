//! Careless and hostile use of the pool's own API (issue 13): extreme durations, re-entrant
//! and panicking callbacks, an initializer that always fails, a pool used in a forked child,
//! zero chunk sizes, and a worker that dies in the middle of a chunk.

mod common;

use std::time::Duration;

use multiproc_pool::{Options, Pool, PoolError};
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
        assert_eq!(slow.get_timeout(Duration::ZERO), Err(PoolError::NotReady));
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

fn is_wrong_process(error: &PoolError, owner: u32) -> bool {
    matches!(error, PoolError::WrongProcess { owner: o, .. } if *o == owner)
        && error
            .to_string()
            .contains(&format!("this pool belongs to process {owner}"))
}

/// Milliseconds of the tasks that must still run when the child looks.
const SLOW: u64 = 2500;

#[test]
fn a_pool_used_in_a_forked_child_says_whose_it_is() {
    watchdog(2 * LIMIT, "pool in a forked child", || {
        for method in common::METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .build()
                .unwrap();
            let owner = std::process::id();
            let workers = pool.worker_pids();
            // Long enough to be still running when the child is forked, on a loaded machine
            // too (starting `doomed_pool` below can take a second there).
            let pending = pool.apply_async(nap, (SLOW,));
            let mut running = pool.imap(nap, [100, SLOW, SLOW]);
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
                let wrong = |e: &PoolError| is_wrong_process(e, owner);
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
            assert_eq!(pending.get(), Ok(SLOW));
            assert_eq!(running.map(Result::unwrap).collect::<Vec<_>>(), [SLOW; 2]);
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
        let invalid = |e: PoolError, what: &str| {
            assert!(
                matches!(&e, PoolError::InvalidArgument { detail } if detail.contains(what)),
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

// Class 3: callbacks that use their own pool, and callbacks that panic.

fn fail(_: u64) -> u64 {
    panic!("no luck")
}

#[test]
fn a_callback_may_use_its_own_pool() {
    watchdog(LIMIT, "re-entrant callbacks", || {
        use std::sync::{Arc, mpsc};
        let pool = Arc::new(
            Pool::builder()
                .processes(2)
                .start_method(StartMethod::Fork)
                .build()
                .unwrap(),
        );
        let (tx, rx) = mpsc::channel();
        let (same, to) = (pool.clone(), tx.clone());
        let first = pool.apply_async(square, (3,)).callback(move |&n| {
            to.send(("map", same.map(square, 0..n).map(|v| v.len())))
                .unwrap();
        });
        let (same, to) = (pool.clone(), tx.clone());
        let failed = pool.apply_async(fail, (1,)).error_callback(move |_| {
            to.send(("apply", same.apply(square, (4,)).map(|v| v as usize)))
                .unwrap();
        });
        let (same, to) = (pool.clone(), tx.clone());
        let mapped = pool.map_async(square, 0..100).callback(move |values| {
            let n = values.len() as u64;
            let nested = same.map_async(square, 0..n);
            to.send(("map_async", nested.get().map(|v| v.len())))
                .unwrap();
        });
        // A callback that waits for a result whose callback is queued behind it is told so.
        let (same, to) = (pool.clone(), tx.clone());
        let blocked = pool.apply_async(nap, (50,)).callback(move |_| {
            let later = same.apply_async(square, (2,)).callback(|_| {});
            to.send(("blocked", later.get().map(|v| v as usize)))
                .unwrap();
        });
        let mut answers: Vec<_> = (0..4).map(|_| rx.recv().unwrap()).collect();
        answers.sort_by_key(|(what, _)| *what);
        assert_eq!(answers[0], ("apply", Ok(16)));
        let blocked_answer = &answers[1];
        assert!(
            matches!(
                blocked_answer,
                ("blocked", Ok(4) | Err(PoolError::CallbackDeadlock))
            ),
            "{blocked_answer:?}"
        );
        assert_eq!(answers[2], ("map", Ok(9)));
        assert_eq!(answers[3], ("map_async", Ok(100)));
        assert_eq!(first.get(), Ok(9));
        assert!(matches!(failed.get(), Err(PoolError::Panicked { .. })));
        assert_eq!(mapped.get().unwrap().len(), 100);
        assert_eq!(blocked.get(), Ok(50));
        // A callback may close and join its own pool.
        let (same, to) = (pool.clone(), tx);
        let _last = pool.apply_async(square, (5,)).callback(move |_| {
            same.close();
            to.send(("join", same.join().map(|()| 0))).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), ("join", Ok(0)));
        pool.join().unwrap();
    });
}

#[test]
fn a_panicking_callback_is_dropped_and_the_next_ones_run() {
    watchdog(LIMIT, "panicking callbacks", || {
        use std::sync::mpsc;
        let pool = Pool::builder()
            .processes(2)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let mut results = Vec::new();
        for i in 0..20u64 {
            let to = tx.clone();
            let result = if i % 2 == 0 {
                pool.apply_async(square, (i,)).callback(move |&v| {
                    to.send(v).unwrap();
                    panic!("callback {i} panics");
                })
            } else {
                pool.apply_async(fail, (i,)).error_callback(move |_| {
                    to.send(i).unwrap();
                    panic!("error callback {i} panics");
                })
            };
            results.push(result);
        }
        let mut seen: Vec<u64> = (0..20).map(|_| rx.recv().unwrap()).collect();
        seen.sort();
        let mut expected: Vec<u64> = (0..20)
            .map(|i| if i % 2 == 0 { i * i } else { i })
            .collect();
        expected.sort();
        assert_eq!(seen, expected);
        for (i, result) in results.into_iter().enumerate() {
            let i = i as u64;
            match result.get() {
                Ok(v) => assert_eq!(v, i * i),
                Err(e) => assert!(i % 2 == 1 && matches!(e, PoolError::Panicked { .. }), "{e}"),
            }
        }
        // The pool and its callback thread still work.
        let (to, from) = mpsc::channel();
        let _result = pool
            .apply_async(square, (12,))
            .callback(move |&v| to.send(v).unwrap());
        assert_eq!(from.recv_timeout(Duration::from_secs(30)), Ok(144));
    });
}

// Class 4: an initializer that always fails.

/// Counts its own calls in `log` (one byte each), then fails.
fn failing_init(log: String) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(b"x").unwrap();
    panic!("the initializer refuses");
}

fn starts(log: &str) -> usize {
    std::fs::metadata(log).map_or(0, |m| m.len() as usize)
}

#[test]
fn an_initializer_that_always_fails_breaks_the_pool_after_a_few_tries() {
    watchdog(LIMIT, "failing initializer", || {
        for method in common::METHODS {
            let dir = std::env::temp_dir();
            let log = dir.join(format!("pool-init-{}-{method:?}", std::process::id()));
            std::fs::write(&log, b"").unwrap();
            let log = log.to_string_lossy().into_owned();
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .initializer(failing_init, (log.clone(),))
                .build()
                .unwrap();
            let is_init_error = |e: &PoolError| {
                matches!(e, PoolError::Initializer(p) if p.message == "the initializer refuses")
                    && e.to_string().contains("the initializer refuses")
            };
            // Idle: the pool gives up within a few back-offs instead of starting workers in a
            // tight loop (hundreds a second before).
            let started = std::time::Instant::now();
            let mut broken = false;
            while started.elapsed() < Duration::from_secs(20) {
                if pool.join().is_ok() {
                    broken = true;
                    break;
                }
                // Polling the pool's state, not synchronising with it.
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(broken, "{method:?}: still starting workers after 20 s");
            let counted = starts(&log);
            assert!(
                (5..=5 + 2).contains(&counted),
                "{method:?}: {counted} workers started"
            );
            assert!(is_init_error(
                &pool.map_async(square, 0..50).get().unwrap_err()
            ));
            assert!(is_init_error(&pool.apply(square, (1,)).unwrap_err()));
            assert!(is_init_error(&pool.map(square, 0..5).unwrap_err()));
            let imapped: Vec<_> = pool.imap(square, 0..3).collect();
            assert!(
                imapped
                    .iter()
                    .all(|r| is_init_error(r.as_ref().unwrap_err()))
            );
            // No more starts once broken.
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(starts(&log), counted, "{method:?}");
            drop(pool);
            std::fs::remove_file(&log).unwrap();
        }
    });
}

// Class 14: a death in the middle of a chunk fails only the task that caused it.

fn abort_on_13(x: u64) -> u64 {
    if x == 13 {
        std::process::abort();
    }
    x * 10
}

fn slow_on_7(x: u64) -> u64 {
    if x == 7 {
        std::thread::sleep(Duration::from_secs(60));
    }
    x
}

#[test]
fn a_death_in_a_chunk_fails_only_its_task() {
    watchdog(LIMIT, "death in a chunk", || {
        let pool = Pool::builder()
            .processes(2)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        for results in [
            pool.chunksize(10)
                .imap(abort_on_13, 0..40)
                .collect::<Vec<_>>(),
            pool.chunksize(7)
                .imap_unordered(abort_on_13, 0..40)
                .collect(),
        ] {
            assert_eq!(results.len(), 40);
            let died = results
                .iter()
                .filter(|r| matches!(r, Err(PoolError::WorkerDied { index: 13, .. })))
                .count();
            assert_eq!(died, 1, "{results:?}");
            let mut values: Vec<u64> = results.into_iter().filter_map(Result::ok).collect();
            values.sort();
            let expected: Vec<u64> = (0..40).filter(|&x| x != 13).map(|x| x * 10).collect();
            assert_eq!(values, expected);
        }
        let ordered: Vec<_> = pool.chunksize(10).imap(abort_on_13, 0..20).collect();
        assert!(matches!(
            ordered[13],
            Err(PoolError::WorkerDied { index: 13, .. })
        ));
        assert_eq!(ordered[12], Ok(120));
        assert_eq!(ordered[14], Ok(140));
        let map = pool.chunksize(40).map(abort_on_13, 0..40);
        assert!(
            matches!(map, Err(PoolError::WorkerDied { index: 13, .. })),
            "{map:?}"
        );
        // A chunk that times out runs again task by task: only the slow task times out.
        let options = Options::new()
            .chunksize(5)
            .timeout(Duration::from_millis(400));
        let timed: Vec<_> = pool.with(options).imap(slow_on_7, 0..10).collect();
        assert!(
            matches!(timed[7], Err(PoolError::Timeout { index: 7, .. })),
            "{timed:?}"
        );
        let fine = timed.iter().filter(|r| r.is_ok()).count();
        assert_eq!(fine, 9, "{timed:?}");
        assert_eq!(pool.map(square, 0..4), Ok(vec![0, 1, 4, 9]));
    });
}

#[test]
fn imap_defaults_to_one_task_per_chunk() {
    watchdog(LIMIT, "imap chunk size", || {
        // With one task per chunk, a worker that dies costs exactly one item even before
        // anything is run again: every result but one arrives, in order.
        let pool = Pool::builder()
            .processes(1)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let results: Vec<_> = pool.imap(abort_on_13, 0..16).collect();
        for (i, result) in results.iter().enumerate() {
            if i == 13 {
                assert!(matches!(result, Err(PoolError::WorkerDied { .. })));
            } else {
                assert_eq!(result, &Ok(i as u64 * 10));
            }
        }
    });
}

/// Aborts its worker the first time it sees 5 (the marker file says it did), then succeeds.
fn abort_once_on_5(x: u64, marker: String) -> u64 {
    if x == 5
        && std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
            .is_ok()
    {
        std::process::abort();
    }
    x * 10
}

#[test]
fn a_death_that_does_not_repeat_costs_a_map_nothing() {
    watchdog(LIMIT, "one-off death in a map chunk", || {
        let pool = Pool::builder()
            .processes(2)
            .start_method(StartMethod::Fork)
            .build()
            .unwrap();
        let marker = std::env::temp_dir().join(format!("pool-abort-once-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let marker = marker.to_string_lossy().into_owned();
        let args: Vec<(u64, String)> = (0..30).map(|x| (x, marker.clone())).collect();
        let values = pool.chunksize(10).starmap(abort_once_on_5, args).unwrap();
        assert_eq!(values, (0..30).map(|x| x * 10).collect::<Vec<_>>());
        assert!(
            std::path::Path::new(&marker).exists(),
            "the worker never died"
        );
        std::fs::remove_file(&marker).unwrap();
    });
}
