//! Booking a worker's answers in: each result leaves the worker's in-flight list. What a
//! worker sends is checked here before it is believed: an answer must name a chunk that the
//! pool sent to that very worker and that it has not answered yet.

use std::time::{Duration, Instant};

use crate::chunk::{Chunk, Outcome, Output, Part};
use crate::error::PoolError;
use crate::wire::{Bytes, Corrupt, FromWorker, RingRead, read_ring};

use super::state::Worker;

/// What a worker's message delivers: a finished chunk, or the first results of a running one.
pub(super) enum Booked {
    Chunk(Chunk, Outcome),
    Part(Part),
}

impl Booked {
    /// Hands the results to their sink (outside the core lock: a callback may use the pool).
    pub(super) fn deliver(self) {
        match self {
            Booked::Chunk(chunk, outcome) => chunk.deliver(outcome),
            Booked::Part(part) => part.deliver(),
        }
    }
}

/// Books the first results of chunk `id`, still running: `output` must hold between one and
/// as many results as the chunk has tasks not delivered yet (its count is read here, before
/// anything is decoded, and the sink checks it again against the positions it gets).
pub(super) fn book_part(worker: &mut Worker, id: u64, output: Bytes) -> Result<Part, Corrupt> {
    let pid = worker.pid;
    let Some(chunk) = worker.in_flight.iter_mut().find(|c| c.id == id) else {
        return Err(Corrupt(format!(
            "results for chunk {id}, which it was not running"
        )));
    };
    let remaining = chunk.positions.count();
    let count = postcard::take_from_bytes::<usize>(&output.0)
        .ok()
        .map(|(count, _)| count)
        .filter(|&count| count >= 1 && count <= remaining);
    let Some(count) = count else {
        return Err(Corrupt(format!(
            "partial results for chunk {id} that do not fit its {remaining} tasks left"
        )));
    };
    Ok(chunk.take_front(
        count,
        Ok(Output {
            bytes: output.0,
            worker: pid,
        }),
    ))
}

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
    worker.forget_taken_back(chunk.seq);
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
        .map_err(|detail| PoolError::Transfer { detail });
    Ok((chunk, outcome))
}

/// Books a message that arrived from a worker (through its ring or its channel). A message
/// that makes no sense marks the worker corrupt (see [`Worker::corrupt`]).
pub(super) fn receive(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    message: FromWorker,
) -> Option<Booked> {
    let booked = match message {
        FromWorker::Done { id, output } => {
            book(worker, chunk_time, id, output).map(|(c, o)| Booked::Chunk(c, o))
        }
        FromWorker::Partial { id, output } => book_part(worker, id, output).map(Booked::Part),
        FromWorker::Ready => return None,
        FromWorker::InitFailed(panic) => {
            log::error!(
                "the pool initializer panicked in worker {}: {panic}",
                worker.pid
            );
            worker.init_failed = Some(panic);
            return None;
        }
    };
    match booked {
        Ok(booked) => Some(booked),
        Err(corrupt) => {
            worker.mark_corrupt(corrupt);
            None
        }
    }
}

