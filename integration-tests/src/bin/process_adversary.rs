//! Hostile and careless uses of `Process`, one scenario per run, for
//! `tests/adversarial_process.rs`.
//!
//! Usage: `process_adversary outer <scenario> <fork|spawn|forkserver>`. The outer process makes
//! itself a child subreaper, runs `process_adversary inner <scenario> <method>` (the program
//! under test), and after it ended adopts whatever it left behind: it prints `leftover <n>`
//! for the processes that outlived the program (an unreaped fork server, an escaped
//! grandchild), ends them, and exits with the inner program's code. The inner program counts
//! its children, descriptors and threads around the scenario and fails on a leak; it prints
//! `ok` when the scenario passed.

use std::io::Write;
use std::time::{Duration, Instant};

use multiproc::process::{ExitReason, Process, ProcessError, StartMethod};
use multiproc_test_support::{
    Census, default_interrupt_dispositions, library_threads, settle, start_escaped_sleeper,
};

fn sleep_long() {
    std::thread::sleep(Duration::from_secs(60));
}

fn quick(x: u32) -> u32 {
    x + 1
}

fn fail() -> u32 {
    panic!("on purpose")
}

fn own_method() -> String {
    multiproc::process::get_start_method().as_str().to_owned()
}

/// This process's default start method, and that of a child it starts with the default.
fn report_methods() -> (String, String) {
    let mut grandchild = Process::new(own_method, ());
    let theirs = grandchild
        .start()
        .and_then(|()| grandchild.join())
        .unwrap_or_else(|e| format!("error: {e}"));
    (own_method(), theirs)
}

/// A target that forges an ipc-channel record header claiming a 2^62-byte message on every
/// socket it holds whose peer is `program` (its result channel among them, whatever the start
/// method), then returns normally; returns how many it wrote to.
fn forge_result_header(program: u32) -> u32 {
    multiproc_test_support::forge_huge_record_to(program) as u32
}

fn large_result() -> Vec<u8> {
    vec![7; 1 << 20]
}

/// Fails unless, within a few seconds (children and threads end a moment after their handles
/// report them ended), this program holds no more than `before`, and every thread but the main
/// one is the library's (named `multiproc-*`): with no test harness here, an unnamed thread is
/// one the library forgot to name, and would slip through the census of the test tiers.
fn check_no_leak(before: &Census, what: &str) {
    let settled = settle(Duration::from_secs(5), || {
        Census::take().growth_since(before).or_else(|| {
            let all = multiproc_sys::process::thread_count().unwrap_or(0);
            let named = library_threads();
            (all != named.len() + 1)
                .then(|| format!("{all} threads, of which the library's: {named:?}"))
        })
    });
    if let Err(leak) = settled {
        panic!("{what}: leak: {leak} (before: {before:?})");
    }
}

fn start<R: multiproc::process::Portable>(p: &mut Process<R>) {
    p.start().expect("start");
}

/// Under a program that reaps its own children, or ignores SIGCHLD.
/// Under a program that reaps its own children, or ignores SIGCHLD (set before anything
/// started, the fork server included).
fn foreign_reaper(method: StartMethod) {
    // An unrelated process that must never be signalled.
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let bystander_pid = bystander.id();

    let mut p = Process::new(quick, (1,));
    start(&mut p);
    assert_eq!(p.join().expect("a result despite the foreign reaper"), 2);

    let mut p = Process::new(fail, ());
    start(&mut p);
    let e = p.join().unwrap_err();
    assert!(e.panic().is_some(), "{method}: {e}");

    let mut p = Process::new(sleep_long, ());
    start(&mut p);
    p.terminate().unwrap();
    let e = p.join().unwrap_err();
    match (&e, method) {
        (ProcessError::Died { status, .. }, _) => {
            assert_eq!(*status, ExitReason::Signal(15), "{method}: {e}")
        }
        (ProcessError::StatusTaken { .. }, StartMethod::Fork | StartMethod::Spawn) => {
            assert!(e.to_string().contains("SIGCHLD"), "{e}")
        }
        _ => panic!("{method}: unexpected {e:?} ({e})"),
    }
    // Signalling again (the child is gone, its pid may be anyone's) is harmless.
    p.terminate().unwrap();
    p.kill().unwrap();
    assert!(
        multiproc_sys::process::is_alive(bystander_pid),
        "{method}: the bystander was hit"
    );
    bystander.kill().unwrap();
    let _ = bystander.wait();
}

