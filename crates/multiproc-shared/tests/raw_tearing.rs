//! `RawValue`/`RawArray` of a type wider than any atomic, hammered by threads and
//! processes at once: a reader never sees half of one write and half of another.

use std::time::Duration;

use multiproc_shared::{RawArray, RawValue};
use multiproc_test_support::{fork, wait_all_ok, watchdog};

const WRITES: u64 = 100_000;

fn check(seen: [u64; 4]) {
    assert!(
        seen.iter().all(|&word| word == seen[0]),
        "torn value: {seen:?}"
    );
}

#[test]
fn raw_value_of_four_words_never_tears_across_threads_and_processes() {
    watchdog(Duration::from_secs(120), "raw value tearing", || {
        let value = RawValue::new([0_u64; 4]).unwrap();
        // Two processes: one writes, one reads.
        let writer_process = {
            let value = value.clone();
            fork(move || {
                for i in 0..WRITES {
                    value.set([i | 1 << 40; 4]);
                }
            })
        };
        let reader_process = {
            let value = value.clone();
            fork(move || {
                for _ in 0..WRITES {
                    check(value.get());
                }
            })
        };
        // Two threads of this process: one writes, one reads.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..WRITES {
                    value.set([i | 2 << 40; 4]);
                }
            });
            scope.spawn(|| {
                for _ in 0..WRITES {
                    check(value.get());
                }
            });
        });
        wait_all_ok(vec![writer_process, reader_process]);
        check(value.get());
    });
}

#[test]
fn raw_array_of_wide_elements_never_tears() {
    watchdog(Duration::from_secs(120), "raw array tearing", || {
        let array = RawArray::<[u64; 3]>::zeroed(2).unwrap();
        let writer = {
            let array = array.clone();
            fork(move || {
                for i in 0..WRITES {
                    array.set(1, [i; 3]).unwrap();
                    array.copy_from_slice(&[[i; 3], [i; 3]]).unwrap();
                }
            })
        };
        for _ in 0..WRITES {
            let [a, b, c] = array.get(1).unwrap();
            assert!(a == b && b == c, "torn element: {a} {b} {c}");
            let both = array.to_vec();
            assert!(
                both[0][0] == both[0][2] && both[1][0] == both[1][2],
                "torn: {both:?}"
            );
        }
        wait_all_ok(vec![writer]);
    });
}
