//! The pipe's own frame for byte messages and descriptor-free values: its limits, a peer
//! that dies or lies in the middle of one, and frames interleaved with ipc-channel messages
//! that carry descriptors.
//!
//! Both receive paths are covered: a `Pipe<Vec<u8>>` (values carry no descriptor, so each
//! message is one receive without a peek) and a `Pipe<Carrier>` (values may carry a
//! connection, so each record is peeked at first). Hostile records are written with
//! `sendmsg(2)` on duplicates of the pipe's sockets, taken with `pidfd_getfd(2)` as in
//! hostile_lengths.rs; the tests run one at a time so the new sockets are told apart.

mod common;

use std::io::IoSlice;
use std::os::fd::OwnedFd;
use std::sync::Mutex;
use std::time::Duration;

use common::{LONG, fork};
use multiproc_channel::{Pipe, PipeError, PipeReader, PipeWriter};
use multiproc_test_support::{fd_count, rss_kib, watchdog, with_new_sockets};
use rustix::net::SendFlags;
use serde::{Deserialize, Serialize};

const LIMIT: Duration = Duration::from_secs(60);
/// Resident memory may not grow by more than this over a hostile exchange.
const RSS_SLACK_KIB: u64 = 64 << 10;
/// The frame's tag (crate-private in `wire.rs`); its low byte is the record kind.
const TAG: u64 = 0xFFFF_FF4D_FFFF_FF00;
const FIRST_BYTES: u64 = 1;
const CONTINUED: u64 = 4;
/// The payload bytes a first record carries (`wire::INLINE`).
const INLINE: usize = 16 * 1024 - 16;
/// A maximum that makes a message of several records.
const MAX: usize = (1 << 20) + 7;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A value that may carry a descriptor: it goes through ipc-channel.
#[derive(Serialize, Deserialize)]
struct Carrier {
    reader: Option<PipeReader<u32>>,
    data: Vec<u8>,
}

/// One raw record of the frame, written on both sockets of the pair (the one whose peer is
/// the receiver delivers it; the other end's peer never reads).
fn raw_frame_record(sockets: &[OwnedFd], kind: u64, word: u64, payload: &[u8]) {
    let (tag, word) = ((TAG | kind).to_ne_bytes(), word.to_ne_bytes());
    let iov = [
        IoSlice::new(&tag),
        IoSlice::new(&word),
        IoSlice::new(payload),
    ];
    for socket in sockets {
        let _ = rustix::net::sendmsg(
            socket,
            &iov,
            &mut Default::default(),
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        );
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// A message of exactly the limit arrives whole, one byte more is refused without
/// breaking the pipe, on both receive paths and for bytes and typed `Vec<u8>` alike.
#[test]
fn a_message_of_exactly_the_limit_passes_and_one_more_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "limits", || {
        // No peek: the values carry no descriptor.
        let (reader, writer) = Pipe::<Vec<u8>>::new().unwrap();
        let reader = reader.with_max_message_size(MAX);
        let child = fork(move || {
            writer.send_bytes(&pattern(MAX, 1)).unwrap();
            writer.send_bytes(&pattern(MAX + 1, 2)).unwrap();
            writer.send(pattern(MAX, 3)).unwrap();
            writer.send(pattern(MAX + 1, 4)).unwrap();
            writer.send_bytes(b"after").unwrap();
        });
        assert_eq!(reader.recv_bytes().unwrap(), pattern(MAX, 1));
        match reader.recv_bytes() {
            Err(PipeError::MessageTooLarge { size, max }) => {
                assert_eq!((size, max), ((MAX + 1) as u64, MAX));
            }
            other => panic!("expected MessageTooLarge, got {other:?}"),
        }
        assert_eq!(reader.recv().unwrap(), pattern(MAX, 3));
        assert!(matches!(
            reader.recv(),
            Err(PipeError::MessageTooLarge { .. })
        ));
        assert_eq!(reader.recv_bytes().unwrap(), b"after");
        child.join_ok(LONG);

        // Peeked: the values may carry a descriptor.
        let (reader, writer) = Pipe::<Carrier>::new().unwrap();
        let reader = reader.with_max_message_size(MAX);
        let child = fork(move || {
            writer.send_bytes(&pattern(MAX, 5)).unwrap();
            writer.send_bytes(&pattern(MAX + 1, 6)).unwrap();
            writer.send_bytes(b"after").unwrap();
        });
        let mut into = vec![0u8; MAX];
        assert_eq!(reader.recv_bytes_into(&mut into).unwrap(), MAX);
        assert_eq!(into, pattern(MAX, 5));
        assert!(matches!(
            reader.recv_bytes(),
            Err(PipeError::MessageTooLarge { .. })
        ));
        assert_eq!(reader.recv_bytes().unwrap(), b"after");
        child.join_ok(LONG);
    });
}

/// A writer that dies after the first pieces of a message (on a pipe whose records are
/// peeked at): the receive ends with an error, not a wait for bytes that never come.
#[test]
fn a_peer_that_dies_mid_frame_gives_an_error_not_a_hang() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "death mid-frame", || {
        let ((reader, writer), sockets) = with_new_sockets(|| Pipe::<Carrier>::new().unwrap());
        let child = fork(move || {
            raw_frame_record(&sockets, FIRST_BYTES, 1 << 20, &[9; INLINE]);
            raw_frame_record(&sockets, CONTINUED, INLINE as u64, &[9; 4096]);
            // Dies here, with the rest of the megabyte unsent.
        });
        drop(writer);
        child.join_ok(LONG);
        match reader.recv_bytes() {
            Err(PipeError::Io(err)) => {
                assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(matches!(reader.recv_bytes(), Err(PipeError::Closed)));
    });
}

