//! A queue ring's layout in its segment, and the checks that every position and length read
//! from that shared memory must pass before it is used (another process may have written
//! anything there).

use std::time::Duration;

/// How often a wait during a stream checks that the peer process lives.
pub(super) const PEER_CHECK: Duration = Duration::from_millis(50);

/// `stream_reader` value after the reader died: the rest of the item is discarded.
pub(super) const DISCARD: u64 = u64::MAX;

/// Bytes before each record: its length, a little-endian `u32`.
///
/// ```
/// assert_eq!(multiproc_channel::ring_layout::RECORD_HEADER, size_of::<u32>());
/// ```
pub const RECORD_HEADER: usize = 4;

// Header layout (byte offsets).
pub(super) const LOCK: usize = 0;
pub(super) const NOT_EMPTY: usize = 8;
pub(super) const NOT_FULL: usize = 16;
pub(super) const ALL_DONE: usize = 24;
/// Header word: the ring position of the next read (ever growing).
///
/// ```
/// use multiproc_channel::ring_layout::HEAD;
/// assert_eq!(HEAD % 8, 0); // an aligned u64 word
/// ```
pub const HEAD: usize = 32;
/// Header word: the ring position of the next write (ever growing).
///
/// ```
/// use multiproc_channel::ring_layout::{HEAD, TAIL};
/// assert_eq!(TAIL, HEAD + 8);
/// ```
pub const TAIL: usize = 40;
/// Header word: items in the queue.
///
/// ```
/// use multiproc_channel::ring_layout::{ITEMS, TAIL};
/// assert_eq!(ITEMS, TAIL + 8);
/// ```
pub const ITEMS: usize = 48;
pub(super) const MAXSIZE: usize = 56;
pub(super) const CAPACITY: usize = 64;
pub(super) const CLOSED: usize = 72;
pub(super) const UNFINISHED: usize = 80;
/// Header word: the length of the item streaming through the ring, 0 if none.
///
/// ```
/// use multiproc_channel::ring_layout::{RING, STREAM_TOTAL};
/// assert!(STREAM_TOTAL < RING);
/// ```
pub const STREAM_TOTAL: usize = 88;
/// Header word: the streaming item's writer's pid, 0 once it wrote it all.
///
/// ```
/// use multiproc_channel::ring_layout::{STREAM_TOTAL, STREAM_WRITER};
/// assert_eq!(STREAM_WRITER, STREAM_TOTAL + 8);
/// ```
pub const STREAM_WRITER: usize = 96;
/// Header word: the streaming item's reader's pid, 0 before one claims it.
///
/// ```
/// use multiproc_channel::ring_layout::{STREAM_READER, STREAM_WRITER};
/// assert_eq!(STREAM_READER, STREAM_WRITER + 8);
/// ```
pub const STREAM_READER: usize = 104;
/// Header word: bytes of the streaming item written so far.
///
/// ```
/// use multiproc_channel::ring_layout::{STREAM_READER, STREAM_WRITTEN};
/// assert_eq!(STREAM_WRITTEN, STREAM_READER + 8);
/// ```
pub const STREAM_WRITTEN: usize = 112;
pub(super) const STREAM_READ: usize = 120;
pub(super) const STREAM_GENERATION: usize = 128;
/// Processes inside `wait(NOT_EMPTY)` / `wait(NOT_FULL)`: a put or get calls the condition
/// variable (an atomic read-modify-write on a shared line, maybe a futex syscall) only
/// when somebody sleeps on it.
pub(super) const NOT_EMPTY_WAITERS: usize = 136;
pub(super) const NOT_FULL_WAITERS: usize = 144;
/// Of those waiters, how many a put or get has woken and that have not run yet: a
/// notify goes out only while the waiters outnumber them. A woken process can take a
/// while to be scheduled on a busy machine, and every put or get meanwhile would
/// otherwise make another futex wake call on its behalf (`perf stat -e
/// syscalls:sys_enter_futex` of 200k items of 4 KiB: 1.8 calls per item, nearly all
/// wakes that found nobody asleep).
///
/// Tried and dropped, for a waiter about to sleep: spinning up to 400 `pause` rounds on
/// the header first (4 KiB items no faster, 1 MiB items 10% more CPU time); and one
/// `sched_yield` first, which helps when producer and consumer share one CPU (`taskset -c
/// 0`, 20k items of 4 KiB: 2937 context switches down to 152) but on the shared 2-core
/// machine hands the CPU to other processes (`channel/queue_vec_u8_4k` 6.5 GB/s down to
/// 2.2-5.6 in alternating runs).
pub(super) const NOT_EMPTY_WOKEN: usize = 152;
pub(super) const NOT_FULL_WOKEN: usize = 160;
/// Where the ring area starts (on its own cache lines).
///
/// ```
/// use multiproc_channel::ring_layout::RING;
/// assert_eq!(RING % 64, 0); // the ring area starts on its own cache line
/// ```
pub const RING: usize = 192;

