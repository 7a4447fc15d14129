//! Leaving `main` with children running: daemons are terminated, the others are waited for
//! (Python's exit behaviour), under every start method.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use multiproc::StartMethod;
use multiproc_test_support::{wait_gone, watchdog};

#[test]
fn daemons_are_terminated_and_others_waited_for_at_exit() {
    watchdog(Duration::from_secs(60), "exit with children", || {
        for method in StartMethod::ALL {
            let mut program = Command::new(env!("CARGO_BIN_EXE_exit_with_children"))
                .arg(method.as_str())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            // The pipe reaches end-of-file only when the program and both children are gone:
            // a daemon left running would hold it open (and the watchdog would fire).
            let mut output = String::new();
            program
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut output)
                .unwrap();
            let status = program.wait().unwrap();
            assert!(status.success(), "{method}: {status:?}\n{output}");
            assert!(
                output.contains("non-daemon done"),
                "{method}: the non-daemon was not waited for:\n{output}"
            );
            let daemon: u32 = output
                .lines()
                .find_map(|l| l.strip_prefix("daemon "))
                .expect("the daemon's pid")
                .parse()
                .unwrap();
            assert!(
                wait_gone(daemon, Duration::from_secs(1)),
                "{method}: daemon {daemon} survived the exit"
            );
        }
    });
}
