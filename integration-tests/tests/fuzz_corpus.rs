//! Every fuzz target's committed corpus (`fuzz/corpus/<target>/`) replays under plain
//! `cargo test`, through the very entry point the target calls: each input must give
//! `Ok` or `Err`, never a panic or a hang.
//!
//! The seeds are generated, not written by hand: valid encodings (through serde types of
//! the same shape as the real messages, where those carry no descriptors) plus edge cases
//! (empty, truncated, huge lengths, inconsistent ring headers). To regenerate them:
//!
//! ```sh
//! cargo test -p multiproc-integration-tests --test fuzz_corpus -- --ignored write_seed_corpus
//! ```

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use multiproc_channel::decode as channel;
use multiproc_channel::ring_layout::RECORD_HEADER;
use multiproc_process::decode as process;
use multiproc_test_support::watchdog;
use serde::Serialize;
use sha2::Sha256;

type Entry = fn(&[u8]) -> Result<(), String>;

/// Every fuzz target: its name, the entry point its source calls, and that function.
const TARGETS: [(&str, &str, Entry); 14] = [
    (
        "process_hello",
        "multiproc_process::decode::hello",
        process::hello,
    ),
    (
        "process_bootstrap",
        "multiproc_process::decode::bootstrap",
        process::bootstrap,
    ),
    (
        "process_forkserver_request",
        "multiproc_process::decode::forkserver_request",
        process::forkserver_request,
    ),
    (
        "process_forkserver_reply",
        "multiproc_process::decode::forkserver_reply",
        process::forkserver_reply,
    ),
    (
        "process_outcome",
        "multiproc_process::decode::outcome",
        process::outcome,
    ),
    (
        "process_log_record",
        "multiproc_process::decode::log_record",
        process::log_record,
    ),
    (
        "process_function_call",
        "multiproc_process::decode::function_call",
        process::function_call,
    ),
    (
        "channel_handshake_server",
        "multiproc_channel::decode::handshake_server",
        channel::handshake_server,
    ),
    (
        "channel_handshake_client",
        "multiproc_channel::decode::handshake_client",
        channel::handshake_client,
    ),
    (
        "channel_socket_frames",
        "multiproc_channel::decode::socket_frames",
        channel::socket_frames,
    ),
    (
        "channel_pipe_frame",
        "multiproc_channel::decode::pipe_frame",
        channel::pipe_frame,
    ),
    (
        "channel_queue_item",
        "multiproc_channel::decode::queue_item",
        channel::queue_item,
    ),
    (
        "channel_ring_record",
        "multiproc_channel::fuzz_ring_record",
        multiproc_channel::fuzz_ring_record,
    ),
    (
        "channel_ring_stream",
        "multiproc_channel::fuzz_ring_stream",
        multiproc_channel::fuzz_ring_stream,
    ),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The `[[bin]]` names in `fuzz/Cargo.toml`.
fn declared_targets() -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let mut names = BTreeSet::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name = ") {
            names.insert(value.trim_matches('"').to_owned());
        }
    }
    names
}

#[test]
fn every_fuzz_target_calls_the_entry_point_replayed_here() {
    let listed: BTreeSet<String> = TARGETS.iter().map(|t| t.0.to_owned()).collect();
    assert_eq!(
        declared_targets(),
        listed,
        "fuzz/Cargo.toml and this test's table list different targets"
    );
    for (name, path, _) in TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&source).unwrap();
        assert!(
            source.contains(&format!("{path}(data)")),
            "fuzz target {name} does not call {path}"
        );
    }
}

#[test]
fn every_committed_corpus_replays_without_panicking() {
    watchdog(Duration::from_secs(120), "corpus replay", || {
        for (name, _, entry) in TARGETS {
            let dir = fuzz_dir().join("corpus").join(name);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
                .map(|entry| entry.unwrap().path())
                .collect();
            files.sort();
            assert!(files.len() >= 4, "{name}: only {} seeds", files.len());
            // Targets whose messages carry descriptors cannot have a valid seed: ipc-channel
            // needs the descriptors themselves, which a byte string does not carry.
            let needs_descriptors = matches!(name, "process_hello" | "process_bootstrap");
            let mut accepted = 0;
            for file in files {
                let input = std::fs::read(&file).unwrap();
                let result = catch_unwind(AssertUnwindSafe(|| entry(&input)))
                    .unwrap_or_else(|_| panic!("{name} panicked on {}", file.display()));
                accepted += usize::from(result.is_ok());
                // The generated seeds say what they are; files fuzzing added say nothing.
                let seed = file.file_name().unwrap().to_string_lossy().into_owned();
                if seed.starts_with("seed-valid-") && !needs_descriptors {
                    assert!(result.is_ok(), "{name}: {seed} was rejected: {result:?}");
                }
                if seed.starts_with("seed-corrupt-") {
                    assert!(result.is_err(), "{name}: {seed} was accepted");
                }
            }
            assert!(
                needs_descriptors || accepted > 0,
                "{name}: no seed is a valid input"
            );
        }
    });
}

