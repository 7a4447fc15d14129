//! A program that returns from `main` with two children still running: a daemon that would
//! sleep for ten minutes and a non-daemon that finishes its work after a moment. As in
//! Python, the daemon is terminated at exit and the non-daemon is waited for.
//!
//! Usage: `exit_with_children <fork|spawn|forkserver>`; prints `daemon <pid>`, and the
//! non-daemon prints `non-daemon done` when it finishes.

use std::io::Write;
use std::time::Duration;

use multiproc::{StartMethod, get_context};

fn sleep_long() {
    std::thread::sleep(Duration::from_secs(600));
}

fn finish_later() {
    // Longer than the parent takes to reach the end of `main`.
    std::thread::sleep(Duration::from_millis(300));
    println!("non-daemon done");
    std::io::stdout().flush().unwrap();
}

fn main() {
    // To be interrupted and terminated as from a terminal, whatever the test runner ignores.
    multiproc_test_support::default_interrupt_dispositions();
    let method: StartMethod = std::env::args()
        .nth(1)
        .expect("a start method")
        .parse()
        .expect("a start method");
    let ctx = get_context(method);
    let mut daemon = ctx.process(sleep_long, ()).with_daemon(true);
    daemon.start().expect("start the daemon");
    println!("daemon {}", daemon.pid().unwrap());
    std::io::stdout().flush().unwrap();
    let mut worker = ctx.process(finish_later, ());
    worker.start().expect("start the worker");
    // Return without joining either.
}
