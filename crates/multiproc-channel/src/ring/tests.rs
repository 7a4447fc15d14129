//! Unit tests of the ring in one process.

use std::time::Duration;

use super::*;

#[test]
fn wraps_around() {
    let ring = Ring::new(None, 64).unwrap();
    let mut out = Vec::new();
    for round in 0..100u32 {
        let item = vec![round as u8; (round % 40) as usize];
        ring.put(&item, Deadline::Never).unwrap();
        ring.get(&mut out, Deadline::Never).unwrap();
        assert_eq!(out, item);
    }
    assert_eq!(ring.len(), 0);
}

#[test]
fn a_dead_lock_holder_is_taken_over_and_whole_items_are_kept() {
    let ring = Ring::new(None, 4096).unwrap();
    ring.put(b"one", Deadline::Never).unwrap();
    ring.put(b"two", Deadline::Never).unwrap();
    let child = multiproc_test_support::fork({
        let ring = ring.clone();
        move || {
            // A put that dies holding the lock, after writing its record and moving the
            // tail but before counting the item.
            assert_eq!(ring.lock().acquire(None), Acquire::Acquired);
            let tail = ring.load(TAIL);
            let record = [&3u32.to_le_bytes()[..], b"thr"].concat();
            ring.copy_in(tail, &record).unwrap();
            ring.store(TAIL, tail + record.len() as u64);
        }
    });
    assert_eq!(child.wait(), 0);
    assert_eq!(ring.len(), 2, "the dead put did not count its item");
    let mut out = Vec::new();
    let deadline = Some(Instant::now() + Duration::from_secs(10));
    for expected in [b"one", b"two", b"thr"] {
        ring.get(&mut out, deadline.into()).unwrap();
        assert_eq!(out, expected);
    }
    assert_eq!(ring.len(), 0);
    assert!(matches!(
        ring.get(&mut out, Deadline::At(Instant::now())),
        Err(QueueError::Empty)
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
            ring.get(&mut out, Deadline::Never).unwrap();
            out
        })
    };
    ring.put(&item, Deadline::Never).unwrap();
    assert_eq!(reader.join().unwrap(), item);
}

/// Bounded random input for the fuzz entry points, with header words biased towards
/// the small values where records and streams almost make sense.
#[test]
fn fuzz_entries_survive_random_headers() {
    let mut rng = multiproc_test_support::Rng(0x5eed_0f41_96a7);
    let mut valid = 0;
    for round in 0..20_000 {
        let mut input = Vec::new();
        for _ in 0..5 {
            let word = match rng.next_u64() % 4 {
                0 => rng.next_u64(),
                1 => rng.next_u64() % 8,
                _ => rng.next_u64() % 300,
            };
            input.extend_from_slice(&word.to_le_bytes());
        }
        input.push(rng.next_u64() as u8);
        input.extend(rng.bytes(300));
        let entry = if round % 2 == 0 {
            fuzz_ring_record
        } else {
            fuzz_ring_stream
        };
        if entry(&input).is_ok() {
            valid += 1;
        }
    }
    assert!(valid > 0, "no random input was a consistent ring");
}

#[test]
fn stream_buffers_grow_with_the_bytes_and_stop_at_the_total() {
    let mut out = Vec::new();
    let mut capacities = Vec::new();
    while out.len() < 1000 {
        let incoming = 300.min(1000 - out.len());
        grow_for(&mut out, incoming, 1000);
        out.extend(std::iter::repeat_n(0u8, incoming));
        capacities.push(out.capacity());
    }
    assert_eq!(capacities, [300, 600, 1000, 1000]);
}

/// A record of `len` bytes, each one `fill`.
fn record_of(len: usize, fill: u8) -> Vec<u8> {
    vec![fill; len]
}

#[test]
fn a_record_copied_ahead_is_taken_when_it_is_still_the_oldest() {
    let ring = Ring::new(None, 8192).unwrap();
    ring.put(&record_of(1000, b'a'), Deadline::Never).unwrap();
    ring.put(&record_of(1000, b'b'), Deadline::Never).unwrap();
    let mut out = Vec::new();
    let ahead = ring
        .copy_ahead(&mut out, false)
        .expect("a long record is copied ahead");
    assert_eq!(out, record_of(1000, b'a'));
    let (skipped, owed) = ring
        .get_locked(&mut out, &mut Deadline::Never, false, Some(ahead))
        .unwrap();
    owed.pay(&ring);
    assert!(!skipped);
    assert_eq!(out, record_of(1000, b'a'));
    assert_eq!(ring.len(), 1);
    ring.get(&mut out, Deadline::Never).unwrap();
    assert_eq!(out, record_of(1000, b'b'));
}

#[test]
fn a_copy_ahead_is_dropped_when_another_get_took_the_record() {
    let ring = Ring::new(None, 4096).unwrap();
    ring.put(&record_of(1000, b'a'), Deadline::Never).unwrap();
    ring.put(&record_of(1000, b'b'), Deadline::Never).unwrap();
    let mut out = Vec::new();
    let ahead = ring.copy_ahead(&mut out, false).unwrap();
    // Another consumer takes `a`, and a producer reuses its bytes for `c`.
    let mut other = Vec::new();
    ring.get(&mut other, Deadline::Never).unwrap();
    assert_eq!(other, record_of(1000, b'a'));
    ring.put(&record_of(1000, b'c'), Deadline::Never).unwrap();
    ring.put(&record_of(1000, b'd'), Deadline::Never).unwrap();
    let (_, owed) = ring
        .get_locked(&mut out, &mut Deadline::Never, false, Some(ahead))
        .unwrap();
    owed.pay(&ring);
    assert_eq!(
        out,
        record_of(1000, b'b'),
        "the stale copy of `a` was delivered"
    );
    for expected in [b'c', b'd'] {
        ring.get(&mut out, Deadline::Never).unwrap();
        assert_eq!(out, record_of(1000, expected));
    }
    assert_eq!(ring.len(), 0);
}

#[test]
fn a_copy_ahead_is_dropped_after_a_stream_or_a_changed_length() {
    let ring = Ring::new(None, 4096).unwrap();
    ring.put(&record_of(1000, b'a'), Deadline::Never).unwrap();
    let mut out = Vec::new();
    // A stream that ended in between (it could have moved the tail back to this head).
    let ahead = ring.copy_ahead(&mut out, false).unwrap();
    ring.counter(STREAM_GENERATION).fetch_add(1, SeqCst);
    assert!(ring.take_ahead(ahead).unwrap().is_none());
    // The length at the head no longer says what was copied.
    let ahead = ring.copy_ahead(&mut out, false).unwrap();
    let head = ring.load(HEAD);
    ring.copy_in(head, &999u32.to_le_bytes()).unwrap();
    assert!(ring.take_ahead(ahead).unwrap().is_none());
    ring.copy_in(head, &1000u32.to_le_bytes()).unwrap();
    // Short records are copied under the lock.
    ring.get(&mut out, Deadline::Never).unwrap();
    ring.put(&record_of(100, b's'), Deadline::Never).unwrap();
    ring.put(&record_of(1000, b'l'), Deadline::Never).unwrap();
    let mut fresh = Vec::new();
    assert!(ring.copy_ahead(&mut fresh, false).is_none());
    assert!(fresh.is_empty());
}