fn extreme_durations(method: StartMethod) {
    let mut p = Process::new(quick, (1,));
    start(&mut p);
    assert_eq!(p.join_timeout(Duration::MAX).unwrap(), 2, "{method}");

    let mut p = Process::new(sleep_long, ());
    start(&mut p);
    let t = Instant::now();
    assert!(
        matches!(
            p.join_timeout(Duration::ZERO),
            Err(ProcessError::Timeout { .. })
        ),
        "{method}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{method}: zero waited"
    );
    p.kill().unwrap();
    match p.join_timeout(Duration::MAX) {
        Err(ProcessError::Died { status, .. }) => assert_eq!(status, ExitReason::Signal(9)),
        other => panic!("{method}: {other:?}"),
    }
}

fn wrong_process(method: StartMethod) {
    let mut p = Process::new(sleep_long, ());
    start(&mut p);
    let child = multiproc_test_support::fork(|| {
        let wrong = |r: Result<(), ProcessError>| {
            assert!(
                matches!(r, Err(ProcessError::WrongProcess { .. })),
                "in a forked child: {r:?}"
            )
        };
        wrong(p.terminate());
        wrong(p.kill());
        wrong(p.join().map(drop));
        wrong(p.exitcode().map(drop));
        assert!(!p.is_alive());
        // The fork server (and the rest of this crate's state) is the parent's: a process
        // started here gets this process's own.
        let mut own = Process::new(quick, (41,));
        own.start().expect("a start in a forked child");
        assert_eq!(own.join().unwrap(), 42);
        // Leave through the exit handlers, which close a fork server started here.
        std::process::exit(0);
    });
    assert_eq!(
        child.wait(),
        0,
        "{method}: the forked child's checks failed"
    );
    assert!(
        p.is_alive(),
        "{method}: the forked child reached the process"
    );
    p.kill().unwrap();
    assert!(p.join().is_err());
}

fn closed(method: StartMethod) {
    let mut p = Process::new(quick, (1,));
    start(&mut p);
    p.join().unwrap();
    p.close().unwrap();
    assert!(
        matches!(p.terminate(), Err(ProcessError::Closed { .. })),
        "{method}"
    );
    assert!(
        matches!(p.kill(), Err(ProcessError::Closed { .. })),
        "{method}"
    );
    assert!(
        matches!(p.exitcode(), Err(ProcessError::Closed { .. })),
        "{method}"
    );
}

fn start_methods(method: StartMethod) {
    let mut p = Process::new(report_methods, ());
    start(&mut p);
    let (own, grandchild) = p.join().unwrap();
    assert_eq!(own, method.as_str(), "the child's get_start_method");
    assert_eq!(grandchild, method.as_str(), "the grandchild's start method");
}

fn broken_environment(method: StartMethod) {
    // TMPDIR was set (by the test) to a file or a missing directory: an error, or (fork,
    // which needs no socket file) a child; never a panic.
    let mut p = Process::new(quick, (1,));
    match p.start() {
        Ok(()) => assert_eq!(p.join().unwrap(), 2),
        Err(e) => {
            assert!(method != StartMethod::Fork, "{e}");
            assert!(e.to_string().contains("TMPDIR"), "{method}: {e}");
        }
    }
}

fn few_descriptors(method: StartMethod) {
    multiproc_sys::rlimit::set_open_files(64).unwrap();
    let mut started = Vec::new();
    let mut refused = 0;
    for _ in 0..40 {
        let mut p = Process::new(sleep_long, ());
        match p.start() {
            Ok(()) => started.push(p),
            Err(_) => refused += 1,
        }
    }
    assert!(refused > 0, "{method}: 40 children in 64 descriptors?");
    for p in &mut started {
        p.kill().unwrap();
        assert!(p.join().is_err());
    }
}

fn stdout_locked(method: StartMethod) {
    let value = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        let mut held = stdout.lock();
        let mut p = Process::new(quick, (1,));
        start(&mut p);
        let value = p.join().unwrap();
        let _ = held.flush();
        value
    })
    .join()
    .unwrap();
    assert_eq!(value, 2, "{method}");
}

fn plain(_: StartMethod) {
    let mut p = Process::new(quick, (1,));
    start(&mut p);
    assert_eq!(p.join().unwrap(), 2);
}

fn escaped_grandchild(method: StartMethod) {
    let mut p = Process::new(start_escaped_sleeper, ());
    start(&mut p);
    let pid = p.join().unwrap();
    println!("escaped {pid} under {method}");
}

