//! `Lock` and `RLock` across real (forked) processes.

use std::time::{Duration, Instant};

use multiproc_shared::{Lock, OwnerDied, RLock, SharedError};
use multiproc_test_support::{Signal, fork, wait_all_ok, watchdog};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn lock_acquired_in_one_process_is_released_in_another() {
    watchdog(LIMIT, "lock across processes", || {
        let lock = Lock::new().unwrap();
        let signal = Signal::new();
        let child_lock = lock.clone();
        let child = fork(|| {
            child_lock.acquire().unwrap().forget();
            signal.child_send(1);
        });
        assert_eq!(signal.parent_recv(), 1);
        assert_eq!(child.wait(), 0);
        assert!(lock.is_locked());
        lock.release_unowned().unwrap();
        assert!(!lock.is_locked());

        // And the other way round: the parent acquires, the child releases.
        lock.acquire().unwrap().forget();
        let child_lock = lock.clone();
        let child = fork(move || child_lock.release_unowned().unwrap());
        assert_eq!(child.wait(), 0);
        assert!(lock.try_acquire().unwrap().is_some());
        assert!(!lock.is_locked());
    });
}

#[test]
fn acquire_timeout_gives_up_while_another_process_holds_the_lock() {
    watchdog(LIMIT, "acquire_timeout while held", || {
        let lock = Lock::new().unwrap();
        let signal = Signal::new();
        let child_lock = lock.clone();
        let child = fork(|| {
            let held = child_lock.acquire().unwrap();
            signal.child_send(1);
            // Hold the lock until the parent says it is done.
            signal.child_recv();
            drop(held);
        });
        assert_eq!(signal.parent_recv(), 1);
        let started = Instant::now();
        assert!(
            lock.acquire_timeout(Duration::from_millis(300))
                .unwrap()
                .is_none()
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300),
            "gave up early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(10), "gave up late: {waited:?}");
        assert!(
            lock.lock_timeout(Duration::from_millis(50))
                .unwrap()
                .is_none()
        );
        signal.parent_send(2);
        assert_eq!(child.wait(), 0);
        assert!(
            lock.acquire_timeout(Duration::from_secs(10))
                .unwrap()
                .is_some()
        );
        assert!(!lock.is_locked());
    });
}

/// Forks a child that runs `hold` (which must acquire the lock), signals, and waits
/// forever; SIGKILLs it and returns how long the parent's `recover` took.
fn kill_holder(hold: impl FnOnce(), recover: impl FnOnce()) -> Duration {
    let signal = Signal::new();
    let child = fork(|| {
        hold();
        signal.child_send(1);
        loop {
            std::thread::park();
        }
    });
    assert_eq!(signal.parent_recv(), 1);
    child.kill();
    assert_eq!(child.wait(), -libc::SIGKILL);
    let started = Instant::now();
    recover();
    started.elapsed()
}

