//! `Event`, `Barrier`, `Condition` and the semaphores across real (forked) processes.

use std::collections::HashSet;
use std::time::Duration;

use multiproc_shared::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, RawArray, Semaphore, SharedError, Value,
};
use multiproc_test_support::{Signal, fork, wait_all_ok, watchdog};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn event_wakes_waiters_in_other_processes() {
    watchdog(LIMIT, "event wake-up", || {
        let event = Event::new().unwrap();
        let arrived = Semaphore::new(0).unwrap();
        let children: Vec<_> = (0..3)
            .map(|_| {
                let (event, arrived) = (event.clone(), arrived.clone());
                fork(move || {
                    arrived.release_unowned();
                    event.wait();
                    assert!(event.is_set());
                })
            })
            .collect();
        for _ in 0..3 {
            arrived.acquire().forget();
        }
        event.set();
        wait_all_ok(children);
    });
}

#[test]
fn event_wait_timeout_times_out() {
    let event = Event::new().unwrap();
    let started = std::time::Instant::now();
    assert!(!event.wait_timeout(Duration::from_millis(100)));
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn barrier_of_three_processes() {
    watchdog(LIMIT, "barrier of three", || {
        let barrier = Barrier::new(3).unwrap();
        let indexes = RawArray::<u32>::zeroed(3).unwrap();
        let children: Vec<_> = (0..2)
            .map(|slot| {
                let (barrier, indexes) = (barrier.clone(), indexes.clone());
                fork(move || {
                    for _round in 0..100 {
                        let index = barrier.wait().unwrap();
                        indexes.set(slot, index).unwrap();
                        // The second wait keeps rounds apart for the parent's check.
                        barrier.wait().unwrap();
                    }
                })
            })
            .collect();
        for _round in 0..100 {
            let index = barrier.wait().unwrap();
            barrier.wait().unwrap();
            indexes.set(2, index).unwrap();
            // After the second wait the children have written this round's indexes.
            let all: HashSet<u32> = indexes.to_vec().into_iter().collect();
            assert_eq!(all, HashSet::from([0, 1, 2]), "indexes are distinct");
        }
        wait_all_ok(children);
        assert!(!barrier.broken());
    });
}

#[test]
fn barrier_abort_and_timeout_break_it_for_other_processes() {
    watchdog(LIMIT, "barrier abort and timeout", || {
        let barrier = Barrier::new(3).unwrap();
        let signal = Signal::new();
        let child_barrier = barrier.clone();
        let child = fork(|| {
            signal.child_send(1);
            assert!(matches!(
                child_barrier.wait(),
                Err(SharedError::BrokenBarrier)
            ));
        });
        assert_eq!(signal.parent_recv(), 1);
        // Whether the child is already waiting or not, it must see the barrier broken.
        assert!(barrier.wait_timeout(Duration::from_millis(100)).is_err());
        assert!(barrier.broken());
        assert_eq!(child.wait(), 0);
        barrier.reset();
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn condition_producer_consumer_across_processes() {
    watchdog(LIMIT, "condition producer-consumer", || {
        // A one-slot buffer: `full` says whether `slot` holds an item.
        let cond = Condition::new().unwrap();
        let slot = RawArray::<u64>::zeroed(2).unwrap(); // [full, item]
        let total = Value::new(0_u64).unwrap();
        let (c_cond, c_slot, c_total) = (cond.clone(), slot.clone(), total.clone());
        let consumer = fork(move || {
            let mut sum = 0;
            for _ in 0..1000 {
                let _held = c_cond.lock().unwrap();
                c_cond.wait_for(|| c_slot.get(0).unwrap() == 1).unwrap();
                sum += c_slot.get(1).unwrap();
                c_slot.set(0, 0).unwrap();
                c_cond.notify_all();
            }
            c_total.set(sum);
        });
        for item in 1..=1000 {
            let _held = cond.lock().unwrap();
            cond.wait_for(|| slot.get(0).unwrap() == 0).unwrap();
            slot.set(1, item).unwrap();
            slot.set(0, 1).unwrap();
            cond.notify_all();
        }
        assert_eq!(consumer.wait(), 0);
        assert_eq!(total.get(), 500_500);
    });
}

#[test]
fn condition_with_a_plain_lock_times_out() {
    let cond = Condition::with_lock(Lock::new().unwrap()).unwrap();
    assert!(matches!(cond.wait(), Err(SharedError::NotLocked)));
    let held = cond.acquire().unwrap();
    assert!(!cond.wait_timeout(Duration::from_millis(20)).unwrap());
    assert!(
        !cond
            .wait_for_timeout(|| false, Duration::from_millis(20))
            .unwrap()
    );
    drop(held);
    assert!(matches!(cond.wait(), Err(SharedError::NotLocked)));
}

#[test]
fn semaphore_limits_concurrency_across_processes() {
    watchdog(LIMIT, "semaphore concurrency", || {
        let slots = Semaphore::new(2).unwrap();
        let inside = Value::new(0_i32).unwrap();
        let most = Value::new(0_i32).unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                let (slots, inside, most) = (slots.clone(), inside.clone(), most.clone());
                fork(move || {
                    for _ in 0..200 {
                        let _unit = slots.guard();
                        let now = inside.fetch_add(1) + 1;
                        most.fetch_max(now);
                        inside.fetch_sub(1);
                    }
                })
            })
            .collect();
        wait_all_ok(children);
        assert!(most.load() <= 2, "at most two inside, saw {}", most.load());
        assert_eq!(slots.value(), 2);
    });
}

#[test]
fn semaphore_acquire_timeout_and_bounded_release() {
    watchdog(LIMIT, "semaphore timeouts", || {
        let sem = Semaphore::new(0).unwrap();
        assert!(sem.acquire_timeout(Duration::from_millis(50)).is_none());
        let child_sem = sem.clone();
        let child = fork(move || child_sem.release_unowned());
        assert_eq!(child.wait(), 0);
        assert!(sem.acquire_timeout(Duration::from_secs(10)).is_some());
        assert_eq!(sem.value(), 1, "the guard gave its unit back");

        let bounded = BoundedSemaphore::new(1).unwrap();
        assert!(matches!(
            bounded.release_unowned(),
            Err(SharedError::TooManyReleases)
        ));
        bounded.acquire().forget();
        let child_bounded = bounded.clone();
        let child = fork(move || {
            child_bounded.release_unowned().unwrap();
            assert!(child_bounded.release_unowned().is_err());
        });
        assert_eq!(child.wait(), 0);
        assert_eq!(bounded.value(), 1);
    });
}

#[test]
fn semaphore_waiter_death_does_not_wedge_others() {
    watchdog(LIMIT, "semaphore waiter death", || {
        let sem = Semaphore::new(0).unwrap();
        let signal = Signal::new();
        let child_sem = sem.clone();
        let doomed = fork(|| {
            signal.child_send(1);
            child_sem.acquire().forget();
        });
        assert_eq!(signal.parent_recv(), 1);
        doomed.kill();
        doomed.wait();
        sem.release_unowned();
        assert!(sem.acquire_timeout(Duration::from_secs(10)).is_some());
    });
}
