//! Lifecycle records at `debug` level under `multiproc::process`: a process started (pid,
//! start method) and exited (its status). And `log_to_stderr` leaves a logger of the
//! program's own in place. (Alone in its test binary: it installs a logger.)

use std::sync::Mutex;
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};
use multiproc_process::{StartMethod, get_context, log_to_stderr};

static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        // A forked child inherits this logger; only the test process records.
        if std::process::id() == ROOT.load(std::sync::atomic::Ordering::Relaxed) {
            let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
            seen.push((record.target().to_owned(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static ROOT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn exit_with(code: i32) {
    std::process::exit(code);
}

#[test]
fn start_and_exit_are_logged_at_debug_and_our_logger_stays() {
    ROOT.store(std::process::id(), std::sync::atomic::Ordering::Relaxed);
    log::set_logger(&Capture).unwrap();
    log::set_max_level(LevelFilter::Debug);
    assert!(
        log_to_stderr(LevelFilter::Info).is_err(),
        "a logger was set"
    );
    assert_eq!(
        log::max_level(),
        LevelFilter::Debug,
        "log_to_stderr changed our level"
    );
    multiproc_test_support::watchdog(Duration::from_secs(60), "lifecycle records", || {
        for method in StartMethod::ALL {
            let mut p = get_context(method)
                .process(exit_with, (3,))
                .with_name("Leaver");
            p.start().unwrap();
            let pid = p.pid().unwrap();
            let _ = p.join();
            let seen = SEEN.lock().unwrap();
            let started = format!("process Leaver started: pid {pid}, start method {method}");
            let exited = format!("process Leaver (pid {pid}) exited: ");
            assert!(
                seen.iter()
                    .any(|(t, m)| t == "multiproc::process" && *m == started),
                "{method}: no start record in {seen:?}"
            );
            assert!(
                seen.iter().any(|(t, m)| t == "multiproc::process"
                    && m.starts_with(&exited)
                    && m.contains('3')),
                "{method}: no exit record in {seen:?}"
            );
        }
    });
}
