//! A worker's results are hostile input to the pool: a task that scribbles over its own
//! worker's shared-memory result ring, or whose result bytes are garbage, fails with a clear
//! error (and with it, at most, the other tasks in flight on that worker), the parent does not
//! panic, and the pool goes on serving.
//!
//! The scribbling needs no test hook and no `unsafe`: the task finds its worker's result ring
//! among its own file descriptors (a memfd of the ring's size whose header names that
//! capacity) and writes into it with `FileExt::write_at`, as any code in the worker could.

mod common;

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::time::Duration;

use multiproc_pool::{Pool, PoolError};
use multiproc_process::{StartMethod, Target};
use multiproc_test_support::watchdog;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const LIMIT: Duration = Duration::from_secs(120);

// The layout of a `multiproc_channel::Queue` ring as the pool's workers use it
// (multiproc-channel `ring.rs`, multiproc-pool `wire/results.rs`).
/// Bytes of the ring's header before the ring proper.
const RING_HEADER: u64 = 192;
/// A pool worker's result ring.
const RING_BYTES: u64 = 64 * 1024;
/// Header words: the next write position, the item count, the capacity.
const TAIL: u64 = 40;
const ITEMS: u64 = 48;
const CAPACITY: u64 = 64;

fn read_u64(file: &File, offset: u64) -> u64 {
    let mut word = [0u8; 8];
    file.read_exact_at(&mut word, offset).unwrap();
    u64::from_le_bytes(word)
}

fn write_u64(file: &File, offset: u64, value: u64) {
    file.write_all_at(&value.to_le_bytes(), offset).unwrap();
}

/// This worker's result ring: the one memfd among its descriptors laid out as one.
fn own_result_ring() -> File {
    let mut rings = Vec::new();
    for entry in fs::read_dir("/proc/self/fd").unwrap() {
        let path = entry.unwrap().path();
        let is_memfd = fs::read_link(&path)
            .is_ok_and(|target| target.to_string_lossy().starts_with("/memfd:"));
        if !is_memfd {
            continue;
        }
        let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
            continue;
        };
        let Ok(meta) = file.metadata() else {
            continue;
        };
        if meta.len() == RING_HEADER + RING_BYTES && read_u64(&file, CAPACITY) == RING_BYTES {
            // Two descriptors may name the same memfd (the one a message carried and the one
            // the segment was mapped through): one ring, counted once.
            if !rings.iter().any(|(ino, _)| *ino == meta.ino()) {
                rings.push((meta.ino(), file));
            }
        }
    }
    assert_eq!(
        rings.len(),
        1,
        "exactly one result ring among the worker's fds"
    );
    rings.pop().map(|(_, file)| file).unwrap()
}

/// Appends a record `[u32 length][body]` to the ring behind the pool's back.
fn append_record(ring: &File, length: u32, body: &[u8]) {
    let tail = read_u64(ring, TAIL);
    let mut record = length.to_le_bytes().to_vec();
    record.extend_from_slice(body);
    for (i, byte) in record.iter().enumerate() {
        let position = (tail + i as u64) % RING_BYTES;
        ring.write_all_at(&[*byte], RING_HEADER + position).unwrap();
    }
    write_u64(ring, TAIL, tail + record.len() as u64);
    write_u64(ring, ITEMS, read_u64(ring, ITEMS) + 1);
}

/// Task: `(x, pid)`; on `x == 5`, first scribbles a record of garbage bytes.
fn garbage_record_on_five(x: u32) -> (u32, u32) {
    if x == 5 {
        append_record(&own_result_ring(), 8, &[0xff; 8]);
    }
    (x, std::process::id())
}

/// Task: `(x, pid)`; on `x == 5`, first scribbles a record whose length runs far past the
/// ring (2 GiB in a 64 KiB ring).
fn bogus_length_on_five(x: u32) -> (u32, u32) {
    if x == 5 {
        append_record(&own_result_ring(), 0x7fff_fff0, &[]);
    }
    (x, std::process::id())
}

fn square(x: u64) -> u64 {
    x * x
}

