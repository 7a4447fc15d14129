//! Fuzzes a queue ring's record headers: head, tail, item count and record lengths as a
//! peer process could have scribbled them into the shared segment.
//! Any input must give `Ok` or `Err`: never a panic, a hang or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_channel::fuzz_ring_record(data);
});
