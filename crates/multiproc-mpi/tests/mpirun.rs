//! Runs each scenario of `src/bin/mpi-scenarios.rs` under `mpirun -n 4` on loopback, with a
//! watchdog that ends the whole job (its process group) if it does not finish in time.

use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(180);

/// `mpirun` with the flags that keep the job on loopback and allow root and more ranks than
/// cores; `None` (and a message) when there is no `mpirun` here.
fn mpirun(ranks: u32, scenario: &str) -> Option<Output> {
    if !have_mpirun() {
        return None;
    }
    let mut command = Command::new("mpirun");
    command
        .args(["--allow-run-as-root", "--oversubscribe", "-n"])
        .arg(ranks.to_string())
        .args([
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
        ])
        .args([
            "--mca",
            "oob_tcp_if_include",
            "lo",
            "--mca",
            "mpi_yield_when_idle",
            "1",
        ])
        .arg(env!("CARGO_BIN_EXE_mpi-scenarios"))
        .arg(scenario);
    Some(watched(command, scenario))
}

fn have_mpirun() -> bool {
    let found = Command::new("mpirun").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)");
        return false;
    }
    true
}

/// The scenario binary started without `mpirun`, as an MPI singleton, with the same settings
/// as [`mpirun`]'s flags given as OpenMPI's environment variables.
fn singleton(scenario: &str) -> Option<Output> {
    if !have_mpirun() {
        return None;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_mpi-scenarios"));
    command.arg(scenario).envs([
        ("OMPI_ALLOW_RUN_AS_ROOT", "1"),
        ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
        ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
        ("OMPI_MCA_btl", "self,tcp"),
        ("OMPI_MCA_btl_tcp_if_include", "lo"),
        ("OMPI_MCA_oob_tcp_if_include", "lo"),
        ("OMPI_MCA_mpi_yield_when_idle", "1"),
    ]);
    Some(watched(command, scenario))
}

/// Runs `command` in a process group of its own, ending the whole group if it outlives
/// [`LIMIT`], and returns its output once it is reaped.
fn watched(mut command: Command, scenario: &str) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = command.spawn().expect("start mpirun");
    let pid = child.id();
    let pidfd = multiproc_sys::pidfd::open(pid).expect("pidfd of mpirun");
    let ended = multiproc_sys::poll::wait_readable(pidfd.as_fd(), Some(LIMIT)).unwrap_or(false);
    if !ended {
        // The job hung: end all of it, then fail.
        let _ = multiproc_sys::signal::kill_group(pid, multiproc_sys::signal::number::SIGKILL);
        let output = child.wait_with_output().expect("reap mpirun");
        panic!(
            "scenario {scenario:?} did not finish within {LIMIT:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    child.wait_with_output().expect("reap mpirun")
}

fn run_ok(scenario: &str, expect: &str) {
    if let Some(output) = mpirun(4, scenario) {
        check_ok(&output, scenario, expect);
    }
}

fn check_ok(output: &Output, scenario: &str, expect: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scenario {scenario:?} failed with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains(expect),
        "scenario {scenario:?} printed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn map_and_apply_async_over_three_serving_ranks() {
    run_ok("map", "map ok on 3 serving ranks");
}

#[test]
fn imap_takes_a_lazy_endless_input_and_imap_unordered_gives_every_result() {
    run_ok("imap_lazy", "imap ok");
}

#[test]
fn a_panicking_task_fails_alone_with_its_message() {
    run_ok("errors", "errors ok");
}

#[test]
fn callbacks_on_apply_async_and_map_async_run_before_get_returns() {
    run_ok("callbacks", "callbacks ok");
}

#[test]
fn a_segfaulting_task_fails_alone_and_the_job_exits_zero() {
    run_ok("segfault", "segfault isolated");
}

#[test]
fn two_pools_one_after_the_other_in_one_run() {
    run_ok("two_pools", "two pools ok");
}

#[test]
fn rank_zero_ending_with_work_in_flight_ends_the_job() {
    run_ok("early_drop", "dropped early");
}

#[test]
fn a_panic_on_rank_zero_ends_the_job_with_its_status_instead_of_hanging() {
    let Some(output) = mpirun(4, "panic") else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the job succeeded:\n{stderr}");
    assert!(stderr.contains("rank 0 panics on purpose"), "{stderr}");
}

/// The spawn scenario's checks on its output: it succeeded, only the parent ran `main`, and
/// the workers of its second pool ended when that pool was dropped.
fn check_spawn(output: &Output) {
    check_ok(output, "spawn", "spawn ok: 2 workers ended with their pool");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mains = stdout.lines().filter(|l| l.starts_with("MAIN ")).count();
    assert_eq!(mains, 1, "a spawned worker ran main:\n{stdout}");
}

#[test]
fn spawn_from_a_singleton_serves_two_pools_and_the_workers_end_with_their_pool() {
    // A singleton's spawn goes through the OpenMPI daemon (`orted`) that it starts and that
    // leaves its session; as a subreaper, this test adopts the daemon when the program ends
    // and reaps it, so that the test leaves nothing behind.
    multiproc_sys::subreaper::set(true).expect("become a subreaper");
    let before: Vec<u32> = multiproc_sys::subreaper::children();
    let Some(output) = singleton("spawn") else {
        return;
    };
    for pid in multiproc_sys::subreaper::children() {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !before.contains(&pid) && name.trim() == "orted" {
            // It ends by itself once the singleton has ended MPI.
            let pidfd = multiproc_sys::pidfd::open(pid).expect("pidfd of orted");
            let ended =
                multiproc_sys::poll::wait_readable(pidfd.as_fd(), Some(LIMIT)).unwrap_or(false);
            if !ended {
                let _ = multiproc_sys::signal::kill(pid, multiproc_sys::signal::number::SIGKILL);
            }
            let status = multiproc_sys::wait::waitpid(pid, true).expect("reap orted");
            assert!(
                ended && status.is_some(),
                "orted {pid} outlived the program"
            );
        }
    }
    check_spawn(&output);
}

#[test]
fn spawn_under_mpirun_with_one_rank() {
    if let Some(output) = mpirun(1, "spawn") {
        check_spawn(&output);
    }
}
