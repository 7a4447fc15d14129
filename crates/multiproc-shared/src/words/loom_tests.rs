//! Loom models of the lock family's state machines, running the real word code.
//!
//! Under `cfg(loom)` the words' one seam (`shim.rs`) takes its atomics from loom, turns a
//! futex wait into a yield that returns as a spurious wake-up (every caller re-checks its
//! word), and a wake into nothing; every thread is in one process (a fixed pid) and the
//! clock-driven owner check is off. Loom then runs each model below in every interleaving
//! (up to the preemption bound) and every value a relaxed load may return.
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p multiproc-shared --release --lib loom
//! ```

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering};
use loom::thread;

use super::{Acquire, CondvarWord, EventWord, LockWord, RLockWord, SemaphoreWord};

/// Runs `model` under loom with a preemption bound that keeps the run short.
fn check(bound: usize, model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    // Waiters spin through yields (the futex stand-in): allow for long executions.
    builder.max_branches = 10_000;
    builder.check(model);
}

/// What a critical section does: it counts the holders (never two at once) and
/// increments a counter with a separate relaxed load and store (so a lock without
/// acquire/release ordering shows up as a lost increment).
struct Critical {
    holders: AtomicU32,
    counter: AtomicU32,
}

impl Critical {
    fn new() -> Critical {
        Critical {
            holders: AtomicU32::new(0),
            counter: AtomicU32::new(0),
        }
    }

    fn enter(&self) {
        assert_eq!(
            self.holders.fetch_add(1, Ordering::Relaxed),
            0,
            "two holders"
        );
        let value = self.counter.load(Ordering::Relaxed);
        self.counter.store(value + 1, Ordering::Relaxed);
        self.holders.fetch_sub(1, Ordering::Relaxed);
    }

    fn count(&self) -> u32 {
        self.counter.load(Ordering::Relaxed)
    }
}

fn lock_model(threads: usize) {
    let shared = Arc::new((LockWord::new(), Critical::new()));
    let handles: Vec<_> = (1..threads)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || {
                let (lock, critical) = &*shared;
                assert_eq!(lock.acquire(None), Acquire::Acquired);
                critical.enter();
                lock.release().expect("held");
            })
        })
        .collect();
    let (lock, critical) = &*shared;
    assert_eq!(lock.acquire(None), Acquire::Acquired);
    critical.enter();
    lock.release().expect("held");
    for handle in handles {
        handle.join().expect("thread");
    }
    assert!(!lock.is_locked());
    assert_eq!(critical.count(), threads as u32);
}

#[test]
fn loom_lock_two_threads() {
    check(3, || lock_model(2));
}

#[test]
fn loom_lock_three_threads() {
    check(1, || lock_model(3));
}

#[test]
fn loom_lock_try_acquire_and_spinning() {
    check(3, || {
        let shared = Arc::new((LockWord::new(), Critical::new()));
        let other = shared.clone();
        let spinner = thread::spawn(move || {
            let (lock, critical) = &*other;
            assert_eq!(lock.acquire_spinning(None), Acquire::Acquired);
            critical.enter();
            lock.release().expect("held");
        });
        let (lock, critical) = &*shared;
        let mut entered = 0;
        if lock.try_acquire() == Acquire::Acquired {
            critical.enter();
            entered = 1;
            lock.release().expect("held");
        }
        spinner.join().expect("thread");
        assert_eq!(critical.count(), 1 + entered);
        assert!(!lock.is_locked());
    });
}

#[test]
fn loom_rlock_recursion_and_release() {
    check(3, || {
        let shared = Arc::new((RLockWord::new(), Critical::new()));
        let other = shared.clone();
        let second = thread::spawn(move || {
            let (lock, critical) = &*other;
            assert_eq!(lock.acquire(None), Acquire::Acquired);
            assert!(lock.is_owned());
            critical.enter();
            lock.release().expect("owner");
            assert!(!lock.is_owned());
        });
        let (lock, critical) = &*shared;
        assert_eq!(lock.acquire(None), Acquire::Acquired);
        assert_eq!(lock.acquire(None), Acquire::Acquired);
        assert_eq!(lock.count(), 2);
        critical.enter();
        lock.release().expect("owner");
        assert!(lock.is_owned(), "one level is still held");
        lock.release().expect("owner");
        assert!(!lock.is_owned());
        assert!(lock.release().is_err(), "released by a non-owner");
        second.join().expect("thread");
        assert_eq!(critical.count(), 2);
        assert_eq!(lock.count(), 0);
        assert!(!lock.lock_word().is_locked());
    });
}

#[test]
fn loom_semaphore_counts() {
    check(3, || {
        let shared = Arc::new((SemaphoreWord::new(), Critical::new()));
        let (sem, _) = &*shared;
        sem.init(1);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || {
                    let (sem, critical) = &*shared;
                    assert!(sem.acquire(None));
                    assert!(sem.value() <= 1, "value above its start");
                    critical.enter();
                    sem.release();
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("thread");
        }
        let (sem, critical) = &*shared;
        assert_eq!(sem.value(), 1);
        assert_eq!(critical.count(), 2);
    });
}

#[test]
fn loom_bounded_semaphore_bound() {
    check(3, || {
        let sem = Arc::new(SemaphoreWord::new());
        sem.init(1);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || {
                    assert!(sem.acquire(None));
                    assert!(sem.release_bounded(1), "a release after an acquire fits");
                    assert!(sem.value() <= 1, "past the bound");
                })
            })
            .collect();
        // Extra releases beside them never pass the bound.
        let _ = sem.release_bounded(1);
        assert!(sem.value() <= 1, "past the bound");
        for handle in handles {
            handle.join().expect("thread");
        }
        assert_eq!(sem.value(), 1);
        assert!(!sem.release_bounded(1));
    });
}

#[test]
fn loom_condvar_no_lost_wakeup() {
    check(3, || {
        let shared = Arc::new((LockWord::new(), CondvarWord::new(), AtomicU32::new(0)));
        let other = shared.clone();
        let waiter = thread::spawn(move || {
            let (lock, cond, ready) = &*other;
            assert_eq!(lock.acquire(None), Acquire::Acquired);
            while ready.load(Ordering::Relaxed) == 0 {
                assert_eq!(cond.wait(lock, None), Acquire::Acquired);
                assert!(lock.is_locked(), "wait returns holding the lock");
            }
            lock.release().expect("held");
        });
        let (lock, cond, ready) = &*shared;
        assert_eq!(lock.acquire(None), Acquire::Acquired);
        ready.store(1, Ordering::Relaxed);
        cond.notify_one();
        lock.release().expect("held");
        waiter.join().expect("thread");
        assert!(!lock.is_locked());
    });
}

#[test]
fn loom_event_set_wait() {
    check(3, || {
        let shared = Arc::new((EventWord::new(), AtomicU32::new(0)));
        let other = shared.clone();
        let setter = thread::spawn(move || {
            let (event, data) = &*other;
            data.store(7, Ordering::Relaxed);
            event.set();
        });
        let (event, data) = &*shared;
        assert!(event.wait(None));
        assert!(event.is_set());
        // `set` is a SeqCst store and `wait` an acquire load: what came before `set` shows.
        assert_eq!(data.load(Ordering::Relaxed), 7);
        setter.join().expect("thread");
        event.clear();
        assert!(!event.is_set());
    });
}
