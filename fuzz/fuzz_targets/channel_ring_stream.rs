//! Fuzzes a queue ring's stream header: the announced length of an item larger than the
//! ring, head, tail and counters as a peer process could have scribbled them.
//! Any input must give `Ok` or `Err`: never a panic, a hang or an allocation of the
//! announced length.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_channel::fuzz_ring_stream(data);
});
