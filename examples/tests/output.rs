//! Runs every example and checks what it prints.
//!
//! `cargo test` builds a package's examples before it runs the tests, into
//! `target/<profile>/examples/`; this test runs those binaries. (Run it through
//! `cargo test -p multiproc-examples`, which builds them.)

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn example_path(name: &str) -> PathBuf {
    // The test binary is target/<profile>/deps/output-<hash>; examples are in ../examples.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "example binary {} is missing: run the tests with `cargo test -p multiproc-examples`, which builds the examples",
        path.display()
    );
    path
}

/// Runs an example with a time limit; returns (stdout, stderr). Fails on a non-zero exit.
fn run(name: &str, args: &[&str], limit: Duration) -> (String, String) {
    let child = Command::new(example_path(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            // SAFETY: `kill` touches no memory; `pid` is our child, not yet reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            true
        } else {
            false
        }
    });
    let output = child.wait_with_output().unwrap();
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !killed,
        "example {name} did not finish within {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        output.status.success(),
        "example {name} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn process_basic() {
    assert_eq!(
        run("process_basic", &[], LIMIT).0,
        "Worker process started\n"
    );
}

#[test]
fn process_args() {
    assert_eq!(run("process_args", &[], LIMIT).0, "Worker 5 started\n");
}

#[test]
fn logging_shows_the_child_name() {
    let (_, stderr) = run("logging", &[], LIMIT);
    assert!(
        stderr.lines().any(|l| l == "[INFO/Worker1] Worker started"),
        "{stderr}"
    );
}

#[test]
fn cpu_count() {
    let (stdout, _) = run("cpu_count", &[], LIMIT);
    let first = stdout.lines().next().unwrap();
    let n: usize = first
        .strip_prefix("Number of CPUs: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1);
}

#[test]
fn shared_value() {
    assert_eq!(run("shared_value", &[], LIMIT).0, "Final value: 5\n");
}

#[test]
fn shared_array() {
    // The child writes i / 2 into 1000 slots: the sum is 249750.
    assert_eq!(
        run("shared_array", &[], LIMIT).0,
        "Sum of 1000 values: 249750\n"
    );
}

#[test]
fn pipe() {
    let (stdout, _) = run("pipe", &[], LIMIT);
    for word in ["one", "two", "three"] {
        assert!(
            stdout.contains(&format!("child got \"{word}\"")),
            "{stdout}"
        );
    }
}

#[test]
fn queue_workers_checksums_match() {
    let (stdout, _) = run("queue_workers", &[], LIMIT);
    let checksum = |prefix: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {stdout}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(
        checksum("producers' checksum:"),
        checksum("consumers' checksum:")
    );
    assert!(stdout.contains("checksums match"), "{stdout}");
}

#[test]
fn pool_map() {
    assert_eq!(
        run("pool_map", &[], LIMIT).0,
        "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n"
    );
}

#[test]
fn pool_starmap() {
    assert_eq!(run("pool_starmap", &[], LIMIT).0, "[2, 12, 30, 56]\n");
}

#[test]
fn pool_cpu_count() {
    let (stdout, _) = run("pool_cpu_count", &[], LIMIT);
    let squares: Vec<String> = (0..100u64).map(|x| (x * x).to_string()).collect();
    assert!(
        stdout.contains(&format!("[{}]", squares.join(", "))),
        "{stdout}"
    );
}

#[test]
fn error_handling_reports_both_failures_and_every_other_result() {
    let (stdout, _) = run("error_handling", &[], LIMIT);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{stdout}");
    for x in [0, 1, 2, 4, 6, 7] {
        assert_eq!(lines[x], format!("{x} -> {}", x * 10));
    }
    assert!(
        lines[3].starts_with("3 -> error: the task panicked: 'three is unlucky' at "),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[5],
        "5 -> error: the worker running the task died (signal 6 (SIGABRT))"
    );
}

#[test]
fn quickstart_runs_the_whole_walkthrough() {
    let (stdout, stderr) = run("quickstart", &[], LIMIT);
    for expected in [
        "== 1. A process",
        "Worker 5 started",
        "join() returned \"worker 5 done\"",
        "Final value: 5",
        "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
        "[2, 12, 30, 56]",
        "squares of 0..100 sum to 328350",
        "5 -> error: the worker running the task died (signal 6 (SIGABRT))",
        "2 tasks failed; the pool replaced its crashed worker and finished the rest",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        stderr.lines().any(|l| l == "[INFO/Worker1] Worker started"),
        "{stderr}"
    );
}
