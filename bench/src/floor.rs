//! The raw OS floor: the least any implementation of a scenario could cost on this
//! machine, written directly on system calls (and rayon for the pool, as the in-process
//! limit). Each function has the signature of a scenario implementation.

use std::ffi::CString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};
use crate::sys;
use crate::work;

/// The environment variable that makes this binary act as a raw re-exec child.
pub(crate) const REEXEC_MARKER: &str = "MULTIPROC_BENCH_REEXEC";

/// Handles a raw re-exec of this binary, first thing in `main`: `exit` leaves at once,
/// `rss` and `pss` print the resident or proportional set size of a fresh process of this
/// binary.
pub(crate) fn reexec_child(mode: &str) -> ! {
    match mode {
        "rss" => println!("{}", work::self_rss_bytes()),
        "pss" => println!("{}", work::self_pss_bytes()),
        _ => {}
    }
    std::process::exit(0)
}

/// `fork` + `_exit(0)` + `waitpid`, `n` times per sample.
pub(crate) fn fork_waitpid(params: &Params) -> Outcome {
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            let pid = sys::fork_single_threaded(|| Ok(()))?;
            sys::wait_success(pid)?;
        }
        Ok(())
    })
    .into()
}

/// `std::process::Command` on `/proc/self/exe` with the re-exec marker, waited for, `n`
/// times per sample.
pub(crate) fn reexec(params: &Params) -> Outcome {
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            let status = Command::new("/proc/self/exe")
                .env(REEXEC_MARKER, "exit")
                .stdin(Stdio::null())
                .status()?;
            ensure(status.success(), || format!("re-exec child: {status}"))?;
        }
        Ok(())
    })
    .into()
}

/// The value of a start gate that lets the children run (see [`two_children_together`]).
pub(crate) const GATE_OPEN: u64 = 100;

/// Runs `work` in two forked children that start together, so the two really contend:
/// each child adds 1 to a shared gate and waits until the parent opens it; the parent
/// waits for both, opens the gate and starts the clock. A sample is the time from the
/// opening to both children's exit; `check` runs after each sample.
fn two_children_together(
    params: &Params,
    work: impl Fn() + Copy,
    mut check: impl FnMut() -> Result<(), BoxError>,
) -> Result<Vec<f64>, BoxError> {
    use std::sync::atomic::Ordering;
    let mut samples = Vec::with_capacity(params.repeats);
    for _ in 0..params.repeats {
        let gate = sys::SharedAtomic::new()?;
        let child = || {
            gate.get().fetch_add(1, Ordering::AcqRel);
            while gate.get().load(Ordering::Acquire) < GATE_OPEN {
                std::hint::spin_loop();
            }
            work();
            Ok(())
        };
        let first = sys::fork_single_threaded(child)?;
        let second = sys::fork_single_threaded(child)?;
        while gate.get().load(Ordering::Acquire) < 2 {
            std::thread::yield_now();
        }
        let start = Instant::now();
        gate.get().store(GATE_OPEN, Ordering::Release);
        sys::wait_success(first)?;
        sys::wait_success(second)?;
        samples.push(start.elapsed().as_secs_f64());
        check()?;
    }
    Ok(samples)
}

/// Two forked processes, started together, each take a process-shared pthread mutex
/// `n / 2` times and increment a counter under it.
pub(crate) fn pthread_mutex_increments(params: &Params) -> Outcome {
    (|| {
        let shared = sys::SharedMutexCounter::new()?;
        let per_process = params.n / 2;
        let mut expected = 0;
        two_children_together(
            params,
            || {
                for _ in 0..per_process {
                    shared.increment_locked();
                }
            },
            || {
                expected += 2 * per_process;
                let total = shared.value();
                ensure(total == expected, || format!("counter {total}"))?;
                Ok(())
            },
        )
    })()
    .into()
}

/// Lock and unlock of an uncontended process-shared pthread mutex, `n` times.
pub(crate) fn pthread_mutex_uncontended(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let shared = sys::SharedMutexCounter::new()?;
        time_repeats(params, || -> Result<(), BoxError> {
            for _ in 0..params.n {
                shared.lock_unlock();
            }
            Ok(())
        })
    })()
    .into()
}

