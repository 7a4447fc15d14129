//! `Listener` and `Client` over real Unix and loopback TCP sockets: authentication, refusal
//! of wrong keys, silent peers and oversized frames, socket permissions, a client in
//! another process, and hostile bytes fed to the handshake and frame decoders.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use multiproc_channel::decode;
use multiproc_channel::{
    Address, Client, Listener, ListenerError, Pipe, PipeError, SocketConnection,
};
use multiproc_process::{StartMethod, get_context};
use multiproc_test_support::{Rng, watchdog};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const KEY: &[u8] = b"correct horse battery staple";

const LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Message {
    Text(String),
    Numbers(Vec<i64>),
    Point { x: f64, y: f64 },
    Blob(Vec<u8>),
}

fn messages() -> Vec<Message> {
    vec![
        Message::Text("héllo over a socket".into()),
        Message::Numbers((-5..500).collect()),
        Message::Point { x: 1.5, y: -2.25 },
        Message::Blob(vec![0xab; 3 << 20]),
        Message::Text(String::new()),
    ]
}

/// Echoes every message back until the peer hangs up; returns how many it echoed.
fn echo(connection: &SocketConnection<Message>) -> usize {
    let mut echoed = 0;
    loop {
        match connection.recv() {
            Ok(message) => {
                connection.send(message).unwrap();
                echoed += 1;
            }
            Err(PipeError::Closed) => return echoed,
            Err(err) => panic!("echo: {err}"),
        }
    }
}

fn round_trip(listener: Listener, client: Client) {
    let address = listener.address().clone();
    let server = std::thread::spawn(move || {
        let connection = listener.accept::<Message>().unwrap();
        echo(&connection)
    });
    let connection = client.connect::<Message>(&address).unwrap();
    for message in messages() {
        connection.send(message.clone()).unwrap();
        assert!(connection.poll(Some(LIMIT)).unwrap());
        assert_eq!(connection.recv().unwrap(), message);
    }
    connection
        .send_bytes(&postcard::to_stdvec(&Message::Text("raw".into())).unwrap())
        .unwrap();
    assert_eq!(connection.recv().unwrap(), Message::Text("raw".into()));
    assert!(!connection.poll(Some(Duration::ZERO)).unwrap());
    drop(connection);
    assert_eq!(server.join().unwrap(), messages().len() + 1);
}

#[test]
fn right_key_round_trips_over_unix() {
    watchdog(LIMIT, "unix round trip", || {
        round_trip(
            Listener::bind_unix_temp(Some(KEY)).unwrap(),
            Client::new(Some(KEY)),
        );
    });
}

#[test]
fn right_key_round_trips_over_tcp() {
    watchdog(LIMIT, "tcp round trip", || {
        round_trip(
            Listener::bind_tcp("127.0.0.1:0", KEY).unwrap(),
            Client::new(Some(KEY)),
        );
    });
}

#[test]
fn unix_without_key_round_trips() {
    watchdog(LIMIT, "unix round trip without key", || {
        round_trip(Listener::bind_unix_temp(None).unwrap(), Client::new(None));
    });
}

#[test]
fn tcp_over_ipv6_loopback_when_available() {
    let Ok(listener) = Listener::bind_tcp("[::1]:0", KEY) else {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    };
    watchdog(LIMIT, "tcp6 round trip", move || {
        round_trip(listener, Client::new(Some(KEY)));
    });
}

fn assert_auth_failed(result: Result<impl std::fmt::Debug, ListenerError>, side: &str) -> String {
    match result {
        Err(err @ ListenerError::AuthenticationFailed(_)) => err.to_string(),
        other => panic!("{side}: expected an authentication failure, got {other:?}"),
    }
}

