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
    let mut child = Command::new(example_path(name))
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
