//! Booking a worker's answers in: each result leaves the worker's in-flight list. What a
//! worker sends is checked here before it is believed: an answer must name a chunk that the
//! pool sent to that very worker and that it has not answered yet.

use std::time::{Duration, Instant};

use crate::chunk::{Chunk, Outcome, Output};
use crate::error::TaskError;
use crate::wire::{Bytes, Corrupt, FromWorker, RingRead, read_ring};

use super::state::Worker;

/// Books a worker's answer for chunk `id`: the chunk leaves its in-flight list and the
/// running average of chunk times is updated. An answer for a chunk the worker does not have
/// means its results are out of step: [`Corrupt`].
pub(super) fn book(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    id: u64,
    output: Result<Bytes, String>,
) -> Result<(Chunk, Outcome), Corrupt> {
    let found = worker.in_flight.iter().position(|c| c.id == id);
    let Some((index, chunk)) = found.and_then(|i| Some((i, worker.in_flight.remove(i)?))) else {
        return Err(Corrupt(format!(
            "an answer for chunk {id}, which it was not running"
        )));
    };
    worker.in_flight_bytes = worker.in_flight_bytes.saturating_sub(chunk.input.0.len());
    let now = Instant::now();
    let took = now.saturating_duration_since(worker.head_since);
    if index == 0 {
        worker.head_since = now;
    }
    *chunk_time = Some(match *chunk_time {
        None => took,
        Some(avg) => avg.saturating_mul(7).saturating_add(took) / 8,
    });
    let pid = worker.pid;
    let outcome = output
        .map(|bytes| Output {
            bytes: bytes.0,
            worker: pid,
        })
        .map_err(|detail| TaskError::Transfer { detail });
    Ok((chunk, outcome))
}

/// Books a message that arrived from a worker (through its ring or its channel). A message
/// that makes no sense marks the worker corrupt (see [`Worker::corrupt`]).
pub(super) fn receive(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    message: FromWorker,
) -> Option<(Chunk, Outcome)> {
    match message {
        FromWorker::Done { id, output } => match book(worker, chunk_time, id, output) {
            Ok(booked) => Some(booked),
            Err(corrupt) => {
                worker.mark_corrupt(corrupt);
                None
            }
        },
        FromWorker::Ready => None,
        FromWorker::InitFailed(panic) => {
            log::error!(
                "the pool initializer panicked in worker {}: {panic}",
                worker.pid
            );
            worker.init_failed = Some(panic);
            None
        }
    }
}

/// Books every result waiting in a worker's ring. Items that are there (`qsize` counts only
/// whole ones) are waited for up to `patience` each, which lets a lock held by a dead
/// worker be taken over; a live worker holds it only for a copy. A corrupt ring marks the
/// worker corrupt, and is not read again.
pub(super) fn drain_ring(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    patience: Duration,
) -> Vec<(Chunk, Outcome)> {
    let mut booked = Vec::new();
    while worker.corrupt.is_none() {
        let wait = if worker.ring.qsize() > 0 {
            patience
        } else {
            Duration::ZERO
        };
        match read_ring(&worker.ring, wait) {
            RingRead::Message(message) => booked.extend(receive(worker, chunk_time, message)),
            RingRead::Empty => break,
            RingRead::Corrupt(corrupt) => worker.mark_corrupt(corrupt),
        }
    }
    booked
}
