//! `Manager().dict()`: workers of a pool count words into a dict that lives in a manager
//! process. Each count is an atomic `update_with`, run in the manager, so no update is
//! lost (CPython's `d[word] += 1` on a `DictProxy` is two calls and loses updates).
//!
//! ```text
//! $ cargo run -p multiproc-examples --example manager_word_count
//! 28 words, 19 distinct
//!   4 the
//!   3 a
//!   3 and
//!   2 fox
//!   2 over
//! ```

use multiproc::fallible;
use multiproc::manager::{DictProxy, Manager, ManagerError};
use multiproc::pool::Pool;

const TEXT: &[&str] = &[
    "The quick brown fox jumps over the lazy dog",
    "A fox and a hound and the river",
    "Over the hills a wind blows",
    "Rust and Python count words",
];

fn add_one(count: Option<u64>) -> u64 {
    count.unwrap_or(0) + 1
}

/// Runs in a pool worker: the proxy arrived as an ordinary argument.
fn count_words(counts: DictProxy<String, u64>, line: String) -> Result<usize, ManagerError> {
    let mut words = 0;
    for word in line.split_whitespace() {
        counts.update_with(word.to_lowercase(), add_one)?;
        words += 1;
    }
    Ok(words)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manager = Manager::start()?;
    let counts = manager.dict::<String, u64>()?;
    let pool = Pool::new(4)?;
    let lines = TEXT.iter().map(|line| (counts.clone(), line.to_string()));
    let words: usize = pool.starmap(fallible(count_words), lines)?.iter().sum();

    let mut items = counts.items()?;
    items.sort_by(|(a, m), (b, n)| n.cmp(m).then(a.cmp(b)));
    println!("{words} words, {} distinct", items.len());
    for (word, count) in items.iter().take(5) {
        println!("{count:>3} {word}");
    }
    manager.shutdown()?;
    Ok(())
}