/// Runs a map of 0..40 with one scribbling task and checks that only the scribbler's
/// worker's tasks fail, with an error naming it, that it was replaced, and that the pool
/// still works.
fn scribbler_fails_only_its_worker<F>(method: StartMethod, task: F)
where
    F: Target<(u32,), Output = (u32, u32)>,
{
    let pool = Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap();
    let results: Vec<Result<(u32, u32), PoolError>> = pool.chunksize(1).imap(task, 0..40).collect();
    let corrupt_pid = match &results[5] {
        Err(PoolError::CorruptResults { pid, detail }) => {
            assert!(detail.contains("ring"), "{method}: {detail}");
            *pid
        }
        other => panic!("{method}: the scribbling task gave {other:?}"),
    };
    let message = results[5].as_ref().unwrap_err().to_string();
    assert!(
        message.contains(&format!("pool worker {corrupt_pid}")),
        "{method}: {message}"
    );
    for (x, result) in results.iter().enumerate() {
        match result {
            Ok((value, _)) => assert_eq!(*value as usize, x, "{method}"),
            Err(PoolError::CorruptResults { pid, .. }) => {
                assert_eq!(
                    *pid, corrupt_pid,
                    "{method}: task {x} failed for another worker"
                )
            }
            Err(e) => panic!("{method}: task {x} failed with {e}"),
        }
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert!(failed < 40, "{method}: the other worker's tasks succeeded");
    assert!(
        !pool.worker_pids().contains(&corrupt_pid),
        "{method}: the corrupt worker was replaced"
    );
    assert_eq!(pool.worker_pids().len(), 2, "{method}");
    assert_eq!(
        pool.map(square, 0..100).unwrap(),
        (0..100).map(square).collect::<Vec<_>>(),
        "{method}: the pool still serves"
    );
}

// Under fork a worker inherits every descriptor of the test process, the other workers'
// rings among them, so the tests pick the start methods where a worker holds only its own.

#[test]
fn a_garbage_record_in_a_result_ring_fails_only_that_workers_tasks() {
    watchdog(LIMIT, "garbage record", || {
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            scribbler_fails_only_its_worker(method, garbage_record_on_five);
        }
    });
}

#[test]
fn a_bogus_record_length_in_a_result_ring_fails_only_that_workers_tasks() {
    watchdog(LIMIT, "bogus length", || {
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            scribbler_fails_only_its_worker(method, bogus_length_on_five);
        }
    });
}

/// A result whose encoding is garbage to its own decoder: it serializes raw bytes (a tuple,
/// which postcard writes without a length) where its `Deserialize` expects a byte string with
/// a length first. The first garbage byte claims a length of about 2^63.
#[derive(Debug, PartialEq)]
struct Garbage(usize);

impl Serialize for Garbage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(self.0)?;
        for i in 0..self.0 {
            tuple.serialize_element(&if i < 9 { 0xffu8 } else { 0x7f })?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Garbage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_bytes_like(deserializer).map(|bytes| Garbage(bytes.len()))
    }
}

fn serde_bytes_like<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    Vec::<u8>::deserialize(deserializer)
}

/// Task: a result of `len` garbage bytes, or a good one for `len == 0`.
fn garbage_result(len: usize) -> Result<u32, Garbage> {
    if len == 0 { Ok(7) } else { Err(Garbage(len)) }
}

#[test]
fn garbage_result_bytes_fail_only_their_task_through_channel_and_ring() {
    watchdog(LIMIT, "garbage result bytes", || {
        for method in common::METHODS {
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .build()
                .unwrap();
            // 64 KiB goes through the worker's result channel, 64 bytes through its ring.
            let lengths = [0, 64 * 1024, 0, 64, 0];
            let results: Vec<_> = pool.chunksize(1).imap(garbage_result, lengths).collect();
            for (len, result) in lengths.iter().zip(&results) {
                if *len == 0 {
                    assert_eq!(result, &Ok(Ok(7)), "{method}");
                } else {
                    match result {
                        Err(PoolError::Transfer { detail }) => {
                            assert!(detail.contains("pool worker"), "{method}: {detail}")
                        }
                        other => panic!("{method}: {len} garbage bytes gave {other:?}"),
                    }
                }
            }
            assert_eq!(pool.map(square, 0..10).unwrap()[9], 81, "{method}");
        }
    });
}
