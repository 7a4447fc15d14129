//! The pool's adversarial tier (issue 13), under fork, spawn and forkserver: extreme
//! durations, callbacks that use their own pool or panic, an initializer that always fails,
//! a pool used in a forked child, zero sizes, and a worker that dies in the middle of a
//! chunk. Each case runs under a watchdog, one at a time (the counts below are of this whole
//! process), and fails if it leaves a child process, a file descriptor or a library thread
//! behind.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use multiproc::pool::{Options, PoolError};
use multiproc::{Pool, StartMethod};
use multiproc_test_support::{Census, forge_huge_record_to, start_escaped_sleeper, watchdog};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
const LIMIT: Duration = Duration::from_secs(60);

/// The cases share one process: they run one at a time, so that each one's counts are its
/// own.
static SERIAL: Mutex<()> = Mutex::new(());

fn square(x: u64) -> u64 {
    x * x
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn fail(_: u64) -> u64 {
    panic!("no luck")
}

fn abort_on_13(x: u64) -> u64 {
    if x == 13 {
        std::process::abort();
    }
    x * 10
}

fn pool(method: StartMethod, processes: usize) -> Pool {
    Pool::builder()
        .processes(processes)
        .start_method(method)
        .build()
        .unwrap()
}

/// Runs `case` alone, under a watchdog, and fails if it leaks a child, a descriptor or a
/// library thread. The first case of the run warms up what lives as long as the process
/// (the fork server, ipc-channel's statics) before anything is counted.
fn case(what: &'static str, body: impl FnOnce() + Send + 'static) {
    let _serial: MutexGuard<'_, ()> = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    watchdog(LIMIT, what, move || {
        for method in METHODS {
            let warm = pool(method, 1);
            assert_eq!(warm.apply(square, (2,)), Ok(4));
        }
        let before = Census::take();
        body();
        // Dropping a pool reaps its workers and joins its threads before it returns; allow
        // a moment for a forked test child's descriptors and the like to go.
        before.assert_no_leak(Duration::from_secs(10), what);
    });
}

#[test]
fn extreme_durations_mean_no_limit_or_one_look() {
    case("extreme durations", || {
        for method in METHODS {
            let pool = pool(method, 2);
            let result = pool.apply_async(nap, (30,));
            assert!(result.wait_timeout(Duration::MAX), "{method:?}");
            assert_eq!(result.get_timeout(Duration::MAX), Ok(30));
            let slow = pool.apply_async(nap, (300,));
            assert_eq!(slow.get_timeout(Duration::ZERO), Err(PoolError::NotReady));
            assert!(!slow.wait_timeout(Duration::ZERO));
            assert_eq!(slow.get_timeout(Duration::MAX), Ok(300));
            let forever = Options::new().timeout(Duration::MAX).chunksize(1000);
            let squares = pool.with(forever).map(square, 0..3000).unwrap();
            assert_eq!(squares[2999], 2999 * 2999, "{method:?}");
            let streamed = pool.with(forever).imap_unordered(square, 0..100).count();
            assert_eq!(streamed, 100);
            assert_eq!(pool.apply(square, (9,)), Ok(81), "{method:?}");
        }
    });
}

#[test]
fn callbacks_may_use_their_pool_and_may_panic() {
    case("callbacks", || {
        for method in METHODS {
            let pool = Arc::new(pool(method, 2));
            let (tx, rx) = mpsc::channel();
            let (same, to) = (pool.clone(), tx.clone());
            let first = pool.apply_async(square, (4,)).callback(move |&n| {
                to.send(same.map(square, 0..n).map(|v| v.len())).unwrap();
                panic!("a callback that panics after its work");
            });
            let (same, to) = (pool.clone(), tx.clone());
            let _failed = pool.apply_async(fail, (1,)).error_callback(move |_| {
                to.send(same.apply(square, (5,)).map(|v| v as usize))
                    .unwrap();
            });
            let mut answers: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
            answers.sort_by_key(|a| a.clone().unwrap_or(0));
            assert_eq!(answers, [Ok(16), Ok(25)], "{method:?}");
            assert_eq!(first.get(), Ok(16));
            // The callback thread survived the panic.
            let to = tx;
            let _next = pool
                .apply_async(square, (6,))
                .callback(move |&v| to.send(Ok(v as usize)).unwrap());
            assert_eq!(rx.recv_timeout(LIMIT), Ok(Ok(36)), "{method:?}");
            pool.close();
            pool.join().unwrap();
        }
    });
}

/// Counts its calls in `log` (one byte each), then fails.
fn failing_init(log: String) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(b"x").unwrap();
    panic!("the initializer refuses");
}

#[test]
fn an_initializer_that_always_fails_stops_the_pool() {
    case("failing initializer", || {
        for method in METHODS {
            let log = std::env::temp_dir().join(format!(
                "adversarial-pool-init-{}-{method:?}",
                std::process::id()
            ));
            std::fs::write(&log, b"").unwrap();
            let log_path = log.to_string_lossy().into_owned();
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .initializer(failing_init, (log_path,))
                .build()
                .unwrap();
            let is_init_error = |e: &PoolError| matches!(e, PoolError::Initializer(p) if p.message == "the initializer refuses");
            let pending = pool.map_async(square, 0..20);
            let started = Instant::now();
            while pool.join().is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{method:?}: the pool still starts workers"
                );
                // Polling the pool's state, not synchronising with it.
                std::thread::sleep(Duration::from_millis(20));
            }
            let starts = std::fs::metadata(&log).unwrap().len();
            assert!((5..=7).contains(&starts), "{method:?}: {starts} starts");
            assert!(is_init_error(&pending.get().unwrap_err()), "{method:?}");
            assert!(is_init_error(&pool.apply(square, (1,)).unwrap_err()));
            drop(pool);
            assert_eq!(std::fs::metadata(&log).unwrap().len(), starts);
            std::fs::remove_file(&log).unwrap();
        }
    });
}

