//! `Process` against real child processes, under every start method.

use std::time::Duration;

use multiproc_process::{
    ExitReason, Process, ProcessError, StartMethod, current_process, get_context, parent_process,
};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(60);

fn each_method(test: fn(StartMethod)) {
    for method in StartMethod::ALL {
        watchdog(LIMIT, &format!("{method}"), move || test(method));
    }
}

fn hello() -> String {
    "hello from the child".to_owned()
}

fn three(a: u8, b: String, c: Vec<i32>) -> String {
    format!("{a}-{b}-{}", c.iter().sum::<i32>())
}

#[allow(clippy::too_many_arguments)]
fn eight(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64) -> i128 {
    [
        a as i128, b as i128, c as i128, d as i128, e as i128, f as i128, g as i128, h as i128,
    ]
    .iter()
    .sum()
}

fn boom() -> u32 {
    panic!("boom at {}", 7)
}

fn exit3() {
    std::process::exit(3)
}

fn abort() {
    std::process::abort()
}

fn sleep_long() {
    std::thread::sleep(Duration::from_secs(120))
}

#[test]
fn no_argument_target() {
    each_method(|m| {
        let mut p = get_context(m).process(hello, ());
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), "hello from the child");
        assert_eq!(p.exitcode().unwrap(), Some(0));
    });
}

#[test]
fn arguments_of_several_arities() {
    each_method(|m| {
        let mut p = get_context(m).process(three, (7, "x".to_owned(), vec![1, 2, 3]));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), "7-x-6");

        let mut p = get_context(m).process(eight, (1, 2, 3, 4, -5, 6, 7, 8));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), 26);

        let mut p = get_context(m).process(|a: u32, b: u32| a * b, (6, 7));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), 42);
    });
}

#[test]
fn panic_reports_message_and_location() {
    each_method(|m| {
        let mut p = get_context(m).process(boom, ());
        p.start().unwrap();
        match p.join() {
            Err(ProcessError::Panicked { panic, status, .. }) => {
                assert_eq!(panic.message, "boom at 7");
                let location = panic.location.expect("a location");
                assert!(location.contains("process.rs"), "{location}");
                assert_eq!(status, Some(ExitReason::Code(1)));
            }
            other => panic!("{m}: expected a panic, got {other:?}"),
        }
        assert_eq!(p.exitcode().unwrap(), Some(1));
    });
}

#[test]
fn exit_code_is_reported() {
    each_method(|m| {
        let mut p = get_context(m).process(exit3, ());
        p.start().unwrap();
        match p.join() {
            Err(ProcessError::Died { status, .. }) => assert_eq!(status, ExitReason::Code(3)),
            other => panic!("{m}: expected exit code 3, got {other:?}"),
        }
        assert_eq!(p.exitcode().unwrap(), Some(3));
    });
}

#[test]
fn abort_gives_a_negative_signal_exitcode() {
    each_method(|m| {
        let mut p = get_context(m).process(abort, ());
        p.start().unwrap();
        let err = p.join().unwrap_err();
        assert_eq!(
            err.exit_status(),
            Some(ExitReason::Signal(libc::SIGABRT)),
            "{m}: {err}"
        );
        assert_eq!(p.exitcode().unwrap(), Some(-libc::SIGABRT));
        assert!(err.to_string().contains("SIGABRT"), "{err}");
    });
}

#[test]
fn kill_and_terminate_a_sleeping_child() {
    each_method(|m| {
        let mut p = get_context(m).process(sleep_long, ());
        assert!(!p.is_alive());
        p.start().unwrap();
        assert!(p.is_alive());
        assert_eq!(p.exitcode().unwrap(), None);
        p.terminate().unwrap();
        assert!(matches!(
            p.join(),
            Err(ProcessError::Died {
                status: ExitReason::Signal(15),
                ..
            })
        ));
        assert_eq!(p.exitcode().unwrap(), Some(-15));
        assert!(!p.is_alive());

        let mut p = get_context(m).process(sleep_long, ());
        p.start().unwrap();
        p.kill().unwrap();
        assert!(p.join().is_err());
        assert_eq!(p.exitcode().unwrap(), Some(-9));
    });
}

#[test]
fn join_timeout_on_a_child_that_does_not_finish() {
    each_method(|m| {
        let mut p = get_context(m).process(sleep_long, ());
        p.start().unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            p.join_timeout(Duration::from_millis(200)),
            Err(ProcessError::Timeout { .. })
        ));
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(p.is_alive(), "a timed-out join leaves the child running");
        p.kill().unwrap();
        assert!(matches!(p.join(), Err(ProcessError::Died { .. })));
    });
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    each_method(|m| {
        let mut p = get_context(m).process(hello, ());
        assert!(matches!(p.join(), Err(ProcessError::NotStarted { .. })));
        assert!(matches!(p.kill(), Err(ProcessError::NotStarted { .. })));
        p.start().unwrap();
        assert!(matches!(
            p.start(),
            Err(ProcessError::AlreadyStarted { .. })
        ));
        assert!(p.set_daemon(true).is_err());
        p.join().unwrap();
        assert!(matches!(p.join(), Err(ProcessError::AlreadyJoined { .. })));
        p.close().unwrap();
    });
}

