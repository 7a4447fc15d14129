//! The shared byte ring under every queue: one memfd segment holding a lock, three
//! condition variables, counters and the ring of framed items.
//!
//! Items are records `[u32 length][bytes]` in a ring addressed by two ever-growing byte
//! positions (`head` for the next read, `tail` for the next write). A put or get is one
//! lock round trip plus a memcpy; condition variables cost a futex call only when
//! somebody sleeps on them.
//!
//! An item too large for the ring *streams*: its producer waits until the ring is empty,
//! records the item in the header (`stream_*`), and writes it in chunks as space frees;
//! one consumer claims it and reads the chunks as they arrive. Nobody else writes while a
//! stream is in progress, so chunks of different items never interleave.
//!
//! Owner death. A process killed inside the lock makes the next locker see
//! [`Acquire::OwnerDied`]; it re-walks the records (dropping a half-written one) and
//! recounts. A stream peer can also die *outside* the lock, while waiting for space or
//! data, so every wait during a stream wakes at least every [`PEER_CHECK`] and checks
//! the peer's pid: a dead writer's half item is dropped; a dead reader's item counts as
//! taken and its remaining bytes are discarded.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

use multiproc_shared::Segment;
use multiproc_shared::words::{Acquire, CondvarWord, LockWord};

use crate::error::Error;
use crate::sys;

/// How often a wait during a stream checks that the peer process lives.
const PEER_CHECK: Duration = Duration::from_millis(50);

/// `stream_reader` value after the reader died: the rest of the item is discarded.
const DISCARD: u64 = u64::MAX;

const RECORD_HEADER: usize = 4;

// Header layout (byte offsets).
const LOCK: usize = 0;
const NOT_EMPTY: usize = 8;
const NOT_FULL: usize = 16;
const ALL_DONE: usize = 24;
const HEAD: usize = 32;
const TAIL: usize = 40;
const ITEMS: usize = 48;
const MAXSIZE: usize = 56;
const CAPACITY: usize = 64;
const CLOSED: usize = 72;
const UNFINISHED: usize = 80;
const STREAM_TOTAL: usize = 88;
const STREAM_WRITER: usize = 96;
const STREAM_READER: usize = 104;
const STREAM_WRITTEN: usize = 112;
const STREAM_READ: usize = 120;
const STREAM_GENERATION: usize = 128;
/// Processes inside `wait(NOT_EMPTY)` / `wait(NOT_FULL)`: a put or get calls the condition
/// variable (an atomic read-modify-write on a shared line, maybe a futex syscall) only
/// when somebody sleeps on it.
const NOT_EMPTY_WAITERS: usize = 136;
const NOT_FULL_WAITERS: usize = 144;
/// The ring starts on its own cache lines.
const RING: usize = 192;

/// Default ring size. Larger items stream through it, which keeps pace with a copy in one
/// piece (items of 1 MiB: 4.1-4.7 GB/s typed, 7.2-8.7 GB/s as bytes, against 4.8-5.6 and
/// 5.1-5.8 with a 4 MiB ring; 256 KiB drops to 2.1-2.7), while a new queue fills 1 MiB
/// (about 1.3 ms) instead of 4 (`cargo run --release -p multiproc-bench -- --filter queue`).
pub(crate) const DEFAULT_RING_BYTES: usize = 1 << 20;

/// A shared byte ring. Cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    segment: Segment,
    /// The ring's size in bytes (fixed at creation; also in the header, for checks).
    capacity: u64,
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

fn pid() -> u64 {
    u64::from(std::process::id())
}

impl Ring {
    pub(crate) fn new(maxsize: Option<usize>, ring_bytes: usize) -> Result<Ring, Error> {
        let ring_bytes = ring_bytes.max(64);
        let segment = Segment::new(RING + ring_bytes)?;
        let ring = Ring {
            segment,
            capacity: ring_bytes as u64,
        };
        ring.counter(CAPACITY).store(ring_bytes as u64, SeqCst);
        let maxsize = maxsize.map_or(u64::MAX, |n| n.max(1) as u64);
        ring.counter(MAXSIZE).store(maxsize, SeqCst);
        Ok(ring)
    }

    pub(crate) fn segment(&self) -> &Segment {
        &self.segment
    }

    pub(crate) fn from_segment(segment: Segment) -> Result<Ring, Error> {
        let capacity = segment.len().saturating_sub(RING) as u64;
        let ring = Ring { segment, capacity };
        if ring.segment.len() <= RING || ring.counter(CAPACITY).load(SeqCst) != capacity {
            return Err(Error::Decode("not a queue segment".into()));
        }
        Ok(ring)
    }

