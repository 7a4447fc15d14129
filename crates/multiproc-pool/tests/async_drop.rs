//! Futures dropped before their results arrive leave no descriptor, process or thread
//! behind, and the pool goes on. (Alone in its test binary: other tests running in parallel
//! would change the counts.)

mod common;

use std::time::Duration;

use common::GONE_LIMIT;
use multiproc_pool::Pool;
use multiproc_process::StartMethod;
use multiproc_test_support::{child_pids, fd_count, gone, watchdog};

const LIMIT: Duration = Duration::from_secs(120);

fn pool(method: StartMethod, processes: usize) -> Pool {
    Pool::builder()
        .processes(processes)
        .start_method(method)
        .build()
        .unwrap()
}

fn square(x: u64) -> u64 {
    x * x
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[test]
fn dropping_futures_early_leaks_nothing_and_the_pool_goes_on() {
    watchdog(LIMIT, "dropped futures", || {
        let pool = pool(StartMethod::Forkserver, 2);
        // Warm up, so that the fds of the running pool are all open before counting.
        assert_eq!(pool.apply(square, (2,)), Ok(4));
        let fds = fd_count();
        let children = child_pids().len();
        let workers = pool.worker_pids();
        for round in 0..5u64 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let handles: Vec<_> = (0..50).map(|_| pool.submit(nap, (20,))).collect();
                // Each future is polled once (its waker is kept), then dropped.
                for handle in handles {
                    let _ = tokio::time::timeout(Duration::ZERO, handle).await;
                }
            });
            drop(runtime);
            assert_eq!(pool.apply(square, (round,)), Ok(round * round));
        }
        // Everything dropped ran to its end (the pool is idle again) and left nothing.
        pool.close();
        pool.join().unwrap();
        assert!(
            fd_count() <= fds,
            "fds: {} before, {} after",
            fds,
            fd_count()
        );
        assert!(child_pids().len() <= children);
        for pid in workers {
            assert!(gone(pid, GONE_LIMIT), "worker {pid} is still there");
        }
    });
}
