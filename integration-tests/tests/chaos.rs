//! Chaos: a pipeline of a `Pool`, a `Queue` and shared `Value`s processes 20,000 items while a
//! chaos thread SIGKILLs random workers. Every input is accounted for exactly once — a result,
//! or an error naming the worker's death — the shared counters agree with the results, nothing
//! hangs, and afterwards no child process, descriptor, shared-memory file or bootstrap socket is left behind.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use multiproc::pool::PoolError;
use multiproc::process::ExitReason;
use multiproc::{Pool, Process, Queue, StartMethod, Value};
use multiproc_test_support::{child_pids, fd_count, send_signal, watchdog};

const ITEMS: u64 = 20_000;

/// Stage 1, in pool workers: a little CPU work, then the item's "result".
fn transform(x: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_micros(60);
    let mut acc = x;
    while Instant::now() < deadline {
        acc = acc.rotate_left(5) ^ 0x9e37_79b9;
    }
    std::hint::black_box(acc);
    x * 3 + 1
}

/// Stage 2, in consumer processes: add every result to the shared totals.
fn consume(results: Queue<u64>, sum: Value<u64>, count: Value<u64>) {
    while let Ok(value) = results.get() {
        *sum.lock().unwrap() += value;
        count.fetch_add(1);
    }
}

fn dev_shm() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The bootstrap sockets in the temp directory: ipc-channel's one-shot servers make a
/// `.tmpXXXXXX/socket` there for each spawn and remove it after the child connects. (Other
/// programs' temp files are none of this test's business.)
fn bootstrap_sockets() -> BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name().to_string_lossy().starts_with(".tmp")
                        && e.path().join("socket").exists()
                })
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn run_chaos(method: StartMethod) {
    let results = Queue::<u64>::bounded(1024).unwrap();
    let sum = Value::<u64>::new(0).unwrap();
    let count = Value::<u64>::new(0).unwrap();
    let mut consumers: Vec<_> = (0..2)
        .map(|_| {
            let mut p = Process::new(consume, (results.clone(), sum.clone(), count.clone()));
            p.start().unwrap();
            p
        })
        .collect();

    let pool = Arc::new(
        Pool::builder()
            .processes(2)
            .start_method(method)
            .build()
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let chaos = {
        let (pool, stop, kills) = (pool.clone(), stop.clone(), kills.clone());
        std::thread::spawn(move || {
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            while !stop.load(Ordering::Relaxed) {
                // Pace the chaos: one kill every 20 ms.
                std::thread::sleep(Duration::from_millis(20));
                let pids = pool.worker_pids();
                if pids.is_empty() {
                    continue;
                }
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                send_signal(pids[(seed % pids.len() as u64) as usize], libc::SIGKILL);
                kills.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let mut ok = 0u64;
    let mut died = 0u64;
    let mut expected_sum = 0u64;
    let mut seen = 0u64;
    for (index, result) in pool.chunksize(1).imap(transform, 0..ITEMS).enumerate() {
        seen += 1;
        match result {
            Ok(value) => {
                assert_eq!(
                    value,
                    index as u64 * 3 + 1,
                    "{method}: result of item {index}"
                );
                expected_sum += value;
                ok += 1;
                results.put(value).unwrap();
            }
            Err(PoolError::WorkerDied { status, .. }) => {
                assert_eq!(
                    status,
                    Some(ExitReason::Signal(libc::SIGKILL)),
                    "{method}: item {index}"
                );
                died += 1;
            }
            Err(other) => panic!("{method}: item {index} failed with {other}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    chaos.join().unwrap();
    results.close();
    for consumer in &mut consumers {
        consumer.join().unwrap();
    }
    match Arc::try_unwrap(pool) {
        Ok(pool) => drop(pool),
        Err(_) => panic!("the chaos thread still holds the pool"),
    }

    let kills = kills.load(Ordering::Relaxed);
    assert_eq!(
        seen, ITEMS,
        "{method}: every input yields exactly one outcome"
    );
    assert_eq!(ok + died, ITEMS);
    assert!(kills > 0, "{method}: the chaos thread never struck");
    assert!(
        died <= kills as u64,
        "{method}: {died} deaths reported for {kills} kills"
    );
    assert_eq!(count.get(), ok, "{method}: the consumers' count disagrees");
    assert_eq!(
        sum.get(),
        expected_sum,
        "{method}: the consumers' sum disagrees"
    );
    eprintln!("{method}: {ok} results, {died} worker deaths reported, {kills} kills");
}

#[test]
fn chaos_pipeline_accounts_for_every_item() {
    watchdog(Duration::from_secs(170), "the chaos pipeline", || {
        let shm_before = dev_shm();
        let temp_before = bootstrap_sockets();
        // Warm the fork server and the lazily created state so the descriptor count is fair.
        let mut warm = Process::new(transform, (1,));
        warm.start().unwrap();
        warm.join().unwrap();
        let fds_before = fd_count();

        for method in StartMethod::ALL {
            run_chaos(method);
        }

        let forkserver = multiproc::process::forkserver_pid();
        let left: Vec<u32> = child_pids()
            .into_iter()
            .filter(|&pid| Some(pid) != forkserver)
            .collect();
        assert_eq!(left, Vec::<u32>::new(), "child processes left behind");
        assert_eq!(fd_count(), fds_before, "descriptors leaked");
        // Only entries that appeared during the test are ours: other programs on the machine
        // may create and remove their own meanwhile.
        let new_shm: Vec<String> = dev_shm().difference(&shm_before).cloned().collect();
        assert_eq!(new_shm, Vec::<String>::new(), "files left in /dev/shm");
        let new_sockets: Vec<String> = bootstrap_sockets()
            .difference(&temp_before)
            .cloned()
            .collect();
        assert_eq!(
            new_sockets,
            Vec::<String>::new(),
            "bootstrap sockets left in the temp directory"
        );
    });
}
