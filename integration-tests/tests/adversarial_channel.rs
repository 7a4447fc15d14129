//! The adversarial tier of the channel layer: listener denial of service (class 12),
//! hostile lengths on the wire (class 9) and extreme durations (class 1), with children
//! started by fork, spawn and forkserver where processes are involved.
//!
//! Each test runs under a watchdog, one at a time, and takes a census of this process
//! before and after: descriptors, the library's threads (named `multiproc-*`) and child
//! processes. Anything left over fails the test.
//!
//! Hostile peers reach sockets without `unsafe`: a raw TCP or Unix client that never
//! speaks, and, on a pipe, the writer's descriptor duplicated with `pidfd_getfd(2)` on its
//! own process, on which raw ipc-channel records are written with `sendmsg(2)`.

use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use multiproc::channel::{
    Address, Client, Connection, JoinableQueue, Listener, ListenerError, MAX_PENDING_HANDSHAKES,
    Pipe, PipeError, PipeWriter, Queue, QueueError, SimpleQueue, wait,
};
use multiproc::process::{StartMethod, get_context};
use multiproc_test_support::{
    Census, RECORD_HEADER, library_threads, postcard_varint, raw_record, watchdog, with_new_sockets,
};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
/// A test that takes longer has hung.
const LIMIT: Duration = Duration::from_secs(60);
/// How long a child or a message may take.
const LONG: Duration = Duration::from_secs(30);
const KEY: &[u8] = b"adversarial key";
/// The handshake timeout of the listener tests.
const HANDSHAKE: Duration = Duration::from_millis(300);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `body` alone, under a watchdog, between two censuses.
fn adversarial(what: &'static str, body: impl FnOnce() + Send + 'static) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    warm_up();
    watchdog(LIMIT, what, move || {
        let before = Census::take();
        body();
        // A thread that was joined, or a child that was reaped, leaves `/proc` a moment later.
        before.assert_no_leak(Duration::from_secs(5), what);
    });
}

fn nothing() -> u8 {
    7
}

/// Starts a process under every method once, so that what lives for the rest of the run
/// (the forkserver, ipc-channel's lazies) is there before the first census.
fn warm_up() {
    for method in METHODS {
        let mut p = get_context(method).process(nothing, ());
        p.start().unwrap();
        assert_eq!(p.join_timeout(LONG).unwrap(), 7);
    }
}

// Class 12: listener denial of service.

fn honest_client(address: Address) -> Result<String, multiproc::Error> {
    let connection = Client::new(Some(KEY)).connect::<String>(&address)?;
    connection.send("honest".to_owned())?;
    Ok(connection.recv()?)
}

/// Connects `silent` peers that never speak, then an honest client, and checks it is
/// served within twice the handshake timeout, ahead of the silent peers' timeouts.
fn silent_peers_then_honest(listener: Listener, silent: usize, connect: impl Fn() -> OwnedFd) {
    let address = listener.address().clone();
    let peers: Vec<OwnedFd> = (0..silent).map(|_| connect()).collect();
    let started = Instant::now();
    let client = std::thread::spawn(move || honest_client(address));
    let connection = loop {
        match listener.accept::<String>() {
            Ok(connection) => break connection,
            // Peers dropped for the flood bound or timed out: not the honest client.
            Err(
                ListenerError::HandshakeTimeout(_)
                | ListenerError::HandshakeClosed
                | ListenerError::AuthenticationFailed(_),
            ) => {}
            Err(err) => panic!("accept: {err}"),
        }
    };
    let waited = started.elapsed();
    assert_eq!(connection.recv().unwrap(), "honest");
    connection.send("welcome".to_owned()).unwrap();
    assert_eq!(client.join().unwrap().unwrap(), "welcome");
    assert!(
        waited < HANDSHAKE * 2,
        "{silent} silent peers delayed the honest client by {waited:?}"
    );
    drop(peers);
    drop(listener);
}

fn tcp_peer(addr: std::net::SocketAddr) -> OwnedFd {
    OwnedFd::from(TcpStream::connect(addr).unwrap())
}

