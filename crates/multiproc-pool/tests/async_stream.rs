//! `imap` and `imap_unordered` as `Send` values and as `futures_core::Stream`s (the `stream`
//! feature), with the bounded input window kept, and their exact `size_hint`.

mod common;

use multiproc_pool::{IMap, Pool};
use multiproc_process::StartMethod;

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

#[test]
fn imap_is_send() {
    fn check<T: Send>(_: &T) {}
    let pool = pool(StartMethod::Fork);
    let results: IMap<'_, u64> = pool.imap(square, 0..3);
    check(&results);
    // It can be consumed on another thread.
    let sum: u64 = std::thread::scope(|s| {
        s.spawn(move || results.map(Result::unwrap).sum())
            .join()
            .unwrap()
    });
    assert_eq!(sum, 5);
}

#[test]
fn size_hint_is_exact_when_the_input_length_is_known() {
    let pool = pool(StartMethod::Fork);
    let mut results = pool.imap(square, vec![1, 2, 3]);
    assert_eq!(results.size_hint(), (3, Some(3)));
    assert_eq!(results.next(), Some(Ok(1)));
    assert_eq!(results.size_hint(), (2, Some(2)));
    assert_eq!(results.by_ref().count(), 2);
    assert_eq!(results.size_hint(), (0, Some(0)));
    let unknown = pool.imap_unordered(square, (0..10).filter(|x| x % 2 == 0));
    assert_eq!(unknown.size_hint(), (0, None));
    let all: Vec<_> = unknown.collect();
    assert_eq!(all.len(), 5);
}

#[cfg(feature = "stream")]
mod stream {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use common::METHODS;
    use futures::StreamExt;
    use multiproc_pool::{Options, PoolError};
    use multiproc_test_support::watchdog;

    use super::*;

    const LIMIT: Duration = Duration::from_secs(120);

    fn odd_fails(x: u64) -> u64 {
        assert!(x.is_multiple_of(2), "odd {x}");
        x
    }

    #[test]
    fn the_stream_is_send() {
        fn check<T: Send + futures_core::Stream>(_: &T) {}
        let pool = pool(StartMethod::Fork);
        check(&pool.imap(square, 0..3).into_stream());
    }

    #[test]
    fn imap_streams_in_order_on_tokio_under_every_start_method() {
        for method in METHODS {
            watchdog(LIMIT, "imap stream", move || {
                let pool = pool(method);
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .unwrap();
                let results: Vec<Result<u64, PoolError>> =
                    runtime.block_on(pool.imap(odd_fails, 0..200).into_stream().collect());
                assert_eq!(results.len(), 200);
                for (i, result) in results.into_iter().enumerate() {
                    if i.is_multiple_of(2) {
                        assert_eq!(result, Ok(i as u64), "{method:?}");
                    } else {
                        assert_eq!(result.unwrap_err().index(), Some(i), "{method:?}");
                    }
                }
            });
        }
    }

    #[test]
    fn imap_unordered_streams_on_current_thread_runtimes() {
        watchdog(LIMIT, "imap_unordered stream", || {
            let pool = pool(StartMethod::Forkserver);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let mut all: Vec<u64> = runtime.block_on(
                pool.imap_unordered(square, 0..100)
                    .into_stream()
                    .map(Result::unwrap)
                    .collect(),
            );
            all.sort_unstable();
            assert_eq!(all, (0..100).map(square).collect::<Vec<_>>());
            let from_smol: Vec<u64> = smol::block_on(
                pool.imap(square, 0..10)
                    .into_stream()
                    .map(Result::unwrap)
                    .collect(),
            );
            assert_eq!(from_smol, (0..10).map(square).collect::<Vec<_>>());
        });
    }

    #[test]
    fn the_stream_keeps_the_input_window_bounded() {
        watchdog(LIMIT, "imap stream window", || {
            let pool = pool(StartMethod::Fork);
            let pulled = Arc::new(AtomicUsize::new(0));
            let counter = pulled.clone();
            let endless = (0u64..).inspect(move |_| {
                counter.fetch_add(1, Ordering::Relaxed);
            });
            let tasks = pool.with(Options::new().buffersize(4));
            let firsts: Vec<u64> = futures::executor::block_on(
                tasks
                    .imap(square, endless)
                    .into_stream()
                    .take(50)
                    .map(Result::unwrap)
                    .collect(),
            );
            assert_eq!(firsts, (0..50).map(square).collect::<Vec<_>>());
            // 50 yielded plus a window of 4 chunks of one task.
            let pulled = pulled.load(Ordering::Relaxed);
            assert!(pulled <= 54, "{pulled} items pulled from an endless input");
        });
    }
}
