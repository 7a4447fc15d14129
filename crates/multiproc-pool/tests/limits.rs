//! Resource limits per worker: a task that hits the memory or the CPU time cap fails alone,
//! with an error that names the limit, and the pool replaces the worker and keeps serving,
//! under every start method.

use std::time::Duration;

use multiproc_pool::{LimitExceeded, Limits, Pool, PoolError};
use multiproc_process::StartMethod;
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(180);

fn each_method(test: fn(StartMethod)) {
    for method in StartMethod::ALL {
        watchdog(LIMIT, &format!("{method}"), move || test(method));
    }
}

fn square(x: u64) -> u64 {
    x * x
}

/// Allocates and touches `mib` MiB, in 64 MiB pieces.
fn hog_memory(mib: usize) -> usize {
    let mut pieces = Vec::new();
    for _ in 0..mib / 64 {
        pieces.push(vec![1u8; 64 << 20]);
    }
    std::hint::black_box(&pieces).len()
}

fn spin() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// Uses `millis` of CPU time (not wall time: the machine may be busy).
fn burn(millis: u64) -> u64 {
    let start = multiproc_sys::rlimit::cpu_time_used().unwrap();
    let mut x = 0u64;
    while multiproc_sys::rlimit::cpu_time_used().unwrap() - start < Duration::from_millis(millis) {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    x
}

#[test]
fn a_task_over_the_memory_cap_fails_alone_and_the_pool_goes_on() {
    each_method(|method| {
        let cap = 256 << 20;
        let pool = Pool::builder()
            .processes(2)
            .start_method(method)
            .limits(Limits::new().memory(cap))
            .build()
            .unwrap();
        let before = pool.worker_pids();
        let err = pool.apply(hog_memory, (1024,)).unwrap_err();
        assert!(
            matches!(err, PoolError::LimitExceeded { limit: LimitExceeded::Memory { limit }, .. } if limit == cap),
            "{method}: {err:?}"
        );
        assert!(
            err.to_string().contains("memory limit of 268435456 bytes"),
            "{err}"
        );
        // A task under the cap still runs, and so do others.
        assert_eq!(pool.apply(hog_memory, (64,)).unwrap(), 1, "{method}");
        assert_eq!(pool.map(square, 0..20u64).unwrap()[19], 361, "{method}");
        assert_ne!(
            pool.worker_pids(),
            before,
            "{method}: the worker was not replaced"
        );
    });
}

#[test]
fn a_task_over_the_cpu_cap_fails_alone_and_the_pool_goes_on() {
    each_method(|method| {
        let pool = Pool::builder()
            .processes(1)
            .start_method(method)
            .limits(Limits::new().cpu_time(Duration::from_secs(1)))
            .build()
            .unwrap();
        let err = pool.apply(spin, ()).unwrap_err();
        assert_eq!(
            err,
            PoolError::LimitExceeded {
                limit: LimitExceeded::CpuTime {
                    limit: Duration::from_secs(1)
                },
                status: Some(multiproc_process::ExitReason::Signal(24)),
                index: 0,
            },
            "{method}"
        );
        assert!(err.to_string().contains("CPU time limit of 1s"), "{err}");
        assert_eq!(pool.apply(square, (12,)).unwrap(), 144, "{method}");
    });
}

#[test]
fn the_cpu_cap_counts_each_task_not_the_worker_s_life() {
    each_method(|method| {
        let pool = Pool::builder()
            .processes(1)
            .start_method(method)
            .limits(Limits::new().cpu_time(Duration::from_secs(1)))
            .build()
            .unwrap();
        let pid = pool.worker_pids();
        // 3 x 0.7 s of CPU time on one worker: more than the cap in all, less in each.
        for _ in 0..3 {
            pool.apply(burn, (700,)).unwrap();
        }
        assert_eq!(pool.worker_pids(), pid, "{method}: the worker was replaced");
    });
}
