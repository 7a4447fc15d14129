//! `Value`, `RawValue`, `Array` and `RawArray` across real (forked) processes.

use std::time::{Duration, Instant};

use multiproc_shared::{Array, Condition, OwnerDied, RawArray, SharedError, Value};
use multiproc_test_support::{Signal, fork, wait_all_ok, watchdog};

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn five_process_counter_is_exact() {
    watchdog(LIMIT, "five-process counter", || {
        let counter = Value::new(0_i32).unwrap();
        let children: Vec<_> = (0..5)
            .map(|_| {
                let counter = counter.clone();
                fork(move || *counter.lock().unwrap() += 1)
            })
            .collect();
        wait_all_ok(children);
        assert_eq!(counter.get(), 5);
    });
}

#[test]
fn two_processes_times_100_000_locked_increments_are_exact() {
    watchdog(LIMIT, "locked increments", || {
        let counter = Value::new(0_u64).unwrap();
        let children: Vec<_> = (0..2)
            .map(|_| {
                let counter = counter.clone();
                fork(move || {
                    for _ in 0..100_000 {
                        *counter.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        wait_all_ok(children);
        assert_eq!(counter.get(), 200_000);
    });
}

#[test]
fn get_lock_guards_get_and_set_across_processes() {
    watchdog(LIMIT, "get_lock across processes", || {
        let counter = Value::new(0_i64).unwrap();
        let children: Vec<_> = (0..3)
            .map(|_| {
                let counter = counter.clone();
                fork(move || {
                    for _ in 0..10_000 {
                        // Python's `with v.get_lock(): v.value += 1`.
                        let _held = counter.get_lock().lock().unwrap();
                        counter.set(counter.get() + 1);
                    }
                })
            })
            .collect();
        wait_all_ok(children);
        assert_eq!(counter.get(), 30_000);
    });
}

#[test]
fn atomic_helpers_count_exactly_across_processes() {
    watchdog(LIMIT, "atomic helpers", || {
        let hits = Value::new(0_u32).unwrap();
        let raw_hits = multiproc_shared::RawValue::new(0_u64).unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                let (hits, raw_hits) = (hits.clone(), raw_hits.clone());
                fork(move || {
                    for _ in 0..50_000 {
                        hits.fetch_add(1);
                        raw_hits.fetch_add(2);
                    }
                })
            })
            .collect();
        wait_all_ok(children);
        assert_eq!(hits.load(), 200_000);
        assert_eq!(raw_hits.get(), 400_000);
    });
}

#[test]
fn value_lock_owner_death_hands_the_guard_over() {
    watchdog(LIMIT, "value lock owner death", || {
        let value = Value::new(0_u32).unwrap();
        let signal = Signal::new();
        let held = value.clone();
        let child = fork(|| {
            let mut guard = held.lock().unwrap();
            *guard = 41; // half-way through an update, never written back
            signal.child_send(1);
            loop {
                std::thread::park();
            }
        });
        assert_eq!(signal.parent_recv(), 1);
        child.kill();
        assert_eq!(child.wait(), -libc::SIGKILL);
        let started = Instant::now();
        let mut guard = match value.lock() {
            Err(died) => OwnerDied::into_inner(died),
            Ok(_) => panic!("owner death not reported"),
        };
        assert!(started.elapsed() < Duration::from_secs(5));
        // A guard works on a copy that it writes back when dropped: the dead owner's
        // unfinished update never reached shared memory.
        assert_eq!(*guard, 0);
        *guard = 42; // repaired
        drop(guard);
        assert_eq!(value.get(), 42);
    });
}

#[test]
fn array_lock_owner_death_is_reported() {
    watchdog(LIMIT, "array lock owner death", || {
        let array = Array::<u8>::zeroed(4).unwrap();
        let signal = Signal::new();
        let held = array.clone();
        let child = fork(|| {
            let _guard = held.lock().unwrap();
            signal.child_send(1);
            loop {
                std::thread::park();
            }
        });
        assert_eq!(signal.parent_recv(), 1);
        child.kill();
        child.wait();
        assert!(array.lock().is_err());
        assert!(array.lock().is_ok());
    });
}

#[test]
fn child_fills_array_parent_sums() {
    watchdog(LIMIT, "child fills array", || {
        let data = Array::<f64>::zeroed(1000).unwrap();
        let raw = RawArray::<f64>::zeroed(1000).unwrap();
        let (child_data, child_raw) = (data.clone(), raw.clone());
        let child = fork(move || {
            let values: Vec<f64> = (0..1000).map(f64::from).collect();
            child_data.copy_from_slice(&values).unwrap();
            child_raw.copy_from_slice(&values).unwrap();
            child_data.set(999, 0.5).unwrap();
        });
        assert_eq!(child.wait(), 0);
        let sum: f64 = data.lock().unwrap().iter().sum();
        assert_eq!(sum, (0..999).map(f64::from).sum::<f64>() + 0.5);
        assert_eq!(raw.to_vec().iter().sum::<f64>(), 499_500.0);
        assert!(matches!(
            data.get(1000),
            Err(multiproc_shared::SharedError::OutOfBounds {
                index: 1000,
                len: 1000
            })
        ));
    });
}

#[test]
#[should_panic(expected = "holds a guard")]
fn second_guard_on_the_same_thread_panics() {
    let value = Value::new(0_u8).unwrap();
    let _first = value.lock().unwrap();
    let _second = value.lock();
}

#[test]
#[should_panic(expected = "holds a guard")]
fn get_under_a_guard_panics() {
    let value = Value::new(0_u8).unwrap();
    let _guard = value.lock().unwrap();
    value.get();
}

#[test]
fn guard_inside_get_lock_is_allowed() {
    let value = Value::new(1_u8).unwrap();
    let _held = value.get_lock().lock().unwrap();
    *value.lock().unwrap() += 1;
    assert_eq!(value.get(), 2);
}

#[test]
fn values_travel_through_an_ipc_channel() {
    // The path a re-executed child takes: the memfd crosses inside an ipc-channel message.
    let value = Value::new(1_i32).unwrap();
    let array = Array::from_slice(&[1_u16, 2, 3]).unwrap();
    let lock = multiproc_shared::Lock::new().unwrap();
    let (tx, rx) = ipc_channel::ipc::channel().unwrap();
    tx.send((value.clone(), array.clone(), lock.clone()))
        .unwrap();
    let (value2, array2, lock2): (Value<i32>, Array<u16>, multiproc_shared::Lock) =
        rx.recv().unwrap();
    assert_ne!(
        value.as_ptr(),
        value2.as_ptr(),
        "a second, separate mapping"
    );
    value2.set(7);
    array2.set(2, 30).unwrap();
    lock2.acquire().unwrap().forget();
    assert_eq!(value.get(), 7);
    assert_eq!(array.to_vec(), [1, 2, 30]);
    assert!(lock.is_locked());
}

#[test]
fn byte_transports_are_refused() {
    let value = Value::new(1_i32).unwrap();
    assert!(multiproc_shared::with_plain_serialization(|| postcard::to_stdvec(&value)).is_err());
    // A named SharedMemory is only a name, which survives any transport.
    let block = multiproc_shared::SharedMemory::create_unique(8).unwrap();
    let bytes = multiproc_shared::with_plain_serialization(|| postcard::to_stdvec(&block)).unwrap();
    let again: multiproc_shared::SharedMemory = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(again.name(), block.name());
    block.unlink().unwrap();
}

#[test]
fn a_guard_keeps_its_level_of_the_lock() {
    let value = Value::new(1_u32).unwrap();
    let mut guard = value.lock().unwrap();
    // Releasing the guard's level through the RLock would let another thread in while
    // the guard's `&mut` lives.
    assert!(matches!(
        value.get_lock().release_unowned(),
        Err(SharedError::GuardOut)
    ));
    let condition = Condition::with_rlock(value.get_lock().clone()).unwrap();
    assert!(matches!(
        condition.wait_timeout(Duration::from_millis(1)),
        Err(SharedError::GuardOut)
    ));
    // Other threads wait, for the value and for its atomic helpers.
    std::thread::scope(|scope| {
        let other =
            scope.spawn(|| matches!(value.lock_timeout(Duration::from_millis(20)), Ok(None)));
        assert!(
            other.join().unwrap(),
            "another thread took the lock of a guard"
        );
    });
    *guard += 1;
    // A level taken on top of the guard's may be given back.
    value.get_lock().acquire().unwrap().forget();
    value.get_lock().release_unowned().unwrap();
    drop(value.get_lock().acquire().unwrap());
    drop(guard);
    assert_eq!(value.fetch_add(1), 2);
    assert_eq!(value.get(), 3);
}

#[test]
fn array_guard_keeps_its_level_of_the_lock() {
    let array = Array::<u16>::zeroed(3).unwrap();
    let mut guard = array.lock().unwrap();
    assert!(matches!(
        array.get_lock().release_unowned(),
        Err(SharedError::GuardOut)
    ));
    guard[1] = 5;
    drop(guard);
    assert_eq!(array.to_vec(), [0, 5, 0]);
}

#[test]
fn debug_shows_the_value_and_never_waits_for_the_lock() {
    watchdog(Duration::from_secs(60), "Debug of Value and Array", || {
        let value = Value::new(42_u32).unwrap();
        assert_eq!(format!("{value:?}"), "Value { value: 42, type: \"u32\" }");
        let array = Array::from_slice(&(0..20_u8).collect::<Vec<_>>()).unwrap();
        let shown = format!("{array:?}");
        assert!(
            shown.contains(
                "len: 20, head: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] (and 4 more)"
            ),
            "{shown}"
        );
        let short = Array::from_slice(&[7_i16, -1]).unwrap();
        assert!(format!("{short:?}").contains("len: 2, head: [7, -1]"));

        // The same thread holds a guard: no hang, no panic, and the guard still works.
        let mut guard = value.lock().unwrap();
        assert!(format!("{value:?}").contains("<locked>"));
        *guard += 1;
        drop(guard);
        let guard = array.lock().unwrap();
        assert!(format!("{array:?}").contains("<locked>"));
        drop(guard);

        // The lock held through `get_lock` on this thread (no guard): read recursively.
        let held = value.get_lock().acquire().unwrap();
        assert!(format!("{value:?}").contains("value: 43"));
        drop(held);
        assert!(!value.get_lock().is_owned());

        // Another process holds the lock: `<locked>` at once, and the lock is untouched.
        let signal = Signal::new();
        let child_value = value.clone();
        let holder = fork(|| {
            let _guard = child_value.lock().unwrap();
            signal.child_send(1);
            signal.child_recv();
        });
        assert_eq!(signal.parent_recv(), 1);
        assert!(format!("{value:?}").contains("<locked>"));
        signal.parent_send(2);
        assert_eq!(holder.wait(), 0);
        assert_eq!(value.get(), 43);
    });
}
