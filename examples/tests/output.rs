//! Runs every example and checks what it prints.
//!
//! `cargo test` builds a package's examples before it runs the tests, into
//! `target/<profile>/examples/`; this test runs those binaries. (Run it through
//! `cargo test -p multiproc-examples`, which builds them.)

use std::time::Duration;

mod common;

use common::run;

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
fn manager_word_count_loses_no_update() {
    assert_eq!(
        run("manager_word_count", &[], LIMIT).0,
        "28 words, 19 distinct\n  4 the\n  3 a\n  3 and\n  2 fox\n  2 over\n"
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
fn error_handling_reports_each_failure_and_every_other_result() {
    let (stdout, _) = run("error_handling", &[], LIMIT);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{stdout}");
    for x in [0, 1, 2, 4, 7] {
        assert_eq!(lines[x], format!("{x} -> {}", x * 10));
    }
    assert_eq!(lines[6], "6 -> error: task 6 failed: six is rejected");
    assert!(
        lines[3].starts_with("3 -> error: task 3 panicked: 'three is unlucky' at "),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[5],
        "5 -> error: the worker running task 5 died (signal 6 (SIGABRT))"
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
        "5 -> error: the worker running task 5 died (signal 6 (SIGABRT))",
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
