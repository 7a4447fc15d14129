//! Worker side: handing a running chunk's finished results to the pool while the chunk runs,
//! so that a worker's death loses at most the last moments of work.
//!
//! Finished results are sent as a [`FromWorker::Partial`] once [`FLUSH_EVERY`] has passed
//! since the last send: a chunk of slow tasks hands over every result as it is done, while a
//! chunk of tiny ones (a `map` with a large chunk size) sends a few messages, not one per
//! task. The worker looks at the clock only every `stride` tasks, a stride that doubles while
//! tasks are fast (under an eighth of [`FLUSH_EVERY`]), so that tiny tasks do not pay for it.
//!
//! When a worker dies, what it sent is delivered; its chunk's other tasks run again one by
//! one (see `Chunk::take_singles`), so the task that killed it fails alone if it kills
//! again, whatever the chunk size and however fast the tasks.
//!
//! [`FromWorker::Partial`]: crate::wire::FromWorker::Partial

use std::time::{Duration, Instant};

use crate::wire::{Bytes, ResultSink};

/// How long finished results may wait in a worker before they are sent.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(1);
/// The longest stride between two reads of the clock, in tasks.
const MAX_STRIDE: usize = 1024;

/// The results of one running chunk that are not sent yet.
pub(crate) struct Partial<'a> {
    id: u64,
    /// How many tasks the chunk has (the last one's result goes with the chunk's `Done`).
    tasks: usize,
    results: &'a ResultSink,
    buffer: &'a mut Vec<u8>,
    /// Tasks whose results were sent, and the length of their encodings.
    sent_tasks: usize,
    sent_bytes: usize,
    /// When results were last sent (or the chunk started); `None` for a chunk of one task,
    /// which never sends any before its end.
    last_sent: Option<Instant>,
    stride: usize,
    /// The task count at the next read of the clock.
    next_check: usize,
    /// Results went through the channel: the rest must follow them there.
    channel_only: bool,
    /// The pool is gone: stop sending.
    gone: bool,
}

impl<'a> Partial<'a> {
    /// Starts following chunk `id`, whose input (postcard of `Vec<Args>`) is `input`.
    pub(crate) fn new(
        id: u64,
        input: &[u8],
        results: &'a ResultSink,
        buffer: &'a mut Vec<u8>,
    ) -> Partial<'a> {
        let tasks = postcard::take_from_bytes::<usize>(input).map_or(0, |(tasks, _)| tasks);
        Partial {
            id,
            tasks,
            results,
            buffer,
            sent_tasks: 0,
            sent_bytes: 0,
            last_sent: (tasks > 1).then(Instant::now),
            stride: 1,
            next_check: 1,
            channel_only: false,
            gone: false,
        }
    }

    /// Task `tasks - 1` finished; `encoded` holds the encodings of the first `tasks` results.
    pub(crate) fn task_done(&mut self, encoded: &[u8], tasks: usize) {
        if tasks < self.next_check || self.gone {
            return;
        }
        let Some(last_sent) = self.last_sent.filter(|_| tasks < self.tasks) else {
            // The last task is done (its result goes with `Done`), or the chunk has one.
            return;
        };
        let now = Instant::now();
        let since = now.saturating_duration_since(last_sent);
        if since < FLUSH_EVERY {
            // Fast tasks: look at the clock less often.
            if since < FLUSH_EVERY / 8 {
                self.stride = (self.stride * 2).min(MAX_STRIDE);
            }
            self.next_check = tasks + self.stride;
            return;
        }
        self.stride = 1;
        self.next_check = tasks + 1;
        let Some(fresh) = encoded.get(self.sent_bytes..) else {
            return;
        };
        let count = tasks - self.sent_tasks;
        let Ok(mut output) = postcard::to_extend(&count, Vec::with_capacity(fresh.len() + 10))
        else {
            return;
        };
        output.extend_from_slice(fresh);
        match self
            .results
            .partial(self.id, Bytes(output), self.channel_only, self.buffer)
        {
            Some(by_channel) => self.channel_only |= by_channel,
            None => self.gone = true,
        }
        self.sent_tasks = tasks;
        self.sent_bytes = encoded.len();
        self.last_sent = Some(now);
    }

    /// Sends the chunk's results not sent yet, given its whole output (postcard of
    /// `Vec<Result<Output, PanicInfo>>`, or why there is none); `false` once the pool is gone.
    /// `idle_next`: the worker has no other chunk to run next (see
    /// [`ResultSink::done`](crate::wire::ResultSink::done)).
    pub(crate) fn finish(self, output: Result<Vec<u8>, String>, idle_next: bool) -> bool {
        if self.gone {
            return false;
        }
        let rest = output.and_then(|output| self.rest(output)).map(Bytes);
        self.results
            .done(self.id, rest, self.channel_only, self.buffer, idle_next)
    }

    /// The output for the tasks not sent yet, with their count in front.
    fn rest(&self, output: Vec<u8>) -> Result<Vec<u8>, String> {
        if self.sent_tasks == 0 {
            return Ok(output);
        }
        let (count, encoded): (usize, &[u8]) = postcard::take_from_bytes(&output)
            .map_err(|e| format!("could not read back the results: {e}"))?;
        let fresh = encoded
            .get(self.sent_bytes..)
            .ok_or("the results shrank while the chunk ran")?;
        let rest_count = count.saturating_sub(self.sent_tasks);
        let mut rest = postcard::to_extend(&rest_count, Vec::with_capacity(fresh.len() + 10))
            .map_err(|e| format!("could not encode the results: {e}"))?;
        rest.extend_from_slice(fresh);
        Ok(rest)
    }
}
