//! Booking a worker's answers in: each result leaves the worker's in-flight list.

use std::time::{Duration, Instant};

use crate::chunk::Chunk;
use crate::error::TaskError;
use crate::wire::{Bytes, FromWorker, RingRead, read_ring};

use super::state::Worker;

/// What the pool hands back for a chunk: its output, or why there is none.
pub(super) type Outcome = Result<Vec<u8>, TaskError>;

/// Books a worker's answer for chunk `id`: the chunk leaves its in-flight list and the
/// running average of chunk times is updated. `None` for a chunk it does not have.
pub(super) fn book(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    id: u64,
    output: Result<Bytes, String>,
) -> Option<(Chunk, Outcome)> {
    let Some(index) = worker.in_flight.iter().position(|c| c.id == id) else {
        log::error!("pool worker {} answered an unknown chunk", worker.pid);
        return None;
    };
    let chunk = worker.in_flight.remove(index).expect("index is in range");
    worker.in_flight_bytes -= chunk.input.0.len();
    let now = Instant::now();
    let took = now.saturating_duration_since(worker.head_since);
    if index == 0 {
        worker.head_since = now;
    }
    *chunk_time = Some(match *chunk_time {
        None => took,
        Some(avg) => (avg * 7 + took) / 8,
    });
    let outcome = output
        .map(|bytes| bytes.0)
        .map_err(|detail| TaskError::Transfer { detail });
    Some((chunk, outcome))
}

/// Books every result waiting in a worker's ring. Items that are there (`qsize` counts only
/// whole ones) are waited for up to `patience` each, which lets a lock held by a dead
/// worker be taken over; a live worker holds it only for a copy.
pub(super) fn drain_ring(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    patience: Duration,
) -> Vec<(Chunk, Outcome)> {
    let mut booked = Vec::new();
    loop {
        let wait = if worker.ring.qsize() > 0 {
            patience
        } else {
            Duration::ZERO
        };
        match read_ring(&worker.ring, wait) {
            RingRead::Message(FromWorker::Done { id, output }) => {
                booked.extend(book(worker, chunk_time, id, output))
            }
            RingRead::Message(_) => {}
            RingRead::Empty => break,
            RingRead::Corrupt(e) => {
                log::error!("pool worker {}: {e}", worker.pid);
                break;
            }
        }
    }
    booked
}
