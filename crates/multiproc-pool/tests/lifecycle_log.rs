//! The pool's lifecycle record at `debug` level under `multiproc::pool`: a worker replaced,
//! with the old pid, the new pid and why. (Alone in its test binary: it installs a logger.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};
use multiproc_pool::{Pool, PoolError};

static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static ROOT: AtomicU32 = AtomicU32::new(0);

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        if std::process::id() == ROOT.load(Ordering::Relaxed) {
            let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
            seen.push((record.target().to_owned(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

fn abort_on_two(x: u32) -> u32 {
    if x == 2 {
        std::process::abort();
    }
    x
}

#[test]
fn a_replaced_worker_is_logged_with_both_pids_and_the_cause() {
    ROOT.store(std::process::id(), Ordering::Relaxed);
    log::set_logger(&Capture).unwrap();
    log::set_max_level(LevelFilter::Debug);
    multiproc_test_support::watchdog(Duration::from_secs(60), "worker replaced record", || {
        let pool = Pool::new(1).unwrap();
        let old = pool.worker_pids();
        let results: Vec<_> = pool.chunksize(1).imap(abort_on_two, 0..4).collect();
        assert!(matches!(results[2], Err(PoolError::WorkerDied { .. })));
        assert_eq!(results[3], Ok(3));
        let new = pool.worker_pids();
        pool.close();
        pool.join().unwrap();
        let expected = format!("pool worker {} replaced by {} (it died: ", old[0], new[0]);
        let seen = SEEN.lock().unwrap();
        assert!(
            seen.iter()
                .any(|(t, m)| t == "multiproc::pool" && m.starts_with(&expected)),
            "no `{expected}...` record in {seen:?}"
        );
    });
}
