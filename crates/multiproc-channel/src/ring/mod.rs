//! The shared byte ring under every queue: one memfd segment holding a lock, three
//! condition variables, counters and the ring of framed items.
//!
//! Items are records `[u32 length][bytes]` in a ring addressed by two ever-growing byte
//! positions (`head` for the next read, `tail` for the next write). A put or get is one
//! lock round trip plus a memcpy; condition variables cost a futex call only when
//! somebody sleeps on them whom no earlier put or get has woken yet. A get copies a long
//! record out before it takes the lock and, under it, only checks that the record is
//! still the oldest ([`Ring::copy_ahead`]), so that a consumer's copy does not hold up the
//! producers (`channel/queue_vec_u8_4k_shared_floor`: 4.3 → 4.9 GB/s).
//!
//! An item too large for the ring *streams*: its producer waits until the ring is empty,
//! records the item in the header (`stream_*`), and writes it in chunks as space frees;
//! one consumer claims it and reads the chunks as they arrive. Nobody else writes while a
//! stream is in progress, so chunks of different items never interleave.
//! (`stream.rs`.)
//!
//! Owner death. A process killed inside the lock makes the next locker see
//! [`Acquire::OwnerDied`]; it re-walks the records (dropping a half-written one) and
//! recounts. A stream peer can also die *outside* the lock, while waiting for space or
//! data, so every wait during a stream wakes at least every [`PEER_CHECK`] and checks
//! the peer's pid: a dead writer's half item is dropped; a dead reader's item counts as
//! taken and its remaining bytes are discarded.
//!
//! Hostile memory. Any process that holds the segment can write any bytes into it at any
//! time, so every position, length and counter read from it is checked before use: head
//! and tail must delimit at most the ring's capacity, a record must lie inside the written
//! bytes, a stream delivers no more than it announced and a finished stream no less, and
//! buffers grow only as bytes arrive. A violation is [`QueueError::Corrupt`] from that call,
//! and poisons this process's handles on the ring: every later `put`, `get`, `task_done`
//! fails with the same error.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use multiproc_shared::words::{Acquire, CondvarWord, LockWord};
use multiproc_shared::{Segment, U64Words, WordHandle};

use crate::deadline::Deadline;
use crate::error::QueueError;

mod ahead;
mod fuzz;
mod layout;
#[cfg(all(test, loom))]
mod loom_model;
mod stream;
#[cfg(test)]
mod tests;

use self::ahead::Ahead;
pub use self::fuzz::{fuzz_ring_record, fuzz_ring_stream};
pub(crate) use self::layout::DEFAULT_RING_BYTES;
use self::layout::*;
pub use self::layout::{
    HEAD, ITEMS, RECORD_HEADER, RING, STREAM_READER, STREAM_TOTAL, STREAM_WRITER, STREAM_WRITTEN,
    TAIL,
};

/// The size of a header counter.
const HEADER_WORD: usize = size_of::<u64>();

/// The header counters, `HEAD .. RING`.
const HEADER_WORDS: usize = (RING - HEAD) / HEADER_WORD;

/// Records up to this size (header included) are put with one copy from a stack buffer.
const SMALL_RECORD: usize = 64;

/// Bytes a get copies out at once from the record's start: the header and the first bytes
/// of the body, which are the whole of a small one.
const PEEK: usize = 32;

/// The length of the postcard length prefix at the start of `start` (the first bytes, at
/// most 10, of a `total`-byte item), if it announces exactly the bytes after it.
fn byte_vec_prefix(start: &[u8], total: usize) -> Option<usize> {
    match postcard::take_from_bytes::<usize>(start) {
        Ok((announced, rest)) => {
            let prefix = start.len() - rest.len();
            (Some(announced) == total.checked_sub(prefix)).then_some(prefix)
        }
        Err(_) => None,
    }
}

/// A shared byte ring. Cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    segment: Segment,
    /// The header's counters, `HEAD..RING`, as their own handle: read on every
    /// operation, so without a per-access check of the offset.
    header: U64Words,
    /// The queue lock, taken on every operation, as its own handle.
    lock: WordHandle<LockWord>,
    /// The ring's size in bytes (fixed at creation, derived from the segment's length;
    /// also in the header, for checks). At least 1.
    capacity: u64,
    /// What this process found wrong with the ring, once it did: every later operation on
    /// this handle or its clones fails with it.
    poisoned: Arc<OnceLock<String>>,
}

