//! A program that runs a long `Pool.map`, for the parent-death and interrupt tests: it prints
//! `ready <pid>` once its workers run, then maps until it is killed.
//!
//! Usage: `pool_victim <fork|spawn|forkserver>`

use std::io::Write;
use std::time::Duration;

use multiproc::{Pool, StartMethod};

fn slow(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(20));
    x
}

fn main() {
    // To be interrupted and terminated as from a terminal, whatever the test runner ignores.
    multiproc_test_support::default_interrupt_dispositions();
    let method: StartMethod = std::env::args()
        .nth(1)
        .expect("a start method")
        .parse()
        .expect("a start method");
    let pool = Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .expect("a pool");
    // Every worker has answered once: they all exist.
    assert_eq!(
        pool.chunksize(1).map(slow, 0..4).expect("warm-up map"),
        vec![0, 1, 2, 3]
    );
    println!("ready {}", std::process::id());
    std::io::stdout().flush().unwrap();
    let _ = pool.chunksize(1).map(slow, 0..1_000_000);
    eprintln!("pool_victim: the map finished; it should have been killed");
    std::process::exit(3);
}
