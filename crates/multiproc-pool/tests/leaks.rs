//! 100 pools created and dropped leave no processes and no descriptors behind.
//! (Alone in its test binary: other tests running in parallel would change the counts.)

mod common;

use std::time::Duration;

use common::{GONE_LIMIT, METHODS};
use multiproc_pool::Pool;
use multiproc_test_support::{child_pids, exists, fd_count, gone, watchdog};

fn square(x: u64) -> u64 {
    x * x
}

/// The children of every thread of this process, from /proc/self/task/*/children.
fn task_children() -> Vec<u32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids.sort();
    pids
}

/// The children `ps --ppid` lists, when `ps` is installed.
fn ps_children() -> Option<Vec<u32>> {
    let out = std::process::Command::new("ps")
        .args(["--ppid", &std::process::id().to_string(), "-o", "pid="])
        .output()
        .ok()?;
    let mut pids: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    // `ps` itself was our child while it ran.
    pids.retain(|&p| exists(p));
    pids.sort();
    Some(pids)
}

#[test]
fn hundred_pools_leak_nothing() {
    watchdog(
        Duration::from_secs(300),
        "100 pools per start method",
        || {
            for method in METHODS {
                // Warm up: the fork server, the launcher thread and lazily created state.
                for _ in 0..2 {
                    let pool = Pool::builder()
                        .processes(2)
                        .start_method(method)
                        .build()
                        .unwrap();
                    assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
                }
                let fds_before = fd_count();
                let children_before = child_pids();
                let task_children_before = task_children();
                let mut all_workers = Vec::new();
                for i in 0..100u64 {
                    let pool = Pool::builder()
                        .processes(2)
                        .start_method(method)
                        .build()
                        .unwrap();
                    all_workers.extend(pool.worker_pids());
                    assert_eq!(pool.apply(square, (i,)).unwrap(), i * i);
                }
                assert_eq!(fd_count(), fds_before, "{method}: descriptors leaked");
                assert_eq!(child_pids(), children_before, "{method}: children left");
                assert_eq!(
                    task_children(),
                    task_children_before,
                    "{method}: children left"
                );
                if let Some(ps) = ps_children() {
                    assert_eq!(ps, children_before, "{method}: ps --ppid lists children");
                }
                let alive: Vec<u32> = all_workers
                    .into_iter()
                    .filter(|&p| !gone(p, GONE_LIMIT))
                    .collect();
                assert!(alive.is_empty(), "{method}: workers still exist: {alive:?}");
            }
        },
    );
}