/// Two forked processes, started together, each `fetch_add(1)` `n / 2` times on one
/// atomic in shared memory.
pub(crate) fn atomic_fetch_add(params: &Params) -> Outcome {
    use std::sync::atomic::Ordering;
    (|| {
        let shared = sys::SharedAtomic::new()?;
        let per_process = params.n / 2;
        let mut expected = 0;
        two_children_together(
            params,
            || {
                for _ in 0..per_process {
                    shared.get().fetch_add(1, Ordering::AcqRel);
                }
            },
            || {
                expected += 2 * per_process;
                let total = shared.get().load(Ordering::Acquire);
                ensure(total == expected, || format!("counter {total}"))?;
                Ok(())
            },
        )
    })()
    .into()
}

/// Fills a private, already-touched `Vec<f64>` of `n` elements with `0, 1, 2, ...` and
/// sums it.
pub(crate) fn vec_fill_sum(params: &Params) -> Outcome {
    let mut values = vec![0.0f64; params.n as usize];
    fill_and_sum(&mut values); // touch every page before timing
    time_repeats(params, || -> Result<(), BoxError> {
        let sum = fill_and_sum(&mut values);
        let n = params.n as f64;
        ensure(sum == n * (n - 1.0) / 2.0, || format!("sum {sum}"))?;
        Ok(())
    })
    .into()
}

/// The fill-and-sum body shared by the floor and our `Array` scenario.
pub(crate) fn fill_and_sum(values: &mut [f64]) -> f64 {
    for (i, value) in values.iter_mut().enumerate() {
        *value = i as f64;
    }
    std::hint::black_box(&mut *values);
    values.iter().sum()
}

/// `shm_open`/`ftruncate`/`mmap` (create), `shm_open`/`mmap` (attach), `munmap` and
/// `close` of both, `shm_unlink`, on 4 KiB, `n` times.
pub(crate) fn posix_shm_cycle(params: &Params) -> Outcome {
    let mut counter = 0u64;
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            counter += 1;
            let name = CString::new(format!("/mpbench-{}-{counter}", std::process::id()))?;
            sys::shm_cycle(&name, 4096)?;
        }
        Ok(())
    })
    .into()
}

/// A forked child writes `n` 8-byte messages, one `write` each, into a stream socket; the
/// parent reads them one `read` each.
pub(crate) fn socket_small_messages(params: &Params) -> Outcome {
    time_repeats(params, || -> Result<(), BoxError> {
        let (mut reader, mut writer) = sys::stream_socketpair()?;
        let n = params.n;
        let child = sys::fork_single_threaded(|| {
            for i in 0..n {
                writer.write_all(&i.to_le_bytes())?;
            }
            Ok(())
        })?;
        drop(writer);
        let mut message = [0u8; 8];
        let mut checksum = 0u64;
        for _ in 0..n {
            reader.read_exact(&mut message)?;
            checksum = checksum.wrapping_add(u64::from_le_bytes(message));
        }
        sys::wait_success(child)?;
        ensure(checksum == n * (n - 1) / 2, || {
            format!("checksum {checksum}")
        })?;
        Ok(())
    })
    .into()
}

/// A forked child writes `n` messages of 1 MiB into a stream socket; the parent reads them.
pub(crate) fn socket_1mib_messages(params: &Params) -> Outcome {
    socket_messages::<{ 1 << 20 }>(params)
}

/// A forked child writes `n` messages of `SIZE` bytes into a stream socket, one
/// `write_all` each; the parent reads each with `read_exact` into one buffer.
pub(crate) fn socket_messages<const SIZE: usize>(params: &Params) -> Outcome {
    let payload = vec![7u8; SIZE];
    let mut received = vec![0u8; SIZE];
    time_repeats(params, || -> Result<(), BoxError> {
        let (mut reader, mut writer) = sys::stream_socketpair()?;
        let n = params.n;
        let child = sys::fork_single_threaded(|| {
            for _ in 0..n {
                writer.write_all(&payload)?;
            }
            Ok(())
        })?;
        drop(writer);
        for _ in 0..n {
            reader.read_exact(&mut received)?;
        }
        sys::wait_success(child)?;
        ensure(received[SIZE - 1] == 7, || "payload corrupted".into())?;
        Ok(())
    })
    .into()
}

