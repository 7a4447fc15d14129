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
/// Where the ring area starts (on its own cache lines).
///
/// ```
/// use multiproc_channel::ring_layout::RING;
/// assert_eq!(RING % 64, 0); // the ring area starts on its own cache line
/// ```
pub const RING: usize = 192;

/// Default ring size. Larger items stream through it, which keeps pace with a copy in one
/// piece (items of 1 MiB: 4.1-4.7 GB/s typed, 7.2-8.7 GB/s as bytes, against 4.8-5.6 and
/// 5.1-5.8 with a 4 MiB ring; 256 KiB drops to 2.1-2.7), while a new queue fills 1 MiB
/// (about 1.3 ms) instead of 4 (`cargo run --release -p multiproc-bench -- --filter queue`).
pub(crate) const DEFAULT_RING_BYTES: usize = 1 << 20;

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
