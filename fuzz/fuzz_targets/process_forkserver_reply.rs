//! Fuzzes the fork server's reply.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_process::decode::forkserver_reply(data);
});