/// The lock, held; released on drop.
struct Held<'a> {
    ring: &'a Ring,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.ring.lock().release();
    }
}

enum Waited {
    Notified,
    DeadlinePassed,
}

/// A wake-up decided under the lock and made after it is released.
///
/// A waiter woken while the lock is still held runs on the other CPU at once, finds the lock
/// taken and sleeps on it, and both releases then cost a futex wake (`strace -f` of a pool
/// round trip across CPUs: 7 futex calls where 4 do). Waking after the release is safe with
/// [`CondvarWord`]: a waiter samples the sequence under the lock, and a notify after that
/// changes it, so the waiter either sees the change or is woken.
#[must_use]
enum Owed {
    Nothing,
    /// One consumer waiting on `NOT_EMPTY`.
    NotEmpty,
    /// Every producer waiting on `NOT_FULL`.
    NotFull,
}

impl Owed {
    fn pay(self, ring: &Ring) {
        match self {
            Owed::Nothing => {}
            Owed::NotEmpty => ring.cond(NOT_EMPTY).notify_one(),
            Owed::NotFull => ring.cond(NOT_FULL).notify_all(),
        }
    }
}

/// The start of a record, read under the lock or before it ([`Ring::peek_record`]): its
/// body's length and the whole record's (header included, within the used bytes), and how
/// many bytes of the peek buffer were read.
#[derive(Clone, Copy)]
struct Peeked {
    len: u64,
    record: u64,
    peeked: usize,
}

fn pid() -> u64 {
    u64::from(std::process::id())
}

/// Any failure of a segment accessor inside the ring: only a bogus position or length
/// read from shared memory can cause one.
fn as_corrupt(err: impl Into<QueueError>) -> QueueError {
    match err.into() {
        err @ QueueError::Corrupt(_) => err,
        other => QueueError::Corrupt(other.to_string()),
    }
}

impl Ring {
    pub(crate) fn new(maxsize: Option<usize>, ring_bytes: usize) -> Result<Ring, QueueError> {
        let ring_bytes = ring_bytes.max(64);
        let segment = Segment::new(RING.saturating_add(ring_bytes))?;
        segment.claim_wide(HEAD, segment.len() - HEAD)?;
        let ring = Ring {
            header: segment.u64_words(HEAD, HEADER_WORDS)?,
            lock: segment.word_handle(LOCK)?,
            segment,
            capacity: ring_bytes as u64,
            poisoned: Arc::default(),
        };
        ring.counter(CAPACITY).store(ring_bytes as u64, SeqCst);
        let maxsize = maxsize.map_or(u64::MAX, |n| n.max(1) as u64);
        ring.counter(MAXSIZE).store(maxsize, SeqCst);
        Ok(ring)
    }

    pub(crate) fn segment(&self) -> &Segment {
        &self.segment
    }

    pub(crate) fn from_segment(segment: Segment) -> Result<Ring, QueueError> {
        if segment.len() <= RING {
            return Err(QueueError::Decode("not a queue segment".into()));
        }
        let capacity = (segment.len() - RING) as u64;
        // The counters and the ring, claimed for 8-byte accesses once instead of on each.
        segment
            .claim_wide(HEAD, segment.len() - HEAD)
            .map_err(|_| QueueError::Decode("not a queue segment".into()))?;
        let ring = Ring {
            header: segment
                .u64_words(HEAD, HEADER_WORDS)
                .map_err(|_| QueueError::Decode("not a queue segment".into()))?,
            lock: segment
                .word_handle(LOCK)
                .map_err(|_| QueueError::Decode("not a queue segment".into()))?,
            segment,
            capacity,
            poisoned: Arc::default(),
        };
        if ring.counter(CAPACITY).load(SeqCst) != capacity {
            return Err(QueueError::Decode("not a queue segment".into()));
        }
        Ok(ring)
    }