// The seeds.

/// Edge cases every decoder gets: nothing, a lone zero, a varint length of about 2^63, a
/// run of 0xff, and a 4-byte big-endian frame length of 2^31 - 1.
fn edge_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("edge-empty", vec![]),
        ("edge-zero", vec![0]),
        (
            "edge-huge-varint",
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ),
        ("edge-all-ones", vec![0xff; 64]),
        ("edge-huge-frame", vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3]),
    ]
}

fn postcard<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).unwrap()
}

/// A valid encoding and every third truncation of it.
fn with_truncations(name: &'static str, valid: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut seeds = vec![(format!("valid-{name}"), valid.clone())];
    for cut in (1..valid.len()).step_by(3) {
        seeds.push((format!("cut-{name}-{cut}"), valid[..cut].to_vec()));
    }
    seeds
}

// Messages of the process crate, in serde shapes equal to the real ones (postcard encodes
// fields in order, enum variants by index), where they carry no descriptors.

#[derive(Serialize)]
struct Hello {
    token: u64,
    pid: u32,
    fingerprint: [u64; 4],
    /// An `IpcSender`: an index into the message's descriptors, of which there are none.
    to_child: usize,
}

#[derive(Serialize)]
#[allow(dead_code)]
enum ForkserverRequest {
    Fork,
    Reap { pid: u32 },
    Release,
}

#[derive(Serialize)]
#[allow(dead_code)]
enum ForkserverReply {
    Forked { pid: u32, ends: [Option<i32>; 3] },
    Failed { error: String },
}

#[derive(Serialize)]
struct PanicInfo {
    message: String,
    location: Option<String>,
}

#[derive(Serialize)]
#[allow(dead_code)]
enum Outcome {
    Returned(Vec<String>),
    Panicked(PanicInfo),
    Error(String),
    Failed(String),
    Setting(String),
}

#[derive(Serialize)]
struct LogRecord {
    level: usize,
    target: String,
    message: String,
    module_path: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    process_name: String,
    pid: u32,
}

#[derive(Serialize)]
#[allow(dead_code)]
enum LogMessage {
    Record(LogRecord),
    Barrier(u64),
}

/// A `Connection`'s frame: kind (0 value, 1 bytes), payload, and the counts of handles
/// it carries (`None`: no probe).
fn connection_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    postcard(&(kind, payload, None::<(usize, usize)>))
}

fn strings() -> Vec<String> {
    vec!["a".to_owned(), "bc".to_owned()]
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    frame
}

/// What a well-behaved listener sends to a client whose challenge is `FUZZ_NONCE`.
fn valid_server_transcript() -> Vec<u8> {
    let nonce = [b"{sha256}".as_slice(), &[9; 40]].concat();
    let client_nonce = [b"{sha256}".as_slice(), &channel::FUZZ_NONCE].concat();
    let answer = hmac_sha256(channel::FUZZ_AUTHKEY, &client_nonce);
    [
        frame(&[b"#CHALLENGE#".as_slice(), &nonce].concat()),
        frame(b"#WELCOME#"),
        frame(&[b"{sha256}".as_slice(), &answer].concat()),
    ]
    .concat()
}

/// What a well-behaved client sends to a listener whose challenge is `FUZZ_NONCE`.
fn valid_client_transcript() -> Vec<u8> {
    let server_nonce = [b"{sha256}".as_slice(), &channel::FUZZ_NONCE].concat();
    let nonce = [b"{sha256}".as_slice(), &[3; 40]].concat();
    [
        frame(
            &[
                b"{sha256}".as_slice(),
                &hmac_sha256(channel::FUZZ_AUTHKEY, &server_nonce),
            ]
            .concat(),
        ),
        frame(&[b"#CHALLENGE#".as_slice(), &nonce].concat()),
        frame(b"#WELCOME#"),
    ]
    .concat()
}