#[test]
fn a_pool_in_a_forked_child_says_whose_it_is() {
    case("pool in a forked child", || {
        for method in METHODS {
            let pool = pool(method, 2);
            let owner = std::process::id();
            let workers = pool.worker_pids();
            let pending = pool.apply_async(nap, (200,));
            let mut doomed = Some(pool.map_async(square, 0..10));
            let child = multiproc_test_support::fork(|| {
                let wrong = |e: PoolError| {
                    let text = e.to_string();
                    assert!(
                        text.contains(&format!("this pool belongs to process {owner}")),
                        "{text}"
                    );
                };
                wrong(pool.apply(square, (2,)).unwrap_err());
                wrong(pool.map(square, 0..4).unwrap_err());
                wrong(pool.imap(square, 0..4).next().unwrap().unwrap_err());
                wrong(pending.get_timeout(Duration::MAX).unwrap_err());
                wrong(pool.join().unwrap_err());
                pool.terminate();
                drop(doomed.take());
            });
            assert_eq!(child.join(LIMIT), 0, "{method:?}");
            assert_eq!(pool.worker_pids(), workers, "{method:?}");
            assert_eq!(pending.get(), Ok(200));
            assert_eq!(doomed.unwrap().get().unwrap()[9], 81);
        }
    });
}

#[test]
fn sizes_and_deaths_in_a_chunk_follow_cpython() {
    case("chunk sizes and deaths", || {
        for method in METHODS {
            let refused = Pool::builder()
                .processes(1)
                .start_method(method)
                .maxtasksperchild(0)
                .build();
            assert!(refused.is_err(), "{method:?}: maxtasksperchild(0) accepted");
            let pool = pool(method, 2);
            assert!(matches!(
                pool.chunksize(0).map(square, 0..3),
                Err(PoolError::InvalidArgument { .. })
            ));
            let mut zero = pool.chunksize(0).imap(square, 0..3);
            assert!(matches!(
                zero.next(),
                Some(Err(PoolError::InvalidArgument { .. }))
            ));
            assert!(zero.next().is_none());
            let results: Vec<_> = pool.chunksize(8).imap(abort_on_13, 0..24).collect();
            for (i, result) in results.iter().enumerate() {
                if i == 13 {
                    assert!(
                        matches!(result, Err(PoolError::WorkerDied { .. })),
                        "{method:?}: {result:?}"
                    );
                } else {
                    assert_eq!(result, &Ok(i as u64 * 10), "{method:?}");
                }
            }
            assert_eq!(pool.map(square, 0..3), Ok(vec![0, 1, 4]));
        }
    });
}

/// Starts a sleeper that leaves its parent and its session and lives on; returns its pid.
fn escape(_: u64) -> u32 {
    start_escaped_sleeper()
}

/// Class 13: a task's descendant that double-forks and calls `setsid` does not outlive the
/// pool, whether the pool is terminated or closed and joined: each worker is a child
/// subreaper, the pool ends a worker's descendants before it signals the worker, and a
/// worker that leaves ends its own.
#[test]
fn escaped_descendants_do_not_outlive_the_pool() {
    case("escaped descendants", || {
        for method in METHODS {
            for terminate in [true, false] {
                let pool = pool(method, 1);
                let sleeper = pool.apply(escape, (0,)).unwrap();
                assert!(
                    multiproc_sys::process::is_alive(sleeper),
                    "{method:?}: the sleeper did not start"
                );
                if terminate {
                    pool.terminate();
                } else {
                    pool.close();
                }
                let _ = pool.join();
                drop(pool);
                let gone = multiproc_test_support::wait_gone(sleeper, Duration::from_secs(10));
                if !gone {
                    multiproc_test_support::kill(sleeper);
                }
                assert!(
                    gone,
                    "{method:?}: the escaped sleeper outlived the pool (terminate: {terminate})"
                );
            }
        }
    });
}

/// Forges a record header claiming a 2^62-byte message on every socket this worker holds
/// whose peer is the pool's process (its result channel among them), then returns a result
/// too large for the ring, so that it follows the forged header on the result channel.
fn forge_result_header(pool_pid: u32) -> Vec<u8> {
    assert!(
        forge_huge_record_to(pool_pid) > 0,
        "no socket leads to the pool"
    );
    vec![1; 64 << 10]
}

/// Class 9: a task that forges a 2^62-byte header on its worker's result channel costs the
/// pool that worker (killed and replaced, its task failed with the cause), never an abort;
/// the pool goes on.
#[test]
fn a_forged_result_header_costs_only_its_worker() {
    case("forged result header", || {
        for method in METHODS {
            let pool = pool(method, 1);
            match pool.apply(forge_result_header, (std::process::id(),)) {
                Err(PoolError::CorruptResults { detail, .. }) => {
                    assert!(
                        detail.contains("larger than the maximum"),
                        "{method:?}: {detail}"
                    )
                }
                other => panic!(
                    "{method:?}: a forged header gave {:?}",
                    other.map(|v| v.len())
                ),
            }
            assert_eq!(pool.apply(square, (7,)), Ok(49), "{method:?}");
            pool.close();
            pool.join().unwrap();
        }
    });
}