fn wrong_key_is_refused(listener: Listener) {
    let address = listener.address().clone();
    let client =
        std::thread::spawn(move || Client::new(Some(b"not the key")).connect::<Message>(&address));
    let server_side = assert_auth_failed(listener.accept::<Message>(), "listener");
    let client_side = assert_auth_failed(client.join().unwrap(), "client");
    assert!(server_side.contains("digest is wrong"), "{server_side}");
    assert!(client_side.contains("rejected our digest"), "{client_side}");

    // The listener keeps serving.
    let address = listener.address().clone();
    let client = std::thread::spawn(move || {
        let connection = Client::new(Some(KEY)).connect::<Message>(&address).unwrap();
        connection.recv().unwrap()
    });
    let connection = listener.accept::<Message>().unwrap();
    connection.send(Message::Text("after".into())).unwrap();
    assert_eq!(client.join().unwrap(), Message::Text("after".into()));
}

#[test]
fn wrong_key_is_refused_on_both_sides_over_unix() {
    watchdog(LIMIT, "unix wrong key", || {
        wrong_key_is_refused(Listener::bind_unix_temp(Some(KEY)).unwrap());
    });
}

#[test]
fn wrong_key_is_refused_on_both_sides_over_tcp() {
    watchdog(LIMIT, "tcp wrong key", || {
        wrong_key_is_refused(Listener::bind_tcp("127.0.0.1:0", KEY).unwrap());
    });
}

#[test]
fn a_server_with_another_key_is_refused_by_the_client() {
    // The client proves itself first, so against a server holding a different key it is
    // the server that refuses; a client that authenticates the server still refuses a
    // server that cannot answer (scripted here: the server welcomes any answer, then
    // answers the client's challenge with garbage).
    watchdog(LIMIT, "rogue server", || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = Address::Tcp(listener.local_addr().unwrap());
        let client = std::thread::spawn(move || Client::new(Some(KEY)).connect::<()>(&address));
        let (mut stream, _) = listener.accept().unwrap();
        let mut challenge = b"#CHALLENGE#{sha256}".to_vec();
        challenge.extend_from_slice(&[1; 40]);
        write_frame(&mut stream, &challenge);
        let _answer = read_frame(&mut stream);
        write_frame(&mut stream, b"#WELCOME#");
        let _their_challenge = read_frame(&mut stream);
        let mut forged = b"{sha256}".to_vec();
        forged.extend_from_slice(&[0; 32]);
        write_frame(&mut stream, &forged);
        assert_eq!(read_frame(&mut stream), b"#FAILURE#");
        let message = assert_auth_failed(client.join().unwrap(), "client");
        assert!(message.contains("digest is wrong"), "{message}");
    });
}

#[test]
fn tcp_without_key_is_refused_at_construction() {
    let tcp = Address::Tcp("127.0.0.1:0".parse().unwrap());
    assert!(matches!(
        Listener::bind(&tcp, None),
        Err(ListenerError::AuthkeyRequired)
    ));
    assert!(matches!(
        Listener::bind_tcp("127.0.0.1:0", b""),
        Err(ListenerError::AuthkeyRequired)
    ));
    assert!(matches!(
        Listener::bind_unix_temp(Some(b"")),
        Err(ListenerError::AuthkeyRequired)
    ));
    // The client refuses before connecting: nothing listens on this address.
    let listener = Listener::bind_tcp("127.0.0.1:0", KEY).unwrap();
    let address = listener.address().clone();
    drop(listener);
    assert!(matches!(
        Client::new(None).connect::<()>(&address),
        Err(ListenerError::AuthkeyRequired)
    ));
    assert!(matches!(
        Client::new(Some(b"")).connect::<()>(&address),
        Err(ListenerError::AuthkeyRequired)
    ));
    assert!(matches!(
        Client::connect_tcp::<()>(address.to_string(), b""),
        Err(ListenerError::AuthkeyRequired)
    ));
    let message = ListenerError::AuthkeyRequired.to_string();
    assert!(message.starts_with("an authkey is required"), "{message}");
}

