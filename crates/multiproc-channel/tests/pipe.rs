//! Pipes between real processes.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{LONG, fork};
use multiproc_channel::{Pipe, PipeError, PipeWriter, Queue};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Circle { radius: f64 },
    Polygon(Vec<(i32, i32)>),
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    tags: BTreeMap<String, i64>,
    shape: Shape,
    blob: Option<Vec<u8>>,
}

fn record(id: u64) -> Record {
    Record {
        id,
        name: format!("record-{id}"),
        tags: [("a".to_owned(), -1), ("b".to_owned(), id as i64)].into(),
        shape: match id % 3 {
            0 => Shape::Circle { radius: id as f64 },
            1 => Shape::Polygon(vec![(1, 2), (3, -4)]),
            _ => Shape::Empty,
        },
        blob: id.is_multiple_of(2).then(|| vec![id as u8; 300_000]),
    }
}

#[test]
fn several_serde_types_cross_processes() {
    let (parent_end, child_end) = Pipe::<Record>::duplex().unwrap();
    let (text_reader, text_writer) = Pipe::<(String, char, bool, Vec<f32>)>::new().unwrap();
    let child = fork(move || {
        for _ in 0..6 {
            let mut r = child_end.recv().unwrap();
            r.id += 1000;
            child_end.send(r).unwrap();
        }
        text_writer
            .send(("héllo".into(), 'λ', true, vec![1.5, -2.0]))
            .unwrap();
    });
    for id in 0..6 {
        parent_end.send(record(id)).unwrap();
        let mut expected = record(id);
        expected.id += 1000;
        assert_eq!(parent_end.recv_timeout(LONG).unwrap(), expected);
    }
    assert_eq!(
        text_reader.recv_timeout(LONG).unwrap(),
        ("héllo".into(), 'λ', true, vec![1.5, -2.0])
    );
    child.join_ok(LONG);
}

#[test]
fn poll_with_and_without_data() {
    let (reader, writer) = Pipe::<u32>::new().unwrap();
    assert!(!reader.poll(Some(Duration::ZERO)).unwrap());
    assert!(!reader.poll(Some(Duration::from_millis(20))).unwrap());
    let (go_reader, go_writer) = Pipe::<()>::new().unwrap();
    let child = fork(move || {
        go_reader.recv().unwrap();
        writer.send(42).unwrap();
    });
    go_writer.send(()).unwrap();
    assert!(reader.poll(Some(LONG)).unwrap());
    assert!(
        reader.poll(Some(Duration::ZERO)).unwrap(),
        "a polled message stays ready"
    );
    assert_eq!(reader.recv().unwrap(), 42);
    child.join_ok(LONG);
    // The child has exited and every writer is gone: poll reports ready, recv reports closed.
    assert!(reader.poll(Some(LONG)).unwrap());
    assert!(matches!(reader.recv(), Err(PipeError::Closed)));
}

#[test]
fn recv_bytes_into_too_small_reports_the_size_and_keeps_the_message() {
    let (reader, writer) = Pipe::<()>::new().unwrap();
    let child = fork(move || {
        writer.send_bytes(&[7u8; 1000]).unwrap();
    });
    let mut small = [0u8; 10];
    match reader.recv_bytes_into(&mut small) {
        Err(PipeError::BufferTooSmall { needed, capacity }) => {
            assert_eq!((needed, capacity), (1000, 10));
        }
        other => panic!("expected BufferTooSmall, got {other:?}"),
    }
    let mut big = vec![0u8; 4096];
    assert_eq!(reader.recv_bytes_into(&mut big).unwrap(), 1000);
    assert!(big[..1000].iter().all(|&b| b == 7));
    child.join_ok(LONG);
}

