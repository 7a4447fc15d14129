//! Unit tests of the ring in one process.

use std::time::Duration;

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
            ring.copy_in(tail, &record).unwrap();
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
            ring.get(&mut out, None).unwrap();
            out
        })
    };
    ring.put(&item, None).unwrap();
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
