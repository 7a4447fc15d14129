//! Fuzzes the arguments of a pool-style batch call.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_process::decode::function_call(data);
});
