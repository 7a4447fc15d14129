//! Fuzzes a log record forwarded from a child.
//! Any input must give `Ok` or `Err`: never a panic or an unbounded allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_process::decode::log_record(data);
});
