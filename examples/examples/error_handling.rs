//! One task panics, one crashes its worker (`abort`) and one returns `Err`: each is reported
//! for its own item (the `Err` as `PoolError::Failed`, because the target is passed as
//! `fallible(risky)`), the crashed worker is replaced, and every other result arrives.
//!
//! ```text
//! $ cargo run -p multiproc-examples --example error_handling
//! 0 -> 0
//! 1 -> 10
//! 2 -> 20
//! 3 -> error: task 3 panicked: 'three is unlucky' at examples/examples/error_handling.rs:..
//! 4 -> 40
//! 5 -> error: the worker running task 5 died (signal 6 (SIGABRT))
//! 6 -> error: task 6 failed: six is rejected
//! 7 -> 70
//! ```

use multiproc::fallible;
use multiproc::pool::Pool;

fn risky(x: u32) -> Result<u32, String> {
    match x {
        3 => panic!("three is unlucky"),
        5 => std::process::abort(),
        6 => Err(format!("{} is rejected", "six")),
        _ => Ok(x * 10),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(2)?;
    // chunksize 1: the crash takes only its own task down (a crash fails its whole chunk).
    for (x, result) in pool.chunksize(1).imap(fallible(risky), 0..8).enumerate() {
        match result {
            Ok(value) => println!("{x} -> {value}"),
            Err(e) => println!("{x} -> error: {e}"),
        }
    }
    Ok(())
}
