//! A parent killed with SIGKILL leaves no child behind, under every start method.

use std::time::Duration;

use ipc_channel::ipc::{self, IpcSender};
use multiproc_process::{StartMethod, get_context};
use multiproc_test_support::{wait_gone, watchdog};

fn sleep_forever() {
    std::thread::sleep(Duration::from_secs(600));
}

/// The middle process: starts a grandchild, reports its pid, then waits to be killed.
fn middle(method: String, report: IpcSender<u32>) {
    let mut grandchild = get_context(method.parse().unwrap()).process(sleep_forever, ());
    grandchild.start().unwrap();
    report.send(grandchild.pid().unwrap()).unwrap();
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn no_child_outlives_a_killed_parent() {
    for outer in StartMethod::ALL {
        for inner in StartMethod::ALL {
            watchdog(
                Duration::from_secs(60),
                &format!("{outer}/{inner}"),
                move || {
                    let (tx, rx) = ipc::channel::<u32>().unwrap();
                    let mut parent = get_context(outer).process(middle, (inner.to_string(), tx));
                    parent.start().unwrap();
                    let grandchild = rx.recv().unwrap();
                    parent.kill().unwrap();
                    assert!(parent.join().is_err());
                    assert!(
                        wait_gone(grandchild, Duration::from_secs(10)),
                        "{outer}/{inner}: grandchild {grandchild} outlived its SIGKILLed parent"
                    );
                },
            );
        }
    }
}