/// The ring size of the fuzz entry points (`FUZZ_RING_BYTES` in the channel crate).
const FUZZ_RING_BYTES: u64 = 256;

fn words(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Records `[u32 length][bytes]` laid out from ring position `start`, wrapping, in a
/// ring image of `FUZZ_RING_BYTES`; returns the image and the tail position.
fn ring_with_records(start: u64, items: &[&[u8]]) -> (Vec<u8>, u64) {
    let mut image = vec![0u8; FUZZ_RING_BYTES as usize];
    let mut position = start;
    for item in items {
        let record = [&(item.len() as u32).to_le_bytes()[..], item].concat();
        for byte in record {
            image[(position % FUZZ_RING_BYTES) as usize] = byte;
            position += 1;
        }
    }
    (image, position)
}

/// `fuzz_ring_record` input: head, tail, items, flags, ring image.
fn record_input(head: u64, tail: u64, items: u64, flags: u8, image: &[u8]) -> Vec<u8> {
    [&words(&[head, tail, items])[..], &[flags], image].concat()
}

fn ring_record_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let (image, tail) = ring_with_records(0, &[b"one", b"two", b"three"]);
    seeds.push((
        "valid-three-records".into(),
        record_input(0, tail, 3, 0, &image),
    ));
    // A record that wraps around the end of the ring.
    let (image, tail) = ring_with_records(250, &[b"wrapping around"]);
    seeds.push((
        "valid-wrapping".into(),
        record_input(250, tail, 1, 0, &image),
    ));
    // After a lock holder died: two whole records and half a third.
    let (image, tail) = ring_with_records(0, &[b"one", b"two"]);
    seeds.push((
        "valid-repair-half-record".into(),
        record_input(0, tail + RECORD_HEADER as u64 + 2, 2, 1, &image),
    ));
    seeds.push(("valid-empty".into(), record_input(7, 7, 0, 0, &[])));
    let mut bogus = image.clone();
    bogus[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    seeds.push((
        "corrupt-record-longer-than-ring".into(),
        record_input(0, tail, 2, 0, &bogus),
    ));
    seeds.push((
        "valid-repair-drops-a-bogus-record".into(),
        record_input(0, tail, 2, 1, &bogus),
    ));
    seeds.push((
        "corrupt-head-after-tail".into(),
        record_input(1000, 9, 1, 0, &image),
    ));
    seeds.push((
        "corrupt-tail-beyond-ring".into(),
        record_input(0, 10_000, 1, 0, &image),
    ));
    seeds.push((
        "corrupt-tail-overflow".into(),
        record_input(u64::MAX - 3, u64::MAX, 1, 0, &image),
    ));
    seeds.push((
        "corrupt-items-in-empty-ring".into(),
        record_input(0, 0, u64::MAX, 0, &image),
    ));
    seeds
}

/// `fuzz_ring_stream` input: total, head, tail, items, written, flags, ring image.
fn stream_input(header: [u64; 5], flags: u8, image: &[u8]) -> Vec<u8> {
    [&words(&header)[..], &[flags], image].concat()
}

fn ring_stream_seeds() -> Vec<(String, Vec<u8>)> {
    let image: Vec<u8> = (0..FUZZ_RING_BYTES as u8).collect();
    vec![
        // A finished 200-byte stream, all of it in the ring.
        (
            "valid-whole-stream".into(),
            stream_input([200, 0, 200, 1, 200], 0, &image),
        ),
        // A finished 200-byte stream that wraps around the end of the ring.
        (
            "valid-wrapping-stream".into(),
            stream_input([200, 100, 300, 1, 200], 0, &image),
        ),
        // A finished writer whose last bytes never arrived.
        (
            "corrupt-finished-stream-short".into(),
            stream_input([1000, 944, 1000, 1, 1000], 0, &image),
        ),
        (
            "valid-dead-reader".into(),
            stream_input([1000, 0, 100, 0, 100], 1, &image),
        ),
        (
            "valid-repair-during-stream".into(),
            stream_input([200, 0, 200, 1, 200], 2, &image),
        ),
        (
            "corrupt-length-2-pow-62".into(),
            stream_input([1 << 62, 0, 0, 1, 0], 0, &image),
        ),
        (
            "corrupt-length-beyond-isize".into(),
            stream_input([u64::MAX - 1, 0, 0, 1, 0], 0, &image),
        ),
        (
            "corrupt-more-bytes-than-announced".into(),
            stream_input([10, 0, 200, 1, 10], 0, &image),
        ),
        (
            "corrupt-head-after-tail".into(),
            stream_input([200, 300, 100, 1, 200], 0, &image),
        ),
    ]
}

/// The seeds of one target.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<(String, Vec<u8>)> = match target {
        "process_hello" => with_truncations(
            "hello",
            postcard(&Hello {
                token: 0x1234_5678,
                pid: 4242,
                fingerprint: [1, 2, 3, 4],
                to_child: 0,
            }),
        ),
        "process_bootstrap" => vec![
            // `Run` and `Forkserver` tags, with a spec cut short.
            ("cut-run".into(), vec![0, 0]),
            ("cut-forkserver".into(), vec![1, 0]),
            ("bad-variant".into(), vec![7]),
        ],
        "process_forkserver_request" => {
            let mut seeds =
                with_truncations("reap", postcard(&ForkserverRequest::Reap { pid: 65_000 }));
            seeds.push(("cut-fork".into(), postcard(&ForkserverRequest::Fork)));
            seeds.push((
                "valid-release".into(),
                postcard(&ForkserverRequest::Release),
            ));
            seeds
        }
        "process_forkserver_reply" => {
            let mut seeds = with_truncations(
                "forked",
                postcard(&ForkserverReply::Forked {
                    pid: 77,
                    ends: [None, Some(9), None],
                }),
            );
            seeds.extend(with_truncations(
                "failed",
                postcard(&ForkserverReply::Failed {
                    error: "fork: out of memory".into(),
                }),
            ));
            seeds
        }
        "process_outcome" => {
            let mut seeds = with_truncations("returned", postcard(&Outcome::Returned(strings())));
            seeds.extend(with_truncations(
                "panicked",
                postcard(&Outcome::Panicked(PanicInfo {
                    message: "explicit panic".into(),
                    location: Some("src/main.rs:3:5".into()),
                })),
            ));
            seeds.push((
                "valid-failed".into(),
                postcard(&Outcome::Failed("arguments did not decode".into())),
            ));
            seeds.push((
                "valid-setting".into(),
                postcard(&Outcome::Setting("current_dir /gone: not found".into())),
            ));
            seeds
        }
        "process_log_record" => {
            let mut seeds = with_truncations(
                "record",
                postcard(&LogMessage::Record(LogRecord {
                    level: 3,
                    target: "app".into(),
                    message: "hello from a child".into(),
                    module_path: Some("app::worker".into()),
                    file: None,
                    line: Some(42),
                    process_name: "Process-1".into(),
                    pid: 1234,
                })),
            );
            seeds.push(("valid-barrier".into(), postcard(&LogMessage::Barrier(7))));
            seeds
        }
        "process_function_call" => with_truncations(
            "batch",
            postcard(&vec![("hello".to_owned(), 3u64), ("world".to_owned(), 9)]),
        ),
        "channel_handshake_server" => with_truncations("client", valid_client_transcript()),
        "channel_handshake_client" => with_truncations("server", valid_server_transcript()),
        "channel_socket_frames" => {
            let one = frame(&postcard(&strings()));
            let mut seeds = with_truncations("two-frames", [one.clone(), one].concat());
            seeds.push((
                "valid-empty-list".into(),
                frame(&postcard(&Vec::<String>::new())),
            ));
            seeds
        }
        "channel_pipe_frame" => {
            let mut seeds = with_truncations("value", connection_frame(0, &postcard(&strings())));
            seeds.push(("valid-bytes".into(), connection_frame(1, b"raw")));
            seeds.push(("bad-kind".into(), connection_frame(9, b"raw")));
            seeds
        }
        "channel_queue_item" => with_truncations("strings", postcard(&strings())),
        "channel_ring_record" => ring_record_seeds(),
        "channel_ring_stream" => ring_stream_seeds(),
        other => panic!("no seeds for fuzz target {other}"),
    };
    seeds.extend(
        edge_cases()
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), bytes)),
    );
    seeds
}

/// Rewrites every target's seeds in `fuzz/corpus/<target>/` (files that fuzzing added
/// stay).
#[test]
#[ignore = "writes fuzz/corpus; run by hand after a message format changes"]
fn write_seed_corpus() {
    for (name, _, _) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (seed, bytes) in seeds(name) {
            std::fs::write(dir.join(format!("seed-{seed}")), bytes).unwrap();
        }
    }
}