#[test]
fn silent_peer_times_out_and_the_listener_serves_the_next_client() {
    watchdog(LIMIT, "silent peer", || {
        let timeout = Duration::from_millis(300);
        let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
            .unwrap()
            .with_handshake_timeout(timeout);
        let Address::Tcp(addr) = listener.address().clone() else {
            unreachable!()
        };
        let silent = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        match listener.accept::<Message>() {
            Err(ListenerError::HandshakeTimeout(t)) => assert_eq!(t, timeout),
            other => panic!("expected a handshake timeout, got {other:?}"),
        }
        let waited = started.elapsed();
        assert!(waited >= timeout, "gave up after {waited:?}");
        assert!(waited < timeout * 20, "took {waited:?}");

        // A peer that trickles the answer one byte at a time cannot stretch the deadline.
        let mut trickle = TcpStream::connect(addr).unwrap();
        let trickler = std::thread::spawn(move || {
            let _challenge = read_frame(&mut trickle);
            for byte in [0u8, 0, 0, 40].into_iter().chain([b'x'; 40]) {
                if trickle.write_all(&[byte]).is_err() {
                    return;
                }
                // Pacing a hostile peer, not synchronising with it.
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        assert!(matches!(
            listener.accept::<Message>(),
            Err(ListenerError::HandshakeTimeout(_))
        ));
        // The trickle alone would take 2.2 s.
        assert!(
            started.elapsed() < timeout * 5,
            "took {:?}",
            started.elapsed()
        );
        trickler.join().unwrap();

        // The next client is served.
        let client = std::thread::spawn(move || {
            let connection = Client::connect_tcp::<Message>(addr, KEY).unwrap();
            connection.send(Message::Text("next".into())).unwrap();
        });
        let connection = listener.accept::<Message>().unwrap();
        assert_eq!(connection.recv().unwrap(), Message::Text("next".into()));
        client.join().unwrap();
        drop(silent);
    });
}

#[test]
fn a_silent_server_times_out_the_client() {
    watchdog(LIMIT, "silent server", || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = Address::Tcp(listener.local_addr().unwrap());
        let timeout = Duration::from_millis(200);
        let result = Client::new(Some(KEY))
            .with_handshake_timeout(timeout)
            .connect::<()>(&address);
        assert!(matches!(result, Err(ListenerError::HandshakeTimeout(t)) if t == timeout));
        drop(listener);
    });
}

#[test]
fn an_unlimited_handshake_timeout_means_no_limit() {
    // `Duration::MAX` does not fit the clock: it is "no limit", not a panic on the deadline.
    watchdog(LIMIT, "unlimited handshake timeout", || {
        for listener in [
            Listener::bind_tcp("127.0.0.1:0", KEY).unwrap(),
            Listener::bind_unix_temp(Some(KEY)).unwrap(),
        ] {
            round_trip(
                listener.with_handshake_timeout(Duration::MAX),
                Client::new(Some(KEY)).with_handshake_timeout(Duration::MAX),
            );
        }
        let listener = Listener::bind_unix_temp(None).unwrap();
        let client = Client::new(None).connect::<u8>(listener.address()).unwrap();
        let server_side = listener.accept::<u8>().unwrap();
        client.send(5).unwrap();
        assert!(server_side.poll(Some(Duration::MAX)).unwrap());
        assert_eq!(server_side.recv().unwrap(), 5);
    });
}

// A hand-written client speaking the protocol from its description (CPython's
// `answer_challenge` then `deliver_challenge`), to put raw bytes on an authenticated stream.

fn write_frame(stream: &mut impl Write, payload: &[u8]) {
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    stream.write_all(&frame).unwrap();
}

fn read_frame(stream: &mut impl Read) -> Vec<u8> {
    let mut header = [0; 4];
    stream.read_exact(&mut header).unwrap();
    let mut payload = vec![0; i32::from_be_bytes(header) as usize];
    stream.read_exact(&mut payload).unwrap();
    payload
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn raw_authenticated_client(stream: &mut (impl Read + Write), key: &[u8]) {
    let challenge = read_frame(stream);
    let message = challenge.strip_prefix(b"#CHALLENGE#").unwrap();
    assert!(message.starts_with(b"{sha256}") && message.len() == 48);
    write_frame(
        stream,
        &[b"{sha256}".as_slice(), &hmac_sha256(key, message)].concat(),
    );
    assert_eq!(read_frame(stream), b"#WELCOME#");
    let mine = [b"{sha256}".as_slice(), &[42; 40]].concat();
    write_frame(stream, &[b"#CHALLENGE#".as_slice(), &mine].concat());
    let answer = read_frame(stream);
    assert_eq!(
        answer,
        [b"{sha256}".as_slice(), &hmac_sha256(key, &mine)].concat()
    );
    write_frame(stream, b"#WELCOME#");
}

#[test]
fn oversized_frames_are_refused_without_allocating() {
    watchdog(LIMIT, "oversized frame", || {
        let listener = Listener::bind_tcp("127.0.0.1:0", KEY)
            .unwrap()
            .with_max_message_size(1 << 20);
        let Address::Tcp(addr) = listener.address().clone() else {
            unreachable!()
        };
        let headers: [&[u8]; 3] = [
            // 2^64 - 1 bytes in the long form: allocating it would abort the process.
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            // 2 GiB - 1 in the short form.
            &[0x7f, 0xff, 0xff, 0xff],
            // One byte over the limit.
            &((1 << 20) + 1_i32).to_be_bytes(),
        ];
        for header in headers {
            let (hold_open, held) = mpsc::channel::<()>();
            let header = header.to_vec();
            let client = std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                raw_authenticated_client(&mut stream, KEY);
                stream.write_all(&header).unwrap();
                // No payload follows: a receiver that tried to read it would hang.
                let _ = held.recv();
            });
            let connection = listener.accept::<Message>().unwrap();
            match connection.recv_bytes() {
                Err(PipeError::MessageTooLarge { size, max }) => {
                    assert!(size > 1 << 20);
                    assert_eq!(max, 1 << 20);
                }
                other => panic!("expected an oversize refusal, got {other:?}"),
            }
            // The stream is no longer at a frame boundary: nothing more is read.
            assert!(matches!(connection.recv(), Err(PipeError::Closed)));
            drop(hold_open);
            client.join().unwrap();
        }
        let message = PipeError::MessageTooLarge { size: 5, max: 4 }.to_string();
        assert_eq!(
            message,
            "a 5-byte message exceeds the maximum message size of 4 bytes"
        );
    });
}

#[test]
fn oversized_handshake_messages_are_refused() {
    watchdog(LIMIT, "oversized handshake", || {
        let listener = Listener::bind_tcp("127.0.0.1:0", KEY).unwrap();
        let Address::Tcp(addr) = listener.address().clone() else {
            unreachable!()
        };
        let client = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            let _challenge = read_frame(&mut stream);
            // An "answer" announcing 1 GiB before anyone is authenticated.
            stream.write_all(&(1_i32 << 30).to_be_bytes()).unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        });
        let message = assert_auth_failed(listener.accept::<()>(), "listener");
        assert!(message.contains("handshake message"), "{message}");
        client.join().unwrap();
    });
}