#[test]
fn malformed_bytes_give_a_clear_error() {
    let (reader, writer) = Pipe::<Record>::new().unwrap();
    writer.send_bytes(&[0xff; 3]).unwrap();
    let err = reader.recv().unwrap_err();
    assert!(matches!(err, PipeError::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("do not decode"), "{err}");
    // The connection keeps working.
    writer.send(record(1)).unwrap();
    assert_eq!(reader.recv().unwrap(), record(1));
    // A value where bytes were expected is kept for recv().
    writer.send(record(3)).unwrap();
    assert!(matches!(
        reader.recv_bytes(),
        Err(PipeError::UnexpectedKind { .. })
    ));
    assert_eq!(reader.recv().unwrap(), record(3));
}

#[test]
fn raw_bytes_that_claim_handles_give_a_decode_error_not_a_panic() {
    // A value holding a connection or a queue decodes handle indices; raw bytes from the
    // peer name indices that no received descriptor backs.
    let (reader, writer) = Pipe::<(PipeWriter<u8>, Queue<u8>)>::new().unwrap();
    let (only_reader, only_writer) = Pipe::<PipeWriter<u8>>::new().unwrap();
    for hostile in [&[1u8, 5, 0, 0][..], &[1, 0, 0, 0], &[0, 1, 3, 0]] {
        only_writer.send_bytes(hostile).unwrap();
        let err = only_reader.recv().unwrap_err();
        assert!(matches!(err, PipeError::Decode(_)), "{hostile:?}: {err:?}");
        assert!(err.to_string().contains("malformed message"), "{err}");
    }
    for hostile in [&[1u8, 2, 0, 0][..], &[0, 0, 1, 7, 0], &[0xff; 16]] {
        writer.send_bytes(hostile).unwrap();
        let err = reader.recv().unwrap_err();
        assert!(matches!(err, PipeError::Decode(_)), "{hostile:?}: {err:?}");
    }
    // The connection keeps working.
    let (inner_reader, inner_writer) = Pipe::<u8>::new().unwrap();
    writer
        .send((inner_writer, Queue::<u8>::new().unwrap()))
        .unwrap();
    let (carried, _queue) = reader.recv().unwrap();
    carried.send(4).unwrap();
    assert_eq!(inner_reader.recv_timeout(LONG).unwrap(), 4);
}

#[test]
fn peer_death_gives_closed_not_a_hang() {
    let (parent_end, child_end) = Pipe::<u8>::duplex().unwrap();
    let child = fork(move || {
        let _keep = &child_end;
        // Dies abruptly on purpose; the kill cannot fail on this very process.
        let _ = multiproc_sys::signal::kill(std::process::id(), libc::SIGKILL);
    });
    // The closure (holding `child_end`) was dropped in the parent when `fork` returned:
    // only the dead child held that end.
    assert_eq!(child.join(LONG), -libc::SIGKILL);
    assert!(matches!(
        parent_end.recv_timeout(LONG),
        Err(PipeError::Closed)
    ));
    assert!(parent_end.send(1).unwrap_err().is_closed());
}

#[test]
fn connections_carry_connections_and_queues() {
    let (carrier_reader, carrier_writer) = Pipe::<(PipeWriter<String>, Queue<u32>)>::new().unwrap();
    let child = fork(move || {
        let (reply, queue) = carrier_reader.recv().unwrap();
        reply.send("through a carried connection".into()).unwrap();
        queue.put(99).unwrap();
    });
    let (reply_reader, reply_writer) = Pipe::<String>::new().unwrap();
    let queue = Queue::<u32>::new().unwrap();
    carrier_writer.send((reply_writer, queue.clone())).unwrap();
    assert_eq!(
        reply_reader.recv_timeout(LONG).unwrap(),
        "through a carried connection"
    );
    assert_eq!(queue.get_timeout(LONG).unwrap(), 99);
    child.join_ok(LONG);
}

#[test]
fn too_many_handles_is_an_error_not_a_panic() {
    let (reader, writer) = Pipe::<Vec<PipeWriter<u8>>>::new().unwrap();
    let mut ends = Vec::new();
    for _ in 0..70 {
        ends.push(Pipe::<u8>::new().unwrap().1);
    }
    let err = writer.send(ends).unwrap_err();
    assert!(
        matches!(err.error(), PipeError::TooManyHandles { count: 70, .. }),
        "{err:?}"
    );
    // The thread's handle lists were drained: the next message is clean.
    let few: Vec<_> = (0..3).map(|_| Pipe::<u8>::new().unwrap().1).collect();
    writer.send(few).unwrap();
    assert_eq!(reader.recv().unwrap().len(), 3);
}

/// Serializes an fd-carrying field first, then fails.
struct FailsAfterHandle(PipeWriter<u8>);

impl Serialize for FailsAfterHandle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeTuple};
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.0)?;
        Err(S::Error::custom("deliberate failure"))
    }
}

