//! N producer and M consumer processes move 100,000 items through one bounded `Queue`;
//! the consumers' checksum must equal the producers'.
use std::time::Instant;

use multiproc::Process;
use multiproc::channel::{Queue, QueueError};

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 3;
const ITEMS: u64 = 100_000;

/// Puts its share of the items and returns their checksum.
fn producer(queue: Queue<(u64, String)>, id: u64) -> u64 {
    let mut checksum = 0u64;
    for i in (id..ITEMS).step_by(PRODUCERS as usize) {
        let item = (i, format!("item-{i}"));
        checksum = checksum.wrapping_add(i.wrapping_mul(31).wrapping_add(item.1.len() as u64));
        queue.put(item).unwrap();
    }
    checksum
}

/// Takes items until the queue is closed and drained; returns (count, checksum).
fn consumer(queue: Queue<(u64, String)>) -> (u64, u64) {
    let (mut count, mut checksum) = (0u64, 0u64);
    loop {
        match queue.get() {
            Ok((i, text)) => {
                count += 1;
                checksum =
                    checksum.wrapping_add(i.wrapping_mul(31).wrapping_add(text.len() as u64));
            }
            Err(QueueError::Closed) => return (count, checksum),
            Err(err) => panic!("consumer: {err}"),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = Queue::<(u64, String)>::bounded(1000)?;
    let started = Instant::now();
    let mut consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| Process::new(consumer, (queue.clone(),)))
        .collect();
    let mut producers: Vec<_> = (0..PRODUCERS)
        .map(|id| Process::new(producer, (queue.clone(), id)))
        .collect();
    for c in &mut consumers {
        c.start()?;
    }
    for p in &mut producers {
        p.start()?;
    }
    let mut produced = 0u64;
    for p in &mut producers {
        produced = produced.wrapping_add(p.join()?);
    }
    // Every item is in shared memory once its producer has returned: close, and the
    // consumers stop when they have drained the queue.
    queue.close();
    let (mut count, mut consumed) = (0u64, 0u64);
    for c in &mut consumers {
        let (n, sum) = c.join()?;
        count += n;
        consumed = consumed.wrapping_add(sum);
    }
    let elapsed = started.elapsed();
    println!("producers' checksum: {produced}");
    println!("consumers' checksum: {consumed}");
    println!(
        "{count} items through one bounded queue by {PRODUCERS} producers and {CONSUMERS} consumers in {elapsed:.2?}"
    );
    if produced == consumed && count == ITEMS {
        println!("checksums match");
        Ok(())
    } else {
        Err("checksums differ".into())
    }
}
