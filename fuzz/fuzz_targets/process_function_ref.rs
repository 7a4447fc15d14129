//! Fuzzes the decoding of a `FunctionRef`, as a pool worker decodes one with every task.
//! Any input must give `Err` (a tag that verifies cannot be guessed): never a panic, and never
//! a call to an address.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = multiproc_process::decode::function_ref(data);
});
