//! Worker side: handing a running chunk's finished results to the pool while the chunk runs,
//! so that a worker's death loses at most the last moments of work, and says which task was
//! running.
//!
//! After each task the worker records which task runs next (one store into shared memory,
//! see [`Claims`]). Finished results are sent as a [`FromWorker::Partial`] once
//! [`FLUSH_EVERY`] has passed since the last send: a chunk of slow tasks hands over every
//! result as it is done, while a chunk of tiny ones (a `map` with a large chunk size) sends a
//! few messages, not one per task. The clock is read only every `stride` tasks, a stride that
//! doubles while tasks are fast, so fast tasks do not pay for it either.
//!
//! [`FromWorker::Partial`]: crate::wire::FromWorker::Partial

use std::time::{Duration, Instant};

use crate::wire::{Bytes, Claims, ResultSink};

/// How long finished results may wait in a worker before they are sent.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(1);
/// The longest stride between two reads of the clock, in tasks.
const MAX_STRIDE: usize = 1024;

/// The results of one running chunk that are not sent yet.
pub(crate) struct Partial<'a> {
    id: u64,
    results: &'a ResultSink,
    claims: &'a Claims,
    buffer: &'a mut Vec<u8>,
    /// Tasks whose results were sent, and the length of their encodings.
    sent_tasks: usize,
    sent_bytes: usize,
    last_sent: Instant,
    stride: usize,
    /// The task count at the next read of the clock.
    next_check: usize,
    /// Results went through the channel: the rest must follow them there.
    channel_only: bool,
    /// The pool is gone: stop sending.
    gone: bool,
}

impl<'a> Partial<'a> {
    /// Starts following chunk `id`.
    pub(crate) fn new(
        id: u64,
        results: &'a ResultSink,
        claims: &'a Claims,
        buffer: &'a mut Vec<u8>,
    ) -> Partial<'a> {
        Partial {
            id,
            results,
            claims,
            buffer,
            sent_tasks: 0,
            sent_bytes: 0,
            last_sent: Instant::now(),
            stride: 1,
            next_check: 1,
            channel_only: false,
            gone: false,
        }
    }

    /// Task `tasks - 1` finished; `encoded` holds the encodings of the first `tasks` results.
    pub(crate) fn task_done(&mut self, encoded: &[u8], tasks: usize) {
        self.claims.running(tasks);
        if tasks < self.next_check || self.gone {
            return;
        }
        let now = Instant::now();
        let since = now.saturating_duration_since(self.last_sent);
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
        self.last_sent = now;
    }

    /// Sends the chunk's results not sent yet, given its whole output (postcard of
    /// `Vec<Result<Output, PanicInfo>>`, or why there is none); `false` once the pool is gone.
    pub(crate) fn finish(self, output: Result<Vec<u8>, String>) -> bool {
        if self.gone {
            return false;
        }
        let rest = output.and_then(|output| self.rest(output)).map(Bytes);
        self.results
            .done(self.id, rest, self.channel_only, self.buffer)
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
