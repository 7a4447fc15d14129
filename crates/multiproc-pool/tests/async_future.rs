//! `AsyncResult` as a future on real runtimes (tokio multi-thread and current-thread, smol,
//! `futures::executor`), and the `concurrent.futures` surface: cancel, running, done,
//! callbacks, wait, as_completed, shutdown, map with a timeout.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::METHODS;
use multiproc_pool::{AsyncResult, Pool, PoolError, ReturnWhen, wait};
use multiproc_process::{ExitReason, StartMethod};
use multiproc_test_support::watchdog;

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

fn fail(x: u64) -> u64 {
    panic!("no {x}")
}

/// Dies of SIGSEGV on 13 (the signal a segmentation fault raises, sent to itself).
fn segfault(x: u64) -> u64 {
    if x == 13 {
        // Rust's runtime handles SIGSEGV (to report stack overflows) and survives one that
        // was sent rather than faulted: restore the default action, as a real fault meets it.
        let _ = multiproc_sys::disposition::set_default(11);
        multiproc_sys::signal::reset_mask();
        let _ = multiproc_sys::signal::kill(std::process::id(), 11);
        std::thread::sleep(Duration::from_secs(60));
    }
    x
}

/// Waits, without sleeping, until a worker has started `handle`.
fn until_running<T: Send + 'static>(handle: &AsyncResult<T>) {
    while !handle.running() {
        assert!(!handle.done(), "the task ended before it was seen running");
        std::thread::yield_now();
    }
}

#[test]
fn the_handle_is_send_static_unpin_future() {
    fn check<F: std::future::Future + Send + Unpin + 'static>(_: &F) {}
    let pool = pool(StartMethod::Fork, 1);
    let handle = pool.submit(square, (3,));
    check(&handle);
    assert_eq!(handle.get(), Ok(9));
}

#[test]
fn awaited_on_tokio_multi_thread_every_start_method() {
    for method in METHODS {
        watchdog(LIMIT, "await on tokio multi-thread", move || {
            let pool = pool(method, 2);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            let sum: u64 = runtime.block_on(async {
                let handles: Vec<_> = (0..1_000u64)
                    .map(|i| tokio::spawn(pool.submit(square, (i,))))
                    .collect();
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await.unwrap().unwrap();
                }
                sum
            });
            assert_eq!(sum, (0..1_000u64).map(|i| i * i).sum::<u64>(), "{method:?}");
        });
    }
}

#[test]
fn awaited_on_tokio_current_thread() {
    watchdog(LIMIT, "await on tokio current-thread", || {
        let pool = pool(StartMethod::Forkserver, 2);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            // A thousand awaited at once on one thread.
            let handles: Vec<_> = (0..1_000u64).map(|i| pool.submit(square, (i,))).collect();
            let all = futures::future::join_all(handles).await;
            for (i, result) in all.into_iter().enumerate() {
                assert_eq!(result, Ok((i * i) as u64));
            }
            // The runtime stays responsive while a task runs.
            let slow = pool.submit(nap, (300,));
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert_eq!(slow.await, Ok(300));
        });
    });
}

#[test]
fn awaited_on_smol_and_futures_block_on() {
    watchdog(LIMIT, "await on smol and block_on", || {
        let pool = pool(StartMethod::Spawn, 2);
        let from_smol = smol::block_on(async { pool.submit(square, (5,)).await });
        assert_eq!(from_smol, Ok(25));
        let from_futures = futures::executor::block_on(pool.map_async(square, 0..4));
        assert_eq!(from_futures, Ok(vec![0, 1, 4, 9]));
        let failed = futures::executor::block_on(pool.submit(fail, (1,)));
        assert!(matches!(failed, Err(PoolError::Panicked { panic: p, .. }) if p.message == "no 1"));
    });
}

#[test]
fn a_worker_that_dies_while_awaited_gives_an_error() {
    for method in METHODS {
        watchdog(LIMIT, "a death while awaited", move || {
            let pool = pool(method, 2);
            let died = smol::block_on(pool.submit(segfault, (13,)));
            assert_eq!(
                died,
                Err(PoolError::WorkerDied {
                    status: Some(ExitReason::Signal(11)),
                    index: 0,
                }),
                "{method:?}"
            );
            assert_eq!(smol::block_on(pool.submit(segfault, (4,))), Ok(4));
        });
    }
}

