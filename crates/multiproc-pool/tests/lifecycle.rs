//! close, terminate, join and drop: prompt, and every worker reaped.

mod common;

use std::time::{Duration, Instant};

use common::{GONE_LIMIT, METHODS};
use multiproc_pool::{Pool, PoolError};
use multiproc_process::StartMethod;
use multiproc_test_support::{gone, stat_of, watchdog};

const LIMIT: Duration = Duration::from_secs(120);

fn pool(method: StartMethod) -> Pool {
    Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap()
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn square(x: u64) -> u64 {
    x * x
}

#[test]
fn terminate_during_a_long_map_is_prompt_and_reaps_every_worker() {
    watchdog(LIMIT, "terminate", || {
        for method in METHODS {
            let pool = pool(method);
            let pids = pool.worker_pids();
            let result = pool.chunksize(1).map_async(nap, vec![60_000; 8]);
            let started = Instant::now();
            pool.terminate();
            pool.join().unwrap();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{method}: took {:?}",
                started.elapsed()
            );
            assert_eq!(result.get(), Err(PoolError::Terminated));
            for pid in pids {
                assert!(
                    gone(pid, GONE_LIMIT),
                    "{method}: worker {pid} still exists: {:?}",
                    stat_of(pid)
                );
            }
            assert!(pool.worker_pids().is_empty());
            assert_eq!(pool.map(square, [1]), Err(PoolError::Closed));
        }
    });
}

#[test]
fn close_lets_queued_work_finish() {
    watchdog(LIMIT, "close", || {
        for method in METHODS {
            let pool = pool(method);
            let pids = pool.worker_pids();
            assert_eq!(pool.join(), Err(PoolError::StillRunning));
            let result = pool.chunksize(1).map_async(nap, vec![20; 10]);
            pool.close();
            assert_eq!(pool.apply(square, (2,)), Err(PoolError::Closed));
            let closed: Vec<_> = pool.imap(square, 0..).collect();
            assert_eq!(closed, [Err(PoolError::Closed)]);
            pool.join().unwrap();
            assert_eq!(result.get().unwrap(), vec![20; 10]);
            for pid in pids {
                assert!(
                    gone(pid, GONE_LIMIT),
                    "{method}: worker {pid} still exists: {:?}",
                    stat_of(pid)
                );
            }
        }
    });
}

#[test]
fn drop_terminates_like_leaving_with() {
    watchdog(LIMIT, "drop", || {
        for method in METHODS {
            let pool = pool(method);
            let pids = pool.worker_pids();
            let pending = pool.apply_async(nap, (60_000,));
            let started = Instant::now();
            drop(pool);
            assert!(started.elapsed() < Duration::from_secs(5), "{method}");
            assert_eq!(pending.get(), Err(PoolError::Terminated));
            for pid in pids {
                assert!(
                    gone(pid, GONE_LIMIT),
                    "{method}: worker {pid} still exists: {:?}",
                    stat_of(pid)
                );
            }
        }
    });
}

fn start_nested(x: u64) -> u64 {
    // A callback that uses the pool: callbacks run on the result thread, outside its locks.
    x
}

#[test]
fn callbacks_may_submit_more_work() {
    watchdog(LIMIT, "callbacks", || {
        let pool = std::sync::Arc::new(pool(StartMethod::Forkserver));
        let (tx, rx) = std::sync::mpsc::channel();
        let inner = pool.clone();
        let _first = pool.apply_async(start_nested, (3,)).callback(move |v| {
            let second = inner.apply_async(square, (*v,));
            std::thread::spawn(move || tx.send(second.get()).unwrap());
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), Ok(9));
    });
}
