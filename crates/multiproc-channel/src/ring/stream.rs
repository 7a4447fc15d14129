//! Items larger than the ring: a producer that writes one in chunks as room frees, the
//! one consumer that claims it and reads the chunks as they arrive, and what each does
//! when the other dies (see the parent module).

use std::sync::atomic::Ordering::SeqCst;

use super::layout::*;
use super::{Ring, Waited, byte_vec_prefix, pid};
use crate::deadline::Deadline;
use crate::error::QueueError;

impl Ring {
    /// During a stream: drops the item if its writer died, discards the rest of it if
    /// its reader died. Called with the lock held.
    pub(super) fn check_stream_peers(&self) {
        if self.load(STREAM_TOTAL) == 0 {
            return;
        }
        let writer = self.load(STREAM_WRITER);
        if writer != 0 && !multiproc_sys::process::is_alive(writer as u32) {
            if self.load(STREAM_READER) == 0 {
                // Nobody took it yet: it leaves the queue as if never put.
                let _ = self
                    .counter(ITEMS)
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1));
                let _ = self
                    .counter(UNFINISHED)
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1));
            }
            self.store(HEAD, self.load(TAIL));
            self.end_stream();
            return;
        }
        let reader = self.load(STREAM_READER);
        if reader != 0 && reader != DISCARD && !multiproc_sys::process::is_alive(reader as u32) {
            // The dead reader took the item; what remains of it is garbage.
            self.store(STREAM_READER, DISCARD);
            self.store(HEAD, self.load(TAIL));
            if writer == 0 {
                self.end_stream();
            } else {
                self.notify_all();
            }
        }
    }

    pub(super) fn end_stream(&self) {
        for offset in [
            STREAM_TOTAL,
            STREAM_WRITER,
            STREAM_READER,
            STREAM_WRITTEN,
            STREAM_READ,
        ] {
            self.store(offset, 0);
        }
        self.counter(STREAM_GENERATION).fetch_add(1, SeqCst);
        self.notify_all();
    }

    pub(super) fn put_streaming(
        &self,
        parts: &[&[u8]],
        len: usize,
        deadline: &mut Deadline,
    ) -> Result<(), QueueError> {
        let _held = self.acquire(deadline).ok_or(QueueError::Full)?;
        loop {
            if self.load(CLOSED) != 0 {
                return Err(QueueError::Closed);
            }
            if self.load(STREAM_TOTAL) == 0 && self.load(ITEMS) == 0 {
                break;
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline) {
                return Err(QueueError::Full);
            }
        }
        let total = len as u64;
        self.store(STREAM_WRITTEN, 0);
        self.store(STREAM_READ, 0);
        self.store(STREAM_READER, 0);
        self.store(STREAM_WRITER, pid());
        self.store(STREAM_TOTAL, total);
        let generation = self.load(STREAM_GENERATION);
        self.counter(ITEMS).fetch_add(1, SeqCst);
        self.counter(UNFINISHED).fetch_add(1, SeqCst);
        // The writer counts its own progress: `STREAM_WRITTEN` is for the reader and
        // could have been overwritten.
        let mut written = 0usize;
        loop {
            if self.load(STREAM_GENERATION) != generation {
                // Ended by someone else: only a dead reader's discard ends it early.
                return Ok(());
            }
            if self.load(STREAM_READER) == DISCARD {
                // The reader died holding the item; it counts as delivered.
                self.store(HEAD, self.load(TAIL));
                self.end_stream();
                return Ok(());
            }
            let (_, tail, used) = self.span()?;
            let free = usize::try_from(self.capacity() - used).unwrap_or(usize::MAX);
            let chunk = free.min(len - written);
            if chunk > 0 {
                let new_tail = tail.checked_add(chunk as u64).ok_or_else(|| {
                    QueueError::Corrupt(format!("tail {tail} is about to overflow"))
                })?;
                self.copy_in_parts(tail, parts, written, chunk)?;
                self.store(TAIL, new_tail);
                written += chunk;
                self.store(STREAM_WRITTEN, written as u64);
                self.cond(NOT_EMPTY).notify_all();
            }
            if written == len {
                self.store(STREAM_WRITER, 0);
                return Ok(());
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline)
                && self.load(STREAM_GENERATION) == generation
                && self.load(STREAM_READER) == 0
            {
                // Nobody has started reading: take the item back.
                self.store(TAIL, self.load(HEAD));
                let _ = self
                    .counter(ITEMS)
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1));
                let _ = self
                    .counter(UNFINISHED)
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1));
                self.end_stream();
                return Err(QueueError::Full);
            }
        }
    }

    /// The length of the postcard length prefix at the start of a `total`-byte streamed
    /// item whose first `available` bytes are at `position`, if it announces exactly the
    /// bytes after it.
    pub(super) fn stream_prefix(
        &self,
        position: u64,
        available: usize,
        total: usize,
    ) -> Result<Option<usize>, QueueError> {
        let mut start = [0u8; 10];
        let start = &mut start[..available.min(10)];
        self.copy_out(position, start)?;
        Ok(byte_vec_prefix(start, total))
    }

    /// Claims the streaming item and reads it to the end. Returns `false` if its writer
    /// died before finishing (the half item is dropped). Once claimed, the item is read to
    /// completion whatever the caller's deadline: its producer is known to be writing.
    ///
    /// The announced length is only a promise: `out` grows with the bytes that arrive, at
    /// most a ring's worth at a time, and a stream that brings more than it announced, or
    /// whose finished writer left less, is corrupt.
    ///
    /// With `skip_prefix`, a first piece that starts with a postcard length equal to the
    /// rest of the item is taken without that prefix; `Some(true)` says it was.
    pub(super) fn read_stream(
        &self,
        out: &mut Vec<u8>,
        skip_prefix: bool,
    ) -> Result<Option<bool>, QueueError> {
        let generation = self.load(STREAM_GENERATION);
        let total = self.load(STREAM_TOTAL);
        if isize::try_from(total).is_err() {
            return Err(QueueError::Corrupt(format!(
                "stream length {total} exceeds the largest possible item"
            )));
        }
        self.store(STREAM_READER, pid());
        let _ = self
            .counter(ITEMS)
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1));
        // Up to two rings' worth at once (the whole of most streamed items); beyond that,
        // room grows with the bytes that arrive.
        let total_bytes = total as usize;
        out.reserve_exact(total.min(self.capacity().saturating_mul(2)) as usize);
        let mut read = 0u64;
        let mut skipped = false;
        loop {
            if self.load(STREAM_GENERATION) != generation {
                return Ok(None);
            }
            let writer = self.load(STREAM_WRITER);
            let (head, tail, available) = self.span()?;
            let arrived = read
                .checked_add(available)
                .filter(|&arrived| arrived <= total)
                .ok_or_else(|| {
                    QueueError::Corrupt(format!(
                        "stream length {total} is less than the {read} bytes read plus \
                         {available} waiting"
                    ))
                })?;
            if writer == 0 && arrived != total {
                return Err(QueueError::Corrupt(format!(
                    "stream length {total}, but its writer finished after {arrived} bytes"
                )));
            }
            if available > 0 {
                // At most the ring's capacity (checked by `span`).
                let available = available as usize;
                let mut from = 0;
                if read == 0
                    && skip_prefix
                    && available >= 10.min(total_bytes)
                    && let Some(prefix) = self.stream_prefix(head, available, total_bytes)?
                {
                    from = prefix;
                    skipped = true;
                }
                grow_for(out, available - from, total_bytes);
                self.append_out(head + from as u64, available - from, out)?;
                self.store(HEAD, tail);
                read = arrived;
                self.store(STREAM_READ, read);
                self.cond(NOT_FULL).notify_all();
            }
            if read == total {
                self.end_stream();
                return Ok(Some(skipped));
            }
            self.wait(NOT_EMPTY, &mut Deadline::Never);
        }
    }
}
