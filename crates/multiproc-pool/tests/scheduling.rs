//! How the pool places work, under fork, spawn and forkserver: short tasks never wait behind
//! a long one while a worker is idle (issue 16, item 3), and a worker that dies in the middle
//! of a chunk costs only the task that killed it: the tasks it had finished keep their
//! results, the others run again (issue 13, class 14).

use std::sync::OnceLock;
use std::time::Duration;

use multiproc_pool::{Pool, PoolError};
use multiproc_process::{ExitReason, StartMethod};
use multiproc_shared::Event;
use multiproc_test_support::{send_signal, watchdog};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
const LIMIT: Duration = Duration::from_secs(120);
/// Generous: the machine may be loaded; a task stuck behind the long one would wait for
/// ever (the long one ends only when the test releases it, after these waits).
const PATIENCE: Duration = Duration::from_secs(30);

fn pool(method: StartMethod, processes: usize) -> Pool {
    Pool::builder()
        .processes(processes)
        .start_method(method)
        .build()
        .unwrap()
}

/// The long task's events, given to every worker by the initializer (shared-memory handles
/// travel as process arguments, not as task arguments).
static EVENTS: OnceLock<(Event, Event)> = OnceLock::new();

fn keep_events(started: Event, release: Event) {
    let _ = EVENTS.set((started, release));
}

/// Says it started, then runs until released (or a minute passes, should the test die).
fn long_task() -> bool {
    let Some((started, release)) = EVENTS.get() else {
        return false;
    };
    started.set();
    release.wait_timeout(Duration::from_secs(60))
}

fn short_task(x: u64) -> u64 {
    x + 1
}

#[test]
fn short_tasks_do_not_wait_behind_a_long_one() {
    for method in METHODS {
        watchdog(
            LIMIT,
            &format!("head-of-line blocking ({method:?})"),
            move || {
                let (started, release) = (Event::new().unwrap(), Event::new().unwrap());
                let pool = Pool::builder()
                    .processes(2)
                    .start_method(method)
                    .initializer(keep_events, (started.clone(), release.clone()))
                    .build()
                    .unwrap();
                let long = pool.apply_async(long_task, ());
                assert!(
                    started.wait_timeout(PATIENCE),
                    "the long task never started: {:?}",
                    long.get_timeout(Duration::ZERO)
                );
                // One at a time: each submission may land on the busy worker's queue.
                let singles: Vec<_> = (0..4).map(|x| pool.apply_async(short_task, (x,))).collect();
                for (x, single) in singles.iter().enumerate() {
                    assert_eq!(
                        single.get_timeout(PATIENCE),
                        Ok(x as u64 + 1),
                        "short task {x} waited behind the long one ({method:?})"
                    );
                }
                // In one submission of four chunks, spread over both workers.
                let mapped = pool.chunksize(1).map_async(short_task, 0..4);
                assert_eq!(mapped.get_timeout(PATIENCE), Ok(vec![1, 2, 3, 4]));
                let streamed: Vec<_> = pool.imap(short_task, 10..14).collect();
                assert_eq!(streamed, vec![Ok(11), Ok(12), Ok(13), Ok(14)]);
                assert!(
                    !long.is_ready(),
                    "the long task ended before it was released"
                );
                release.set();
                assert_eq!(long.get_timeout(PATIENCE), Ok(true));
            },
        );
    }
}

/// Task 5 kills its worker with SIGSEGV; the others take a few milliseconds (longer than a
/// worker keeps finished results before it sends them) and say which process ran them.
fn segfault_on_5(x: u64) -> u32 {
    if x == 5 {
        // The default action (the Rust runtime catches SIGSEGV to spot stack overflows, and
        // ignores one sent by `kill`).
        multiproc_sys::disposition::set_default(11).unwrap();
        send_signal(std::process::id(), 11);
    }
    // Work, not synchronisation: long enough that each result is sent as soon as it is done.
    std::thread::sleep(Duration::from_millis(3));
    std::process::id()
}

#[test]
fn a_death_in_a_chunk_keeps_the_results_before_it_and_runs_the_rest_again() {
    for method in METHODS {
        watchdog(LIMIT, &format!("partial chunk ({method:?})"), move || {
            let pool = pool(method, 1);
            let results: Vec<_> = pool.chunksize(8).imap(segfault_on_5, 0..8).collect();
            assert_eq!(results.len(), 8);
            let dead = match &results[0] {
                Ok(pid) => *pid,
                Err(e) => panic!("task 0 failed ({method:?}): {e}"),
            };
            for (x, result) in results.iter().enumerate().take(5) {
                assert_eq!(
                    result,
                    &Ok(dead),
                    "task {x} ran again instead of keeping its result ({method:?})"
                );
            }
            assert!(
                matches!(
                    results[5],
                    Err(PoolError::WorkerDied {
                        status: Some(ExitReason::Signal(11)),
                        index: 5,
                    })
                ),
                "{:?} ({method:?})",
                results[5]
            );
            for (x, result) in results.iter().enumerate().skip(6) {
                let Ok(pid) = *result else {
                    panic!("task {x} failed ({method:?}): {result:?}");
                };
                assert_ne!(pid, dead, "task {x} ran on the dead worker ({method:?})");
            }
            // `map` fails as a whole, with the task's own error.
            let mapped = pool.chunksize(8).map(segfault_on_5, 0..8);
            assert!(
                matches!(mapped, Err(PoolError::WorkerDied { .. })),
                "{mapped:?}"
            );
        });
    }
}
