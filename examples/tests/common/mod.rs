//! Running the built example binaries under a watchdog, shared by the example tests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The path of a built example: the test binary is target/<profile>/deps/<test>-<hash>, the
/// examples are in target/<profile>/examples.
pub fn example_path(name: &str) -> PathBuf {
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
pub fn run(name: &str, args: &[&str], limit: Duration) -> (String, String) {
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
            // `pid` is our child, not yet reaped: the main thread reaps it only after this
            // thread was told, or has acted.
            multiproc_test_support::kill(pid);
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
