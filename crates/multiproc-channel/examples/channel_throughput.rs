//! Throughput and latency figures beside the raw floor measured in the same run: one
//! producer process, one consumer (forked), each scenario repeated; prints the median and
//! min–max of the runs.
//!
//! `cargo run --release -p multiproc-channel --example channel_throughput [-- FILTER [RUNS]]`
//!
//! `FILTER` keeps the scenarios whose name contains it (`all` for every one); `RUNS`
//! defaults to 5.
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use multiproc_channel::{Pipe, Queue};
use multiproc_test_support::Child;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const SMALL: u64 = 100_000;
const BIG: usize = 200;
const MIB: usize = 1 << 20;
const ROUND_TRIPS: u64 = 20_000;

/// Forks a producer or echo process that runs `body` and leaves with `_exit`. The example
/// has one thread when it forks, so the child may run ordinary Rust code.
fn fork(body: impl FnOnce()) -> Child {
    multiproc_test_support::fork(body)
}

fn reap(child: Child) {
    assert_eq!(child.wait(), 0, "child failed");
}

/// Items per second.
fn queue_small_items() -> Result<f64> {
    let queue = Queue::<u64>::bounded(10_000)?;
    let start = Instant::now();
    let producer = fork({
        let queue = queue.clone();
        move || (0..SMALL).for_each(|i| queue.put(i).unwrap())
    });
    let mut sum = 0u64;
    for _ in 0..SMALL {
        sum += queue.get()?;
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    assert_eq!(sum, SMALL * (SMALL - 1) / 2);
    Ok(SMALL as f64 / secs)
}

/// Bytes per second, typed `Vec<u8>` items.
fn queue_mib_typed() -> Result<f64> {
    let queue = Queue::<Vec<u8>>::with_capacity(Some(4), 8 << 20)?;
    let item = vec![7u8; MIB];
    let start = Instant::now();
    let producer = fork({
        let queue = queue.clone();
        move || (0..BIG).for_each(|_| queue.put(item.clone()).unwrap())
    });
    for _ in 0..BIG {
        assert_eq!(queue.get()?.len(), MIB);
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Bytes per second, `put_bytes` / `get_bytes` (a fresh `Vec` per item, as CPython
/// returns a fresh `bytes`).
fn queue_mib_bytes() -> Result<f64> {
    let queue = Queue::<Vec<u8>>::with_capacity(Some(4), 8 << 20)?;
    let item = vec![7u8; MIB];
    let start = Instant::now();
    let producer = fork({
        let queue = queue.clone();
        move || (0..BIG).for_each(|_| queue.put_bytes(&item).unwrap())
    });
    for _ in 0..BIG {
        assert_eq!(queue.get_bytes()?.len(), MIB);
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Bytes per second, `send_bytes` / `recv_bytes`.
fn pipe_mib_recv_bytes() -> Result<f64> {
    let (reader, writer) = Pipe::<()>::new()?;
    let payload = vec![1u8; MIB];
    let start = Instant::now();
    let producer = fork(move || (0..BIG).for_each(|_| writer.send_bytes(&payload).unwrap()));
    for _ in 0..BIG {
        assert_eq!(reader.recv_bytes()?.len(), MIB);
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Bytes per second, `send_bytes` / `recv_bytes_into` one buffer.
fn pipe_mib_recv_into() -> Result<f64> {
    let (reader, writer) = Pipe::<()>::new()?;
    let payload = vec![1u8; MIB];
    let mut buffer = vec![0u8; MIB];
    let start = Instant::now();
    let producer = fork(move || (0..BIG).for_each(|_| writer.send_bytes(&payload).unwrap()));
    for _ in 0..BIG {
        assert_eq!(reader.recv_bytes_into(&mut buffer)?, MIB);
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Floor: a stream socketpair, 1 MiB writes, reads into one buffer.
fn raw_socketpair_mib() -> Result<f64> {
    let (mut reader, mut writer) = UnixStream::pair()?;
    let payload = vec![1u8; MIB];
    let mut buffer = vec![0u8; MIB];
    let start = Instant::now();
    let producer = fork(move || (0..BIG).for_each(|_| writer.write_all(&payload).unwrap()));
    for _ in 0..BIG {
        reader.read_exact(&mut buffer)?;
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Reference: ipc-channel's own bytes channel (what `Connection` is built on).
fn raw_ipc_bytes_mib() -> Result<f64> {
    let (sender, receiver) = ipc_channel::ipc::bytes_channel()?;
    let payload = vec![1u8; MIB];
    let start = Instant::now();
    let producer = fork(move || (0..BIG).for_each(|_| sender.send(&payload).unwrap()));
    for _ in 0..BIG {
        assert_eq!(receiver.recv()?.len(), MIB);
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    Ok((BIG * MIB) as f64 / secs)
}

/// Microseconds per round trip of a `u64` over a duplex `Pipe`.
fn pipe_round_trip() -> Result<f64> {
    let (ours, theirs) = Pipe::<u64>::duplex()?;
    let echo = fork(move || {
        while let Ok(message) = theirs.recv() {
            if message == u64::MAX || theirs.send(message).is_err() {
                break;
            }
        }
    });
    for i in 0..100 {
        ours.send(i)?;
        ours.recv()?;
    }
    let start = Instant::now();
    for i in 0..ROUND_TRIPS {
        ours.send(i)?;
        assert_eq!(ours.recv()?, i);
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / ROUND_TRIPS as f64;
    ours.send(u64::MAX)?;
    reap(echo);
    Ok(micros)
}

/// Floor: microseconds per round trip of 8 bytes over two pipe(2)s.
fn raw_pipe_round_trip() -> Result<f64> {
    let (mut there_r, mut there_w) = std::io::pipe()?;
    let (mut back_r, mut back_w) = std::io::pipe()?;
    let echo = fork(move || {
        let mut word = [0u8; 8];
        while there_r.read_exact(&mut word).is_ok() {
            if word == [0xff; 8] || back_w.write_all(&word).is_err() {
                break;
            }
        }
    });
    let mut word = [0u8; 8];
    for i in 0..100u64 {
        there_w.write_all(&i.to_le_bytes())?;
        back_r.read_exact(&mut word)?;
    }
    let start = Instant::now();
    for i in 0..ROUND_TRIPS {
        there_w.write_all(&i.to_le_bytes())?;
        back_r.read_exact(&mut word)?;
        assert_eq!(u64::from_le_bytes(word), i);
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / ROUND_TRIPS as f64;
    there_w.write_all(&[0xff; 8])?;
    reap(echo);
    Ok(micros)
}

type Scenario = (&'static str, &'static str, f64, fn() -> Result<f64>);

const SCENARIOS: &[Scenario] = &[
    ("queue_small_items", "M items/s", 1e6, queue_small_items),
    ("queue_mib_typed_vec", "GB/s", 1e9, queue_mib_typed),
    ("queue_mib_put_get_bytes", "GB/s", 1e9, queue_mib_bytes),
    ("pipe_mib_recv_bytes", "GB/s", 1e9, pipe_mib_recv_bytes),
    ("pipe_mib_recv_bytes_into", "GB/s", 1e9, pipe_mib_recv_into),
    (
        "floor_ipc_bytes_channel_mib",
        "GB/s",
        1e9,
        raw_ipc_bytes_mib,
    ),
    ("floor_socketpair_mib", "GB/s", 1e9, raw_socketpair_mib),
    ("pipe_round_trip", "µs", 1.0, pipe_round_trip),
    ("floor_pipe_round_trip", "µs", 1.0, raw_pipe_round_trip),
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let filter = args.next().unwrap_or_else(|| "all".into());
    let runs: usize = args.next().map_or(Ok(5), |n| n.parse())?;
    let loadavg = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("loadavg before: {}", loadavg().trim());
    for &(name, unit, scale, run) in SCENARIOS {
        if filter != "all" && !name.contains(&filter) {
            continue;
        }
        let mut figures = (0..runs)
            .map(|_| run().map(|value| value / scale))
            .collect::<Result<Vec<f64>>>()?;
        figures.sort_by(f64::total_cmp);
        println!(
            "{name:<28} median {:>8.3} {unit:<9} (min {:.3}, max {:.3}, {runs} runs)",
            figures[figures.len() / 2],
            figures[0],
            figures[figures.len() - 1],
        );
    }
    println!("loadavg after:  {}", loadavg().trim());
    Ok(())
}