/// Books every result waiting in a worker's ring. Items that are there (`is_empty` counts only
/// whole ones) are waited for up to `patience` each, which lets a lock held by a dead
/// worker be taken over; a live worker holds it only for a copy. A corrupt ring marks the
/// worker corrupt, and is not read again.
pub(super) fn drain_ring(
    worker: &mut Worker,
    chunk_time: &mut Option<Duration>,
    patience: Duration,
) -> Vec<Booked> {
    let mut booked = Vec::new();
    while worker.corrupt.is_none() {
        let wait = if !worker.ring.is_empty() {
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use multiproc_channel::Queue;
    use multiproc_process::{FunctionRef, PanicInfo, StartMethod, get_context};

    use super::*;
    use crate::chunk::{Positions, Sink};
    use crate::wire::task_channel;

    struct Nowhere;
    impl Sink for Nowhere {
        fn chunk_done(&self, _: &Positions, _: Outcome) {}
        fn task_failed(&self, _: usize, _: PoolError) {}
    }

    fn idle() {}

    /// A worker record (its process never started) with chunks 3 and 4 in flight.
    fn worker() -> Worker {
        let (tasks, _) = task_channel().unwrap();
        let func = FunctionRef::new::<_, ()>(idle);
        let chunk = |id| {
            let mut chunk = Chunk::new(
                func,
                Bytes(vec![0; 10]),
                Positions::default(),
                None,
                Arc::new(Nowhere),
                None,
            );
            chunk.id = id;
            chunk
        };
        Worker {
            process: get_context(StartMethod::Spawn).process(idle, ()),
            pid: 42,
            tasks,
            ring: Queue::with_capacity(None, 4096).unwrap(),
            set_id: None,
            in_flight: VecDeque::from([chunk(3), chunk(4)]),
            in_flight_bytes: 20,
            head_since: Instant::now(),
            sent: 2,
            next_seq: 2,
            taken_back: VecDeque::new(),
            timed_out: None,
            init_failed: None,
            corrupt: None,
        }
    }

    fn done(id: u64) -> FromWorker {
        FromWorker::Done {
            id,
            output: Ok(Bytes(vec![1])),
        }
    }

    #[test]
    fn answers_are_booked_once_and_only_for_chunks_in_flight() {
        let mut worker = worker();
        let mut chunk_time = None;
        // Out of order is fine (a large result may come by the channel after a small one).
        let Some(Booked::Chunk(chunk, outcome)) = receive(&mut worker, &mut chunk_time, done(4))
        else {
            panic!("chunk 4 is booked");
        };
        assert_eq!(chunk.id, 4);
        assert!(matches!(outcome, Ok(Output { worker: 42, .. })));
        chunk.fail(PoolError::Terminated);
        assert_eq!(worker.in_flight_bytes, 10);
        assert!(worker.corrupt.is_none());
        // A second answer for chunk 4 is out of step: the worker is no longer trusted.
        assert!(receive(&mut worker, &mut chunk_time, done(4)).is_none());
        let corrupt = worker.corrupt.clone().expect("marked corrupt");
        assert!(corrupt.0.contains("chunk 4"), "{corrupt}");
        assert_eq!(
            worker.in_flight.len(),
            1,
            "chunk 3 stays, to be failed on burial"
        );
        worker
            .in_flight
            .drain(..)
            .for_each(|c| c.fail(PoolError::Terminated));
    }

    fn partial(id: u64, count: usize) -> FromWorker {
        let mut output = postcard::to_stdvec(&count).unwrap();
        for _ in 0..count {
            output.extend(postcard::to_stdvec(&Ok::<u8, PanicInfo>(1)).unwrap());
        }
        FromWorker::Partial {
            id,
            output: Bytes(output),
        }
    }

    #[test]
    fn partial_results_are_believed_only_within_the_tasks_left() {
        let mut worker = worker();
        for chunk in &mut worker.in_flight {
            chunk.positions = Positions {
                start: 0,
                len: 3,
                skipped: Vec::new(),
            };
        }
        let Some(Booked::Part(part)) = receive(&mut worker, &mut None, partial(3, 2)) else {
            panic!("two of three tasks are booked");
        };
        part.deliver();
        assert_eq!(worker.in_flight[0].done, 2);
        assert_eq!(
            worker.in_flight[0].positions.iter().collect::<Vec<_>>(),
            [2]
        );
        assert!(worker.corrupt.is_none());
        // Two more: only one is left.
        assert!(receive(&mut worker, &mut None, partial(3, 2)).is_none());
        assert!(worker.corrupt.as_ref().unwrap().0.contains("do not fit"));
        worker
            .in_flight
            .drain(..)
            .for_each(|c| c.fail(PoolError::Terminated));
    }

    #[test]
    fn a_partial_result_of_no_tasks_or_for_no_chunk_is_corrupt() {
        for message in [partial(3, 0), partial(9, 1)] {
            let mut worker = worker();
            assert!(receive(&mut worker, &mut None, message).is_none());
            assert!(worker.corrupt.is_some());
            worker
                .in_flight
                .drain(..)
                .for_each(|c| c.fail(PoolError::Terminated));
        }
    }

    #[test]
    fn an_answer_for_a_chunk_never_sent_marks_the_worker_corrupt() {
        let mut worker = worker();
        assert!(receive(&mut worker, &mut None, done(u64::MAX)).is_none());
        assert!(worker.corrupt.is_some());
        assert_eq!(worker.in_flight.len(), 2);
        worker
            .in_flight
            .drain(..)
            .for_each(|c| c.fail(PoolError::Terminated));
    }
}
