//! `Pool.starmap`: call a two-argument function on each pair.
//!
//! ```text
//! $ cargo run -p multiproc-examples --example pool_starmap
//! [2, 12, 30, 56]
//! ```

use multiproc::pool::Pool;

fn multiply(a: i64, b: i64) -> i64 {
    a * b
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(4)?;
    let results = pool.starmap(multiply, [(1, 2), (3, 4), (5, 6), (7, 8)])?;
    println!("{results:?}");
    Ok(())
}