/// Class 9: a child that writes a forged header claiming 2^62 bytes to its result channel
/// gives `join` an error naming the cause (never an abort, never an allocation of the
/// claimed size); a result above the process's maximum too, and the child is not left
/// blocked on the rest of it.
fn hostile_result(method: StartMethod) {
    let mut p = Process::new(forge_result_header, (multiproc_sys::process::pid(),));
    start(&mut p);
    match p.join() {
        Err(e @ ProcessError::Transfer { .. }) => assert!(
            e.to_string().contains("larger than the maximum"),
            "{method}: {e}"
        ),
        other => panic!("{method}: a forged header gave {other:?}"),
    }

    let mut p = Process::new(large_result, ()).with_max_result_size(64 << 10);
    start(&mut p);
    match p.join() {
        Err(e @ ProcessError::Transfer { .. }) => assert!(
            e.to_string()
                .contains("larger than the maximum of 65536 bytes"),
            "{method}: {e}"
        ),
        other => panic!("{method}: an oversized result gave {other:?}"),
    }

    // The default maximum lets an ordinary large result through.
    let mut p = Process::new(large_result, ());
    start(&mut p);
    assert_eq!(p.join().expect("a 1 MiB result").len(), 1 << 20, "{method}");
}

/// Leaks on purpose, for the test of the leak check: a process whose handle is forgotten
/// while it runs (a child, and its descriptors; daemonic, so that the exit handler ends it
/// rather than wait for it), then a thread of the library's name that never ends.
fn leak_on_purpose(_: StartMethod) {
    let mut p = Process::new(sleep_long, ()).with_daemon(true);
    start(&mut p);
    std::mem::forget(p);
    leak_thread(Some("multiproc-leak"));
}

/// Leaks an unnamed thread on purpose: the check counts it though its name is not the
/// library's, since nothing here but the library starts threads.
fn leak_unnamed_thread(_: StartMethod) {
    leak_thread(None);
}

/// Starts a thread that never ends; returns once it runs (under its name, if it has one).
fn leak_thread(name: Option<&str>) {
    let (started, running) = std::sync::mpsc::channel();
    let builder = match name {
        Some(name) => std::thread::Builder::new().name(name.to_owned()),
        None => std::thread::Builder::new(),
    };
    builder
        .spawn(move || {
            let _ = started.send(());
            loop {
                std::thread::park();
            }
        })
        .expect("a thread");
    running.recv().expect("the thread started");
}

fn inner(scenario: &str, method: StartMethod) {
    multiproc::process::set_start_method(method, true).unwrap();
    match scenario {
        "sigchld-ignored" => multiproc_sys::disposition::ignore_child_exits().unwrap(),
        "sigchld-handler" => multiproc_sys::disposition::reap_children_in_handler().unwrap(),
        _ => {}
    }
    // Warm up: the fork server, the launcher thread and the logger exist from here on.
    if !matches!(scenario, "tmpdir" | "nofile") {
        plain(method);
        // From another thread too: the launcher thread exists from here on.
        std::thread::spawn(move || plain(method)).join().unwrap();
    }
    let before = Census::take();
    match scenario {
        "sigchld-ignored" | "sigchld-handler" => foreign_reaper(method),
        "durations" => extreme_durations(method),
        "wrong-process" => wrong_process(method),
        "closed" => closed(method),
        "start-method" => start_methods(method),
        "tmpdir" => broken_environment(method),
        "nofile" => few_descriptors(method),
        "stdout-locked" => stdout_locked(method),
        "zombie" => plain(method),
        "escape" => escaped_grandchild(method),
        "hostile-result" => hostile_result(method),
        "leak" => leak_on_purpose(method),
        "leak-unnamed-thread" => leak_unnamed_thread(method),
        other => panic!("unknown scenario {other}"),
    }
    if !matches!(scenario, "tmpdir" | "nofile" | "escape") {
        check_no_leak(&before, scenario);
    }
    println!("ok");
}

fn outer(scenario: &str, method: &str) -> i32 {
    multiproc_sys::subreaper::set(true).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["inner", scenario, method])
        .status()
        .unwrap();
    let leftover = multiproc_sys::subreaper::end_children();
    println!("leftover {leftover}");
    status.code().unwrap_or(1)
}

fn main() {
    default_interrupt_dispositions();
    let args: Vec<String> = std::env::args().collect();
    let [_, role, scenario, method] = &args[..] else {
        eprintln!("usage: process_adversary <outer|inner> <scenario> <method>");
        std::process::exit(2);
    };
    match role.as_str() {
        "outer" => std::process::exit(outer(scenario, method)),
        _ => inner(scenario, method.parse().expect("a start method")),
    }
}
