//! Fuzzes a Connection message as ipc-channel delivers it.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_channel::decode::pipe_frame(data);
});