    /// The header word at `offset`, one of the constants above.
    #[inline]
    fn counter(&self, offset: usize) -> &AtomicU64 {
        // Every header offset is an aligned constant in `HEAD..RING`, which `header`
        // holds: no value from shared memory is involved, so this cannot fail.
        self.header
            .get((offset - HEAD) / HEADER_WORD)
            .expect("header words lie inside the header")
    }

    // Header words are read and written under the queue lock, whose acquire and release
    // order them; reads outside the lock (`len`, `is_closed`...) are snapshots anyway.
    // Relaxed accesses keep the lock hold time short (a SeqCst store is a locked `xchg`).

    fn load(&self, offset: usize) -> u64 {
        self.counter(offset).load(Relaxed)
    }

    fn store(&self, offset: usize, value: u64) {
        self.counter(offset).store(value, Relaxed)
    }

    /// Adds `delta` (wrapping) to a header word; only under the lock.
    fn add(&self, offset: usize, delta: i64) {
        self.store(offset, self.load(offset).wrapping_add_signed(delta));
    }

    #[inline]
    fn lock(&self) -> &LockWord {
        self.lock.get()
    }

    fn cond(&self, offset: usize) -> &CondvarWord {
        self.segment
            .word(offset)
            .expect("the ring's condition words are in its header")
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    /// `Err(Corrupt)` once this process found the ring corrupt.
    fn check_poisoned(&self) -> Result<(), QueueError> {
        match self.poisoned.get() {
            Some(what) => Err(QueueError::Corrupt(what.clone())),
            None => Ok(()),
        }
    }

    /// Passes `result` through, poisoning the ring if it is `Corrupt`.
    fn poison_on_corrupt<T>(&self, result: Result<T, QueueError>) -> Result<T, QueueError> {
        if let Err(QueueError::Corrupt(what)) = &result {
            let _ = self.poisoned.set(what.clone());
        }
        result
    }

    /// Whether this process found the ring corrupt.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.get().is_some()
    }

