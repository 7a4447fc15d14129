//! Fuzz entry points: a ring whose header and bytes a peer has scribbled, read as a consumer
//! would. Not a stable interface.

use std::time::Instant;

use multiproc_shared::Segment;

use super::Ring;
use super::layout::*;
use crate::deadline::Deadline;
use crate::error::QueueError;

/// The ring size of the fuzz entry points: small, so that inputs reach every wrap.
const FUZZ_RING_BYTES: usize = 256;

thread_local! {
    /// One segment per thread, reset for every input: a memfd and a mapping per input
    /// would cost more than the ring operations under test.
    static FUZZ_SEGMENT: std::cell::RefCell<Option<Segment>> = const { std::cell::RefCell::new(None) };
}

/// Takes a little-endian `u64` off the front of `input` (missing bytes read as zero).
fn take_u64(input: &mut &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = input.len().min(8);
    word[..n].copy_from_slice(&input[..n]);
    *input = &input[n..];
    u64::from_le_bytes(word)
}

/// Takes one byte off the front of `input` (zero if none).
fn take_u8(input: &mut &[u8]) -> u8 {
    let (&first, rest) = input.split_first().unwrap_or((&0, &[]));
    *input = rest;
    first
}

/// A fresh, unpoisoned handle on this thread's fuzz ring, every header word but the lock,
/// condition variables, capacity and bound zeroed, and `ring_bytes` in its ring area.
fn fuzz_ring(ring_bytes: &[u8]) -> Result<Ring, QueueError> {
    let segment = FUZZ_SEGMENT.with(|slot| -> Result<Segment, QueueError> {
        let mut slot = slot.borrow_mut();
        if let Some(segment) = slot.as_ref() {
            return Ok(segment.clone());
        }
        let segment = Ring::new(None, FUZZ_RING_BYTES)?.segment;
        *slot = Some(segment.clone());
        Ok(segment)
    })?;
    let ring = Ring::from_segment(segment)?;
    for offset in (HEAD..RING).step_by(8) {
        if offset != CAPACITY && offset != MAXSIZE {
            ring.store(offset, 0);
        }
    }
    let mut area = vec![0u8; FUZZ_RING_BYTES];
    let n = ring_bytes.len().min(FUZZ_RING_BYTES);
    area[..n].copy_from_slice(&ring_bytes[..n]);
    ring.segment.write_at(RING, &area)?;
    Ok(ring)
}

/// Up to eight non-blocking gets, then a non-blocking put, as a consumer and a producer
/// of a scribbled ring would do; `Err` with the first error other than empty, full or
/// closed.
fn fuzz_drive(ring: &Ring) -> Result<(), String> {
    let mut out = Vec::new();
    for _ in 0..8 {
        match ring.get(&mut out, Deadline::At(Instant::now())) {
            Ok(()) => {}
            Err(QueueError::Empty | QueueError::Closed) => break,
            Err(err) => return Err(err.to_string()),
        }
    }
    match ring.put(b"after", Deadline::At(Instant::now())) {
        Ok(()) | Err(QueueError::Full | QueueError::Closed) => Ok(()),
        Err(err) => Err(err.to_string()),
    }
}

/// Fuzz entry: record headers. `bytes` is head, tail and the item count (little-endian
/// `u64`s), a flag byte (bit 0: repair first, as the next locker does after a lock
/// holder died), then the ring's bytes. Any input must give `Ok` or `Err`: never a panic,
/// a hang or an allocation beyond the ring's size.
///
/// ```
/// // Head, tail and item count that do not add up, then a small ring of garbage.
/// let mut input = Vec::new();
/// for word in [u64::MAX, 3, 1_000_000] {
///     input.extend(word.to_le_bytes());
/// }
/// input.push(0);
/// input.extend([0xab; 64]);
/// let _ = multiproc_channel::fuzz_ring_record(&input); // Ok or Err, never a panic
/// ```
#[doc(hidden)]
pub fn fuzz_ring_record(bytes: &[u8]) -> Result<(), String> {
    let mut input = bytes;
    let (head, tail, items) = (
        take_u64(&mut input),
        take_u64(&mut input),
        take_u64(&mut input),
    );
    let flags = take_u8(&mut input);
    let ring = fuzz_ring(input).map_err(|err| err.to_string())?;
    ring.store(HEAD, head);
    ring.store(TAIL, tail);
    ring.store(ITEMS, items);
    if flags & 1 != 0 {
        let _held = ring.acquire(&mut Deadline::Never);
        ring.repair();
    }
    fuzz_drive(&ring)
}

/// Fuzz entry: stream headers. `bytes` is the announced stream length, head, tail, the
/// item count and the bytes written so far (little-endian `u64`s), a flag byte (bit 0:
/// the reader died, bit 1: repair first), then the ring's bytes. The writer is always
/// done (pid 0): a live writer would make the reader wait for its bytes. Any input must
/// give `Ok` or `Err`: never a panic, a hang or an allocation of the announced length.
///
/// ```
/// // A stream announcing 2^62 bytes: refused or drained, never allocated.
/// let mut input = Vec::new();
/// for word in [1u64 << 62, 0, 0, 1, 16] {
///     input.extend(word.to_le_bytes());
/// }
/// input.push(0);
/// input.extend([7; 64]);
/// let _ = multiproc_channel::fuzz_ring_stream(&input);
/// ```
#[doc(hidden)]
pub fn fuzz_ring_stream(bytes: &[u8]) -> Result<(), String> {
    let mut input = bytes;
    let (total, head, tail, items, written) = (
        take_u64(&mut input),
        take_u64(&mut input),
        take_u64(&mut input),
        take_u64(&mut input),
        take_u64(&mut input),
    );
    let flags = take_u8(&mut input);
    let ring = fuzz_ring(input).map_err(|err| err.to_string())?;
    ring.store(STREAM_TOTAL, total);
    ring.store(HEAD, head);
    ring.store(TAIL, tail);
    ring.store(ITEMS, items);
    ring.store(STREAM_WRITTEN, written);
    ring.store(STREAM_WRITER, 0);
    ring.store(STREAM_READER, if flags & 1 != 0 { DISCARD } else { 0 });
    if flags & 2 != 0 {
        let _held = ring.acquire(&mut Deadline::Never);
        ring.repair();
    }
    fuzz_drive(&ring)
}
