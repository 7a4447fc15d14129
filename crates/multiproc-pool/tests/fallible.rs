//! Fallible targets in a pool, under every start method: an `Err` becomes
//! `PoolError::Failed` with the error's whole chain and the position of the failed item in the
//! input, with chunks of several tasks too; a panic stays `PoolError::Panicked`; the pool goes
//! on serving.

mod common;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use common::METHODS;
use multiproc_pool::{Pool, PoolError, fallible};
use multiproc_process::StartMethod;
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);

fn pool(method: StartMethod) -> Pool {
    Pool::builder()
        .processes(2)
        .start_method(method)
        .build()
        .unwrap()
}

/// An error whose source is another local error, whose source is a std error.
#[derive(Debug)]
struct Outer {
    item: u32,
    inner: Inner,
}

#[derive(Debug)]
struct Inner(std::num::ParseIntError);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {}", self.item)
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.inner)
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("parsing")
    }
}

impl Error for Inner {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

const CHAIN: &str = "parsing: invalid digit found in string";

/// Fails on multiples of 7 (other than 0) with a three-link chain.
fn sevens(x: u32) -> Result<u32, Outer> {
    if x.is_multiple_of(7) && x != 0 {
        let inner = Inner("x".parse::<u32>().unwrap_err());
        return Err(Outer { item: x, inner });
    }
    Ok(x * 10)
}

/// The same, behind `Box<dyn Error + Send + Sync>` (what `?` on mixed errors gives).
fn boxed(x: u32) -> Result<u32, Box<dyn Error + Send + Sync>> {
    Ok(sevens(x)?)
}

fn add_or_fail(a: u32, b: u32) -> Result<u32, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} overflows"))
}

fn panics_on_three(x: u32) -> Result<u32, String> {
    if x == 3 {
        panic!("three");
    }
    Ok(x)
}

#[test]
fn map_names_the_failed_item_with_its_chain_at_every_chunksize() {
    watchdog(LIMIT, "fallible map", || {
        for method in METHODS {
            let pool = pool(method);
            for chunksize in [1, 3, 5, 16] {
                let failed = pool.chunksize(chunksize).map(fallible(sevens), 0..20);
                assert_eq!(
                    failed,
                    Err(PoolError::Failed {
                        message: format!("item 7: {CHAIN}"),
                        index: 7
                    }),
                    "{method}, chunksize {chunksize}"
                );
                let failed = pool.chunksize(chunksize).map(fallible(boxed), 8..20);
                assert_eq!(
                    failed,
                    Err(PoolError::Failed {
                        message: format!("item 14: {CHAIN}"),
                        index: 6
                    }),
                    "{method}, chunksize {chunksize}, boxed"
                );
            }
            assert_eq!(
                pool.map(fallible(sevens), 1..7).unwrap(),
                [10, 20, 30, 40, 50, 60]
            );
            assert_eq!(pool.worker_pids().len(), 2, "{method}");
        }
    });
}

#[test]
fn imap_apply_and_starmap_report_each_failure_apart_from_panics() {
    watchdog(LIMIT, "fallible imap", || {
        for method in METHODS {
            let pool = pool(method);
            let results: Vec<Result<u32, PoolError>> =
                pool.chunksize(4).imap(fallible(sevens), 0..16).collect();
            for (x, result) in results.iter().enumerate() {
                if x == 7 || x == 14 {
                    let message = format!("item {x}: {CHAIN}");
                    assert_eq!(
                        result,
                        &Err(PoolError::Failed { message, index: x }),
                        "{method}"
                    );
                } else {
                    assert_eq!(result, &Ok(x as u32 * 10), "{method}");
                }
            }
            let mut unordered: Vec<Result<u32, PoolError>> = pool
                .chunksize(3)
                .imap_unordered(fallible(boxed), 5..10)
                .collect();
            unordered.sort_by_key(|r| r.clone().unwrap_or(u32::MAX));
            assert_eq!(unordered[..4], [Ok(50), Ok(60), Ok(80), Ok(90)]);
            let message = format!("item 7: {CHAIN}");
            assert_eq!(unordered[4], Err(PoolError::Failed { message, index: 2 }));

            let message = "4294967295 + 1 overflows".to_owned();
            assert_eq!(
                pool.apply(fallible(add_or_fail), (u32::MAX, 1)),
                Err(PoolError::Failed {
                    message: message.clone(),
                    index: 0
                })
            );
            assert_eq!(pool.apply(fallible(add_or_fail), (1, 2)), Ok(3));
            assert_eq!(
                pool.chunksize(2)
                    .starmap(fallible(add_or_fail), [(1, 1), (2, 2), (u32::MAX, 1)]),
                Err(PoolError::Failed { message, index: 2 })
            );

            let results: Vec<Result<u32, PoolError>> = pool
                .chunksize(2)
                .imap(fallible(panics_on_three), 0..5)
                .collect();
            assert!(
                matches!(&results[3], Err(PoolError::Panicked { panic: p, index: 3 }) if p.message == "three"),
                "{method}: {results:?}"
            );
            assert_eq!(results[4], Ok(4));
        }
    });
}

#[test]
fn without_fallible_a_result_is_a_value() {
    watchdog(LIMIT, "plain result", || {
        let pool = pool(StartMethod::Forkserver);
        let results = pool.map(add_one_checked, [1, u32::MAX]).unwrap();
        assert_eq!(results, [Ok(2), Err("4294967295 + 1 overflows".to_owned())]);
    });
}

fn add_one_checked(x: u32) -> Result<u32, String> {
    add_or_fail(x, 1)
}