#[test]
fn cancel_withdraws_a_queued_task_and_not_a_running_one() {
    for method in METHODS {
        watchdog(LIMIT, "cancel", move || {
            let pool = pool(method, 1);
            let running = pool.submit(nap, (400,));
            until_running(&running);
            // A worker takes a few tasks ahead into its own channel; those count as
            // started (as in `ProcessPoolExecutor`'s call queue). The last of many is queued.
            let ahead: Vec<_> = (0..16).map(|_| pool.submit(nap, (1,))).collect();
            let queued = pool.submit(square, (3,));
            assert!(!running.cancel(), "a running task is not cancelled");
            assert!(!running.cancelled());
            assert!(!queued.running());
            assert!(queued.cancel(), "{method:?}");
            assert!(queued.cancel(), "cancel twice is still true");
            assert!(queued.cancelled() && queued.done());
            assert_eq!(smol::block_on(queued), Err(PoolError::Cancelled));
            assert_eq!(running.get(), Ok(400));
            for handle in ahead {
                assert_eq!(handle.get(), Ok(1));
            }
            let finished = pool.submit(square, (4,));
            finished.wait();
            assert!(!finished.cancel(), "a finished task is not cancelled");
            assert_eq!(finished.get(), Ok(16));
        });
    }
}

#[test]
fn cancel_running_kills_only_that_task() {
    for method in METHODS {
        watchdog(LIMIT, "cancel_running", move || {
            let pool = pool(method, 2);
            let endless = pool.submit(nap, (3_600_000,));
            let others: Vec<_> = (0..20).map(|i| pool.submit(square, (i,))).collect();
            until_running(&endless);
            let before = pool.worker_pids();
            assert!(endless.cancel_running(), "{method:?}");
            assert!(endless.cancelled());
            assert_eq!(smol::block_on(endless), Err(PoolError::Cancelled));
            for (i, other) in others.into_iter().enumerate() {
                assert_eq!(other.get(), Ok((i * i) as u64), "{method:?}");
            }
            assert_eq!(pool.apply(square, (9,)), Ok(81));
            // Results do not wait for the replacement to start (a thread blocked in `get`
            // books them itself): it comes on the result thread's own time.
            let replaced = multiproc_test_support::settle(Duration::from_secs(30), || {
                let after = pool.worker_pids();
                (after.len() != 2).then(|| format!("workers {after:?}"))
            });
            assert_eq!(replaced, Ok(()), "{method:?}");
            assert_ne!(before, pool.worker_pids(), "the worker was replaced");
        });
    }
}

#[test]
fn several_callbacks_all_run_in_order() {
    watchdog(LIMIT, "several callbacks", || {
        let pool = pool(StartMethod::Fork, 1);
        let (tx, rx) = mpsc::channel();
        let (tx1, tx2, tx3) = (tx.clone(), tx.clone(), tx.clone());
        let handle = pool
            .submit(nap, (50,))
            .callback(move |v| tx1.send(format!("callback {v}")).unwrap())
            .callback(move |v| tx2.send(format!("second callback {v}")).unwrap())
            .error_callback(move |e| tx3.send(format!("error {e}")).unwrap());
        handle.add_done_callback(move |r| tx.send(format!("done {:?}", r.ok())).unwrap());
        assert_eq!(handle.get(), Ok(50));
        let seen: Vec<String> = rx.try_iter().collect();
        assert_eq!(seen, ["callback 50", "second callback 50", "done Some(50)"]);
    });
}

#[test]
fn wait_in_each_mode() {
    for method in METHODS {
        watchdog(LIMIT, "wait", move || {
            let pool = pool(method, 2);
            let forever = Duration::MAX;
            // Blocks until the one task is done.
            let alone = [pool.submit(nap, (200,))];
            let (done, pending) = wait(&alone, forever, ReturnWhen::FirstCompleted);
            assert_eq!((done.len(), pending.len()), (1, 0), "{method:?}");
            assert_eq!(alone[0].get_timeout(Duration::ZERO), Ok(200));
            // Two finished (one failed) before the third, which never ends, is submitted:
            // where each task runs does not matter.
            let finished = [pool.submit(nap, (1,)), pool.submit(fail, (2,))];
            for handle in &finished {
                handle.wait();
            }
            let [ok, failed] = finished;
            let endless = pool.submit(nap, (600_000,));
            let handles = [ok, failed, endless];
            let (done, pending) = wait(&handles, forever, ReturnWhen::FirstCompleted);
            assert_eq!((done.len(), pending.len()), (2, 1));
            let (done, pending) = wait(&handles, forever, ReturnWhen::FirstError);
            assert!(done.iter().any(|h| h.is_successful() == Some(false)));
            assert!(std::ptr::eq(pending[0], &handles[2]));
            let (done, pending) = wait(
                &handles,
                Duration::from_millis(50),
                ReturnWhen::AllCompleted,
            );
            assert_eq!((done.len(), pending.len()), (2, 1), "the timeout ends it");
            assert!(handles[2].cancel_running());
            let (done, pending) = wait(&handles, forever, ReturnWhen::AllCompleted);
            assert_eq!((done.len(), pending.len()), (3, 0));
        });
    }
}

