//! Threads blocked in `AsyncResult::get` sleep on the pool's shared wake word and book the
//! results they are woken for themselves (one wake-up per result instead of two). These
//! tests check that nothing is lost or stranded on that path, with several threads waiting
//! at once and other work (a map, callbacks) going through the same pool.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::METHODS;
use multiproc_pool::Pool;
use multiproc_process::StartMethod;
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);

fn square(x: u64) -> u64 {
    x * x
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn pool(method: StartMethod) -> Pool {
    Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap()
}

/// Four threads call `apply(..).get()` one after another while a map runs beside them: each
/// gets its own results. A wake-up lost on this path is not a hang (the result thread looks
/// at the rings every 100 ms), so the time is bounded too: 800 lost wake-ups would take 80 s;
/// 800 round trips take well under a second.
#[test]
fn threads_blocked_in_get_each_get_their_own_results() {
    for method in METHODS {
        watchdog(LIMIT, "threads in get", move || {
            let pool = pool(method);
            pool.map(square, 0..10u64).unwrap();
            let start = Instant::now();
            std::thread::scope(|scope| {
                let map = pool.chunksize(1).map_async(square, 0..2000u64);
                for t in 0..4u64 {
                    let pool = &pool;
                    scope.spawn(move || {
                        for i in 0..200u64 {
                            let x = t * 1000 + i;
                            assert_eq!(pool.apply(square, (x,)), Ok(x * x), "{method:?}");
                        }
                    });
                }
                let squares: Vec<u64> = (0..2000u64).map(square).collect();
                assert_eq!(map.get(), Ok(squares), "{method:?}");
            });
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(20),
                "{method:?}: 800 round trips took {took:?}: wake-ups lost"
            );
        });
    }
}

/// While a thread is blocked in `get` (and so books what the workers finish), the results of
/// other tasks still reach their callbacks, and `get` returns its own.
#[test]
fn a_thread_in_get_delivers_the_results_of_others() {
    watchdog(LIMIT, "others' results", || {
        let pool = pool(StartMethod::Fork);
        let (tx, rx) = mpsc::channel();
        let long = pool.apply_async(nap, (300,));
        let waiter = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| long.get());
            let handles: Vec<_> = (0..20u64)
                .map(|i| {
                    let tx = tx.clone();
                    pool.apply_async(square, (i,))
                        .callback(move |v| tx.send(*v).unwrap())
                })
                .collect();
            let mut seen: Vec<u64> = (0..20)
                .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..20u64).map(square).collect::<Vec<_>>());
            drop(handles);
            waiter.join().unwrap()
        });
        assert_eq!(waiter, Ok(300));
    });
}

/// `get_timeout` on the wake word gives up at its deadline, and a later `get` still finds the
/// result; `close` then `join` after results booked by `get` do not hang.
#[test]
fn timeouts_and_closing_on_the_wake_word() {
    watchdog(LIMIT, "timeouts", || {
        let pool = pool(StartMethod::Fork);
        let slow = pool.apply_async(nap, (200,));
        assert_eq!(
            slow.get_timeout(Duration::from_millis(1)),
            Err(multiproc_pool::PoolError::NotReady)
        );
        assert!(!slow.wait_timeout(Duration::ZERO));
        pool.close();
        assert_eq!(slow.get_timeout(Duration::from_secs(30)), Ok(200));
        pool.join().unwrap();
    });
}
