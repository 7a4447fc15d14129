//! A child's panic is printed under the child's process name (never `thread '<unnamed>'`),
//! and with a backtrace only when `RUST_BACKTRACE` asks for one.
//!
//! The outer test runs this test binary again, with its stderr captured, to run the inner
//! one: that starts a child that panics, under every start method.

use std::process::Command;
use std::time::Duration;

use multiproc_process::{Process, ProcessError, StartMethod, get_context};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);
/// Set (to the wanted start method's name) only in the re-run of this binary.
const INNER: &str = "MULTIPROC_TEST_PANIC_REPORT_INNER";

fn boom() -> u32 {
    panic!("boom in the child")
}

#[test]
fn inner_child_panics_under_its_name() {
    if std::env::var_os(INNER).is_none() {
        println!(
            "inner_child_panics_under_its_name: a helper of child_panics_name_the_process; it runs only there"
        );
        return;
    }
    for method in StartMethod::ALL {
        let mut child: Process<u32> = get_context(method)
            .process(boom, ())
            .with_name(format!("Cruncher-{method}"));
        child.start().unwrap();
        match child.join() {
            Err(ProcessError::Panicked { name, panic, .. }) => {
                assert_eq!(name, format!("Cruncher-{method}"));
                assert_eq!(panic.message, "boom in the child");
            }
            other => panic!("{method}: expected a panic, got {other:?}"),
        }
    }
}

/// Runs the inner test with `RUST_BACKTRACE` set to `backtrace` (or removed), and returns
/// its stderr.
fn run_inner(backtrace: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "inner_child_panics_under_its_name",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(INNER, "1");
    match backtrace {
        Some(value) => command.env("RUST_BACKTRACE", value),
        None => command.env_remove("RUST_BACKTRACE"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "the inner test failed:\n{stderr}");
    stderr
}

#[test]
fn child_panics_name_the_process() {
    watchdog(LIMIT, "child panic reports", || {
        let quiet = run_inner(None);
        for method in StartMethod::ALL {
            let wanted = format!("process 'Cruncher-{method}' (pid ");
            assert!(quiet.contains(&wanted), "no {wanted:?} in:\n{quiet}");
        }
        assert!(quiet.contains("panicked at "), "{quiet}");
        assert!(quiet.contains("boom in the child"), "{quiet}");
        assert!(!quiet.contains("<unnamed>"), "{quiet}");
        assert!(!quiet.contains("backtrace"), "{quiet}");
        let off = run_inner(Some("0"));
        assert!(!off.contains("backtrace"), "{off}");

        let verbose = run_inner(Some("1"));
        assert_eq!(
            verbose.matches("stack backtrace:").count(),
            StartMethod::ALL.len(),
            "{verbose}"
        );
    });
}
