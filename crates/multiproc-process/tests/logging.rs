//! Log records from children reach the parent's logger, tagged with the child's name and pid.
//! A forked child logs through the logger it inherited, as itself.
//! (Alone in its test binary: it installs a logger.)

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use log::{Log, Metadata, Record};
use multiproc_process::{StartMethod, current_process, get_context};

static SEEN: Mutex<Vec<(String, String, u32)>> = Mutex::new(Vec::new());
static ARRIVED: Condvar = Condvar::new();
/// Where a forked child's copy of the logger writes (it cannot reach the parent's memory).
static FORKED_LOG: OnceLock<(u32, PathBuf)> = OnceLock::new();

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        let kvs = record.key_values();
        let name = kvs.get("process_name".into()).map(|v| v.to_string());
        let pid = kvs.get("pid".into()).and_then(|v| v.to_u64());
        let (name, pid) = match (name, pid) {
            (Some(n), Some(p)) => (n, p as u32),
            _ => (current_process().name().to_owned(), std::process::id()),
        };
        let (root, file) = FORKED_LOG.get().unwrap();
        if std::process::id() != *root {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(file)
                .unwrap();
            writeln!(f, "{}|{name}|{pid}", record.args()).unwrap();
            return;
        }
        SEEN.lock()
            .unwrap()
            .push((record.args().to_string(), name, pid));
        ARRIVED.notify_all();
    }
    fn flush(&self) {}
}

fn log_something(tag: String) {
    log::info!("worker {tag} started");
}

#[test]
fn child_records_reach_the_parent_logger() {
    let file = std::env::temp_dir().join(format!("multiproc-log-test-{}", std::process::id()));
    FORKED_LOG.set((std::process::id(), file.clone())).unwrap();
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    multiproc_test_support::watchdog(Duration::from_secs(60), "log forwarding", move || {
        for method in StartMethod::ALL {
            let mut p = get_context(method)
                .process(log_something, (method.to_string(),))
                .with_name("Worker1");
            p.start().unwrap();
            let pid = p.pid().unwrap();
            p.join().unwrap();
            let expected = format!("worker {method} started");
            if method == StartMethod::Fork {
                let lines = std::fs::read_to_string(&file).unwrap();
                assert_eq!(lines.trim(), format!("{expected}|Worker1|{pid}"));
                std::fs::remove_file(&file).unwrap();
                continue;
            }
            let mut seen = SEEN.lock().unwrap();
            loop {
                if let Some(entry) = seen.iter().find(|(m, _, _)| *m == expected) {
                    assert_eq!(entry.1, "Worker1", "{method}");
                    assert_eq!(entry.2, pid, "{method}");
                    break;
                }
                seen = ARRIVED.wait(seen).unwrap();
            }
        }
    });
}
