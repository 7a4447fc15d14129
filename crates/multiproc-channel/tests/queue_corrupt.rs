//! A hostile peer scribbles on a queue's shared memory: the queue reports
//! `QueueError::Corrupt` on that queue, stays poisoned, and nothing panics, aborts or allocates
//! what the bogus values claim.
//!
//! The peer is a forked child that reaches the ring's bytes without `unsafe`: it finds the
//! queue's memfd among its inherited descriptors (a `/memfd:` link in `/proc/self/fd`
//! whose size no other segment in this binary has: every test picks its own ring size)
//! and writes through `/proc/self/fd/N` with `FileExt::write_at`, as any process of the
//! same user could through `/proc/<pid>/fd/N`. The header offsets come from the
//! `#[doc(hidden)]` `multiproc_channel::ring_layout`, so the test follows the layout.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use common::{LONG, fork};
use multiproc_channel::ring_layout::{
    HEAD, ITEMS, RING, STREAM_READER, STREAM_TOTAL, STREAM_WRITER, TAIL,
};
use multiproc_channel::{JoinableQueue, Queue, QueueError};
use multiproc_test_support::{rss_kib, watchdog};

/// A test that ends in more than this has hung.
const LIMIT: Duration = Duration::from_secs(60);

/// Resident memory may not grow by more than this while a corrupt ring is read.
const RSS_SLACK_KIB: u64 = 64 << 10;

/// In a forked child: writes each `(offset, bytes)` into the segment of `segment_len`
/// bytes, found among this process's memfds.
fn scribble(segment_len: u64, writes: Vec<(usize, Vec<u8>)>) {
    let mut found = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let path = entry.unwrap().path();
        let Ok(target) = std::fs::read_link(&path) else {
            continue;
        };
        if !target.to_string_lossy().starts_with("/memfd:") {
            continue;
        }
        let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
            continue;
        };
        if file.metadata().unwrap().len() != segment_len {
            continue;
        }
        for (offset, bytes) in &writes {
            file.write_all_at(bytes, *offset as u64).unwrap();
        }
        found += 1;
    }
    assert!(
        found > 0,
        "no memfd of {segment_len} bytes in /proc/self/fd"
    );
}

/// Has a forked peer scribble `writes` on the ring of `ring_bytes` bytes, and waits for it.
fn peer_scribbles(ring_bytes: usize, writes: Vec<(usize, Vec<u8>)>) {
    let segment_len = (RING + ring_bytes) as u64;
    fork(move || scribble(segment_len, writes)).join_ok(LONG);
}

fn word(offset: usize, value: u64) -> (usize, Vec<u8>) {
    (offset, value.to_le_bytes().to_vec())
}

/// The message of a `Corrupt` error; fails on anything else.
fn corrupt_message<T: std::fmt::Debug>(result: Result<T, QueueError>, call: &str) -> String {
    match result {
        Err(QueueError::Corrupt(message)) => message,
        other => panic!("{call} on a corrupt queue gave {other:?}, not QueueError::Corrupt"),
    }
}

/// Runs `get_bytes_timeout` on a thread of its own, as a pool's result thread does, and
/// returns its outcome: a panic fails the test.
fn get_on_a_thread(queue: &Queue<()>) -> Result<Vec<u8>, QueueError> {
    let queue = queue.clone();
    std::thread::spawn(move || queue.get_bytes_timeout(Duration::from_millis(200)))
        .join()
        .expect("the thread reading a corrupt queue panicked")
}

/// After the first `Corrupt`, every call that can fail on this queue fails with it too.
fn assert_poisoned(queue: &Queue<()>, first: &str) {
    for _ in 0..2 {
        let again = corrupt_message(queue.get_bytes_timeout(Duration::ZERO), "a later get");
        assert_eq!(again, first, "a later get names another fault");
    }
    corrupt_message(queue.put_bytes(b"more"), "a later put");
    corrupt_message(
        queue.clone().get_bytes_timeout(Duration::ZERO),
        "a clone's get",
    );
}

#[test]
fn a_record_length_larger_than_the_ring_is_corrupt() {
    watchdog(LIMIT, "record length larger than the ring", || {
        const RING_BYTES: usize = 10_008;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        queue.put_bytes(b"hello").unwrap();
        // The record starts at ring position 0.
        peer_scribbles(RING_BYTES, vec![(RING, u32::MAX.to_le_bytes().to_vec())]);
        let before = rss_kib();
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("record length 4294967295"), "{message}");
        assert!(
            rss_kib() < before + RSS_SLACK_KIB,
            "a claimed size was allocated"
        );
        assert_poisoned(&queue, &message);
    });
}

