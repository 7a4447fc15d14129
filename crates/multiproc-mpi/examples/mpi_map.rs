//! The same function on a local pool and on an MPI job.
//!
//! ```sh
//! cargo build --release -p multiproc-mpi --features mpi --example mpi_map
//! mpirun --oversubscribe -n 4 target/release/examples/mpi_map
//! ```
use multiproc_mpi::{MpiPool, TaskPool};
use multiproc_pool::Pool;

/// Steps of the Collatz sequence from `n` down to 1: uneven work per item.
fn collatz_steps(n: u64) -> u64 {
    let (mut n, mut steps) = (n, 0);
    while n > 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

/// Written once, for either pool.
fn steps_of(pool: &impl TaskPool) -> Vec<u64> {
    pool.map(collatz_steps, 1..=30).expect("the map failed")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First thing: ranks 1.. serve from here and never return.
    let mpi = MpiPool::new()?;
    let local = Pool::new(2)?;
    let on_mpi = steps_of(&mpi);
    let on_local = steps_of(&local);
    println!("mpi ({} serving ranks): {on_mpi:?}", mpi.servers());
    println!("local pool:             {on_local:?}");
    assert_eq!(on_mpi, on_local);
    Ok(())
}
