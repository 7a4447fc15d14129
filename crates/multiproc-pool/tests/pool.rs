//! The map/apply family under every start method: results, chunking, callbacks, timeouts,
//! initializers, and failures that stay with their own task.

mod common;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::METHODS;
use ipc_channel::ipc::{self, IpcSender};
use multiproc_pool::{Options, Pool, PoolError};
use multiproc_process::{ExitReason, StartMethod};
use multiproc_test_support::{kill, watchdog};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const LIMIT: Duration = Duration::from_secs(120);

fn pool(method: StartMethod) -> Pool {
    Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap()
}

fn square(x: u64) -> u64 {
    x * x
}

fn multiply(a: i64, b: i64) -> i64 {
    a * b
}

#[allow(clippy::too_many_arguments)]
fn sum8(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64) -> i64 {
    a as i64 + b as i64 + c as i64 + d as i64 + e as i64 + f as i64 + g as i64 + h
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn my_pid(_: u32) -> u32 {
    std::process::id()
}

fn risky(x: u32) -> u32 {
    match x {
        3 => panic!("three is right out"),
        5 => std::process::abort(),
        7 => std::process::exit(7),
        _ => x * 10,
    }
}

#[test]
fn map_family_equals_sequential() {
    watchdog(LIMIT, "map family", || {
        for method in METHODS {
            let pool = pool(method);
            let input: Vec<u64> = (0..200).collect();
            let expected: Vec<u64> = input.iter().map(|&x| square(x)).collect();
            assert_eq!(
                pool.map(square, input.clone()).unwrap(),
                expected,
                "{method} map auto"
            );
            for chunksize in [1, 7, 1000] {
                let opts = pool.chunksize(chunksize);
                assert_eq!(
                    opts.map(square, input.clone()).unwrap(),
                    expected,
                    "{method} map {chunksize}"
                );
                assert_eq!(
                    opts.map_async(square, input.clone()).get().unwrap(),
                    expected
                );
                let ordered: Vec<u64> = opts
                    .imap(square, input.clone())
                    .map(Result::unwrap)
                    .collect();
                assert_eq!(ordered, expected, "{method} imap {chunksize}");
                let mut unordered: Vec<u64> = opts
                    .imap_unordered(square, input.clone())
                    .map(Result::unwrap)
                    .collect();
                unordered.sort();
                assert_eq!(unordered, expected, "{method} imap_unordered {chunksize}");
            }
            let pairs: Vec<(i64, i64)> = (0..50).map(|i| (i, i + 1)).collect();
            let expected: Vec<i64> = pairs.iter().map(|&(a, b)| a * b).collect();
            assert_eq!(pool.starmap(multiply, pairs.clone()).unwrap(), expected);
            assert_eq!(pool.starmap_async(multiply, pairs).get().unwrap(), expected);
            assert_eq!(
                pool.starmap(multiply, [(1, 2), (3, 4), (5, 6), (7, 8)])
                    .unwrap(),
                [2, 12, 30, 56]
            );
            assert_eq!(pool.apply(sum8, (1, 2, 3, 4, -5, 6, 7, 8)).unwrap(), 26);
            assert_eq!(pool.starmap(sum8, [(1, 1, 1, 1, 1, 1, 1, 1)]).unwrap(), [8]);
            // Empty input.
            assert_eq!(
                pool.map(square, Vec::<u64>::new()).unwrap(),
                Vec::<u64>::new()
            );
            assert_eq!(
                pool.starmap(multiply, Vec::<(i64, i64)>::new()).unwrap(),
                Vec::<i64>::new()
            );
            assert_eq!(pool.imap(square, Vec::<u64>::new()).count(), 0);
            assert_eq!(pool.imap_unordered(square, Vec::<u64>::new()).count(), 0);
        }
    });
}

#[test]
fn apply_async_callbacks_and_get_timeout() {
    watchdog(LIMIT, "apply_async", || {
        for method in METHODS {
            let pool = pool(method);
            let (tx, rx) = std::sync::mpsc::channel();
            let ok = pool
                .apply_async(multiply, (6, 7))
                .callback(move |v| tx.send(*v).unwrap());
            assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 42);
            assert!(ok.is_ready());
            assert_eq!(ok.is_successful(), Some(true));
            assert_eq!(ok.get(), Ok(42));

            let (tx, rx) = std::sync::mpsc::channel();
            let failed = pool
                .apply_async(risky, (3,))
                .callback(|_| panic!("callback must not run for a failure"))
                .error_callback(move |e| tx.send(e.clone()).unwrap());
            let error = rx.recv_timeout(Duration::from_secs(30)).unwrap();
            assert!(
                matches!(&error, PoolError::Panicked { panic: p, index: 0 } if p.message == "three is right out"),
                "{error}"
            );
            assert_eq!(failed.is_successful(), Some(false));

            let slow = pool.apply_async(nap, (400,));
            assert_eq!(
                slow.get_timeout(Duration::from_millis(10)),
                Err(PoolError::NotReady)
            );
            assert!(!slow.is_ready());
            assert_eq!(slow.is_successful(), None);
            assert_eq!(slow.get_timeout(Duration::from_secs(30)), Ok(400));
            assert_eq!(
                slow.get_timeout(Duration::from_secs(1)),
                Err(PoolError::Taken)
            );

            // A callback registered after the result arrived runs at once.
            let done = pool.apply_async(square, (5,));
            done.wait();
            let (tx, rx) = std::sync::mpsc::channel();
            let _done = done.callback(move |v| tx.send(*v).unwrap());
            assert_eq!(rx.try_recv().unwrap(), 25);
        }
    });
}

