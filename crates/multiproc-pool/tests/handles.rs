//! A shared-memory or channel handle passed as a task argument fails at submit, in the
//! caller, with an error that says what to do instead; the initializer, which it points
//! to, carries the handle to every worker.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::METHODS;
use multiproc_channel::Queue;
use multiproc_pool::{Pool, PoolError};
use multiproc_shared::{Array, Lock, Value};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);

fn read_value(value: Value<u64>) -> u64 {
    value.get()
}

fn array_len(array: Array<u8>) -> usize {
    array.len()
}

fn is_locked(lock: Lock) -> bool {
    lock.is_locked()
}

fn queue_len(queue: Queue<u32>) -> usize {
    queue.len()
}

fn square(x: u64) -> u64 {
    x * x
}

/// The advice, and that it came from the caller's encoding, not from a worker's decoding.
fn assert_refused_at_submit<R: std::fmt::Debug>(what: &str, outcome: Result<R, PoolError>) {
    match outcome {
        Err(PoolError::Transfer { detail }) => {
            assert!(
                detail.contains("cannot be a pool task argument"),
                "{what}: {detail}"
            );
            assert!(detail.contains("initializer"), "{what}: {detail}");
            assert!(detail.contains("Process"), "{what}: {detail}");
        }
        other => panic!("{what}: expected a refusal at submit, got {other:?}"),
    }
}

#[test]
fn shared_handles_as_task_arguments_are_refused_at_submit() {
    watchdog(LIMIT, "handles as task arguments", || {
        let value = Value::new(7_u64).unwrap();
        let array = Array::<u8>::zeroed(4).unwrap();
        let lock = Lock::new().unwrap();
        let queue = Queue::<u32>::bounded(4).unwrap();
        for method in METHODS {
            let pool = Pool::builder()
                .processes(1)
                .start_method(method)
                .build()
                .unwrap();
            assert_refused_at_submit("Value", pool.apply(read_value, (value.clone(),)));
            assert_refused_at_submit("Array", pool.apply(array_len, (array.clone(),)));
            assert_refused_at_submit("Lock", pool.apply(is_locked, (lock.clone(),)));
            assert_refused_at_submit("Queue", pool.apply(queue_len, (queue.clone(),)));
            // The same through the async form; then the pool goes on serving.
            let results = pool
                .apply_async(read_value, (value.clone(),))
                .get_timeout(LIMIT);
            assert_refused_at_submit("Value, async", results);
            assert_eq!(pool.map(square, 0..4).unwrap(), [0, 1, 4, 9], "{method}");
        }
    });
}

static GIVEN: OnceLock<Value<u64>> = OnceLock::new();

fn keep(value: Value<u64>) {
    let _ = GIVEN.set(value);
}

fn add_to_given(x: u64) -> u64 {
    let given = GIVEN.get().expect("the initializer ran");
    given.fetch_add(x) + x
}

#[test]
fn the_initializer_carries_a_shared_value_to_every_worker() {
    watchdog(LIMIT, "a Value through the initializer", || {
        for method in METHODS {
            let total = Value::new(0_u64).unwrap();
            let pool = Pool::builder()
                .processes(2)
                .start_method(method)
                .initializer(keep, (total.clone(),))
                .build()
                .unwrap();
            pool.chunksize(1).map(add_to_given, 1..=10).unwrap();
            assert_eq!(total.get(), 55, "{method}");
        }
    });
}