#[cfg(feature = "stream")]
#[test]
fn as_completed_blocking_and_as_a_stream() {
    watchdog(LIMIT, "as_completed", || {
        use multiproc_pool::as_completed;
        let pool = pool(StartMethod::Forkserver, 3);
        let handles: Vec<_> = (0..100u64).map(|i| pool.submit(square, (i,))).collect();
        let mut seen = smol::block_on(async {
            use futures::StreamExt;
            as_completed(handles)
                .into_stream()
                .map(|(i, r)| (i, r.unwrap()))
                .collect::<Vec<_>>()
                .await
        });
        seen.sort_unstable();
        let expected: Vec<(usize, u64)> = (0..100).map(|i| (i, (i * i) as u64)).collect();
        assert_eq!(seen, expected);
        // One task is done before the other, which never ends, is submitted (where each
        // runs does not matter): the done one comes first, the other when the pool ends.
        let quick = pool.submit(nap, (1,));
        quick.wait();
        let endless = pool.submit(nap, (3_600_000,));
        let mut completed = as_completed([endless, quick]);
        assert_eq!(completed.len(), 2);
        assert_eq!(completed.next(), Some((1, Ok(1))));
        assert_eq!(completed.remaining(), 1);
        pool.terminate();
        assert_eq!(completed.next(), Some((0, Err(PoolError::Terminated))));
        assert_eq!(completed.next(), None);
    });
}

#[test]
fn shutdown_cancels_pending_and_waits() {
    for method in METHODS {
        watchdog(LIMIT, "shutdown", move || {
            let pool = pool(method, 1);
            let running = pool.submit(nap, (200,));
            until_running(&running);
            let queued: Vec<_> = (0..20u64).map(|i| pool.submit(square, (i,))).collect();
            pool.shutdown(true, true).unwrap();
            assert_eq!(running.get(), Ok(200));
            // The few a worker took ahead ran; the others were withdrawn.
            let mut cancelled = 0;
            for (i, handle) in queued.into_iter().enumerate() {
                assert!(
                    handle.done(),
                    "shutdown(wait) returns when every task is done"
                );
                if handle.cancelled() {
                    cancelled += 1;
                    assert_eq!(handle.get(), Err(PoolError::Cancelled));
                } else {
                    assert_eq!(handle.get(), Ok((i * i) as u64));
                }
            }
            assert!(
                cancelled >= 10,
                "{method:?}: only {cancelled} of 20 cancelled"
            );
            assert!(matches!(
                pool.submit(square, (1,)).get(),
                Err(PoolError::Closed)
            ));
        });
    }
}

#[test]
fn map_with_a_timeout_for_the_whole_call() {
    watchdog(LIMIT, "map_timeout", || {
        let pool = pool(StartMethod::Fork, 2);
        assert_eq!(
            pool.map_timeout(square, 0..4, Duration::from_secs(60)),
            Ok(vec![0, 1, 4, 9])
        );
        let late = pool.map_timeout(nap, [3_000u64; 6], Duration::from_millis(100));
        assert!(
            matches!(late, Err(PoolError::CallTimeout { .. })),
            "{late:?}"
        );
        // The queued part was withdrawn: the pool is soon free again.
        assert_eq!(pool.apply(square, (3,)), Ok(9));
    });
}

#[test]
fn a_pool_dropped_while_awaited_gives_terminated() {
    watchdog(LIMIT, "pool dropped while awaited", || {
        let pool = pool(StartMethod::Forkserver, 1);
        let endless = pool.submit(nap, (3_600_000,));
        until_running(&endless);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let awaited = runtime.spawn(endless);
        drop(pool);
        let result = runtime.block_on(awaited).unwrap();
        assert_eq!(result, Err(PoolError::Terminated));
    });
}
