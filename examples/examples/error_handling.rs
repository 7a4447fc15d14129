//! One task panics and one task crashes its worker (`abort`): both are reported for their
//! own item, the crashed worker is replaced, and every other result arrives.
//!
//! ```text
//! $ cargo run -p multiproc-examples --example error_handling
//! 0 -> 0
//! 1 -> 10
//! 2 -> 20
//! 3 -> error: the task panicked: 'three is unlucky' at examples/examples/error_handling.rs:..
//! 4 -> 40
//! 5 -> error: the worker running the task died (signal 6 (SIGABRT))
//! 6 -> 60
//! 7 -> 70
//! ```

use multiproc::pool::Pool;

fn risky(x: u32) -> u32 {
    match x {
        3 => panic!("three is unlucky"),
        5 => std::process::abort(),
        _ => x * 10,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(2)?;
    // chunksize 1: the crash takes only its own task down (a crash fails its whole chunk).
    for (x, result) in pool.chunksize(1).imap(risky, 0..8).enumerate() {
        match result {
            Ok(value) => println!("{x} -> {value}"),
            Err(e) => println!("{x} -> error: {e}"),
        }
    }
    Ok(())
}