/// A forked child pushes `n` items of 4 KiB (each a fresh `Vec`, as a user's code makes
/// them) through a one-producer, one-consumer ring of 256 slots in `MAP_SHARED` memory,
/// with no lock and no wake-up (both sides spin); the parent pops each into a fresh `Vec`.
/// The floor for moving items through shared memory between two processes, which a queue
/// for many producers and consumers, with blocking, can only approach.
pub(crate) fn shared_slots_4k(params: &Params) -> Outcome {
    const SIZE: usize = 4096;
    time_repeats(params, || -> Result<(), BoxError> {
        let ring = sys::SharedSlots::new(SIZE, 256)?;
        let n = params.n;
        let child = sys::fork_single_threaded(|| {
            let mut producer = ring
                .producer()
                .ok_or_else(|| std::io::Error::other("the producer was taken"))?;
            for i in 0..n {
                let item = vec![i as u8; SIZE];
                producer.push(&item);
            }
            Ok(())
        })?;
        let mut consumer = ring.consumer().ok_or("the consumer was taken")?;
        let mut last = Vec::new();
        for _ in 0..n {
            last = consumer.pop(SIZE);
        }
        sys::wait_success(child)?;
        let expected = (n - 1) as u8;
        ensure(last.len() == SIZE && last[SIZE - 1] == expected, || {
            "payload corrupted".into()
        })?;
        Ok(())
    })
    .into()
}

/// A fresh `memfd` of `n` `f64`s mapped shared in the parent; a forked child fills it with
/// `0, 1, 2, ...` (every page faulted in by the child) and exits; the parent checks the
/// last value. A sample runs from the mapping to the child's exit.
pub(crate) fn memfd_fill_by_child(params: &Params) -> Outcome {
    let n = params.n as usize;
    time_repeats(params, || -> Result<(), BoxError> {
        let mut values = sys::MemfdF64s::new(n)?;
        let child = sys::fork_single_threaded(|| {
            for (i, value) in values.as_mut_slice().iter_mut().enumerate() {
                *value = i as f64;
            }
            Ok(())
        })?;
        sys::wait_success(child)?;
        let last = values.as_mut_slice()[n - 1];
        ensure(last == (n - 1) as f64, || format!("last value {last}"))?;
        Ok(())
    })
    .into()
}

/// Round trips of an 8-byte message between the parent and a forked child over two pipes;
/// a sample times `n` round trips after a warm-up.
pub(crate) fn pipe_ping_pong(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let (mut to_child_read, mut to_child) = sys::pipe()?;
        let (mut from_child, mut from_child_write) = sys::pipe()?;
        let pinning = params.pinning;
        let child = sys::fork_single_threaded(|| {
            pinning.child_setup()?;
            let mut message = [0u8; 8];
            loop {
                to_child_read.read_exact(&mut message)?;
                if u64::from_le_bytes(message) == u64::MAX {
                    return Ok(());
                }
                from_child_write.write_all(&message)?;
            }
        })?;
        let mut round_trip = |value: u64| -> std::io::Result<()> {
            to_child.write_all(&value.to_le_bytes())?;
            let mut message = [0u8; 8];
            from_child.read_exact(&mut message)?;
            ensure(u64::from_le_bytes(message) == value, || "wrong echo".into())
        };
        for i in 0..100 {
            round_trip(i)?;
        }
        let samples = time_repeats(params, || {
            for i in 0..params.n {
                round_trip(i)?;
            }
            Ok::<(), std::io::Error>(())
        })?;
        to_child.write_all(&u64::MAX.to_le_bytes())?;
        sys::wait_success(child)?;
        Ok(samples)
    })()
    .into()
}