/// The same for a pipe whose values carry no descriptor (received without a peek).
#[test]
fn a_peer_that_dies_mid_frame_on_a_byte_pipe_gives_an_error() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "death mid-frame, no peek", || {
        let ((reader, writer), sockets) = with_new_sockets(|| Pipe::<Vec<u8>>::new().unwrap());
        let child = fork(move || {
            raw_frame_record(&sockets, FIRST_BYTES, 1 << 20, &[9; INLINE]);
        });
        drop(writer);
        child.join_ok(LONG);
        match reader.recv() {
            Err(PipeError::Io(err)) => {
                assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    });
}

/// A first record that announces 2^62 bytes, or the whole default maximum and then
/// nothing: an error, and no memory touched for the claim.
#[test]
fn a_forged_huge_length_is_refused_or_costs_no_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "forged length", || {
        let ((reader, writer), sockets) = with_new_sockets(|| Pipe::<Vec<u8>>::new().unwrap());
        let fds_before = fd_count();
        let rss_before = rss_kib();
        raw_frame_record(&sockets, FIRST_BYTES, 1 << 62, &[1; INLINE]);
        // Stray continuations of the refused message are dropped.
        raw_frame_record(&sockets, CONTINUED, INLINE as u64, &[1; 100]);
        writer.send_bytes(b"after").unwrap();
        match reader.recv_bytes() {
            Err(PipeError::MessageTooLarge { size, .. }) => assert_eq!(size, 1 << 62),
            other => panic!("expected MessageTooLarge, got {other:?}"),
        }
        assert_eq!(reader.recv_bytes().unwrap(), b"after");

        // Exactly the maximum announced, then an honest message where the rest should be.
        let max = multiproc_channel::DEFAULT_MAX_MESSAGE_SIZE as u64;
        raw_frame_record(&sockets, FIRST_BYTES, max, &[1; INLINE]);
        writer.send_bytes(b"honest").unwrap();
        assert!(matches!(reader.recv_bytes(), Err(PipeError::Io(_))));
        // A first record shorter than it says.
        raw_frame_record(&sockets, FIRST_BYTES, 100, &[1; 10]);
        assert!(matches!(reader.recv_bytes(), Err(PipeError::Decode(_))));
        writer.send_bytes(b"still").unwrap();
        assert_eq!(reader.recv_bytes().unwrap(), b"still");
        assert!(rss_kib() < rss_before + RSS_SLACK_KIB);
        assert_eq!(fd_count(), fds_before);
    });
}

fn check_carrier(carrier: Carrier, seed: u8, talk: &PipeWriter<u32>) {
    assert_eq!(carrier.data, pattern(carrier.data.len(), seed));
    let reader = carrier.reader.expect("the carried connection");
    talk.send(u32::from(seed)).unwrap();
    assert_eq!(reader.recv().unwrap(), u32::from(seed));
}

/// Messages that carry a descriptor (through ipc-channel, large enough to be fragmented)
/// and byte messages (the frame) interleaved in both orders arrive in order and whole.
#[test]
fn descriptor_messages_and_byte_frames_interleave_in_both_orders() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "interleaving", || {
        let (reader, writer) = Pipe::<Carrier>::new().unwrap();
        let (inner_reader, talk) = Pipe::<u32>::new().unwrap();
        let (inner_reader2, talk2) = Pipe::<u32>::new().unwrap();
        let child = fork(move || {
            let big = 1 << 20;
            // Bytes first, then a value with a descriptor, then bytes again.
            writer.send_bytes(&pattern(big, 10)).unwrap();
            let carrier = Carrier {
                reader: Some(inner_reader),
                data: pattern(big, 11),
            };
            writer.send(carrier).map_err(|e| e.to_string()).unwrap();
            writer.send_bytes(&pattern(8, 12)).unwrap();
            // A value with a descriptor first, then bytes.
            let carrier = Carrier {
                reader: Some(inner_reader2),
                data: pattern(300 << 10, 13),
            };
            writer.send(carrier).map_err(|e| e.to_string()).unwrap();
            writer.send_bytes(&pattern(big + 3, 14)).unwrap();
        });
        let fds_before = fd_count();
        assert_eq!(reader.recv_bytes().unwrap(), pattern(1 << 20, 10));
        check_carrier(reader.recv().unwrap(), 11, &talk);
        assert_eq!(reader.recv_bytes().unwrap(), pattern(8, 12));
        check_carrier(reader.recv().unwrap(), 13, &talk2);
        assert_eq!(reader.recv_bytes().unwrap(), pattern((1 << 20) + 3, 14));
        child.join_ok(LONG);
        // The carried connections were dropped; nothing else stayed open.
        assert!(fd_count() <= fds_before);
    });
}

/// Strings travel as their bytes: whole across several records, and bytes that are not
/// UTF-8 are a decode error that leaves the pipe usable.
#[test]
fn strings_travel_as_their_bytes_and_invalid_utf8_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "strings", || {
        let ((reader, writer), sockets) = with_new_sockets(|| Pipe::<String>::new().unwrap());
        let text: String = (0..(1 << 20) + 5)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let expected = text.clone();
        let child = fork(move || {
            writer.send(text).unwrap();
            writer.send("é".to_owned()).unwrap();
        });
        assert_eq!(reader.recv().unwrap(), expected);
        assert_eq!(reader.recv().unwrap(), "é");
        child.join_ok(LONG);
        const FIRST_STRING: u64 = 5;
        raw_frame_record(&sockets, FIRST_STRING, 2, &[0xff, 0xfe]);
        assert!(matches!(reader.recv(), Err(PipeError::Decode(_))));
        raw_frame_record(&sockets, FIRST_STRING, 2, b"ok");
        assert_eq!(reader.recv().unwrap(), "ok");
    });
}
