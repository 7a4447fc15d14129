//! Rough throughput figures: one producer process, one consumer (forked), one run.
//! `cargo run --release -p multiproc-channel --example channel_throughput`
use std::time::Instant;

use multiproc_channel::{Pipe, Queue};

fn fork(body: impl FnOnce()) -> libc::pid_t {
    // SAFETY: the child runs `body` and leaves with `_exit`, never returning into `main`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        body();
        // SAFETY: `_exit` never returns; the parent's destructors are not the child's.
        unsafe { libc::_exit(0) };
    }
    pid
}

fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

fn main() -> Result<(), multiproc_channel::Error> {
    const SMALL: u64 = 100_000;
    let queue = Queue::<u64>::bounded(10_000)?;
    let start = Instant::now();
    let producer = fork({
        let queue = queue.clone();
        move || (0..SMALL).for_each(|i| queue.put(i).unwrap())
    });
    for _ in 0..SMALL {
        queue.get()?;
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    println!(
        "Queue small items: {:.2} M items/s",
        SMALL as f64 / secs / 1e6
    );

    const BIG: usize = 200;
    let queue = Queue::<Vec<u8>>::with_capacity(Some(4), 8 << 20)?;
    let item = vec![7u8; 1 << 20];
    let start = Instant::now();
    let producer = fork({
        let queue = queue.clone();
        move || (0..BIG).for_each(|_| queue.put(item.clone()).unwrap())
    });
    for _ in 0..BIG {
        queue.get()?;
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    println!(
        "Queue 1 MiB items: {:.2} GB/s",
        (BIG << 20) as f64 / secs / 1e9
    );

    let (reader, writer) = Pipe::<()>::new()?;
    let payload = vec![1u8; 1 << 20];
    let start = Instant::now();
    let producer = fork(move || (0..BIG).for_each(|_| writer.send_bytes(&payload).unwrap()));
    for _ in 0..BIG {
        reader.recv_bytes()?;
    }
    let secs = start.elapsed().as_secs_f64();
    reap(producer);
    println!(
        "Pipe 1 MiB messages: {:.2} GB/s",
        (BIG << 20) as f64 / secs / 1e9
    );
    Ok(())
}