/// A rayon pool of two threads, the in-process counterpart of a pool of two workers.
fn rayon_pool() -> Result<rayon::ThreadPool, BoxError> {
    Ok(rayon::ThreadPoolBuilder::new().num_threads(2).build()?)
}

/// `par_iter().map(square)` over `0..n` on two threads, rayon choosing the splits.
pub(crate) fn rayon_map(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let pool = rayon_pool()?;
        time_repeats(params, || -> Result<(), BoxError> {
            let squares: Vec<u64> =
                pool.install(|| (0..params.n).into_par_iter().map(work::square).collect());
            ensure(squares.len() as u64 == params.n, || "lost results".into())?;
            Ok(())
        })
    })()
    .into()
}

/// As [`rayon_map`], split into single-item jobs (`with_max_len(1)`), like chunksize=1.
pub(crate) fn rayon_map_chunk1(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let pool = rayon_pool()?;
        time_repeats(params, || -> Result<(), BoxError> {
            let squares: Vec<u64> = pool.install(|| {
                // A u64 range is not an indexed parallel iterator; the inputs fit in u32.
                let inputs = 0..u32::try_from(params.n).unwrap_or(u32::MAX);
                inputs
                    .into_par_iter()
                    .with_max_len(1)
                    .map(|x| work::square(x.into()))
                    .collect()
            });
            ensure(squares.len() as u64 == params.n, || "lost results".into())?;
            Ok(())
        })
    })()
    .into()
}

/// Speed-up of `n` tasks of ~10 ms on a rayon pool of two threads over running them one
/// after another; a sample is the speed-up itself.
pub(crate) fn rayon_cpu_bound(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let pool = rayon_pool()?;
        let iterations = work::calibrate_busy(Duration::from_millis(10));
        let tasks = vec![iterations; params.n as usize];
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            // Sequential runs before and after the parallel one, averaged: the speed of this
            // VM's CPUs drifts, and one sequential run would carry that drift into the ratio.
            let (sequential, before) = work::sequential_busy(&tasks);
            let start = Instant::now();
            let parallel: Vec<u64> = pool.install(|| {
                tasks
                    .par_iter()
                    .with_max_len(1)
                    .map(|&k| work::busy(k))
                    .collect()
            });
            let parallel_time = start.elapsed().as_secs_f64();
            let (_, after) = work::sequential_busy(&tasks);
            let sequential_time = (before + after) / 2.0;
            ensure(sequential == parallel, || "results differ".into())?;
            samples.push(sequential_time / parallel_time);
        }
        Ok(samples)
    })()
    .into()
}

/// Build a rayon pool of two threads, map two trivial items on it, drop it; `n` times.
pub(crate) fn rayon_pool_create(params: &Params) -> Outcome {
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            let pool = rayon_pool()?;
            let squares: Vec<u64> =
                pool.install(|| (0..2u64).into_par_iter().map(work::square).collect());
            ensure(squares == [0, 1], || "wrong squares".into())?;
        }
        Ok(())
    })
    .into()
}

/// The resident set size of a fresh, idle process of this binary (re-exec'd, reporting at
/// the top of `main`); a sample is bytes.
pub(crate) fn idle_process_rss(params: &Params) -> Outcome {
    idle_process_memory(params, "rss")
}

/// As [`idle_process_rss`], the proportional set size.
pub(crate) fn idle_process_pss(params: &Params) -> Outcome {
    idle_process_memory(params, "pss")
}

fn idle_process_memory(params: &Params, mode: &str) -> Outcome {
    let mut samples = Vec::with_capacity(params.repeats);
    for _ in 0..params.repeats {
        let output = match Command::new("/proc/self/exe")
            .env(REEXEC_MARKER, mode)
            .stdin(Stdio::null())
            .output()
        {
            Ok(output) => output,
            Err(err) => return Outcome::Failed(err.to_string()),
        };
        match String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse::<f64>()
        {
            Ok(bytes) => samples.push(bytes),
            Err(err) => return Outcome::Failed(format!("{mode} child: {err}")),
        }
    }
    Outcome::Samples(samples)
}
