//! Fuzzes what a listener sends during a Client's authkey handshake.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_channel::decode::handshake_client(data);
});
