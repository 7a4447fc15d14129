//! Hostile lengths on the wire: a peer that writes ipc-channel records of its own onto a
//! pipe's socket (announcing 2^62 bytes, or a header that does not add up) gets an error
//! on that connection, never an allocation of the claimed size or an abort, and the
//! connection goes on to receive what follows. A queue item whose postcard bytes claim
//! 2^60 elements is a decode error too.
//!
//! The hostile peer reaches the pipe's socket without `unsafe`: it duplicates the
//! descriptors the pipe just opened with `pidfd_getfd(2)` on its own process, as any
//! process of the same user allowed to ptrace it could, and writes raw records with
//! `sendmsg(2)`. The tests run one at a time, so the descriptors a pipe opens are told
//! apart from others by a before/after listing of `/proc/self/fd`.

use std::os::fd::OwnedFd;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use multiproc_channel::{Pipe, PipeError, PipeReader, PipeWriter, Queue, QueueError};
use multiproc_test_support::{
    RECORD_HEADER, fd_count, postcard_varint, raw_record, rss_kib, watchdog, with_new_sockets,
};

const LIMIT: Duration = Duration::from_secs(60);
/// Resident memory may not grow by more than this over a hostile exchange.
const RSS_SLACK_KIB: u64 = 64 << 10;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn hostile_pipe() -> (PipeReader<Vec<u8>>, PipeWriter<Vec<u8>>, Vec<OwnedFd>) {
    let ((reader, writer), sockets) = with_new_sockets(|| Pipe::<Vec<u8>>::new().unwrap());
    assert_eq!(sockets.len(), 2, "a pipe is one socket pair");
    (reader, writer, sockets)
}

#[test]
fn a_claim_of_2_62_bytes_is_refused_without_allocating() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "2^62 on a pipe", || {
        let (reader, writer, sockets) = hostile_pipe();
        let (attached, _other) = std::os::unix::net::UnixStream::pair().unwrap();
        let attached = OwnedFd::from(attached);
        let fds_before = fd_count();
        let rss_before = rss_kib();
        for socket in &sockets {
            // With a descriptor attached, ipc-channel would reserve the announced total.
            // A socket whose peer is the receiver takes it; the other end's peer is the sender,
            // which never reads: harmless.
            let _ = raw_record(socket, RECORD_HEADER + 8, 1 << 62, &[7; 8], Some(&attached));
        }
        writer.send_bytes(b"after").unwrap();
        match reader.recv_bytes() {
            Err(PipeError::MessageTooLarge { size, max }) => {
                assert_eq!(size, 1 << 62);
                assert_eq!(max, multiproc_channel::DEFAULT_MAX_MESSAGE_SIZE);
            }
            other => panic!("expected MessageTooLarge, got {other:?}"),
        }
        assert_eq!(reader.recv_bytes().unwrap(), b"after");
        assert!(rss_kib() < rss_before + RSS_SLACK_KIB);
        // The descriptor that came with the refused record was closed by the kernel.
        assert_eq!(fd_count(), fds_before);
    });
}

#[test]
fn headers_that_do_not_add_up_are_decode_errors() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "bad headers", || {
        let (reader, writer, sockets) = hostile_pipe();
        for socket in &sockets {
            // The record announces another length than it has.
            let _ = raw_record(socket, 1 << 40, 8, &[0; 8], None);
        }
        for socket in &sockets {
            // A total smaller than the first part.
            let _ = raw_record(socket, RECORD_HEADER + 8, 2, &[0; 8], None);
        }
        for socket in &sockets {
            // More to come, but no channel to bring it: ipc-channel would panic.
            let _ = raw_record(socket, RECORD_HEADER + 8, 100, &[0; 8], None);
        }
        for socket in &sockets {
            // Shorter than a header.
            let _ = rustix::net::send(socket, &[1, 2, 3], rustix::net::SendFlags::DONTWAIT);
        }
        writer.send_bytes(b"still here").unwrap();
        for round in 0..4 {
            match reader.recv_bytes() {
                Err(PipeError::Decode(_)) => {}
                other => panic!("round {round}: expected a decode error, got {other:?}"),
            }
        }
        assert_eq!(reader.recv_bytes().unwrap(), b"still here");
    });
}