fn family(method: String) -> (String, u32, String, (String, u32, u32)) {
    let me = current_process();
    let parent = parent_process().expect("a child has a parent");
    let mut grandchild = get_context(method.parse().unwrap()).process(grandchild_report, ());
    grandchild.start().unwrap();
    let report = grandchild.join().unwrap();
    (
        me.name().to_owned(),
        parent.pid(),
        parent.name().to_owned(),
        report,
    )
}

fn grandchild_report() -> (String, u32, u32) {
    let me = current_process();
    (
        me.name().to_owned(),
        me.pid(),
        parent_process().unwrap().pid(),
    )
}

#[test]
fn a_child_starts_a_grandchild() {
    each_method(|m| {
        let mut p = get_context(m).process(family, (m.to_string(),));
        p.start().unwrap();
        let child_pid = p.pid().unwrap();
        let (name, parent_pid, parent_name, (grand_name, grand_pid, grand_parent)) =
            p.join().unwrap();
        assert_eq!(name, p.name());
        assert!(name.starts_with("Process-"), "{name}");
        assert_eq!(parent_pid, std::process::id());
        assert_eq!(parent_name, "MainProcess");
        assert_eq!(grand_name, format!("{name}:1"));
        assert_eq!(grand_parent, child_pid);
        assert_ne!(grand_pid, child_pid);
    });
}

#[test]
fn names_and_daemon_flag() {
    fn report() -> (String, bool) {
        let me = current_process();
        (me.name().to_owned(), me.daemon())
    }
    each_method(|m| {
        let mut p = get_context(m)
            .process(report, ())
            .with_name("Worker1")
            .with_daemon(true);
        assert_eq!(p.name(), "Worker1");
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), ("Worker1".to_owned(), true));
    });
}

#[test]
fn fork_runs_a_capturing_closure() {
    let words = ["a".to_owned(), "captured".to_owned(), "vector".to_owned()];
    // SAFETY: the closure only allocates (glibc makes malloc usable after fork) and returns;
    // it touches no lock or data of the test harness's other threads.
    let mut p = unsafe { Process::fork(move || words.concat()) };
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), "acapturedvector");
}

#[test]
fn a_closure_cannot_use_another_start_method() {
    // `Process::fork` always forks, whatever the default start method.
    // SAFETY: `std::process::id` is `getpid`, async-signal-safe.
    let mut p = unsafe { Process::fork(std::process::id) };
    assert_eq!(p.start_method(), StartMethod::Fork);
    p.start().unwrap();
    assert_ne!(p.join().unwrap(), std::process::id());
}

fn echo_over_channel(tx: ipc_channel::ipc::IpcSender<String>, text: String) {
    tx.send(text.to_uppercase()).unwrap();
}

#[test]
fn channels_travel_as_arguments() {
    each_method(|m| {
        let (tx, rx) = ipc_channel::ipc::channel::<String>().unwrap();
        let mut p = get_context(m).process(echo_over_channel, (tx, "hi there".to_owned()));
        p.start().unwrap();
        assert_eq!(rx.recv().unwrap(), "HI THERE");
        p.join().unwrap();
    });
}

fn readable_within(fd: std::os::fd::BorrowedFd<'_>, millis: u64) -> bool {
    multiproc_sys::poll::wait_readable(fd, Some(std::time::Duration::from_millis(millis))).unwrap()
}

#[test]
fn sentinel_becomes_readable_when_the_child_ends() {
    each_method(|m| {
        let mut p = get_context(m).process(sleep_long, ());
        p.start().unwrap();
        let fd = p.sentinel().unwrap();
        assert!(!readable_within(fd, 0), "readable while running");
        p.kill().unwrap();
        assert!(readable_within(fd, 10_000), "not readable after kill");
        let _ = p.join();
    });
}

#[test]
fn active_children_lists_running_children() {
    each_method(|m| {
        let mut p = get_context(m).process(sleep_long, ());
        p.start().unwrap();
        let pid = p.pid().unwrap();
        assert!(
            multiproc_process::active_children()
                .iter()
                .any(|c| c.pid() == pid)
        );
        p.kill().unwrap();
        let _ = p.join();
        assert!(
            !multiproc_process::active_children()
                .iter()
                .any(|c| c.pid() == pid)
        );
    });
}

#[test]
fn a_malformed_child_marker_is_refused_without_running_main() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .env("MULTIPROC_CHILD", "garbage")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(70));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed"));
    assert!(
        out.stdout.is_empty(),
        "the test harness ran: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