    fn acquire(&self, deadline: &mut Deadline) -> Option<Held<'_>> {
        // A free lock needs no deadline: the clock is read only for a wait.
        match self.lock().acquire_spinning_with(|| deadline.resolve()) {
            Acquire::Acquired => Some(Held { ring: self }),
            Acquire::OwnerDied => {
                let held = Held { ring: self };
                self.repair();
                Some(held)
            }
            Acquire::TimedOut => None,
        }
    }

    /// Head, tail and the bytes between them, checked: the tail is not behind the head
    /// and at most the ring's capacity ahead of it.
    fn span(&self) -> Result<(u64, u64, u64), QueueError> {
        let (head, tail) = (self.load(HEAD), self.load(TAIL));
        match checked_span(head, tail, self.capacity()) {
            Some(used) => Ok((head, tail, used)),
            None => Err(QueueError::Corrupt(format!(
                "head {head} and tail {tail} are not a range of the {}-byte ring",
                self.capacity()
            ))),
        }
    }

    /// Sleeps on `cond` until notified or `deadline`; during a stream, wakes at least
    /// every [`PEER_CHECK`] to check the stream's peers.
    fn wait(&self, cond: usize, deadline: &mut Deadline) -> Waited {
        let deadline = deadline.resolve();
        let streaming = self.load(STREAM_TOTAL) > 0;
        // The clock is read only during a stream (a read costs tens of nanoseconds in a VM).
        let check = streaming
            .then(|| Instant::now().checked_add(PEER_CHECK))
            .flatten();
        let capped = match check {
            Some(check) => Some(deadline.map_or(check, |d| d.min(check))),
            None => deadline,
        };
        let waiters = match cond {
            NOT_EMPTY => Some((NOT_EMPTY_WAITERS, NOT_EMPTY_WOKEN)),
            NOT_FULL => Some((NOT_FULL_WAITERS, NOT_FULL_WOKEN)),
            _ => None,
        };
        if let Some((waiters, _)) = waiters {
            self.add(waiters, 1);
        }
        let outcome = self.cond(cond).wait(self.lock(), capped);
        if let Some((waiters, woken)) = waiters {
            // A waiter that died asleep left its count behind: harmless, it only costs
            // a needless notify until the queue is dropped. Each waiter leaving takes one
            // off the woken count too, whether a notify or a timeout woke it: the count
            // can only end up too low, which costs a needless notify, never a lost one.
            self.store(woken, self.load(woken).saturating_sub(1));
            self.store(waiters, self.load(waiters).saturating_sub(1));
        }
        if outcome == Acquire::OwnerDied {
            self.repair();
        }
        if streaming {
            self.check_stream_peers();
        }
        match deadline {
            Some(deadline) if Instant::now() >= deadline => Waited::DeadlinePassed,
            _ => Waited::Notified,
        }
    }

    fn notify_all(&self) {
        self.cond(NOT_EMPTY).notify_all();
        self.cond(NOT_FULL).notify_all();
    }

    /// Whether a consumer sleeps that no earlier put has woken; if so, counts it as woken.
    /// Under the lock; the caller wakes it ([`Owed::pay`]) once the lock is released.
    fn owe_not_empty(&self) -> Owed {
        if self.load(NOT_EMPTY_WAITERS) > self.load(NOT_EMPTY_WOKEN) {
            self.add(NOT_EMPTY_WOKEN, 1);
            return Owed::NotEmpty;
        }
        Owed::Nothing
    }

    /// Whether a producer sleeps that no earlier get has woken; if so, counts them all as
    /// woken. Under the lock; the caller wakes them ([`Owed::pay`]) once it is released.
    fn owe_not_full(&self) -> Owed {
        let waiters = self.load(NOT_FULL_WAITERS);
        if waiters > self.load(NOT_FULL_WOKEN) {
            self.store(NOT_FULL_WOKEN, waiters);
            return Owed::NotFull;
        }
        Owed::Nothing
    }

    /// Where `len` bytes at ring position `position` start in the segment's ring area,
    /// and how many of them come before the ring wraps.
    fn split(&self, position: u64, len: usize) -> Result<(usize, usize), QueueError> {
        let capacity = self.capacity() as usize;
        if len > capacity {
            return Err(QueueError::Corrupt(format!(
                "{len} bytes do not fit in the {capacity}-byte ring"
            )));
        }
        // `capacity` is at least 1 and `start` below it.
        let start = (position % self.capacity()) as usize;
        Ok((start, len.min(capacity - start)))
    }

    /// Copies `bytes` in at position `position`, wrapping around.
    fn copy_in(&self, position: u64, bytes: &[u8]) -> Result<(), QueueError> {
        let (start, first) = self.split(position, bytes.len())?;
        let (before, after) = bytes.split_at(first);
        self.segment
            .write_at(RING + start, before)
            .map_err(as_corrupt)?;
        self.segment.write_at(RING, after).map_err(as_corrupt)
    }

    /// Copies `out.len()` bytes from position `position`, wrapping around.
    fn copy_out(&self, position: u64, out: &mut [u8]) -> Result<(), QueueError> {
        let (start, first) = self.split(position, out.len())?;
        let (before, after) = out.split_at_mut(first);
        self.segment
            .read_at(RING + start, before)
            .map_err(as_corrupt)?;
        self.segment.read_at(RING, after).map_err(as_corrupt)
    }

    /// Appends `len` bytes from position `position` to `out`, wrapping around (no
    /// zero-filling of `out` first). `len` is at most the ring's capacity.
    fn append_out(&self, position: u64, len: usize, out: &mut Vec<u8>) -> Result<(), QueueError> {
        let (start, first) = self.split(position, len)?;
        self.segment
            .append_to(RING + start, first, out)
            .map_err(as_corrupt)?;
        self.segment
            .append_to(RING, len - first, out)
            .map_err(as_corrupt)
    }

    /// The length field of the record at `position`, as written (unchecked).
    fn record_len(&self, position: u64) -> Result<u64, QueueError> {
        let mut header = [0u8; RECORD_HEADER];
        self.copy_out(position, &mut header)?;
        Ok(u64::from(u32::from_le_bytes(header)))
    }

    /// Restores the invariants after a process died holding the lock.
    fn repair(&self) {
        // It may have died between its two waiter-count updates: woken counts of zero
        // cost needless notifies at worst, never a lost one.
        self.store(NOT_EMPTY_WOKEN, 0);
        self.store(NOT_FULL_WOKEN, 0);
        if self.load(STREAM_TOTAL) > 0 {
            self.check_stream_peers();
        } else if let Ok((head, tail, _)) = self.span() {
            let mut position = head;
            let mut items = 0u64;
            // Whole records, stopping at the first one that is cut off or whose length
            // is bogus.
            while tail - position >= RECORD_HEADER as u64 {
                let end = self
                    .record_len(position)
                    .ok()
                    .and_then(|len| position.checked_add(RECORD_HEADER as u64 + len))
                    .filter(|&end| end <= tail);
                match end {
                    Some(end) => position = end,
                    None => break,
                }
                items += 1;
            }
            // Whatever follows the last whole record is a half-written item: drop it.
            self.store(TAIL, position);
            self.store(ITEMS, items);
        } else {
            let head = self.load(HEAD);
            self.store(TAIL, head);
            self.store(ITEMS, 0);
        }
        self.notify_all();
    }

    /// Appends one item. `Err(Full)` when `deadline` passes first.
    pub(crate) fn put(&self, bytes: &[u8], deadline: Deadline) -> Result<(), QueueError> {
        self.put_parts(&[bytes], deadline)
    }

    /// Appends one item made of `parts` one after the other (a `Vec<u8>` item's length
    /// prefix and its bytes, copied straight from the item).
    pub(crate) fn put_parts(
        &self,
        parts: &[&[u8]],
        mut deadline: Deadline,
    ) -> Result<(), QueueError> {
        self.check_poisoned()?;
        let result = self.put_unpoisoned(parts, &mut deadline);
        self.poison_on_corrupt(result)
    }

    /// Copies `len` bytes of `parts`, starting `from` bytes into them, in at `position`.
    fn copy_in_parts(
        &self,
        mut position: u64,
        parts: &[&[u8]],
        mut from: usize,
        mut len: usize,
    ) -> Result<(), QueueError> {
        for part in parts {
            if len == 0 {
                break;
            }
            if from >= part.len() {
                from -= part.len();
                continue;
            }
            let take = (part.len() - from).min(len);
            self.copy_in(position, &part[from..from + take])?;
            position += take as u64;
            len -= take;
            from = 0;
        }
        Ok(())
    }

    fn put_unpoisoned(&self, parts: &[&[u8]], deadline: &mut Deadline) -> Result<(), QueueError> {
        let total = parts
            .iter()
            .fold(0usize, |sum, part| sum.saturating_add(part.len()));
        let need = (RECORD_HEADER as u64).saturating_add(total as u64);
        if need > self.capacity() || u32::try_from(total).is_err() {
            return self.put_streaming(parts, total, deadline);
        }
        let owed = self.put_record(parts, total, need, deadline)?;
        owed.pay(self);
        Ok(())
    }

    /// Puts a record of `need` bytes (`total` of them from `parts`) under the lock.
    fn put_record(
        &self,
        parts: &[&[u8]],
        total: usize,
        need: u64,
        deadline: &mut Deadline,
    ) -> Result<Owed, QueueError> {
        let _held = self.acquire(deadline).ok_or(QueueError::Full)?;
        let tail = loop {
            if self.load(CLOSED) != 0 {
                return Err(QueueError::Closed);
            }
            let (_, tail, used) = self.span()?;
            if self.load(STREAM_TOTAL) == 0
                && self.load(ITEMS) < self.load(MAXSIZE)
                && fits(need, used, self.capacity())
            {
                break tail;
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline) {
                return Err(QueueError::Full);
            }
        };
        let new_tail = tail
            .checked_add(need)
            .ok_or_else(|| QueueError::Corrupt(format!("tail {tail} is about to overflow")))?;
        // `total` fits a u32: checked above.
        let header = (total as u32).to_le_bytes();
        if need <= SMALL_RECORD as u64 {
            // One copy into the ring for the whole record, header included.
            let mut record = [0u8; SMALL_RECORD];
            record[..RECORD_HEADER].copy_from_slice(&header);
            let mut at = RECORD_HEADER;
            for part in parts {
                record[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            self.copy_in(tail, &record[..at])?;
        } else {
            self.copy_in(tail, &header)?;
            self.copy_in_parts(tail + RECORD_HEADER as u64, parts, 0, total)?;
        }
        // Release: a get that reads the tail without the lock (`copy_ahead`) sees the
        // record's bytes written.
        self.counter(TAIL).store(new_tail, Release);
        self.add(ITEMS, 1);
        self.add(UNFINISHED, 1);
        Ok(self.owe_not_empty())
    }

    /// Removes the oldest item into `out` (cleared first). `Err(Empty)` when `deadline`
    /// passes first, `Err(Closed)` when the queue is closed and drained.
    pub(crate) fn get(&self, out: &mut Vec<u8>, deadline: Deadline) -> Result<(), QueueError> {
        self.get_skipping(out, deadline, false).map(drop)
    }

    /// [`get`](Self::get) of a `Vec<u8>` item: with `skip_prefix`, an item that is held
    /// whole in the ring and starts with a postcard length equal to the rest of it comes
    /// out without that prefix (no copy to drop it afterwards); returns whether it did.
    pub(crate) fn get_skipping(
        &self,
        out: &mut Vec<u8>,
        mut deadline: Deadline,
        skip_prefix: bool,
    ) -> Result<bool, QueueError> {
        out.clear();
        self.check_poisoned()?;
        let result = self.get_unpoisoned(out, &mut deadline, skip_prefix);
        if result.is_err() {
            out.clear();
        }
        self.poison_on_corrupt(result)
    }

    fn get_unpoisoned(
        &self,
        out: &mut Vec<u8>,
        deadline: &mut Deadline,
        skip_prefix: bool,
    ) -> Result<bool, QueueError> {
        let ahead = self.copy_ahead(out, skip_prefix);
        let (skipped, owed) = self.get_locked(out, deadline, skip_prefix, ahead)?;
        owed.pay(self);
        Ok(skipped)
    }

    /// [`get_unpoisoned`](Self::get_unpoisoned) under the lock: whether the prefix was
    /// skipped, and the wake-up owed to producers. `ahead`: a record already copied into
    /// `out` (see [`copy_ahead`](Self::copy_ahead)).
    fn get_locked(
        &self,
        out: &mut Vec<u8>,
        deadline: &mut Deadline,
        skip_prefix: bool,
        ahead: Option<Ahead>,
    ) -> Result<(bool, Owed), QueueError> {
        let _held = self.acquire(deadline).ok_or(QueueError::Empty)?;
        if let Some(ahead) = ahead {
            if let Some(taken) = self.take_ahead(ahead)? {
                return Ok(taken);
            }
            out.clear();
        }
        loop {
            let items = self.load(ITEMS);
            if self.load(STREAM_TOTAL) > 0 {
                if self.load(STREAM_READER) == 0 && items > 0 {
                    match self.read_stream(out, skip_prefix) {
                        Ok(Some(skipped)) => return Ok((skipped, Owed::Nothing)),
                        Ok(None) => {
                            out.clear();
                            continue;
                        }
                        Err(err) => {
                            // Give up the item as a dead reader would, so that a live
                            // writer stops waiting for room.
                            self.store(STREAM_READER, DISCARD);
                            self.notify_all();
                            return Err(err);
                        }
                    }
                }
            } else if items > 0 {
                let (head, _, used) = self.span()?;
                if used < RECORD_HEADER as u64 {
                    return Err(QueueError::Corrupt(format!(
                        "{items} items counted, but only {used} bytes are in the ring"
                    )));
                }
                let mut peek = [0u8; PEEK];
                let peeked = self.peek_record(head, used, &mut peek)?;
                let skipped = self.copy_body(head, &peek, peeked, skip_prefix, out)?;
                self.store(HEAD, head + peeked.record);
                self.add(ITEMS, -1);
                return Ok((skipped, self.owe_not_full()));
            } else if self.load(CLOSED) != 0 {
                return Err(QueueError::Closed);
            }
            if let Waited::DeadlinePassed = self.wait(NOT_EMPTY, deadline) {
                return Err(QueueError::Empty);
            }
        }
    }

    /// Reads the header and the first bytes of the record at `head` (all of a small one)
    /// into `bytes`, in one copy; `used` bytes lie between `head` and the tail, at least a
    /// header's worth. `Corrupt` if the record's length runs past them.
    #[inline(always)]
    fn peek_record(
        &self,
        head: u64,
        used: u64,
        bytes: &mut [u8; PEEK],
    ) -> Result<Peeked, QueueError> {
        let peeked = usize::try_from(used).map_or(PEEK, |used| used.min(PEEK));
        self.copy_out(head, &mut bytes[..peeked])?;
        let mut header = [0u8; RECORD_HEADER];
        header.copy_from_slice(&bytes[..RECORD_HEADER]);
        let len = u64::from(u32::from_le_bytes(header));
        let Some(record) = checked_record(len, used) else {
            return Err(QueueError::Corrupt(format!(
                "record length {len} at position {head} runs past the {used} bytes \
                 in the {}-byte ring",
                self.capacity()
            )));
        };
        Ok(Peeked {
            len,
            record,
            peeked,
        })
    }

    /// Appends the body of the record at `head`, peeked into `bytes`, to `out`; with
    /// `skip_prefix`, a body that starts with a postcard length equal to the rest of it
    /// comes out without that prefix. Returns whether it did.
    #[inline(always)]
    fn copy_body(
        &self,
        head: u64,
        bytes: &[u8; PEEK],
        peeked: Peeked,
        skip_prefix: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, QueueError> {
        // At most the ring's capacity: the record lies within the used bytes.
        let len = peeked.len as usize;
        // The body's bytes that came with the header: at least its first
        // `min(len, PEEK - RECORD_HEADER)`, since the used bytes cover the record.
        let start = &bytes[RECORD_HEADER..peeked.peeked];
        let skip = match skip_prefix {
            true => byte_vec_prefix(&start[..len.min(start.len()).min(10)], len),
            false => None,
        };
        let from = skip.unwrap_or(0);
        out.reserve_exact(len - from);
        if len <= start.len() {
            out.extend_from_slice(&start[from..len]);
        } else {
            let body = head + RECORD_HEADER as u64;
            self.append_out(body + from as u64, len - from, out)?;
        }
        Ok(skip.is_some())
    }

    /// Items in the queue now (exact: updated under the lock with every put and get).
    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.load(ITEMS)).unwrap_or(usize::MAX)
    }

    pub(crate) fn maxsize(&self) -> Option<usize> {
        match self.load(MAXSIZE) {
            u64::MAX => None,
            n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.load(ITEMS) >= self.load(MAXSIZE)
    }

    pub(crate) fn close(&self) {
        let _held = self.acquire(&mut Deadline::Never);
        self.store(CLOSED, 1);
        self.notify_all();
        self.cond(ALL_DONE).notify_all();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.load(CLOSED) != 0
    }

    pub(crate) fn task_done(&self) -> Result<(), QueueError> {
        self.check_poisoned()?;
        let _held = self.acquire(&mut Deadline::Never);
        let left = self
            .counter(UNFINISHED)
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map_err(|_| QueueError::TaskDoneTooOften)?;
        if left == 1 {
            self.cond(ALL_DONE).notify_all();
        }
        Ok(())
    }

    pub(crate) fn unfinished(&self) -> usize {
        usize::try_from(self.load(UNFINISHED)).unwrap_or(usize::MAX)
    }

    /// Waits until every item put has been marked done. Returns `Ok(false)` on timeout,
    /// and `Err(Corrupt)` at once on a ring found corrupt (its count cannot be trusted).
    pub(crate) fn join(&self, mut deadline: Deadline) -> Result<bool, QueueError> {
        self.check_poisoned()?;
        let Some(_held) = self.acquire(&mut deadline) else {
            return Ok(false);
        };
        while self.load(UNFINISHED) > 0 {
            if let Waited::DeadlinePassed = self.wait(ALL_DONE, &mut deadline) {
                return Ok(self.load(UNFINISHED) == 0);
            }
            // A process that found the ring corrupt meanwhile wakes the waiters too.
            self.check_poisoned()?;
        }
        Ok(true)
    }
}
