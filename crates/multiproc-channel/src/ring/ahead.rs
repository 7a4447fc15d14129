//! A get's copy of a long record made before it takes the queue lock, and the check under
//! the lock that the copy is still the record to take (see the parent module).

use std::sync::atomic::Ordering::Acquire;

use super::layout::*;
use super::{Owed, PEEK, Ring};
use crate::error::QueueError;

/// Records at least this long (header included) are copied out before the lock is taken
/// (see [`Ring::copy_ahead`]); shorter ones are copied under it, where the copy costs less
/// than the extra look at the header.
pub(super) const COPY_AHEAD: u64 = 512;

/// A record copied out before the lock was taken: it is the one to take if the head has
/// not moved since and the record there still has this length.
#[derive(Clone, Copy)]
pub(super) struct Ahead {
    /// The stream generation when it was copied: a stream that ended since may have
    /// moved the tail back to an unmoved head.
    generation: u64,
    head: u64,
    len: u64,
    /// Its `Vec<u8>` length prefix was left out of the copy.
    skipped: bool,
}

impl Ring {
    /// Copies the oldest record into `out` without the lock, if it is a long one
    /// ([`COPY_AHEAD`]), so that the copy does not hold up the other processes' puts and
    /// gets; under the lock, [`take_ahead`](Self::take_ahead) then only checks that it is
    /// still the oldest and moves the head past it.
    ///
    /// Why a record copied this way is whole and unchanged when the check passes: outside
    /// a stream, bytes below the tail are whole records (a put writes its record, then
    /// moves the tail with `Release`, read here with `Acquire`); puts write only past the
    /// tail and at most a ring's length past the head; and the head only ever grows. So
    /// while the head stays at `head`, nothing writes the record that starts there, and a
    /// head found unmoved under the lock has not moved since it was read here. A stream
    /// (the one writer that moves the tail back, taking its item back) ends by bumping the
    /// stream generation, read first here and compared under the lock; a stream still
    /// going is seen under the lock. Otherwise another get took the record, the copy may
    /// hold anything, and the get copies again under the lock.
    ///
    /// Every value read here is bounded as under the lock (the span, the record inside it),
    /// and nothing read decides more than what to copy: a ring scribbled over makes this a
    /// wasted copy at worst, and the locked path reports it.
    pub(super) fn copy_ahead(&self, out: &mut Vec<u8>, skip_prefix: bool) -> Option<Ahead> {
        let generation = self.counter(STREAM_GENERATION).load(Acquire);
        let head = self.counter(HEAD).load(Acquire);
        let tail = self.counter(TAIL).load(Acquire);
        if self.load(STREAM_TOTAL) != 0 {
            return None;
        }
        let used = checked_span(head, tail, self.capacity())?;
        if used < COPY_AHEAD {
            return None;
        }
        let mut peek = [0u8; PEEK];
        let peeked = self.peek_record(head, used, &mut peek).ok()?;
        if peeked.record < COPY_AHEAD {
            return None;
        }
        let Ok(skipped) = self.copy_body(head, &peek, peeked, skip_prefix, out) else {
            out.clear();
            return None;
        };
        Some(Ahead {
            generation,
            head,
            len: peeked.len,
            skipped,
        })
    }

    /// Under the lock: takes the record that [`copy_ahead`](Self::copy_ahead) copied, if
    /// it is still the oldest one (the head has not moved and the record there has the
    /// length copied). `None` leaves everything as it was.
    pub(super) fn take_ahead(&self, ahead: Ahead) -> Result<Option<(bool, Owed)>, QueueError> {
        if self.load(STREAM_TOTAL) != 0
            || self.load(STREAM_GENERATION) != ahead.generation
            || self.load(ITEMS) == 0
        {
            return Ok(None);
        }
        let (head, _, used) = self.span()?;
        if head != ahead.head || used < RECORD_HEADER as u64 {
            return Ok(None);
        }
        let len = self.record_len(head)?;
        match checked_record(len, used) {
            Some(record) if len == ahead.len => {
                self.store(HEAD, head + record);
                self.add(ITEMS, -1);
                Ok(Some((ahead.skipped, self.owe_not_full())))
            }
            _ => Ok(None),
        }
    }
}