    fn counter(&self, offset: usize) -> &AtomicU64 {
        sys::counter(&self.segment, offset)
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

    fn lock(&self) -> &LockWord {
        self.segment.word(LOCK)
    }

    fn cond(&self, offset: usize) -> &CondvarWord {
        self.segment.word(offset)
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn acquire(&self, deadline: Option<Instant>) -> Option<Held<'_>> {
        match self.lock().acquire_spinning(deadline) {
            Acquire::Acquired => Some(Held { ring: self }),
            Acquire::OwnerDied => {
                let held = Held { ring: self };
                self.repair();
                Some(held)
            }
            Acquire::TimedOut => None,
        }
    }

    /// Sleeps on `cond` until notified or `deadline`; during a stream, wakes at least
    /// every [`PEER_CHECK`] to check the stream's peers.
    fn wait(&self, cond: usize, deadline: Option<Instant>) -> Waited {
        let streaming = self.load(STREAM_TOTAL) > 0;
        let capped = if streaming {
            let check = Instant::now() + PEER_CHECK;
            Some(deadline.map_or(check, |d| d.min(check)))
        } else {
            deadline
        };
        let waiters = match cond {
            NOT_EMPTY => Some(NOT_EMPTY_WAITERS),
            NOT_FULL => Some(NOT_FULL_WAITERS),
            _ => None,
        };
        if let Some(waiters) = waiters {
            self.add(waiters, 1);
        }
        let outcome = self.cond(cond).wait(self.lock(), capped);
        if let Some(waiters) = waiters {
            // A waiter that died asleep left its count behind: harmless, it only costs
            // a needless notify until the queue is dropped.
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

    /// Wakes one consumer, if one sleeps. Under the lock.
    fn notify_not_empty(&self) {
        if self.load(NOT_EMPTY_WAITERS) > 0 {
            self.cond(NOT_EMPTY).notify_one();
        }
    }

    /// Wakes every producer, if one sleeps. Under the lock.
    fn notify_not_full(&self) {
        if self.load(NOT_FULL_WAITERS) > 0 {
            self.cond(NOT_FULL).notify_all();
        }
    }

    /// Copies `bytes` in at position `position`, wrapping around.
    fn copy_in(&self, position: u64, bytes: &[u8]) {
        let capacity = self.capacity() as usize;
        let start = (position % capacity as u64) as usize;
        let first = bytes.len().min(capacity - start);
        sys::write_bytes(&self.segment, RING + start, &bytes[..first]);
        if first < bytes.len() {
            sys::write_bytes(&self.segment, RING, &bytes[first..]);
        }
    }

    /// Copies `out.len()` bytes from position `position`, wrapping around.
    fn copy_out(&self, position: u64, out: &mut [u8]) {
        let capacity = self.capacity() as usize;
        let start = (position % capacity as u64) as usize;
        let first = out.len().min(capacity - start);
        sys::read_bytes(&self.segment, RING + start, &mut out[..first]);
        if first < out.len() {
            sys::read_bytes(&self.segment, RING, &mut out[first..]);
        }
    }

    /// Appends `len` bytes from position `position` to `out`, wrapping around (no
    /// zero-filling of `out` first).
    fn append_out(&self, position: u64, len: usize, out: &mut Vec<u8>) {
        let capacity = self.capacity() as usize;
        let start = (position % capacity as u64) as usize;
        let first = len.min(capacity - start);
        sys::append_bytes(&self.segment, RING + start, first, out);
        if first < len {
            sys::append_bytes(&self.segment, RING, len - first, out);
        }
    }

    fn record_len(&self, position: u64) -> u64 {
        let mut header = [0u8; RECORD_HEADER];
        self.copy_out(position, &mut header);
        u64::from(u32::from_le_bytes(header))
    }

    /// Restores the invariants after a process died holding the lock.
    fn repair(&self) {
        let (head, tail) = (self.load(HEAD), self.load(TAIL));
        if self.load(STREAM_TOTAL) > 0 {
            self.check_stream_peers();
        } else if tail < head || tail - head > self.capacity() {
            self.store(TAIL, head);
            self.store(ITEMS, 0);
        } else {
            let mut position = head;
            let mut items = 0;
            while tail - position >= RECORD_HEADER as u64 {
                let end = position + RECORD_HEADER as u64 + self.record_len(position);
                if end > tail {
                    break;
                }
                position = end;
                items += 1;
            }
            // Whatever follows the last whole record is a half-written item: drop it.
            self.store(TAIL, position);
            self.store(ITEMS, items);
        }
        self.notify_all();
    }

    /// During a stream: drops the item if its writer died, discards the rest of it if
    /// its reader died. Called with the lock held.
    fn check_stream_peers(&self) {
        if self.load(STREAM_TOTAL) == 0 {
            return;
        }
        let writer = self.load(STREAM_WRITER);
        if writer != 0 && !multiproc_sys::process::is_alive(writer as u32) {
            if self.load(STREAM_READER) == 0 {
                // Nobody took it yet: it leaves the queue as if never put.
                self.counter(ITEMS).fetch_sub(1, SeqCst);
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

    fn end_stream(&self) {
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

    /// Appends one item. `Err(Full)` when `deadline` passes first.
    pub(crate) fn put(&self, bytes: &[u8], deadline: Option<Instant>) -> Result<(), Error> {
        let need = (RECORD_HEADER + bytes.len()) as u64;
        if need > self.capacity() || u32::try_from(bytes.len()).is_err() {
            return self.put_streaming(bytes, deadline);
        }
        let _held = self.acquire(deadline).ok_or(Error::Full)?;
        loop {
            if self.load(CLOSED) != 0 {
                return Err(Error::Closed);
            }
            let used = self.load(TAIL) - self.load(HEAD);
            if self.load(STREAM_TOTAL) == 0
                && self.load(ITEMS) < self.load(MAXSIZE)
                && self.capacity() - used >= need
            {
                break;
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline) {
                return Err(Error::Full);
            }
        }
        let tail = self.load(TAIL);
        self.copy_in(tail, &(bytes.len() as u32).to_le_bytes());
        self.copy_in(tail + RECORD_HEADER as u64, bytes);
        self.store(TAIL, tail + need);
        self.add(ITEMS, 1);
        self.add(UNFINISHED, 1);
        self.notify_not_empty();
        Ok(())
    }

    fn put_streaming(&self, bytes: &[u8], deadline: Option<Instant>) -> Result<(), Error> {
        let _held = self.acquire(deadline).ok_or(Error::Full)?;
        loop {
            if self.load(CLOSED) != 0 {
                return Err(Error::Closed);
            }
            if self.load(STREAM_TOTAL) == 0 && self.load(ITEMS) == 0 {
                break;
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline) {
                return Err(Error::Full);
            }
        }
        let total = bytes.len() as u64;
        self.store(STREAM_WRITTEN, 0);
        self.store(STREAM_READ, 0);
        self.store(STREAM_READER, 0);
        self.store(STREAM_WRITER, pid());
        self.store(STREAM_TOTAL, total);
        let generation = self.load(STREAM_GENERATION);
        self.counter(ITEMS).fetch_add(1, SeqCst);
        self.counter(UNFINISHED).fetch_add(1, SeqCst);
        loop {
            if self.load(STREAM_GENERATION) != generation {
                // Ended by someone else: only a dead reader's discard ends it early.
                return Ok(());
            }
            let written = self.load(STREAM_WRITTEN);
            if self.load(STREAM_READER) == DISCARD {
                // The reader died holding the item; it counts as delivered.
                self.store(HEAD, self.load(TAIL));
                self.end_stream();
                return Ok(());
            }
            let free = self.capacity() - (self.load(TAIL) - self.load(HEAD));
            let chunk = free.min(total - written) as usize;
            if chunk > 0 {
                let tail = self.load(TAIL);
                self.copy_in(tail, &bytes[written as usize..written as usize + chunk]);
                self.store(TAIL, tail + chunk as u64);
                self.store(STREAM_WRITTEN, written + chunk as u64);
                self.cond(NOT_EMPTY).notify_all();
            }
            if self.load(STREAM_WRITTEN) == total {
                self.store(STREAM_WRITER, 0);
                return Ok(());
            }
            if let Waited::DeadlinePassed = self.wait(NOT_FULL, deadline)
                && self.load(STREAM_GENERATION) == generation
                && self.load(STREAM_READER) == 0
            {
                // Nobody has started reading: take the item back.
                self.store(TAIL, self.load(HEAD));
                self.counter(ITEMS).fetch_sub(1, SeqCst);
                self.counter(UNFINISHED).fetch_sub(1, SeqCst);
                self.end_stream();
                return Err(Error::Full);
            }
        }
    }

    /// Removes the oldest item into `out` (cleared first). `Err(Empty)` when `deadline`
    /// passes first, `Err(Closed)` when the queue is closed and drained.
    pub(crate) fn get(&self, out: &mut Vec<u8>, deadline: Option<Instant>) -> Result<(), Error> {
        out.clear();
        let _held = self.acquire(deadline).ok_or(Error::Empty)?;
        loop {
            let items = self.load(ITEMS);
            if self.load(STREAM_TOTAL) > 0 {
                if self.load(STREAM_READER) == 0 && items > 0 {
                    if self.read_stream(out) {
                        return Ok(());
                    }
                    out.clear();
                    continue;
                }
            } else if items > 0 {
                let head = self.load(HEAD);
                let len = self.record_len(head) as usize;
                out.reserve_exact(len);
                self.append_out(head + RECORD_HEADER as u64, len, out);
                self.store(HEAD, head + (RECORD_HEADER + len) as u64);
                self.add(ITEMS, -1);
                self.notify_not_full();
                return Ok(());
            } else if self.load(CLOSED) != 0 {
                return Err(Error::Closed);
            }
            if let Waited::DeadlinePassed = self.wait(NOT_EMPTY, deadline) {
                return Err(Error::Empty);
            }
        }
    }

    /// Claims the streaming item and reads it to the end. Returns `false` if its writer
    /// died before finishing (the half item is dropped). Once claimed, the item is read to
    /// completion whatever the caller's deadline: its producer is known to be writing.
    fn read_stream(&self, out: &mut Vec<u8>) -> bool {
        let generation = self.load(STREAM_GENERATION);
        let total = self.load(STREAM_TOTAL);
        self.store(STREAM_READER, pid());
        self.counter(ITEMS).fetch_sub(1, SeqCst);
        out.reserve_exact(total as usize);
        loop {
            if self.load(STREAM_GENERATION) != generation {
                return false;
            }
            let (head, tail) = (self.load(HEAD), self.load(TAIL));
            let available = (tail - head) as usize;
            if available > 0 {
                self.append_out(head, available, out);
                self.store(HEAD, tail);
                self.counter(STREAM_READ)
                    .fetch_add(available as u64, SeqCst);
                self.cond(NOT_FULL).notify_all();
            }
            if self.load(STREAM_READ) == total {
                self.end_stream();
                return true;
            }
            self.wait(NOT_EMPTY, None);
        }
    }

    /// Items in the queue now (exact: updated under the lock with every put and get).
    pub(crate) fn len(&self) -> usize {
        self.load(ITEMS) as usize
    }

    pub(crate) fn maxsize(&self) -> Option<usize> {
        match self.load(MAXSIZE) {
            u64::MAX => None,
            n => Some(n as usize),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.load(ITEMS) >= self.load(MAXSIZE)
    }

    pub(crate) fn close(&self) {
        let _held = self.acquire(None);
        self.store(CLOSED, 1);
        self.notify_all();
        self.cond(ALL_DONE).notify_all();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.load(CLOSED) != 0
    }

    pub(crate) fn task_done(&self) -> Result<(), Error> {
        let _held = self.acquire(None);
        let left = self
            .counter(UNFINISHED)
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map_err(|_| Error::TaskDoneTooOften)?;
        if left == 1 {
            self.cond(ALL_DONE).notify_all();
        }
        Ok(())
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.load(UNFINISHED) as usize
    }

    /// Waits until every item put has been marked done. Returns `false` on timeout.
    pub(crate) fn join(&self, deadline: Option<Instant>) -> bool {
        let Some(_held) = self.acquire(deadline) else {
            return false;
        };
        while self.load(UNFINISHED) > 0 {
            if let Waited::DeadlinePassed = self.wait(ALL_DONE, deadline) {
                return self.load(UNFINISHED) == 0;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around() {
        let ring = Ring::new(None, 64).unwrap();
        let mut out = Vec::new();
        for round in 0..100u32 {
            let item = vec![round as u8; (round % 40) as usize];
            ring.put(&item, None).unwrap();
            ring.get(&mut out, None).unwrap();
            assert_eq!(out, item);
        }
        assert_eq!(ring.len(), 0);
    }

    #[test]
    fn a_dead_lock_holder_is_taken_over_and_whole_items_are_kept() {
        let ring = Ring::new(None, 4096).unwrap();
        ring.put(b"one", None).unwrap();
        ring.put(b"two", None).unwrap();
        let child = multiproc_test_support::fork({
            let ring = ring.clone();
            move || {
                // A put that dies holding the lock, after writing its record and moving the
                // tail but before counting the item.
                assert_eq!(ring.lock().acquire(None), Acquire::Acquired);
                let tail = ring.load(TAIL);
                let record = [&3u32.to_le_bytes()[..], b"thr"].concat();
                ring.copy_in(tail, &record);
                ring.store(TAIL, tail + record.len() as u64);
            }
        });
        assert_eq!(child.wait(), 0);
        assert_eq!(ring.len(), 2, "the dead put did not count its item");
        let mut out = Vec::new();
        let deadline = Some(Instant::now() + Duration::from_secs(10));
        for expected in [b"one", b"two", b"thr"] {
            ring.get(&mut out, deadline).unwrap();
            assert_eq!(out, expected);
        }
        assert_eq!(ring.len(), 0);
        assert!(matches!(
            ring.get(&mut out, Some(Instant::now())),
            Err(Error::Empty)
        ));
    }

    #[test]
    fn streams_items_larger_than_the_ring() {
        let ring = Ring::new(None, 64).unwrap();
        let item: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let reader = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                ring.get(&mut out, None).unwrap();
                out
            })
        };
        ring.put(&item, None).unwrap();
        assert_eq!(reader.join().unwrap(), item);
    }
}
