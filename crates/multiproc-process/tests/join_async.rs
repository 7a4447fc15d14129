//! `Process::join_async` on real runtimes, under every start method: results, deaths, large
//! results, many children at once, and a future dropped before the child ends.

use std::time::Duration;

use multiproc_process::{ExitReason, Process, ProcessError, StartMethod, get_context};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);
const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];

fn double(x: u64) -> u64 {
    x * 2
}

fn big(len: usize) -> Vec<u8> {
    vec![7; len]
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Dies of SIGSEGV (the signal a segmentation fault raises, sent to itself).
fn segfault() {
    // Rust's runtime handles SIGSEGV (to report stack overflows) and survives one that
    // was sent rather than faulted: restore the default action, as a real fault meets it.
    let _ = multiproc_sys::disposition::set_default(11);
    multiproc_sys::signal::reset_mask();
    let _ = multiproc_sys::signal::kill(std::process::id(), 11);
    std::thread::sleep(Duration::from_secs(60));
}

fn started<R: multiproc_process::Portable>(mut p: Process<R>) -> Process<R> {
    p.start().unwrap();
    p
}

#[test]
fn the_future_is_send() {
    fn check<F: std::future::Future + Send>(_: F) {}
    let mut p = Process::new(double, (1,));
    check(p.join_async());
}

#[test]
fn awaited_under_every_runtime_and_start_method() {
    for method in METHODS {
        watchdog(LIMIT, "join_async", move || {
            let ctx = get_context(method);
            let mut p = started(ctx.process(double, (21,)));
            let value = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap()
                .block_on(p.join_async());
            assert_eq!(value.unwrap(), 42, "{method:?}");
            let mut p = started(ctx.process(double, (1,)));
            let value = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(p.join_async());
            assert_eq!(value.unwrap(), 2);
            let mut p = started(ctx.process(double, (2,)));
            assert_eq!(smol::block_on(p.join_async()).unwrap(), 4);
            let mut p = started(ctx.process(double, (3,)));
            assert_eq!(futures::executor::block_on(p.join_async()).unwrap(), 6);
        });
    }
}

#[test]
fn a_child_that_crashes_gives_its_signal() {
    for method in METHODS {
        watchdog(LIMIT, "join_async of a crash", move || {
            let mut p = started(get_context(method).process(segfault, ()));
            match smol::block_on(p.join_async()) {
                Err(ProcessError::Died { status, .. }) => {
                    assert_eq!(status, ExitReason::Signal(11), "{method:?}")
                }
                other => panic!("{method:?}: {other:?}"),
            }
            assert_eq!(p.exitcode().unwrap(), Some(-11));
        });
    }
}

#[test]
fn a_result_larger_than_the_channel_buffer_arrives() {
    for method in METHODS {
        watchdog(LIMIT, "join_async of a large result", move || {
            let mut p = started(get_context(method).process(big, (4 << 20,)));
            let value = smol::block_on(p.join_async()).unwrap();
            assert_eq!(value.len(), 4 << 20, "{method:?}");
            assert!(value.iter().all(|b| *b == 7));
        });
    }
}

#[test]
fn many_children_awaited_at_once_on_one_thread() {
    watchdog(LIMIT, "many join_async", || {
        let mut children: Vec<_> = (0..40u64)
            .map(|i| started(get_context(StartMethod::Forkserver).process(nap, (i * 3,))))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let values = runtime.block_on(async {
            let futures = children.iter_mut().map(|p| p.join_async());
            futures::future::join_all(futures).await
        });
        for (i, value) in values.into_iter().enumerate() {
            assert_eq!(value.unwrap(), i as u64 * 3);
        }
    });
}

#[test]
fn a_dropped_future_leaves_the_child_joinable() {
    watchdog(LIMIT, "dropped join_async", || {
        let mut p = started(Process::new(nap, (200,)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let early = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(1), p.join_async()).await
        });
        assert!(early.is_err(), "the child cannot have ended in 1 ms");
        assert!(p.is_alive());
        assert_eq!(p.join().unwrap(), 200);
    });
}
