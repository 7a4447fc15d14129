//! Every decoder of bytes that cross into a process of ours rejects truncated, oversized and
//! random input with an error: never a panic. (Bounded random input; `fuzz/` has the fuzz
//! targets for the same entry points.)

use multiproc_process::decode;
use multiproc_test_support::Rng;

type Decoder = fn(&[u8]) -> Result<(), String>;

const DECODERS: [(&str, Decoder); 8] = [
    ("hello", decode::hello),
    ("bootstrap", decode::bootstrap),
    ("forkserver_request", decode::forkserver_request),
    ("forkserver_reply", decode::forkserver_reply),
    ("outcome", decode::outcome),
    ("log_record", decode::log_record),
    ("function_call", decode::function_call),
    ("function_ref", decode::function_ref),
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

fn square(x: u64) -> u64 {
    x * x
}

#[test]
fn a_forged_function_ref_does_not_decode() {
    use multiproc_process::FunctionRef;
    // The two bytes: offset 1 (zigzag varint 2), then no tag.
    assert!(postcard::from_bytes::<FunctionRef>(&[2, 0]).is_err());
    // Offset 1 with a tag of zeros, and with random tags.
    let mut forged = vec![2u8];
    forged.extend_from_slice(&[0; 16]);
    assert!(postcard::from_bytes::<FunctionRef>(&forged).is_err());
    let mut rng = Rng(7);
    for _ in 0..1000 {
        forged.truncate(1);
        forged.extend((0..16).map(|_| rng.next_u64() as u8));
        assert!(postcard::from_bytes::<FunctionRef>(&forged).is_err());
    }

    // A real one round-trips; the same tag with any other offset, or any flipped tag bit,
    // does not.
    let real = FunctionRef::new::<_, (u64,)>(square);
    let bytes = postcard::to_stdvec(&real).unwrap();
    assert_eq!(postcard::from_bytes::<FunctionRef>(&bytes).unwrap(), real);
    let offset: i64 = postcard::from_bytes(&bytes).unwrap();
    let tag = &bytes[bytes.len() - 16..];
    for delta in [-64i64, -1, 1, 2, 16, 4096] {
        let mut moved = postcard::to_stdvec(&(offset + delta)).unwrap();
        moved.extend_from_slice(tag);
        assert!(
            postcard::from_bytes::<FunctionRef>(&moved).is_err(),
            "moved by {delta}"
        );
    }
    for bit in 0..128 {
        let mut flipped = bytes.clone();
        let at = bytes.len() - 16 + bit / 8;
        flipped[at] ^= 1 << (bit % 8);
        assert!(postcard::from_bytes::<FunctionRef>(&flipped).is_err());
    }
    // And the real one still calls.
    let input = postcard::to_stdvec(&vec![(5u64,)]).unwrap();
    assert!(real.call(&input).is_ok());
}
