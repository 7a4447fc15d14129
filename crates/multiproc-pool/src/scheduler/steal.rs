//! Taking work back: chunks queued on a busy worker that it has not started go back to the
//! pool's queue when another worker is idle and the queue is empty, so that no task waits
//! behind a long one while a worker could run it (CPython's workers take tasks from one
//! shared queue; ours get a few ahead, for throughput, and give them back when that helps).
//!
//! The worker and the pool agree on who owns a chunk through the worker's
//! [`Claims`](crate::wire::Claims): a chunk taken back is skipped by the worker when it reads
//! it, and runs wherever the pool sends it next.

use std::time::Instant;

use super::dispatch::LONG_CHUNK;
use super::state::Core;

impl Core {
    /// If a worker that takes work has nothing in flight and nothing is queued, takes back
    /// the chunks not yet started from the worker with the most of them: all of them when
    /// its running chunk has been running long (it is stuck on it, as far as anyone can
    /// tell), half of them otherwise (the two workers then share what is left). Returns
    /// whether anything was taken back (it is queued again, at the front).
    pub(super) fn take_back_for_idle(&mut self) -> bool {
        if self.state == super::state::RunState::Terminated
            || self.pending.iter().any(|c| !c.sink.is_cancelled())
        {
            return false;
        }
        let max_tasks = self.max_tasks;
        let idle = self.workers.iter().flatten().any(|w| {
            w.takes_work() && w.in_flight.is_empty() && max_tasks.is_none_or(|max| w.sent < max)
        });
        if !idle {
            return false;
        }
        let victim = self
            .workers
            .iter_mut()
            .flatten()
            .filter(|w| w.corrupt.is_none() && w.in_flight.len() > 1)
            .max_by_key(|w| w.in_flight.len());
        let Some(victim) = victim else {
            return false;
        };
        let started = victim.tasks.claims.started();
        let unstarted = victim.next_seq.saturating_sub(started);
        if unstarted == 0 {
            return false;
        }
        let now = Instant::now();
        let long = self
            .chunk_time
            .map_or(LONG_CHUNK, |t| t.saturating_mul(4).max(LONG_CHUNK));
        let stuck = now.saturating_duration_since(victim.head_since) >= long;
        let take = if stuck {
            unstarted
        } else {
            unstarted.div_ceil(2)
        };
        let Some(first) = victim.tasks.claims.take_back(started.saturating_add(take)) else {
            return false;
        };
        let until = started.saturating_add(take);
        // The chunks taken back are contiguous in `in_flight` (it is in sequence order).
        let mut taken = Vec::new();
        let mut kept = std::collections::VecDeque::with_capacity(victim.in_flight.len());
        // Never one it started (a worker that moved its cursor back would have it run twice).
        let first = first.max(started);
        for chunk in victim.in_flight.drain(..) {
            if (first..until).contains(&chunk.seq) && chunk.done == 0 {
                taken.push(chunk);
            } else {
                kept.push_back(chunk);
            }
        }
        // If it was not running anything, its first chunk now is one it has not started.
        if kept.front().is_some_and(|c| c.seq >= until) {
            victim.head_since = now;
        }
        victim.in_flight = kept;
        victim.sent = victim.sent.saturating_sub(taken.len() as u64);
        // Their bytes may sit unread in its task channel until it reads past them.
        for chunk in &taken {
            victim
                .taken_back
                .push_back((chunk.seq, chunk.input.0.len()));
        }
        if taken.is_empty() {
            return false;
        }
        log::debug!(
            "took {} chunks back from busy pool worker {} for an idle one",
            taken.len(),
            victim.pid
        );
        for chunk in taken.into_iter().rev() {
            self.pending.push_front(chunk);
        }
        true
    }
}
