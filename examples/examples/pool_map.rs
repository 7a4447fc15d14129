//! `Pool.map`: square 0..10 in a pool of four worker processes.
//!
//! ```text
//! $ cargo run -p multiproc-examples --example pool_map
//! [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]
//! ```

use multiproc::pool::Pool;

fn square(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(4)?;
    let results = pool.map(square, 0..10)?;
    println!("{results:?}");
    Ok(())
}
