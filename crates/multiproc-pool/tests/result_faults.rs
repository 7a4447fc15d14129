//! The pool's result thread receives large chunk results without page faults once warm.
//!
//! glibc gives the top of a heap back to the kernel when a large block there is freed; a
//! thread that allocates a large receive buffer for every message and frees it after then
//! faults the same pages in again for the next one (about one fault per 4 KiB received).
//! That once made `map` with automatic chunks 1.5× slower. This counts the minor faults of
//! the result thread (from /proc/self/task/<tid>/stat) over many maps whose chunk results
//! travel by the worker's channel (each over the ring's limit).
//! (Alone in its test binary: another pool's threads would carry the same names.)

use std::time::Duration;

use multiproc_pool::Pool;
use multiproc_test_support::watchdog;

fn square(x: u64) -> u64 {
    x * x
}

/// The name the kernel keeps for the pool's threads (`multiproc-pool-results` and
/// `multiproc-pool-callbacks`, cut to 15 bytes); the callback thread has nothing to do here.
const POOL_THREADS: &str = "multiproc-pool-";

/// The minor page faults of every thread of this process named `name`, by thread id (in
/// the order of /proc/self/task, which lists threads by id).
fn minor_faults(name: &str) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue; // the thread ended meanwhile
        };
        // "tid (comm) state ppid ...": the fields after the comm's closing parenthesis
        // start at the state (field 3); minflt is field 10.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            panic!("unexpected stat line: {stat}");
        };
        if &stat[open + 1..close] != name {
            continue;
        }
        let minflt = stat[close + 1..]
            .split_whitespace()
            .nth(7)
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("no minflt in: {stat}"));
        found.push((task.file_name().to_string_lossy().into_owned(), minflt));
    }
    found
}

#[test]
fn a_warm_result_thread_does_not_fault_per_map() {
    watchdog(Duration::from_secs(300), "maps of 100k tasks", || {
        const N: u64 = 100_000;
        const MAPS: u64 = 40;
        let pool = Pool::builder().processes(2).build().unwrap();
        // Auto chunksize: 8 chunks of 12,500 results, each ~60 KiB encoded (over the ring's
        // 16 KiB, so they come through the channel), and an 800 KiB result `Vec` per map.
        for _ in 0..5 {
            assert_eq!(pool.map(square, 0..N).unwrap().len() as u64, N);
        }
        let before = minor_faults(POOL_THREADS);
        assert!(!before.is_empty(), "no result thread found");
        for _ in 0..MAPS {
            assert_eq!(pool.map(square, 0..N).unwrap().len() as u64, N);
        }
        let after = minor_faults(POOL_THREADS);
        let tids =
            |threads: &[(String, u64)]| threads.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
        assert_eq!(tids(&before), tids(&after), "the pool's threads changed");
        let total = |threads: &[(String, u64)]| threads.iter().map(|t| t.1).sum::<u64>();
        let faults = total(&after) - total(&before);
        println!("result thread: {faults} minor faults over {MAPS} maps of {N} tasks");
        // Re-faulting one chunk's message costs ~15 faults, so 8 chunks ~120 per map.
        assert!(
            faults < MAPS * 4,
            "the result thread faulted {faults} times over {MAPS} maps: it gives memory back \
             to the kernel and faults it in again for each result"
        );
        pool.close();
        pool.join().unwrap();
    });
}
