//! The adversarial tier for processes (issue 13): hostile and careless uses of `Process` under
//! fork, spawn and forkserver. Each scenario runs in its own program (`process_adversary`), so
//! that what it does to itself (ignoring SIGCHLD, a foreign reaper, few descriptors, a broken
//! TMPDIR) never touches the test runner. That program counts its children, descriptors and
//! threads around the scenario and fails on a leak; the outer program, a child subreaper,
//! counts what outlived it. Every run has a watchdog.

use std::process::Command;
use std::time::Duration;

use multiproc_test_support::watchdog;

const METHODS: [&str; 3] = ["fork", "spawn", "forkserver"];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn leftover(&self) -> usize {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix("leftover "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX)
    }

    fn passed(&self) -> bool {
        self.code == Some(0) && self.stdout.lines().any(|l| l == "ok")
    }
}

fn run(scenario: &'static str, method: &'static str, env: &[(&str, String)]) -> Run {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    watchdog(
        Duration::from_secs(60),
        &format!("{scenario} under {method}"),
        move || {
            let out = Command::new(env!("CARGO_BIN_EXE_process_adversary"))
                .args(["outer", scenario, method])
                .envs(env)
                .output()
                .unwrap();
            Run {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        },
    )
}

/// Runs `scenario` under every start method; each must pass and leave nothing behind.
fn every_method(scenario: &'static str) {
    for method in METHODS {
        let run = run(scenario, method, &[]);
        assert!(
            run.passed(),
            "{scenario} under {method}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        assert_eq!(
            run.leftover(),
            0,
            "{scenario} under {method}: processes outlived the program\n{}",
            run.stdout
        );
    }
}

/// Class 6: SIGCHLD set to SIG_IGN. Results still arrive; terminate() signals only the child
/// (through its pidfd, held from its start); its death is reported with the signal
/// (forkserver) or with an error that names SIGCHLD (fork, spawn).
#[test]
fn sigchld_ignored_costs_no_wrong_signal_and_names_the_cause() {
    every_method("sigchld-ignored");
}

/// Class 6: a SIGCHLD handler that reaps with `waitpid(-1)`.
#[test]
fn a_foreign_reaping_handler_costs_no_wrong_signal_and_names_the_cause() {
    every_method("sigchld-handler");
}

/// Class 1: `join_timeout(Duration::MAX)` waits without limit, zero polls once.
#[test]
fn extreme_join_timeouts() {
    every_method("durations");
}

/// Class 5: a `Process` handle inherited by a forked child gives an error there and never
/// reaches the parent's child.
#[test]
fn a_handle_used_in_another_process_is_refused() {
    every_method("wrong-process");
}

/// Class 14: after `close`, `terminate`, `kill` and `exitcode` are errors.
#[test]
fn a_closed_handle_is_refused() {
    every_method("closed");
}

/// Class 14: a child reports the method that started it, and its children use it too.
#[test]
fn children_inherit_the_start_method() {
    every_method("start-method");
}

/// Class 8: a start from a thread that holds the stdout lock does not hang.
#[test]
fn a_start_while_stdout_is_locked() {
    every_method("stdout-locked");
}

/// Class 15: a program run leaves no zombie (the fork server is reaped at exit).
#[test]
fn a_program_leaves_no_zombie() {
    every_method("zombie");
}

/// Class 8: TMPDIR pointing at a file, or at nothing: an error that names TMPDIR, never a
/// panic.
#[test]
fn a_broken_tmpdir_is_an_error() {
    let file = std::env::temp_dir().join(format!("multiproc-adversary-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").unwrap();
    let missing = file.join("missing");
    for tmpdir in [&file, &missing] {
        for method in METHODS {
            let run = run(
                "tmpdir",
                method,
                &[("TMPDIR", tmpdir.display().to_string())],
            );
            assert!(
                run.passed(),
                "TMPDIR={} under {method}: exit {:?}\n{}\n{}",
                tmpdir.display(),
                run.code,
                run.stdout,
                run.stderr
            );
        }
    }
    let _ = std::fs::remove_file(&file);
}

/// Class 8: with RLIMIT_NOFILE at 64, starts fail with errors, never a panic.
#[test]
fn few_descriptors_give_errors() {
    for method in METHODS {
        let run = run("nofile", method, &[]);
        assert!(
            run.passed(),
            "nofile under {method}: exit {:?}\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        assert_eq!(run.leftover(), 0, "nofile under {method}: {}", run.stdout);
    }
}

/// Class 9: a forged result header claiming 2^62 bytes, and a result above the maximum,
/// give `join` an error that names the cause, under every start method, with nothing leaked.
#[test]
fn a_hostile_result_header_is_an_error() {
    every_method("hostile-result");
}

/// Class 13: a grandchild that leaves its parent and its session does not outlive a program
/// that uses the fork server (the server is a child subreaper and ends it when it closes).
/// Under fork and spawn it would (documented); the outer program ends it there.
#[test]
fn an_escaped_grandchild_does_not_outlive_the_program() {
    let run = run("escape", "forkserver", &[]);
    assert!(run.passed(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.leftover(),
        0,
        "the escaped grandchild outlived the program\n{}",
        run.stdout
    );
}

/// The leak check of the program itself: a scenario that leaks a child, its descriptors and a
/// library thread on purpose fails, naming each; so does one that leaks an unnamed thread.
#[test]
fn the_leak_check_reports_a_leak() {
    for (scenario, expected) in [
        ("leak", &["children", "fds", "multiproc-leak"][..]),
        (
            "leak-unnamed-thread",
            &["threads, of which the library's"][..],
        ),
    ] {
        let run = run(scenario, "spawn", &[]);
        assert!(
            !run.passed(),
            "{scenario}: the leak went unseen\n{}",
            run.stdout
        );
        for word in expected {
            assert!(
                run.stderr.contains(&format!("{scenario}: leak:")) && run.stderr.contains(word),
                "{scenario}: no {word:?} in the report\n{}",
                run.stderr
            );
        }
    }
}