#[test]
fn tcp_silent_peers_do_not_delay_an_honest_client() {
    adversarial("tcp silent peers", || {
        for silent in [1, 3, MAX_PENDING_HANDSHAKES + 8] {
            let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
                .unwrap()
                .with_handshake_timeout(HANDSHAKE);
            let Address::Tcp(addr) = listener.address().clone() else {
                unreachable!()
            };
            silent_peers_then_honest(listener, silent, || tcp_peer(addr));
        }
    });
}

#[test]
fn a_unix_flood_does_not_lock_out_connect_unix() {
    adversarial("unix flood", || {
        for silent in [3, 100] {
            let listener = Listener::bind_unix_temp(Some(KEY))
                .unwrap()
                .with_handshake_timeout(HANDSHAKE);
            let Address::Unix(path) = listener.address().clone() else {
                unreachable!()
            };
            silent_peers_then_honest(listener, silent, || {
                OwnedFd::from(UnixStream::connect(&path).unwrap())
            });
        }
    });
}

#[test]
fn listener_threads_end_with_the_listener() {
    adversarial("listener threads", || {
        let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
            .unwrap()
            .with_handshake_timeout(Duration::from_secs(30));
        let Address::Tcp(addr) = listener.address().clone() else {
            unreachable!()
        };
        let baseline = library_threads().len();
        // Handshakes in progress, bounded, then the listener goes away under them.
        let peers: Vec<OwnedFd> = (0..2 * MAX_PENDING_HANDSHAKES)
            .map(|_| tcp_peer(addr))
            .collect();
        assert!(matches!(
            listener.accept_timeout::<()>(Duration::from_millis(200)),
            Err(ListenerError::Timeout)
        ));
        // The acceptor and at most the bound of handshakes, once the dropped ones ended.
        let deadline = Instant::now() + Duration::from_secs(5);
        while library_threads().len() > baseline + MAX_PENDING_HANDSHAKES + 1 {
            assert!(
                Instant::now() < deadline,
                "library threads {:?} (from {baseline}) for {} silent peers",
                library_threads(),
                peers.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(listener);
        drop(peers);
    });
}

fn honest_child(address: String) -> String {
    let address: std::net::SocketAddr = address.parse().unwrap();
    honest_client(Address::Tcp(address)).unwrap()
}

#[test]
fn silent_peers_do_not_delay_a_client_in_a_child_under_every_start_method() {
    adversarial("honest child", || {
        for method in METHODS {
            // A child takes a while to start under spawn: the handshake timeout is longer,
            // and the child must be served before any silent peer times out.
            let timeout = Duration::from_secs(10);
            let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
                .unwrap()
                .with_handshake_timeout(timeout);
            let Address::Tcp(addr) = listener.address().clone() else {
                unreachable!()
            };
            let peers: Vec<OwnedFd> = (0..5).map(|_| tcp_peer(addr)).collect();
            let started = Instant::now();
            let mut child = get_context(method).process(honest_child, (addr.to_string(),));
            child.start().unwrap();
            let connection = listener.accept::<String>().unwrap();
            assert!(started.elapsed() < timeout, "{method:?}");
            assert_eq!(connection.recv().unwrap(), "honest", "{method:?}");
            connection.send("welcome".to_owned()).unwrap();
            assert_eq!(child.join_timeout(LONG).unwrap(), "welcome", "{method:?}");
            drop(peers);
        }
    });
}

// Class 9: hostile lengths on the wire.

/// A child holding a pipe's writing end: it announces a 2^62-byte message on the raw
/// socket, then sends an honest one.
fn hostile_writer(writer: PipeWriter<Vec<u8>>) -> bool {
    // The writer's descriptor, found by moving it through a pipe of our own: it is the one
    // socket the receive installs.
    let (carrier_rx, carrier_tx) = Pipe::<PipeWriter<Vec<u8>>>::new().unwrap();
    carrier_tx.send(writer).unwrap();
    let (writer, found) = with_new_sockets(|| carrier_rx.recv().unwrap());
    assert_eq!(found.len(), 1, "the writer's socket");
    let (attached, _held) = UnixStream::pair().unwrap();
    // A first fragment announcing 2^62 bytes, with a descriptor attached (as a large
    // message's dedicated channel would be).
    let attached = OwnedFd::from(attached);
    raw_record(
        &found[0],
        RECORD_HEADER + 8,
        1 << 62,
        &[7; 8],
        Some(&attached),
    )
    .unwrap();
    writer.send_bytes(b"after").unwrap();
    true
}

#[test]
fn a_child_announcing_2_62_bytes_on_a_pipe_gets_an_error_not_an_abort() {
    adversarial("2^62 from a child", || {
        for method in METHODS {
            let (reader, writer) = Pipe::<Vec<u8>>::new().unwrap();
            let mut child = get_context(method).process(hostile_writer, (writer,));
            child.start().unwrap();
            match reader.recv_bytes() {
                Err(PipeError::MessageTooLarge { size, .. }) => assert_eq!(size, 1 << 62),
                other => panic!("{method:?}: expected MessageTooLarge, got {other:?}"),
            }
            assert_eq!(reader.recv_bytes().unwrap(), b"after", "{method:?}");
            assert!(child.join_timeout(LONG).unwrap(), "{method:?}");
        }
    });
}

fn hostile_producer(queue: Queue<Vec<u64>>) -> bool {
    // An item that claims 2^60 elements and holds none.
    queue.put_bytes(&postcard_varint(1 << 60)).unwrap();
    queue.put(vec![1, 2, 3]).unwrap();
    true
}

#[test]
fn a_child_putting_an_item_that_claims_2_60_elements_gets_a_decode_error() {
    adversarial("2^60 elements from a child", || {
        for method in METHODS {
            let queue = Queue::<Vec<u64>>::new().unwrap();
            let mut child = get_context(method).process(hostile_producer, (queue.clone(),));
            child.start().unwrap();
            assert!(
                matches!(queue.get_timeout(LONG), Err(QueueError::Decode(_))),
                "{method:?}"
            );
            assert_eq!(queue.get_timeout(LONG).unwrap(), [1, 2, 3], "{method:?}");
            assert!(child.join_timeout(LONG).unwrap(), "{method:?}");
        }
    });
}

// Class 1: extreme durations.

/// A child that waits without limit on each channel in turn and answers.
fn patient(conn: Connection<u32>, queue: JoinableQueue<u32>) -> u32 {
    let first = conn.recv_timeout(Duration::MAX).unwrap();
    assert!(conn.poll(Some(Duration::MAX)).unwrap());
    let second = conn.recv_timeout(Duration::ZERO).unwrap();
    let third = queue.get_timeout(Duration::MAX).unwrap();
    queue.task_done().unwrap();
    assert!(queue.join_timeout(Duration::MAX).unwrap());
    let ready = wait(&[(&conn).into()], Some(Duration::MAX)).unwrap();
    assert_eq!(ready, [0]);
    let fourth = conn.recv().unwrap();
    conn.send(first + second + third + fourth).unwrap();
    first + second + third + fourth
}

#[test]
fn unlimited_and_zero_timeouts_across_processes() {
    adversarial("extreme timeouts in children", || {
        for method in METHODS {
            let (parent, child_end) = Pipe::<u32>::duplex().unwrap();
            let queue = JoinableQueue::<u32>::new().unwrap();
            let mut child = get_context(method).process(patient, (child_end, queue.clone()));
            child.start().unwrap();
            // Zero: polls once and gives up at once.
            let started = Instant::now();
            assert!(matches!(
                parent.recv_timeout(Duration::ZERO),
                Err(PipeError::Timeout)
            ));
            assert!(!parent.poll(Some(Duration::ZERO)).unwrap());
            assert!(
                wait(&[(&parent).into()], Some(Duration::ZERO))
                    .unwrap()
                    .is_empty()
            );
            assert!(started.elapsed() < Duration::from_secs(1), "{method:?}");
            parent.send(1).unwrap();
            parent.send(2).unwrap();
            queue.put_timeout(3, Duration::MAX).unwrap();
            assert!(queue.join_timeout(Duration::MAX).unwrap(), "{method:?}");
            parent.send(4).unwrap();
            assert_eq!(
                parent.recv_timeout(Duration::MAX).unwrap(),
                10,
                "{method:?}"
            );
            assert_eq!(child.join_timeout(LONG).unwrap(), 10, "{method:?}");
        }
    });
}

#[test]
fn unlimited_and_zero_timeouts_on_queues() {
    adversarial("extreme timeouts on queues", || {
        let queue = Queue::<u8>::bounded(1).unwrap();
        assert!(matches!(
            queue.get_timeout(Duration::ZERO),
            Err(QueueError::Empty)
        ));
        queue.put_timeout(1, Duration::ZERO).unwrap();
        let full = queue.put_timeout(2, Duration::ZERO).unwrap_err();
        assert!(matches!(full.error(), QueueError::Full), "{full}");
        assert_eq!(queue.get_timeout(Duration::MAX).unwrap(), 1);
        queue.put_timeout(3, Duration::MAX).unwrap();
        assert_eq!(queue.get_timeout(Duration::ZERO).unwrap(), 3);
        assert!(matches!(
            queue.get_bytes_timeout(Duration::ZERO),
            Err(QueueError::Empty)
        ));
        queue.put_bytes_timeout(&[4], Duration::MAX).unwrap();
        assert_eq!(queue.get_bytes_timeout(Duration::MAX).unwrap(), [4]);

        let joinable = JoinableQueue::<u8>::new().unwrap();
        assert!(joinable.join_timeout(Duration::ZERO).unwrap());
        assert!(joinable.join_timeout(Duration::MAX).unwrap());
        joinable.put(1).unwrap();
        assert!(!joinable.join_timeout(Duration::ZERO).unwrap());
        joinable.get_timeout(Duration::MAX).unwrap();
        joinable.task_done().unwrap();
        assert!(joinable.join_timeout(Duration::MAX).unwrap());

        let simple = SimpleQueue::<u8>::new().unwrap();
        simple.put(5).unwrap();
        assert_eq!(simple.get().unwrap(), 5);
        let ready = wait(&[(&queue).into()], Some(Duration::ZERO)).unwrap();
        assert!(ready.is_empty());
        queue.put(6).unwrap();
        let ready = wait(&[(&queue).into()], Some(Duration::MAX)).unwrap();
        assert_eq!(ready, [0]);
    });
}

#[test]
fn unlimited_and_zero_timeouts_on_listeners_and_clients() {
    adversarial("extreme timeouts on listeners", || {
        for (timeout, served) in [(Duration::MAX, true), (Duration::ZERO, false)] {
            let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
                .unwrap()
                .with_handshake_timeout(timeout);
            let address = listener.address().clone();
            let client = std::thread::spawn(move || {
                Client::new(Some(KEY))
                    .with_handshake_timeout(timeout)
                    .connect::<u8>(&address)
                    .map(|c| c.recv())
            });
            let accepted = listener.accept_timeout::<u8>(Duration::MAX);
            if served {
                accepted.unwrap().send(9).unwrap();
                assert_eq!(client.join().unwrap().unwrap().unwrap(), 9);
            } else {
                // Zero leaves no time for a handshake: an error on both sides, no panic.
                assert!(
                    matches!(accepted, Err(ListenerError::HandshakeTimeout(_))),
                    "{accepted:?}"
                );
                assert!(client.join().unwrap().is_err());
            }
            assert!(matches!(
                listener.accept_timeout::<u8>(Duration::ZERO),
                Err(ListenerError::Timeout)
            ));
        }
        // Without a key (no handshake) too.
        let listener = Listener::bind_unix_temp(None).unwrap();
        assert!(matches!(
            listener.accept_timeout::<u8>(Duration::ZERO),
            Err(ListenerError::Timeout)
        ));
        let client = Client::new(None).connect::<u8>(listener.address()).unwrap();
        let server = listener.accept_timeout::<u8>(Duration::MAX).unwrap();
        client.send(1).unwrap();
        assert!(server.poll(Some(Duration::MAX)).unwrap());
        assert!(!client.poll(Some(Duration::ZERO)).unwrap());
        assert_eq!(server.recv().unwrap(), 1);
    });
}
