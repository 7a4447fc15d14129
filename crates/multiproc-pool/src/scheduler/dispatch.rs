//! Handing out work: queued chunks go to the workers with room for them, several chunks per
//! message, without ever blocking on a full task channel.

use std::time::{Duration, Instant};

use crate::chunk::Chunk;
use crate::error::PoolError;
use crate::wire::WireChunk;

use super::state::{Core, RunState, Shared};

/// At most this many bytes of arguments wait unread in a busy worker's task channel.
pub(crate) const IN_FLIGHT_BYTES: usize = 64 * 1024;
/// A chunk that runs at least this long is sent only to an idle worker.
pub(super) const LONG_CHUNK: Duration = Duration::from_millis(5);

impl Shared {
    /// Queues chunks (ids are assigned here) and hands out what the workers can take. Gives
    /// the chunks back, with the error to fail them with, if the pool no longer accepts work
    /// or belongs to another process.
    pub(crate) fn submit(&self, chunks: Vec<Chunk>) -> Result<(), (Vec<Chunk>, PoolError)> {
        if let Err(wrong) = self.check_process() {
            return Err((chunks, wrong));
        }
        let mut core = self.core();
        if core.state != RunState::Running {
            return Err((chunks, core.refusal()));
        }
        for mut chunk in chunks {
            chunk.id = core.next_id;
            core.next_id += 1;
            core.pending.push_back(chunk);
        }
        core.dispatch();
        Ok(())
    }
}

impl Core {
    /// How many chunks to keep per worker (the running one included): enough that a worker
    /// never waits for the next one when chunks are short; only the running one when they
    /// are long (the next one arrives a round trip after the result, a fraction of a percent
    /// of the chunk), so that no worker sits on chunks at the end while another one is idle.
    pub(super) fn depth(&self) -> usize {
        match self.chunk_time {
            None => 4,
            Some(t) if t >= LONG_CHUNK => 1,
            Some(t) => (2_000_000 / t.as_nanos().max(1)).clamp(2, 64) as usize,
        }
    }

    /// Sends queued chunks to workers with room for them, several chunks per message; then,
    /// if a worker is left idle while another one has chunks it has not started, takes
    /// those back for the idle one (see [`Core::take_back_for_idle`]).
    pub(crate) fn dispatch(&mut self) {
        self.hand_out();
        if self.take_back_for_idle() {
            self.hand_out();
        }
    }

    /// Sends queued chunks to workers with room for them, several chunks per message, the
    /// least busy workers first.
    fn hand_out(&mut self) {
        let n = self.workers.len();
        let depth = self.depth();
        // Spread the queue evenly over the workers that can take work now, so that a short
        // queue of long chunks is not piled onto one worker.
        let takers = self
            .workers
            .iter()
            .flatten()
            .filter(|w| w.takes_work() && w.in_flight.len() <= depth / 2)
            .count()
            .max(1);
        let share = self.pending.len().div_ceil(takers).max(1);
        // Idle workers first (the first pass), then the busy ones: a chunk should not queue
        // behind a running one while another worker has nothing to do.
        for (idle_pass, k) in [true, false]
            .into_iter()
            .flat_map(|p| (0..n).map(move |k| (p, k)))
        {
            if self.pending.is_empty() {
                break;
            }
            let slot = (self.cursor + k) % n;
            let Some(worker) = self.workers[slot].as_mut() else {
                continue;
            };
            if !worker.takes_work() || worker.in_flight.is_empty() != idle_pass {
                continue;
            }
            let busy = worker.in_flight.len();
            // Refill in batches: one message carries several chunks.
            if busy > depth / 2 {
                continue;
            }
            let mut room = (depth - busy).min(share);
            if let Some(max) = self.max_tasks {
                room = room.min(max.saturating_sub(worker.sent) as usize);
            }
            let mut batch = Vec::new();
            let mut bytes = worker.in_flight_bytes;
            while room > 0 {
                let Some(front) = self.pending.front() else {
                    break;
                };
                if front.sink.is_cancelled() {
                    self.pending.pop_front();
                    continue;
                }
                let size = front.input.0.len();
                if (busy > 0 || !batch.is_empty()) && bytes + size > IN_FLIGHT_BYTES {
                    break;
                }
                bytes += size;
                room -= 1;
                if let Some(mut chunk) = self.pending.pop_front() {
                    chunk.seq = worker.next_seq;
                    worker.next_seq += 1;
                    batch.push(chunk);
                }
            }
            if batch.is_empty() {
                continue;
            }
            let wire = batch
                .iter()
                .map(|c| WireChunk {
                    id: c.id,
                    seq: c.seq,
                    func: c.func,
                    input: c.input.clone(),
                })
                .collect();
            if busy == 0 {
                worker.head_since = Instant::now();
            }
            worker.sent += batch.len() as u64;
            worker.in_flight_bytes = bytes;
            worker.in_flight.extend(batch);
            if let Err(e) = worker.tasks.run(wire) {
                // The worker died; the result thread notices and fails or requeues its chunks.
                log::debug!("could not send work to pool worker {}: {e}", worker.pid);
            }
        }
        self.cursor = (self.cursor + 1) % n.max(1);
    }
}