#[test]
fn the_maximum_is_configurable_and_travels_with_the_connection() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "configured maximum", || {
        let (reader, writer) = Pipe::<Vec<u8>>::new().unwrap();
        let reader = reader.with_max_message_size(1000);
        // Across a message: the limit comes along.
        let (carrier_rx, carrier_tx) = Pipe::<PipeReader<Vec<u8>>>::new().unwrap();
        carrier_tx.send(reader).unwrap();
        let reader = carrier_rx.recv().unwrap();
        assert_eq!(reader.max_message_size(), 1000);
        writer.send_bytes(&[1; 5000]).unwrap();
        // A large message split in fragments (above one socket buffer) is refused too, and
        // drained, so that its sender is not blocked for ever.
        let big = std::thread::spawn(move || {
            let refused = writer.send_bytes(&vec![2; 1 << 20]);
            writer.send(vec![3; 10]).unwrap();
            refused
        });
        assert!(matches!(
            reader.recv_bytes(),
            Err(PipeError::MessageTooLarge { max: 1000, .. })
        ));
        assert!(matches!(
            reader.recv_bytes(),
            Err(PipeError::MessageTooLarge { max: 1000, .. })
        ));
        assert_eq!(reader.recv().unwrap(), vec![3; 10]);
        // The refused message was drained, so its sender was not left blocked.
        let _ = big.join().unwrap();
    });
}

#[test]
fn extreme_timeouts_on_a_pipe() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "extreme timeouts", || {
        let (reader, writer) = Pipe::<u32>::new().unwrap();
        let started = Instant::now();
        assert!(matches!(
            reader.recv_timeout(Duration::ZERO),
            Err(PipeError::Timeout)
        ));
        assert!(!reader.poll(Some(Duration::ZERO)).unwrap());
        assert!(started.elapsed() < Duration::from_secs(1));
        writer.send(5).unwrap();
        assert!(reader.poll(Some(Duration::MAX)).unwrap());
        assert_eq!(reader.recv_timeout(Duration::MAX).unwrap(), 5);
        writer.send(6).unwrap();
        assert_eq!(reader.recv_timeout(Duration::ZERO).unwrap(), 6);
        let ready = multiproc_channel::wait(&[(&reader).into()], Some(Duration::ZERO)).unwrap();
        assert!(ready.is_empty());
        writer.send(7).unwrap();
        let ready = multiproc_channel::wait(&[(&reader).into()], Some(Duration::MAX)).unwrap();
        assert_eq!(ready, [0]);
        drop(writer);
        assert_eq!(reader.recv_timeout(Duration::MAX).unwrap(), 7);
        assert!(matches!(
            reader.recv_timeout(Duration::MAX),
            Err(PipeError::Closed)
        ));
    });
}

#[test]
fn a_queue_item_claiming_2_60_elements_is_a_decode_error() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(LIMIT, "2^60 elements", || {
        let claim = postcard_varint(1 << 60);
        // postcard itself: serde preallocates at most 1 MiB whatever the claim, and the
        // input runs out long before.
        let rss_before = rss_kib();
        assert!(postcard::from_bytes::<Vec<u64>>(&claim).is_err());
        assert!(postcard::from_bytes::<Vec<u8>>(&claim).is_err());
        assert!(postcard::from_bytes::<String>(&claim).is_err());
        assert!(postcard::from_bytes::<Vec<Vec<u8>>>(&claim).is_err());

        let queue = Queue::<Vec<u64>>::new().unwrap();
        queue.put_bytes(&claim).unwrap();
        queue.put(vec![1, 2]).unwrap();
        assert!(matches!(queue.get(), Err(QueueError::Decode(_))));
        assert_eq!(queue.get().unwrap(), [1, 2]);
        assert!(rss_kib() < rss_before + RSS_SLACK_KIB);
    });
}
