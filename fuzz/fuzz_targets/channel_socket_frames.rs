//! Fuzzes length-prefixed messages on an authenticated socket.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_channel::decode::socket_frames(data);
});