#[test]
fn a_record_length_past_the_written_bytes_is_corrupt() {
    watchdog(LIMIT, "record length past the written bytes", || {
        const RING_BYTES: usize = 10_016;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        queue.put_bytes(b"hello").unwrap();
        // Shorter than the ring, longer than the five bytes written.
        peer_scribbles(RING_BYTES, vec![(RING, 100u32.to_le_bytes().to_vec())]);
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("record length 100"), "{message}");
        assert_poisoned(&queue, &message);
    });
}

#[test]
fn a_stream_length_of_2_pow_62_is_corrupt_and_allocates_nothing() {
    watchdog(LIMIT, "stream length of 2^62", || {
        const RING_BYTES: usize = 10_024;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        // A stream "in progress": 2^62 bytes announced, a writer that says it finished
        // (pid 0), nobody reading yet, one item counted.
        peer_scribbles(
            RING_BYTES,
            vec![
                word(STREAM_TOTAL, 1 << 62),
                word(STREAM_WRITER, 0),
                word(STREAM_READER, 0),
                word(ITEMS, 1),
            ],
        );
        let before = rss_kib();
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(
            message.contains(&format!("stream length {}", 1u64 << 62)),
            "{message}"
        );
        assert!(
            rss_kib() < before + RSS_SLACK_KIB,
            "a claimed size was allocated"
        );
        assert_poisoned(&queue, &message);
    });
}

#[test]
fn a_stream_length_beyond_any_item_is_corrupt() {
    watchdog(LIMIT, "stream length beyond isize::MAX", || {
        const RING_BYTES: usize = 10_032;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        peer_scribbles(
            RING_BYTES,
            vec![word(STREAM_TOTAL, u64::MAX - 1), word(ITEMS, 1)],
        );
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(
            message.contains("exceeds the largest possible item"),
            "{message}"
        );
    });
}

#[test]
fn a_stream_shorter_than_the_bytes_in_the_ring_is_corrupt() {
    watchdog(LIMIT, "stream shorter than its bytes", || {
        const RING_BYTES: usize = 10_040;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        // 10 bytes announced, 500 between head and tail.
        peer_scribbles(
            RING_BYTES,
            vec![word(STREAM_TOTAL, 10), word(TAIL, 500), word(ITEMS, 1)],
        );
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("stream length 10"), "{message}");
    });
}

#[test]
fn a_head_beyond_the_tail_is_corrupt_for_get_and_put() {
    watchdog(LIMIT, "head beyond tail", || {
        const RING_BYTES: usize = 10_048;
        let queue = JoinableQueue::<()>::with_capacity(None, RING_BYTES).unwrap();
        queue.put_bytes(b"hello").unwrap();
        peer_scribbles(RING_BYTES, vec![word(HEAD, 1_000)]);
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("head 1000 and tail 9"), "{message}");
        assert_poisoned(&queue, &message);
        corrupt_message(queue.task_done(), "task_done");
        corrupt_message(queue.join_timeout(Duration::from_secs(1)), "join_timeout");
        corrupt_message(queue.join(), "join");
    });
}

#[test]
fn a_tail_more_than_a_ring_ahead_is_corrupt_for_put() {
    watchdog(LIMIT, "tail more than a ring ahead", || {
        const RING_BYTES: usize = 10_056;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        peer_scribbles(RING_BYTES, vec![word(TAIL, u64::MAX)]);
        let message = corrupt_message(queue.put_bytes(b"hello"), "put");
        assert!(message.contains(&format!("tail {}", u64::MAX)), "{message}");
        assert_poisoned(&queue, &message);
    });
}

#[test]
fn items_counted_in_an_empty_ring_are_corrupt() {
    watchdog(LIMIT, "items counted in an empty ring", || {
        const RING_BYTES: usize = 10_064;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        peer_scribbles(RING_BYTES, vec![word(ITEMS, u64::MAX)]);
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("but only 0 bytes"), "{message}");
    });
}

#[test]
fn a_stream_length_cut_under_a_live_writer_is_corrupt_and_the_writer_finishes() {
    watchdog(LIMIT, "stream length cut under a live writer", || {
        const RING_BYTES: usize = 10_072;
        let queue = Queue::<()>::with_capacity(None, RING_BYTES).unwrap();
        let writer = {
            let queue = queue.clone();
            // Ten rings' worth: the writer fills the ring and waits for room.
            fork(move || queue.put_bytes(&vec![7; 10 * RING_BYTES]).unwrap())
        };
        // The writer counts its item when it starts the stream, after announcing its length.
        while queue.is_empty() {
            std::thread::yield_now();
        }
        peer_scribbles(RING_BYTES, vec![word(STREAM_TOTAL, 100)]);
        let message = corrupt_message(get_on_a_thread(&queue), "get");
        assert!(message.contains("stream length 100"), "{message}");
        // The reader gave the item up as a dead reader would: the writer is not left
        // waiting for room that never comes.
        writer.join_ok(LONG);
        assert_poisoned(&queue, &message);
    });
}