#[test]
fn handles_cannot_cross_a_socket() {
    watchdog(LIMIT, "handles", || {
        let listener = Listener::bind_unix_temp(None).unwrap();
        let value_client = Client::new(None)
            .connect::<multiproc_shared::Value<u64>>(listener.address())
            .unwrap();
        let err = value_client
            .send(multiproc_shared::Value::new(5).unwrap())
            .unwrap_err();
        assert!(matches!(err.error(), PipeError::Encode(_)), "{err}");
        assert!(
            err.to_string().contains("cannot travel over a socket"),
            "{err}"
        );

        let pipe_client = Client::new(None)
            .connect::<multiproc_channel::PipeReader<u8>>(listener.address())
            .unwrap();
        let (reader, _writer) = Pipe::<u8>::new().unwrap();
        let err = pipe_client.send(reader).unwrap_err();
        assert!(matches!(err.error(), PipeError::Encode(_)), "{err}");

        // A receiver of such a type gets a decode error from plain bytes, not a panic.
        let server_side = listener
            .accept::<multiproc_channel::PipeReader<u8>>()
            .unwrap();
        let _ = listener.accept::<()>().unwrap();
        let raw = Client::new(None).connect::<()>(listener.address()).unwrap();
        let hostile = listener
            .accept::<multiproc_channel::PipeReader<u8>>()
            .unwrap();
        raw.send_bytes(&[1, 0, 0, 0]).unwrap();
        assert!(matches!(hostile.recv(), Err(PipeError::Decode(_))));
        drop(server_side);
    });
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn unix_sockets_are_owner_only() {
    let listener = Listener::bind_unix_temp(Some(KEY)).unwrap();
    let Address::Unix(path) = listener.address().clone() else {
        unreachable!()
    };
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(mode_of(&path), 0o600, "socket {}", path.display());
    let dir = path.parent().unwrap().to_owned();
    assert_eq!(mode_of(&dir), 0o700, "directory {}", dir.display());
    drop(listener);
    assert!(
        !path.exists() && !dir.exists(),
        "left behind {}",
        dir.display()
    );

    // A caller-given path: 0600, no staging directory left behind, removed on drop.
    let parent = tempdir();
    let path = parent.join("service.sock");
    let listener = Listener::bind_unix(&path, None).unwrap();
    assert!(
        std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_socket()
    );
    assert_eq!(mode_of(&path), 0o600);
    let entries: Vec<_> = std::fs::read_dir(&parent).unwrap().collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let client = Client::connect_unix::<u8>(&path, None).unwrap();
    client.send(3).unwrap();
    assert_eq!(listener.accept::<u8>().unwrap().recv().unwrap(), 3);
    drop(listener);
    assert!(!path.exists());

    // An existing file is never replaced.
    std::fs::write(&path, b"precious").unwrap();
    assert!(Listener::bind_unix(&path, None).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 1);
    std::fs::remove_dir_all(&parent).unwrap();
}

/// A fresh private directory for one test.
fn tempdir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("listener-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    dir
}

/// Runs in a spawned child: connects back, sends `count` numbered messages, and returns
/// what the listener answered.
fn remote_client(address: String, authkey: Vec<u8>, count: u32) -> Vec<String> {
    let connection = if address.starts_with('/') {
        Client::connect_unix::<Message>(&address, Some(&authkey)).unwrap()
    } else {
        Client::connect_tcp::<Message>(address.as_str(), &authkey).unwrap()
    };
    (0..count)
        .map(|i| {
            connection
                .send(Message::Numbers(vec![i64::from(i); 3]))
                .unwrap();
            match connection.recv().unwrap() {
                Message::Text(text) => text,
                other => panic!("unexpected {other:?}"),
            }
        })
        .collect()
}

#[test]
fn a_client_in_a_child_process_talks_to_the_parent() {
    watchdog(Duration::from_secs(60), "child client", || {
        for listener in [
            Listener::bind_tcp("127.0.0.1:0", KEY).unwrap(),
            Listener::bind_unix_temp(Some(KEY)).unwrap(),
        ] {
            let address = listener.address().to_string();
            let mut child =
                get_context(StartMethod::Spawn).process(remote_client, (address, KEY.to_vec(), 5));
            child.start().unwrap();
            let connection = listener.accept::<Message>().unwrap();
            for i in 0..5 {
                let Message::Numbers(numbers) = connection.recv().unwrap() else {
                    panic!("expected numbers")
                };
                assert_eq!(numbers, vec![i; 3]);
                connection
                    .send(Message::Text(format!(
                        "got {}",
                        numbers.iter().sum::<i64>()
                    )))
                    .unwrap();
            }
            let replies = child.join().unwrap();
            assert_eq!(replies, ["got 0", "got 3", "got 6", "got 9", "got 12"]);
        }
    });
}

/// A Python 3.12 or later to check the wire format against CPython's own
/// `multiprocessing.connection`: `$MULTIPROC_PYTHON`, else `python3.13`, `python3.12`,
/// `python3` if recent enough.
fn modern_python() -> Option<String> {
    let candidates = std::env::var("MULTIPROC_PYTHON")
        .into_iter()
        .chain(["python3.13", "python3.12", "python3"].map(String::from));
    candidates.into_iter().find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import sys; sys.exit(sys.version_info < (3, 12))"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

#[test]
fn interoperates_with_cpython() {
    let Some(python) = modern_python() else {
        eprintln!("skipped: no Python 3.12 or later (set MULTIPROC_PYTHON)");
        return;
    };
    watchdog(LIMIT, "cpython interop", move || {
        // CPython's Client against our Listener, over TCP.
        let listener = Listener::bind_tcp("127.0.0.1:0", KEY).unwrap();
        let Address::Tcp(addr) = listener.address().clone() else {
            unreachable!()
        };
        let script = "import sys\n\
            from multiprocessing.connection import Client\n\
            c = Client(('127.0.0.1', int(sys.argv[1])), authkey=sys.argv[2].encode())\n\
            c.send_bytes(b'from cpython')\n\
            assert c.recv_bytes() == b'from rust'\n";
        let mut child = std::process::Command::new(&python)
            .args(["-c", script, &addr.port().to_string()])
            .arg(std::str::from_utf8(KEY).unwrap())
            .spawn()
            .unwrap();
        let connection = listener.accept::<()>().unwrap();
        assert_eq!(connection.recv_bytes().unwrap(), b"from cpython");
        connection.send_bytes(b"from rust").unwrap();
        assert!(child.wait().unwrap().success());

        // Our Client against CPython's Listener, over a Unix socket.
        let dir = tempdir();
        let path = dir.join("py.sock");
        let script = "import sys\n\
            from multiprocessing.connection import Listener\n\
            with Listener(sys.argv[1], 'AF_UNIX', authkey=sys.argv[2].encode()) as l:\n\
            \x20   print('ready', flush=True)\n\
            \x20   with l.accept() as c:\n\
            \x20       c.send_bytes(c.recv_bytes().upper())\n";
        let mut child = std::process::Command::new(&python)
            .args(["-c", script, path.to_str().unwrap()])
            .arg(std::str::from_utf8(KEY).unwrap())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = [0; 6];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut ready)
            .unwrap();
        assert_eq!(&ready, b"ready\n");
        let connection = Client::connect_unix::<()>(&path, Some(KEY)).unwrap();
        connection.send_bytes(b"shout").unwrap();
        assert_eq!(connection.recv_bytes().unwrap(), b"SHOUT");
        assert!(child.wait().unwrap().success());

        // And a wrong key is refused by CPython too.
        let wrong = Listener::bind_tcp("127.0.0.1:0", b"other key").unwrap();
        let Address::Tcp(addr) = wrong.address().clone() else {
            unreachable!()
        };
        let script = "import sys\n\
            from multiprocessing.connection import Client, AuthenticationError\n\
            try:\n\
            \x20   Client(('127.0.0.1', int(sys.argv[1])), authkey=sys.argv[2].encode())\n\
            except AuthenticationError:\n\
            \x20   sys.exit(0)\n\
            sys.exit(1)\n";
        let mut child = std::process::Command::new(&python)
            .args(["-c", script, &addr.port().to_string()])
            .arg(std::str::from_utf8(KEY).unwrap())
            .spawn()
            .unwrap();
        assert!(matches!(
            wrong.accept::<()>(),
            Err(ListenerError::AuthenticationFailed(_))
        ));
        assert!(child.wait().unwrap().success());
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

// Hostile bytes for the decoders (bounded; `fuzz/` has fuzz targets for the same entry
// points).

type Decoder = fn(&[u8]) -> Result<(), String>;

const DECODERS: [(&str, Decoder); 5] = [
    ("handshake_server", decode::handshake_server),
    ("handshake_client", decode::handshake_client),
    ("socket_frames", decode::socket_frames),
    ("pipe_frame", decode::pipe_frame),
    ("queue_item", decode::queue_item),
];

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    frame
}

/// What a well-behaved listener sends to a client whose challenge is `decode::FUZZ_NONCE`.
fn valid_server_transcript() -> Vec<u8> {
    let nonce = [b"{sha256}".as_slice(), &[9; 40]].concat();
    let client_nonce = [b"{sha256}".as_slice(), &decode::FUZZ_NONCE].concat();
    let answer = hmac_sha256(decode::FUZZ_AUTHKEY, &client_nonce);
    [
        frame(&[b"#CHALLENGE#".as_slice(), &nonce].concat()),
        frame(b"#WELCOME#"),
        frame(&[b"{sha256}".as_slice(), &answer].concat()),
    ]
    .concat()
}

/// What a well-behaved client sends to a listener whose challenge is `decode::FUZZ_NONCE`.
fn valid_client_transcript() -> Vec<u8> {
    let server_nonce = [b"{sha256}".as_slice(), &decode::FUZZ_NONCE].concat();
    let nonce = [b"{sha256}".as_slice(), &[3; 40]].concat();
    [
        frame(
            &[
                b"{sha256}".as_slice(),
                &hmac_sha256(decode::FUZZ_AUTHKEY, &server_nonce),
            ]
            .concat(),
        ),
        frame(&[b"#CHALLENGE#".as_slice(), &nonce].concat()),
        frame(b"#WELCOME#"),
    ]
    .concat()
}

/// `["a", "bc"]` in postcard is 6 bytes, behind a 4-byte length.
const FIRST_FRAME_LEN: usize = 10;

#[test]
fn valid_transcripts_pass_and_every_truncation_fails() {
    let transcripts: [(&str, Decoder, Vec<u8>); 3] = [
        (
            "handshake_client",
            decode::handshake_client,
            valid_server_transcript(),
        ),
        (
            "handshake_server",
            decode::handshake_server,
            valid_client_transcript(),
        ),
        (
            "socket_frames",
            decode::socket_frames,
            [
                frame(&postcard::to_stdvec(&vec!["a".to_owned(), "bc".into()]).unwrap()),
                frame(&postcard::to_stdvec(&Vec::<String>::new()).unwrap()),
            ]
            .concat(),
        ),
    ];
    for (name, decoder, valid) in transcripts {
        assert_eq!(decoder(&valid), Ok(()), "{name} refused a valid transcript");
        for cut in 0..valid.len() {
            // A cut at a frame boundary of `socket_frames` is a shorter valid stream.
            if name == "socket_frames" && (cut == 0 || cut == FIRST_FRAME_LEN) {
                continue;
            }
            assert!(
                decoder(&valid[..cut]).is_err(),
                "{name} accepted a cut at {cut}"
            );
        }
        // Flipping any one byte breaks a handshake (the MAC or the framing), except in
        // the peer's random challenge, which any value answers.
        let peer_nonce = match name {
            "handshake_client" => 23..63,
            "handshake_server" => 67..107,
            _ => continue,
        };
        for i in 0..valid.len() {
            if !peer_nonce.contains(&i) {
                let mut flipped = valid.clone();
                flipped[i] ^= 0x20;
                assert!(decoder(&flipped).is_err(), "{name} accepted a flip at {i}");
            }
        }
    }
}

#[test]
fn random_bytes_are_rejected_without_panicking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, decoder) in DECODERS {
        for _ in 0..20_000 {
            let input = rng.bytes(96);
            let _ = std::panic::catch_unwind(|| decoder(&input))
                .unwrap_or_else(|_| panic!("{name} panicked on {input:?}"));
        }
        // Random bytes behind a valid prefix reach the later stages.
        let prefix = match name {
            "handshake_client" => valid_server_transcript(),
            "handshake_server" => valid_client_transcript(),
            _ => Vec::new(),
        };
        for _ in 0..5_000 {
            let cut = (rng.next_u64() as usize) % (prefix.len() + 1);
            let input = [&prefix[..cut], &rng.bytes(64)].concat();
            let _ = std::panic::catch_unwind(|| decoder(&input))
                .unwrap_or_else(|_| panic!("{name} panicked on {input:?}"));
        }
    }
}

#[test]
fn huge_length_prefixes_are_rejected_without_allocating() {
    let long = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];
    let short = [0x7f, 0xff, 0xff, 0xff];
    let varint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    for (name, decoder) in DECODERS {
        for huge in [&long[..], &short, &varint] {
            assert!(decoder(huge).is_err(), "{name} accepted {huge:?}");
            for prefix in 0..4u8 {
                let mut input = vec![prefix; 1 + prefix as usize];
                input.extend_from_slice(huge);
                let _ = decoder(&input);
            }
        }
    }
    // After a valid handshake prefix too.
    let server = valid_server_transcript();
    let cut = server.len() - 44;
    assert!(decode::handshake_client(&[&server[..cut], &long].concat()).is_err());
}
