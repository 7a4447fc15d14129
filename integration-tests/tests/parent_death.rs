//! The parent of a pool dies during `Pool.map` — SIGKILL, or Ctrl-C (SIGINT to it alone, or to
//! its whole process group as a terminal sends it) — under every start method: every
//! descendant, the fork server included, is gone within a second.
//!
//! multiproc installs no SIGINT handler: Ctrl-C ends the program as it would without
//! multiproc, and the children follow through their parent-death signal.
//!
//! The program under test gives SIGINT and SIGTERM their default action first: a test runner
//! started with them ignored (`nohup`, a background job) would pass that on, and the program
//! would never end. `ctrl_c_ends_the_program_even_if_started_with_sigint_ignored` starts it so.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::Duration;

use multiproc::StartMethod;
use multiproc_test_support::{descendants, send_signal, send_signal_to_group, wait_gone, watchdog};

enum Kill {
    Sigkill,
    SigintToParent,
    SigintToGroup,
}

fn kill_the_parent(method: StartMethod, how: Kill) {
    kill_the_parent_started_by(method, how, None)
}

/// `via_shell`: a shell script that sets dispositions (`trap '' INT TERM`) and execs the
/// program, as `nohup` does.
fn kill_the_parent_started_by(method: StartMethod, how: Kill, via_shell: Option<&str>) {
    let mut command = match via_shell {
        None => Command::new(env!("CARGO_BIN_EXE_pool_victim")),
        Some(script) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("{script}; exec \"$0\" \"$1\""))
                .arg(env!("CARGO_BIN_EXE_pool_victim"));
            sh
        }
    };
    let mut victim = command
        .arg(method.as_str())
        .process_group(0)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = victim.id();
    let mut line = String::new();
    BufReader::new(victim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("ready {pid}"), "{method}");

    let family = descendants(pid);
    assert!(
        family.len() >= 2,
        "{method}: expected at least two workers, found {family:?}"
    );
    let signal = match how {
        Kill::Sigkill => {
            send_signal(pid, libc::SIGKILL);
            libc::SIGKILL
        }
        Kill::SigintToParent => {
            send_signal(pid, libc::SIGINT);
            libc::SIGINT
        }
        Kill::SigintToGroup => {
            send_signal_to_group(pid, libc::SIGINT);
            libc::SIGINT
        }
    };
    let status = victim.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(signal),
        "{method}: the parent ended with {status:?}"
    );
    for child in family {
        assert!(
            wait_gone(child, Duration::from_secs(1)),
            "{method}: descendant {child} still alive a second after its parent died"
        );
    }
}

#[test]
fn sigkill_of_the_parent_takes_every_descendant() {
    watchdog(Duration::from_secs(60), "parent SIGKILL", || {
        for method in StartMethod::ALL {
            kill_the_parent(method, Kill::Sigkill);
        }
    });
}

#[test]
fn ctrl_c_to_the_parent_ends_the_program_and_its_workers() {
    watchdog(Duration::from_secs(60), "parent SIGINT", || {
        for method in StartMethod::ALL {
            kill_the_parent(method, Kill::SigintToParent);
        }
    });
}

#[test]
fn ctrl_c_to_the_process_group_ends_everything() {
    watchdog(Duration::from_secs(60), "group SIGINT", || {
        for method in StartMethod::ALL {
            kill_the_parent(method, Kill::SigintToGroup);
        }
    });
}

#[test]
fn ctrl_c_ends_the_program_even_if_started_with_sigint_ignored() {
    watchdog(Duration::from_secs(60), "SIGINT after nohup", || {
        for method in StartMethod::ALL {
            kill_the_parent_started_by(method, Kill::SigintToParent, Some("trap '' INT TERM"));
        }
    });
}
