//! The leak check of the adversarial tier (`multiproc_test_support::Census`) is itself
//! tested: it must report a real leak (a pool or a listener that outlives the check, with
//! their library threads, children and descriptors), and must not report the test harness's
//! threads, which come and go while a test runs (libtest starts one per test).
//!
//! The tests run one at a time: a census counts the whole process.

use std::sync::{Mutex, mpsc};
use std::time::Duration;

use multiproc::channel::{Client, Listener};
use multiproc::{Pool, StartMethod};
use multiproc_test_support::{Census, library_threads, watchdog};

const LIMIT: Duration = Duration::from_secs(60);
/// How long a check waits for what ends a moment late, as the adversarial tier does.
const SETTLE: Duration = Duration::from_secs(5);
/// How long a leak is given to go away on its own before it counts as reported: it must not.
const LINGER: Duration = Duration::from_millis(300);
const KEY: &[u8] = b"census key";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn square(x: u64) -> u64 {
    x * x
}

fn pool() -> Pool {
    Pool::builder()
        .processes(2)
        .start_method(StartMethod::Spawn)
        .build()
        .unwrap()
}

/// Runs `body` alone, under a watchdog, after one pool's life has set up what lives as long
/// as the process (the launcher thread, the logger).
fn alone(what: &'static str, body: impl FnOnce() + Send + 'static) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, what, move || {
        let warm = pool();
        assert_eq!(warm.apply(square, (3,)), Ok(9));
        warm.close();
        warm.join().unwrap();
        drop(warm);
        body();
    });
}

#[test]
fn a_pool_left_running_is_reported() {
    alone("a kept pool", || {
        let before = Census::take();
        let pool = pool();
        // A result came back: the pool's threads are running (and named), its workers exist.
        assert_eq!(pool.apply(square, (7,)), Ok(49));
        let leak = before
            .settle(LINGER)
            .expect_err("a running pool is not reported as a leak");
        assert!(leak.contains("multiproc-pool"), "{leak}");
        assert!(leak.contains("children"), "{leak}");
        assert!(leak.contains("fds"), "{leak}");
        pool.close();
        pool.join().unwrap();
        drop(pool);
        before.assert_no_leak(SETTLE, "a pool closed, joined and dropped");
    });
}

#[test]
fn a_listener_left_open_is_reported() {
    alone("a kept listener", || {
        let before = Census::take();
        let listener = Listener::bind_unix_temp(Some(KEY)).unwrap();
        // One connection through it: its acceptor thread is running (and named) by now.
        let address = listener.address().clone();
        let client = std::thread::spawn(move || {
            let connection = Client::new(Some(KEY)).connect::<u32>(&address).unwrap();
            connection.send(5).unwrap();
        });
        assert_eq!(listener.accept::<u32>().unwrap().recv().unwrap(), 5);
        client.join().unwrap();
        assert!(
            library_threads()
                .iter()
                .any(|name| name == "multiproc-accep"),
            "{:?}",
            library_threads()
        );
        let leak = before
            .settle(LINGER)
            .expect_err("an open listener is not reported as a leak");
        assert!(leak.contains("multiproc-accep"), "{leak}");
        drop(listener);
        before.assert_no_leak(SETTLE, "a dropped listener");
    });
}

#[test]
fn threads_of_the_harness_are_not_leaks() {
    alone("harness threads", || {
        let before = Census::take();
        let every_thread_before = multiproc_sys::process::thread_count().unwrap();
        // As libtest does: a thread named after a test, and an unnamed one, started during
        // the check and still there at its end (the flake this census was made against).
        let (started, running) = mpsc::channel::<()>();
        let mut releases = Vec::new();
        let mut threads = Vec::new();
        for name in [Some("class11_planted_symlink_is_refused"), None] {
            let (release, wait) = mpsc::channel::<()>();
            let started = started.clone();
            let body = move || {
                started.send(()).unwrap(); // named by now
                let _ = wait.recv();
            };
            let builder = match name {
                Some(name) => std::thread::Builder::new().name(name.into()),
                None => std::thread::Builder::new(),
            };
            threads.push(builder.spawn(body).unwrap());
            releases.push(release);
        }
        running.recv().unwrap();
        running.recv().unwrap();
        // A count of every thread would call them a leak; the census does not.
        assert!(multiproc_sys::process::thread_count().unwrap() >= every_thread_before + 2);
        assert_eq!(before.settle(Duration::ZERO), Ok(()));
        drop(releases);
        for thread in threads {
            thread.join().unwrap();
        }
    });
}
