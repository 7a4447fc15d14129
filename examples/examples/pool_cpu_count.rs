//! Size a pool from the machine: `cpu_count() - 1` workers (at least one), leaving a CPU
//! for the rest of the system, then square 0..100.
//!
//! ```text
//! $ cargo run -p multiproc-examples --example pool_cpu_count
//! 3 workers
//! [0, 1, 4, 9, ..., 9801]
//! ```

use multiproc::cpu_count;
use multiproc::pool::Pool;

fn square(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = cpu_count().saturating_sub(1).max(1);
    println!("{workers} workers");
    let pool = Pool::new(workers)?;
    let results = pool.map(square, 0..100)?;
    println!("{results:?}");
    Ok(())
}
