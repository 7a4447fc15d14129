//! `multiproc-shared` alone: shared memory and locks with children made by the program's own
//! `fork` (here the test helpers' fork, which reaps its children even when a test fails), no
//! other multiproc crate.

use std::time::Duration;

use multiproc_shared::{Lock, Value};
use multiproc_test_support::fork;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn forked_children_increment_a_shared_value_exactly() {
    let counter = Value::<u64>::new(0).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            fork(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for child in children {
        child.join_ok(LIMIT);
    }
    assert_eq!(counter.get(), 40_000);
}

#[test]
fn a_lock_taken_by_the_parent_is_released_by_a_child() {
    // Python's Lock may be released by any process, not only the one that acquired it.
    let lock = Lock::new().unwrap();
    lock.acquire().unwrap().forget();
    let releaser = lock.clone();
    fork(move || releaser.release_unowned().unwrap()).join_ok(LIMIT);
    assert!(
        lock.try_acquire().unwrap().is_some(),
        "the child's release did not unlock it"
    );
    assert!(!lock.is_locked());
}
