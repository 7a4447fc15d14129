//! Every decoder of bytes that cross into a process of ours rejects truncated, oversized and
//! random input with an error: never a panic. (Bounded random input; `fuzz/` has the fuzz
//! targets for the same entry points.)

use multiproc_process::decode;
use multiproc_test_support::Rng;

type Decoder = fn(&[u8]) -> Result<(), String>;

const DECODERS: [(&str, Decoder); 7] = [
    ("hello", decode::hello),
    ("bootstrap", decode::bootstrap),
    ("forkserver_request", decode::forkserver_request),
    ("forkserver_reply", decode::forkserver_reply),
    ("outcome", decode::outcome),
    ("log_record", decode::log_record),
    ("function_call", decode::function_call),
];

#[test]
fn random_bytes_are_rejected_without_panicking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, decoder) in DECODERS {
        for _ in 0..20_000 {
            let input = rng.bytes(64);
            // Only the absence of a panic is asserted: short random input may happen to be a
            // valid encoding (e.g. a fork-server reply), and that is fine.
            let _ = std::panic::catch_unwind(|| decoder(&input))
                .unwrap_or_else(|_| panic!("{name} panicked on {input:?}"));
        }
    }
}

#[test]
fn huge_length_prefixes_do_not_allocate_unboundedly() {
    // A varint length of about 2^63 followed by nothing: a decoder that trusted it would try to
    // allocate exabytes.
    let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    for (name, decoder) in DECODERS {
        assert!(decoder(&huge).is_err(), "{name} accepted a huge length");
        // The same length in a later field.
        for prefix in 0..4u8 {
            let mut input = vec![prefix; 1 + prefix as usize];
            input.extend_from_slice(&huge);
            let _ = decoder(&input);
        }
    }
}

#[test]
fn truncated_valid_messages_are_rejected() {
    // A valid batch call (two argument tuples), cut at every length.
    let valid =
        postcard::to_stdvec(&vec![("hello".to_owned(), 3u64), ("world".to_owned(), 9)]).unwrap();
    assert!(decode::function_call(&valid).is_ok());
    for cut in 0..valid.len() {
        assert!(
            decode::function_call(&valid[..cut]).is_err(),
            "accepted a cut at {cut}"
        );
    }
}

#[test]
fn empty_input_is_rejected() {
    for (name, decoder) in DECODERS {
        assert!(decoder(&[]).is_err(), "{name} accepted empty input");
    }
}