static OFFSET: AtomicU64 = AtomicU64::new(0);

fn set_offset(offset: u64) {
    OFFSET.store(offset, Ordering::SeqCst);
}

fn add_offset(x: u64) -> u64 {
    x + OFFSET.load(Ordering::SeqCst)
}

fn failing_init() {
    panic!("no setup today");
}

#[test]
fn initializer_state_is_visible_to_tasks() {
    watchdog(LIMIT, "initializer", || {
        for method in METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .initializer(set_offset, (1000,))
                .build()
                .unwrap();
            assert_eq!(
                pool.chunksize(1).map(add_offset, 0..10).unwrap(),
                (1000..1010).collect::<Vec<_>>()
            );

            let broken = Pool::builder()
                .processes(1)
                .start_method(method)
                .initializer(failing_init, ())
                .build()
                .unwrap();
            match broken.apply(square, (3,)) {
                Err(PoolError::Initializer(p)) => assert_eq!(p.message, "no setup today"),
                other => panic!("{method}: unexpected {other:?}"),
            }
        }
    });
}

#[test]
fn maxtasksperchild_replaces_workers() {
    watchdog(LIMIT, "maxtasksperchild", || {
        for method in METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .maxtasksperchild(1)
                .build()
                .unwrap();
            let pids = pool.chunksize(1).map(my_pid, 0..6).unwrap();
            let distinct: HashSet<u32> = pids.iter().copied().collect();
            assert_eq!(distinct.len(), 6, "{method}: {pids:?}");
        }
    });
}

#[test]
fn panic_abort_and_exit_fail_only_their_task() {
    watchdog(LIMIT, "failing tasks", || {
        for method in METHODS {
            let pool = pool(method);
            let results: Vec<Result<u32, PoolError>> =
                pool.chunksize(1).imap(risky, 0..10).collect();
            for (x, result) in results.iter().enumerate() {
                match x {
                    3 => assert!(
                        matches!(result, Err(PoolError::Panicked { panic: p, index: 3 })
                            if p.message == "three is right out" && p.location.as_deref().unwrap().contains("pool.rs")),
                        "{method}: {result:?}"
                    ),
                    5 => assert!(
                        matches!(result, Err(PoolError::WorkerDied {
                            status: Some(ExitReason::Signal(signal)),
                            index: 5,
                        }) if multiproc_sys::signal::name(*signal) == "SIGABRT"),
                        "{method}: {result:?}"
                    ),
                    7 => assert_eq!(
                        result,
                        &Err(PoolError::WorkerDied {
                            status: Some(ExitReason::Code(7)),
                            index: 7,
                        }),
                        "{method}"
                    ),
                    _ => assert_eq!(result, &Ok(x as u32 * 10), "{method}"),
                }
            }
            // `map` gives the first error in input order; the pool still serves.
            assert!(matches!(
                pool.chunksize(1).map(risky, 0..10),
                Err(PoolError::Panicked { .. })
            ));
            assert_eq!(pool.map(square, 0..5).unwrap(), [0, 1, 4, 9, 16]);
            assert_eq!(pool.worker_pids().len(), 2);
        }
    });
}

static REPORT: OnceLock<IpcSender<u32>> = OnceLock::new();

fn install_reporter(tx: IpcSender<u32>) {
    let _ = REPORT.set(tx);
}

fn hang_on_ten(x: u32) -> u32 {
    if x == 10 {
        REPORT.get().unwrap().send(std::process::id()).unwrap();
        std::thread::sleep(Duration::from_secs(300));
    }
    x
}