impl<'de> Deserialize<'de> for FailsAfterHandle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PipeWriter::deserialize(d).map(FailsAfterHandle)
    }
}

#[test]
fn a_failed_serialization_leaks_no_fd_into_the_next_message() {
    let (reader, writer) = Pipe::<FailsAfterHandle>::new().unwrap();
    let (plain_reader, plain_writer) = Pipe::<u64>::new().unwrap();
    for _ in 0..20 {
        let (_, end) = Pipe::<u8>::new().unwrap();
        let err = writer.send(FailsAfterHandle(end)).unwrap_err();
        assert!(matches!(err.error(), PipeError::Encode(_)), "{err:?}");
        // Would carry the stale fd without the guard (a debug_assert panic on receipt).
        plain_writer.send(5).unwrap();
        assert_eq!(plain_reader.recv().unwrap(), 5);
    }
    drop(reader);
}

#[test]
fn large_messages_cross_processes() {
    let (parent_end, child_end) = Pipe::<Vec<u8>>::duplex().unwrap();
    let child = fork(move || {
        for _ in 0..3 {
            let bytes = child_end.recv_bytes().unwrap();
            child_end.send_bytes(&bytes).unwrap();
        }
    });
    for n in [1usize, 300_000, 5 << 20] {
        let payload: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
        parent_end.send_bytes(&payload).unwrap();
        assert_eq!(parent_end.recv_bytes().unwrap(), payload);
    }
    child.join_ok(LONG);
}

#[test]
fn duration_max_means_no_limit() {
    // A timeout too large for the clock waits without limit; nothing adds it to `Instant`.
    let (reader, writer) = Pipe::<u8>::new().unwrap();
    writer.send(1).unwrap();
    assert!(reader.poll(Some(Duration::MAX)).unwrap());
    assert_eq!(reader.recv_timeout(Duration::MAX).unwrap(), 1);
    writer.send(2).unwrap();
    let queue = Queue::<u8>::new().unwrap();
    assert_eq!(
        multiproc_channel::wait(&[(&reader).into(), (&queue).into()], Some(Duration::MAX)).unwrap(),
        [0]
    );
    assert_eq!(reader.recv().unwrap(), 2);
    queue.put(3).unwrap();
    assert_eq!(
        multiproc_channel::wait(&[(&queue).into()], Some(Duration::MAX)).unwrap(),
        [0]
    );
}

/// A duplex pipe in request-and-reply use polls for each reply before it sleeps (after a
/// few round trips its budget is up): thousands of round trips with a forked echo child
/// stay in order, and once the child stops answering a receive with a timeout still
/// waits its whole timeout and ends with `Timeout`, however warm the polling was.
#[test]
fn request_reply_round_trips_poll_and_still_honour_timeouts() {
    let (parent_end, child_end) = Pipe::<u64>::duplex().unwrap();
    let child = fork(move || {
        // Echo until 0, then answer nothing until the parent's last message.
        loop {
            let n = child_end.recv().unwrap();
            if n == 0 {
                break;
            }
            child_end.send(n * 2).unwrap();
        }
        assert_eq!(child_end.recv_timeout(LONG).unwrap(), u64::MAX);
    });
    for n in 1..=5000u64 {
        parent_end.send(n).unwrap();
        assert_eq!(parent_end.recv_timeout(LONG).unwrap(), n * 2);
    }
    for n in 1..=500u64 {
        parent_end.send(n).unwrap();
        assert_eq!(parent_end.recv().unwrap(), n * 2, "a blocking receive");
    }
    parent_end.send(0).unwrap();
    let start = std::time::Instant::now();
    let waited = parent_end.recv_timeout(Duration::from_millis(30));
    assert!(
        matches!(waited, Err(PipeError::Timeout)),
        "a reply that never comes: {waited:?}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "the timeout ended early, after {:?}",
        start.elapsed()
    );
    assert!(matches!(
        parent_end.recv_timeout(Duration::ZERO),
        Err(PipeError::Timeout)
    ));
    parent_end.send(u64::MAX).unwrap();
    child.join_ok(LONG);
}
