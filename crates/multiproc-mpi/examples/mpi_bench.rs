//! The MPI pool's benchmark, run by `bench/run.sh` beside mpi4py.futures and a raw MPI
//! ping-pong. Under `mpirun -n N`:
//!
//! ```sh
//! # map of TASKS trivial tasks at auto chunksize and at chunksize 1, then TRIPS single
//! # submit round trips; REPS repetitions of each map; `isolated` or `in-rank`:
//! mpirun -n 4 target/release/examples/mpi_bench pool isolated REPS TASKS TASKS_C1 TRIPS
//! # an 8-byte MPI Send/Recv ping-pong between ranks 0 and 1, TRIPS times:
//! mpirun -n 4 target/release/examples/mpi_bench pingpong TRIPS
//! ```
//!
//! Rank 0 prints one line per figure: `RESULT<TAB>name<TAB>median<TAB>min<TAB>max<TAB>unit`.
use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use mpi::traits::*;
use multiproc_mpi::MpiPool;

/// The trivial task.
fn identity(x: u64) -> u64 {
    black_box(x)
}

fn arg(args: &[String], index: usize, default: usize) -> Result<usize, Box<dyn Error>> {
    match args.get(index) {
        Some(text) => Ok(text.parse()?),
        None => Ok(default),
    }
}

/// Prints the median, the least and the greatest of `samples`.
fn report(name: &str, samples: &mut [f64], unit: &str) {
    samples.sort_by(f64::total_cmp);
    let (Some(min), Some(max)) = (samples.first(), samples.last()) else {
        return;
    };
    let median = samples[samples.len() / 2];
    println!("RESULT\t{name}\t{median:.3}\t{min:.3}\t{max:.3}\t{unit}");
}

fn micros(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e6
}

fn pool(args: &[String]) -> Result<(), Box<dyn Error>> {
    let mode = args.get(2).map(String::as_str).unwrap_or("isolated");
    let reps = arg(args, 3, 5)?.max(1);
    let tasks = arg(args, 4, 100_000)?;
    let tasks_c1 = arg(args, 5, 100_000)?;
    let trips = arg(args, 6, 1000)?.max(1);
    let window = arg(args, 7, 8)?.max(1);
    let mut builder = MpiPool::builder().window(window);
    if mode == "in-rank" {
        builder = builder.in_rank();
    }
    let auto = builder.clone().build()?;
    let one = builder.chunksize(1).build()?;
    // Warm up: every rank's local pool starts, pages are touched.
    auto.map(identity, 0..10_000u64)?;
    one.map(identity, 0..1_000u64)?;

    let mut rates = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let results = auto.map(identity, 0..tasks as u64)?;
        rates.push(results.len() as f64 / start.elapsed().as_secs_f64());
    }
    report("map auto", &mut rates, "tasks/s");

    let mut rates = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let results = one.map(identity, 0..tasks_c1 as u64)?;
        rates.push(results.len() as f64 / start.elapsed().as_secs_f64());
    }
    report("map chunksize 1", &mut rates, "tasks/s");

    let mut times = Vec::with_capacity(trips);
    for i in 0..trips {
        let start = Instant::now();
        let value = auto.submit(identity, (i as u64,))?.get()?;
        times.push(micros(start.elapsed()));
        assert_eq!(value, i as u64);
    }
    report("submit round trip", &mut times, "us");
    Ok(())
}

fn pingpong(args: &[String]) -> Result<(), Box<dyn Error>> {
    let trips = arg(args, 2, 10_000)?.max(1);
    let universe = mpi::initialize().ok_or("MPI is already initialized")?;
    let world = universe.world();
    if world.size() < 2 {
        return Err("the ping-pong needs two ranks".into());
    }
    let warmup = trips / 10;
    let mut message = [0u8; 8];
    match world.rank() {
        0 => {
            let peer = world.process_at_rank(1);
            let mut times = Vec::with_capacity(trips);
            for i in 0..warmup + trips {
                let start = Instant::now();
                peer.send(&message[..]);
                peer.receive_into(&mut message[..]);
                if i >= warmup {
                    times.push(micros(start.elapsed()));
                }
            }
            report("ping-pong 8 B", &mut times, "us");
        }
        1 => {
            let peer = world.process_at_rank(0);
            for _ in 0..warmup + trips {
                peer.receive_into(&mut message[..]);
                peer.send(&message[..]);
            }
        }
        _ => {}
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("pool") => pool(&args),
        Some("pingpong") => pingpong(&args),
        _ => Err(
            "usage: mpi_bench pool MODE REPS TASKS TASKS_C1 TRIPS [WINDOW] | pingpong TRIPS".into(),
        ),
    }
}