#[test]
fn sigkilled_worker_fails_only_its_task() {
    watchdog(LIMIT, "SIGKILL mid-map", || {
        for method in METHODS {
            let (tx, rx) = ipc::channel::<u32>().unwrap();
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .initializer(install_reporter, (tx,))
                .build()
                .unwrap();
            let killer = std::thread::spawn(move || {
                let pid = rx
                    .try_recv_timeout(Duration::from_secs(60))
                    .expect("task 10 reports its pid");
                kill(pid);
                pid
            });
            let results: Vec<Result<u32, PoolError>> =
                pool.chunksize(1).imap(hang_on_ten, 0..30).collect();
            let killed = killer.join().unwrap();
            for (x, result) in results.iter().enumerate() {
                if x == 10 {
                    assert_eq!(
                        result,
                        &Err(PoolError::WorkerDied {
                            status: Some(ExitReason::Signal(
                                multiproc_sys::signal::number::SIGKILL
                            )),
                            index: 10,
                        }),
                        "{method}"
                    );
                } else {
                    assert_eq!(result, &Ok(x as u32), "{method}");
                }
            }
            assert!(
                !pool.worker_pids().contains(&killed),
                "{method}: the killed worker was replaced"
            );
            assert_eq!(pool.map(square, 0..4).unwrap(), [0, 1, 4, 9]);
        }
    });
}

#[test]
fn timeout_kills_only_the_slow_task() {
    watchdog(LIMIT, "timeouts", || {
        for method in METHODS {
            let pool = pool(method);
            let options = Options::new()
                .chunksize(1)
                .timeout(Duration::from_millis(500));
            let results: Vec<_> = pool
                .with(options)
                .imap(nap, [10, 20, 300_000, 10, 20])
                .collect();
            assert_eq!(results[0], Ok(10));
            assert_eq!(results[1], Ok(20));
            assert_eq!(
                results[2],
                Err(PoolError::Timeout {
                    after: Duration::from_millis(500),
                    index: 2,
                }),
                "{method}"
            );
            assert_eq!(results[3], Ok(10));
            assert_eq!(results[4], Ok(20));
            assert_eq!(pool.apply(square, (12,)).unwrap(), 144);
        }
    });
}

/// Serializes unless it holds 2.
#[derive(Debug, PartialEq)]
struct Picky(u32);

impl Serialize for Picky {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 == 2 {
            return Err(serde::ser::Error::custom("two is not welcome"));
        }
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(Picky)
    }
}

fn to_picky(x: u32) -> Picky {
    Picky(x)
}

fn from_picky(p: Picky) -> u32 {
    p.0
}

#[test]
fn unserializable_arguments_and_results_fail_their_task() {
    watchdog(LIMIT, "transfer errors", || {
        for method in METHODS {
            let pool = pool(method);
            let results: Vec<_> = pool.chunksize(1).imap(to_picky, 0..4).collect();
            assert_eq!(results[1], Ok(Picky(1)));
            assert!(
                matches!(&results[2], Err(PoolError::Transfer { .. })),
                "{method}: {:?}",
                results[2]
            );
            assert_eq!(results[3], Ok(Picky(3)));
            let results: Vec<_> = pool.imap(from_picky, (0..4).map(Picky)).collect();
            assert_eq!(results[1], Ok(1));
            assert!(
                matches!(&results[2], Err(PoolError::Transfer { .. })),
                "{method}: {:?}",
                results[2]
            );
            assert_eq!(results[3], Ok(3));
            assert!(matches!(
                pool.map(from_picky, (0..4).map(Picky)),
                Err(PoolError::Transfer { .. })
            ));
        }
    });
}

fn big(len: usize) -> Vec<u8> {
    vec![7; len]
}

#[test]
fn large_results_do_not_deadlock() {
    watchdog(LIMIT, "large results", || {
        for method in METHODS {
            let pool = pool(method);
            let sizes = vec![4 << 20; 12];
            let results = pool.chunksize(1).map(big, sizes).unwrap();
            assert!(
                results.iter().all(|r| r.len() == 4 << 20 && r[0] == 7),
                "{method}"
            );
        }
    });
}

fn byte_sum(bytes: Vec<u8>) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// Arguments larger than a socket's buffer (sent only as the worker reads them) reach idle
/// workers, between small ones that go through the workers' task rings, in order.
#[test]
fn large_arguments_reach_idle_workers() {
    watchdog(LIMIT, "large arguments", || {
        for method in METHODS {
            let pool = pool(method);
            for round in 0..3u8 {
                // Idle workers: each large argument goes to a worker asleep on its ring.
                let large = vec![round; 4 << 20];
                let want = u64::from(round) * (4 << 20);
                assert_eq!(
                    pool.apply_async(byte_sum, (large,)).get().unwrap(),
                    want,
                    "{method}"
                );
                let mixed: Vec<Vec<u8>> = (0..40)
                    .map(|i| vec![1; if i % 10 == 0 { 1 << 20 } else { 100 + i }])
                    .collect();
                let want: Vec<u64> = mixed.iter().map(|v| v.len() as u64).collect();
                assert_eq!(
                    pool.chunksize(1).map(byte_sum, mixed).unwrap(),
                    want,
                    "{method}"
                );
            }
        }
    });
}