/// Default ring size: 1 MiB, plus 64 KiB so that an item of a round 1 MiB (with its
/// 4-byte record header and, for a typed `Vec<u8>` or `String`, its postcard length
/// prefix) goes whole instead of streaming.
///
/// Through a ring of exactly 1 MiB every such item streamed, and a stream costs both
/// sides turns: the writer fills the ring, sleeps until the reader drained it, writes the
/// last few bytes, sleeps again until the stream ends; the reader sleeps twice too. On a
/// loaded machine each sleep is a trip through the scheduler. Whole, the item is one lock
/// round trip and one copy on each side and one sleep per item (`perf record` of
/// `channel/queue_vec_u8_1m`: the two 8-byte copy loops, `Mapping::write_at` and
/// `Mapping::append_to`, are 25% of all samples, first-touch faults under 1%; the rest is
/// the scheduler and the floor's socket copies). Measured on the 2-core machine under a
/// load of 11-12, 7 repeats of 200 items, medians: `Queue<Vec<u8>>` of 1 MiB went from
/// 3.1-4.5 GB/s to 5.4-7.3 GB/s; `put_bytes` of 1 MiB stayed at 8.6-9.5 GB/s
/// (`cargo run --release -p multiproc-bench -- --no-python --filter channel/queue_vec_u8_1m`).
///
/// Tried and dropped: streaming in quarter-ring pieces copied outside the lock, so that
/// writer and reader copy at once. On that loaded machine it *halved* the throughput of
/// 1 MiB items (1.4-1.7 GB/s against 3.5-5.7): every piece is one more sleep and wake of
/// each side, and the two sides rarely run at the same time there. Earlier figures:
/// a 4 MiB ring helped typed items (4.8-5.6 GB/s against 4.1-4.7) and hurt `put_bytes`
/// ones (5.1-5.8 against 7.2-8.7); 256 KiB dropped to 2.1-2.7. A new queue fills its
/// ring (about 1.4 ms for this one) before the first item.
pub(crate) const DEFAULT_RING_BYTES: usize = (1 << 20) + (64 << 10);

/// The bytes between `head` and `tail`, if the tail is not behind the head and at most
/// `capacity` ahead of it.
pub(super) fn checked_span(head: u64, tail: u64, capacity: u64) -> Option<u64> {
    tail.checked_sub(head).filter(|&used| used <= capacity)
}

/// The size of a record whose length field says `len`, if it lies inside the `used`
/// bytes between head and tail.
pub(super) fn checked_record(len: u64, used: u64) -> Option<u64> {
    (RECORD_HEADER as u64)
        .checked_add(len)
        .filter(|&record| record <= used)
}

/// Whether a record of `need` bytes fits after `used` bytes of a `capacity`-byte ring.
pub(super) fn fits(need: u64, used: u64, capacity: u64) -> bool {
    capacity.checked_sub(used).is_some_and(|free| free >= need)
}

/// Makes room in `out` for `incoming` more bytes of a `total`-byte item: doubling as a
/// `Vec` does, but never past `total`, which the bytes that arrived show to be at least
/// `out.len() + incoming`.
pub(super) fn grow_for(out: &mut Vec<u8>, incoming: usize, total: usize) {
    let needed = out.len().saturating_add(incoming);
    if needed > out.capacity() {
        let target = out.capacity().saturating_mul(2).min(total).max(needed);
        out.reserve_exact(target - out.len());
    }
}