#[test]
fn lock_owner_death_is_reported() {
    watchdog(LIMIT, "lock owner death", || {
        let lock = Lock::new().unwrap();
        let held = lock.clone();
        let took = kill_holder(
            || held.acquire().unwrap().forget(),
            || {
                let died = lock.acquire().unwrap_err();
                // The caller holds the lock now, through the guard the error carries.
                assert!(lock.is_locked());
                drop(died);
                assert!(!lock.is_locked());
            },
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert!(lock.try_acquire().unwrap().is_some());
        assert!(!lock.is_locked());
    });
}

#[test]
fn lock_owner_death_is_reported_to_a_waiter_already_sleeping() {
    watchdog(LIMIT, "owner death with a waiter asleep", || {
        let lock = Lock::new().unwrap();
        let signal = Signal::new();
        let held = lock.clone();
        let holder = fork(|| {
            held.acquire().unwrap().forget();
            signal.child_send(1);
            loop {
                std::thread::park();
            }
        });
        assert_eq!(signal.parent_recv(), 1);
        let waiter_lock = lock.clone();
        let waiter = std::thread::spawn(move || {
            let guard = waiter_lock.lock();
            matches!(guard, Err(OwnerDied { .. }))
        });
        // Let the waiter get to sleep; its outcome does not depend on this.
        std::thread::sleep(Duration::from_millis(100));
        let pid = holder.pid();
        // SIGKILL without reaping: the owner is a zombie for a while, which must count as dead.
        // SAFETY: our own child, reaped when `holder` drops.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let started = Instant::now();
        assert!(waiter.join().unwrap(), "waiter did not see owner death");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(holder);
        assert!(!lock.is_locked());
    });
}

#[test]
fn rlock_owner_death_is_reported() {
    watchdog(LIMIT, "rlock owner death", || {
        let lock = RLock::new().unwrap();
        let held = lock.clone();
        let took = kill_holder(
            || {
                held.acquire().unwrap().forget();
                held.acquire().unwrap().forget();
            },
            || lock.acquire().unwrap_err().into_inner().forget(),
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert!(lock.is_owned());
        // Taken over once: one release frees it.
        lock.release_unowned().unwrap();
        assert!(!lock.is_owned());
        assert!(lock.try_acquire().unwrap().is_some());
        assert!(!lock.is_owned());
    });
}

#[test]
fn rlock_cannot_be_released_by_another_process() {
    watchdog(LIMIT, "rlock release by another process", || {
        let lock = RLock::new().unwrap();
        let held = lock.acquire().unwrap();
        let child_lock = lock.clone();
        let child = fork(move || {
            assert!(matches!(
                child_lock.release_unowned(),
                Err(SharedError::NotOwner)
            ));
            assert!(child_lock.try_acquire().unwrap().is_none());
        });
        assert_eq!(child.wait(), 0);
        drop(held);
        assert!(!lock.is_owned());
    });
}

#[test]
fn lock_excludes_across_processes() {
    watchdog(LIMIT, "lock exclusion", || {
        // A non-atomic counter in a RawValue, guarded by a separate Lock.
        let lock = Lock::new().unwrap();
        let counter = multiproc_shared::RawValue::new(0_u64).unwrap();
        let children: Vec<_> = (0..2)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                fork(move || {
                    for _ in 0..100_000 {
                        let _guard = lock.lock().unwrap();
                        counter.set(counter.get() + 1);
                    }
                })
            })
            .collect();
        wait_all_ok(children);
        assert_eq!(counter.get(), 200_000);
    });
}

/// The Python-shaped line `let _g = lock.acquire()?;` releases where `_g` goes out of
/// scope: ten children take the lock in turn, and none finds it held by a dead process.
#[test]
fn a_guard_from_acquire_releases_at_scope_end() {
    fn take_in_turn(
        lock: &Lock,
        counter: &multiproc_shared::RawValue<u32>,
    ) -> Result<(), SharedError> {
        let _g = lock.acquire()?;
        counter.set(counter.get() + 1);
        Ok(())
    }
    watchdog(LIMIT, "acquire guards across processes", || {
        let lock = Lock::new().unwrap();
        let counter = multiproc_shared::RawValue::new(0_u32).unwrap();
        for _ in 0..10 {
            let (child_lock, child_counter) = (lock.clone(), counter.clone());
            // One child at a time: each must find the lock free, released by the guard of
            // the child before it (exit code 3 would mean it saw OwnerDied).
            let child = fork(move || match take_in_turn(&child_lock, &child_counter) {
                Ok(()) => {}
                Err(SharedError::OwnerDied) => std::process::exit(3),
                Err(other) => panic!("{other}"),
            });
            assert_eq!(child.wait(), 0, "a child saw OwnerDied or failed");
            assert!(
                !lock.is_locked(),
                "a child's guard did not release the lock"
            );
        }
        assert_eq!(counter.get(), 10);
    });
}
