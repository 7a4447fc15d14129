//! The adversarial tier of the shared-memory crate (issue 13): a lock owner whose pid is
//! reused (class 7), a huge `Array` under a memory limit (class 10), a symlink or another
//! user's file planted in `/dev/shm` (class 11), and `Duration::MAX` / zero given to every
//! `*_timeout` API (class 1), under fork, spawn and forkserver where a child takes part.
//!
//! Every test runs under a watchdog and counts this process's fds, the library's threads
//! (named `multiproc-*`; the test harness's own come and go), children and its own
//! `/dev/shm` entries before and after; a leak fails it. The tests of this file
//! run one at a time (the counts are per process).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use multiproc::process::{StartMethod, get_context};
use multiproc::shared::words::{Acquire, LockWord};
use multiproc::shared::{
    Array, Barrier, BoundedSemaphore, Condition, ConditionGuard, Event, Lock, LockGuard, RLock,
    Segment, Semaphore, SemaphoreGuard, SharedError, SharedMemory, Value,
};
use multiproc_sys::rlimit::Limit;
use multiproc_test_support::{Census, settle, watchdog};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
const LONG: Duration = Duration::from_secs(60);
const LIMIT: Duration = Duration::from_secs(90);

/// One test at a time: the resource counts are per process.
static SERIAL: Mutex<()> = Mutex::new(());

/// This process's `/dev/shm` entries: those whose name carries its pid.
fn own_shm_entries() -> Vec<String> {
    let pid = std::process::id();
    let (hex, dec) = (format!("psm_{pid:x}_"), format!("adv-{pid}-"));
    let mut names: Vec<String> = std::fs::read_dir("/dev/shm")
        .map(|dir| {
            dir.filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(&hex) || name.starts_with(&dec))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn noop() {}

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The peak resident size of this process so far (`VmHWM`), in KiB: pages touched and
/// given back still count.
fn peak_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Starts (and keeps) whatever a start method sets up once per process (the forkserver),
/// so that it does not count as a leak of the first test that uses it.
fn warm_up() {
    for method in METHODS {
        let mut child = get_context(method).process(noop, ());
        child.start().unwrap();
        child.join_timeout(LONG).unwrap();
    }
}

/// Runs `body` alone, under a watchdog, and fails if it leaves fds, library threads,
/// children or `/dev/shm` entries behind. Threads and fds closed by helper threads may take a
/// moment to go: the after-count is retried for up to 5 s.
fn adversarial(what: &'static str, body: impl FnOnce() + Send + 'static) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    warm_up();
    let before = Census::take();
    let shm_before = own_shm_entries();
    watchdog(LIMIT, what, body);
    let settled = settle(Duration::from_secs(5), || {
        let new_shm: Vec<String> = own_shm_entries()
            .into_iter()
            .filter(|name| !shm_before.contains(name))
            .collect();
        Census::take()
            .growth_since(&before)
            .or_else(|| (!new_shm.is_empty()).then(|| format!("/dev/shm {new_shm:?}")))
    });
    if let Err(leak) = settled {
        panic!("{what} leaked: {leak} (before: {before:?})");
    }
}

// Class 7: a lock owner's pid is reused.

/// Takes the lock word at offset 0 and ends without releasing it.
fn take_and_die(segment: Segment) -> u32 {
    let lock: &LockWord = segment.word(0).unwrap();
    assert_eq!(lock.acquire(None), Acquire::Acquired);
    multiproc_sys::process::pid()
}

/// A child takes a lock and dies; its pid is then "reused" by a live unrelated process
/// (a `sleep` we start, written into the owner word). The waiter must see through it: the
/// start time recorded beside the pid is not the sleeper's, so the owner is dead.
#[test]
fn class7_reused_owner_pid_is_detected_under_every_start_method() {
    adversarial("class 7", || {
        for method in METHODS {
            let segment = Segment::new(64).unwrap();
            let mut child = get_context(method).process(take_and_die, (segment.clone(),));
            child.start().unwrap();
            let dead = child.join_timeout(LONG).unwrap();
            let lock: &LockWord = segment.word(0).unwrap();
            let owner_word = segment.atomic_u32(0).unwrap();
            let start_word = segment.atomic_u32(4).unwrap();
            assert_eq!(lock.owner(), Some(dead), "{method:?}");
            let recorded = start_word.load(std::sync::atomic::Ordering::Relaxed);
            assert_ne!(recorded, 0, "{method:?}: the child recorded no start time");

            let mut sleeper = std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .unwrap();
            let reused = sleeper.id();
            let sleeper_start = multiproc_sys::process::stat(reused).unwrap().start_time as u32;
            // Both may have started within one clock tick (10 ms); a real reuse comes later.
            if sleeper_start.max(1) == recorded {
                start_word.store(
                    recorded.wrapping_add(1).max(1),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
            owner_word.store(reused, std::sync::atomic::Ordering::Relaxed);

            let started = Instant::now();
            let outcome = lock.acquire(Some(started + Duration::from_secs(10)));
            let took = started.elapsed();
            let _ = sleeper.kill();
            let _ = sleeper.wait();
            assert_eq!(outcome, Acquire::OwnerDied, "{method:?}: after {took:?}");
            assert!(
                took < Duration::from_secs(2),
                "{method:?}: took {took:?}, the owner check runs every 50 ms"
            );
            lock.release().unwrap();
        }
    });
}

/// The same through the `Lock` type: a child that dies holding it is detected whatever
/// the start method (the pid-plus-start-time check must not mistake a live owner either).
fn hold_lock_and_die(lock: Lock) {
    lock.acquire().unwrap().forget();
}

#[test]
fn class7_live_owner_is_not_taken_over_and_dead_one_is() {
    adversarial("class 7 lock", || {
        for method in METHODS {
            let lock = Lock::new().unwrap();
            let held = lock.acquire().unwrap();
            // A live owner (this process): a waiter times out, it does not take over.
            assert!(
                lock.acquire_timeout(Duration::from_millis(120))
                    .unwrap()
                    .is_none()
            );
            drop(held);
            let mut child = get_context(method).process(hold_lock_and_die, (lock.clone(),));
            child.start().unwrap();
            child.join_timeout(LONG).unwrap();
            let taken_over = lock.acquire_timeout(LONG);
            assert!(
                matches!(&taken_over, Err(died) if died.get_ref().is_some()),
                "{method:?}"
            );
            assert!(lock.is_locked());
            drop(taken_over);
            assert!(!lock.is_locked());
        }
    });
}

// Class 10: memory that is asked for is not touched; a size the OS refuses is an error.

/// Under an address-space limit of what it uses now plus 256 MiB, asks for a 1 TiB array
/// (refused: an error, not an abort) and a 128 MiB one (granted, and never touched: the
/// peak resident size does not grow by it).
fn huge_array_under_rlimit_as() -> String {
    let vm = status_kib("VmSize:") * 1024;
    multiproc_sys::rlimit::set(Limit::AddressSpace, Some(vm + (256 << 20))).unwrap();
    let huge = Array::<u8>::zeroed(1 << 40);
    assert!(huge.is_err(), "1 TiB under RLIMIT_AS was granted");
    let peak = peak_kib();
    let big = Array::<u64>::zeroed(16 << 20).unwrap();
    big.set(big.len() - 1, 5).unwrap();
    assert_eq!(big.get(big.len() - 1).unwrap(), 5);
    let grown = peak_kib().saturating_sub(peak);
    assert!(grown < 32 * 1024, "peak grew {grown} KiB for 128 MiB asked");
    format!("{}", huge.err().unwrap())
}

/// Under a data limit of what it uses now plus 256 MiB (private memory: the heap, not
/// shared mappings), a 1 TiB array is granted: its pages are a memfd's, never touched, and
/// the bitmaps that check raw accesses of its segment are allocated a block at a time as
/// words are used (whole, they would be 16 GiB each). Its private memory and its resident
/// size grow by a few MiB at most, whether its last element is written or a raw access
/// claims words in the middle.
fn huge_array_under_rlimit_data() -> String {
    let data = status_kib("VmData:") * 1024;
    multiproc_sys::rlimit::set(Limit::Data, Some(data + (256 << 20))).unwrap();
    let (data_before, peak_before) = (status_kib("VmData:"), peak_kib());
    let huge = Array::<u8>::zeroed(1 << 40).expect("1 TiB under RLIMIT_DATA + 256 MiB");
    huge.set(huge.len() - 1, 3).unwrap();
    assert_eq!(huge.get(huge.len() - 1).unwrap(), 3);
    let raw = multiproc::shared::Segment::new(1 << 40).expect("a 1 TiB segment");
    raw.atomic_u64(1 << 39)
        .unwrap()
        .store(5, std::sync::atomic::Ordering::Relaxed);
    raw.write_at((1 << 40) - 8, &[1; 8]).unwrap();
    assert!(
        raw.atomic_u32((1 << 40) - 8).is_err(),
        "mixed access allowed"
    );
    let data_grown = status_kib("VmData:").saturating_sub(data_before);
    let peak_grown = peak_kib().saturating_sub(peak_before);
    assert!(
        data_grown < 16 * 1024,
        "private memory grew {data_grown} KiB"
    );
    assert!(
        peak_grown < 16 * 1024,
        "resident size grew {peak_grown} KiB"
    );
    format!("private +{data_grown} KiB, resident +{peak_grown} KiB")
}

#[test]
fn class10_huge_array_is_an_error_not_a_kill_under_every_start_method() {
    adversarial("class 10", || {
        for method in METHODS {
            let ctx = get_context(method);
            let children = [
                ctx.process(huge_array_under_rlimit_as, ()),
                ctx.process(huge_array_under_rlimit_data, ()),
            ];
            for mut child in children {
                child.start().unwrap();
                let message = child
                    .join_timeout(LONG)
                    .unwrap_or_else(|err| panic!("{method:?}: the child did not come back: {err}"));
                assert!(!message.is_empty(), "{method:?}");
            }
        }
    });
}

/// A 64 GiB array costs nothing until used, here and in a child it is sent to.
fn touch_last(array: Array<u8>) -> u64 {
    let before = peak_kib();
    array.set(array.len() - 1, 9).unwrap();
    peak_kib().saturating_sub(before)
}

#[test]
fn class10_huge_array_is_not_touched_and_travels() {
    adversarial("class 10 travel", || {
        let before = peak_kib();
        let array = Array::<u8>::zeroed(1 << 36).unwrap();
        let grown = peak_kib().saturating_sub(before);
        assert!(
            grown < 64 * 1024,
            "{grown} KiB resident after a 64 GiB array"
        );
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            let mut child = get_context(method).process(touch_last, (array.clone(),));
            child.start().unwrap();
            let grown = child.join_timeout(LONG).unwrap();
            assert!(grown < 64 * 1024, "{method:?}: {grown} KiB");
            assert_eq!(array.get(array.len() - 1).unwrap(), 9, "{method:?}");
            array.set(array.len() - 1, 0).unwrap();
        }
    });
}

// Class 11: named shared memory and other users.

fn shm_name(what: &str) -> String {
    format!("adv-{}-{what}", std::process::id())
}

#[test]
fn class11_planted_symlink_is_refused() {
    adversarial("class 11 symlink", || {
        let victim = std::env::temp_dir().join(shm_name("victim"));
        std::fs::write(&victim, b"precious").unwrap();
        let name = shm_name("planted");
        let path = format!("/dev/shm/{name}");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let attached = SharedMemory::attach(&name);
        let created = SharedMemory::create(&name, 4096);
        std::fs::remove_file(&path).unwrap();
        let contents = std::fs::read(&victim).unwrap();
        std::fs::remove_file(&victim).unwrap();
        match attached {
            Err(SharedError::Refused { reason, .. }) => assert!(reason.contains("symbolic link")),
            other => panic!("attach through a symlink: {other:?}"),
        }
        assert!(created.is_err(), "create over a symlink: {created:?}");
        assert_eq!(contents, b"precious");
    });
}

#[test]
fn class11_block_of_another_user_is_refused() {
    adversarial("class 11 owner", || {
        if multiproc_sys::file::effective_uid() != 0 {
            println!("skipped: class11_block_of_another_user_is_refused needs root to chown");
            return;
        }
        let name = shm_name("foreign");
        let path = format!("/dev/shm/{name}");
        std::fs::write(&path, [0_u8; 4096]).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        let attached = SharedMemory::attach(&name);
        std::fs::remove_file(&path).unwrap();
        match attached {
            Err(SharedError::Refused { reason, .. }) => {
                assert!(reason.contains("65534"), "{reason}")
            }
            other => panic!("attach to another user's block: {other:?}"),
        }
    });
}

/// A block passed to a child after a symlink replaced it: the child refuses to attach.
fn attach_in_child(name: String) -> bool {
    matches!(
        SharedMemory::attach(&name),
        Err(SharedError::Refused { .. })
    )
}

#[test]
fn class11_child_refuses_planted_symlink_under_every_start_method() {
    adversarial("class 11 child", || {
        let victim = std::env::temp_dir().join(shm_name("victim-child"));
        std::fs::write(&victim, b"precious").unwrap();
        let name = shm_name("planted-child");
        let path = format!("/dev/shm/{name}");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let mut refused = Vec::new();
        for method in METHODS {
            let mut child = get_context(method).process(attach_in_child, (name.clone(),));
            child.start().unwrap();
            refused.push((method, child.join_timeout(LONG).unwrap()));
        }
        std::fs::remove_file(&path).unwrap();
        let contents = std::fs::read(&victim).unwrap();
        std::fs::remove_file(&victim).unwrap();
        for (method, refused) in refused {
            assert!(refused, "{method:?}");
        }
        assert_eq!(contents, b"precious");
    });
}

// Class 1: `Duration::MAX` waits without limit, zero polls once.

/// `wait` (with `Duration::MAX`) must still be blocked after `window`, and must return
/// `true`-ish once `release` runs.
fn blocks_until(what: &str, wait: impl FnOnce() -> bool + Send + 'static, release: impl FnOnce()) {
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let got = wait();
        let _ = tx.send(got);
    });
    // An observation window, not synchronisation: MAX must not return (or panic) early.
    let early = rx.recv_timeout(Duration::from_millis(150));
    release();
    let got = match early {
        Ok(got) => panic!("{what}: Duration::MAX returned early with {got}"),
        Err(_) => rx.recv_timeout(LONG).expect("the waiter came back"),
    };
    waiter.join().unwrap();
    assert!(got, "{what}");
}

/// `poll` with a zero timeout must return `expected` within 50 ms.
/// Keeps the lock a timed acquire took held past its guard (Python's `acquire`, released
/// later with `release_unowned`); whether it took it.
fn kept(guard: Option<LockGuard<'_>>) -> bool {
    guard.map(LockGuard::forget).is_some()
}

fn polls_once(what: &str, expected: bool, poll: impl FnOnce() -> bool) {
    let started = Instant::now();
    assert_eq!(poll(), expected, "{what}");
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{what}: {:?}",
        started.elapsed()
    );
}

#[test]
fn class1_every_timeout_api_takes_max_and_zero() {
    adversarial("class 1", || {
        let max = Duration::MAX;
        let zero = Duration::ZERO;

        let lock = Lock::new().unwrap();
        polls_once("Lock::acquire_timeout(0) free", true, || {
            kept(lock.acquire_timeout(zero).unwrap())
        });
        polls_once("Lock::acquire_timeout(0) held", false, || {
            kept(lock.acquire_timeout(zero).unwrap())
        });
        polls_once("Lock::lock_timeout(0) held", true, || {
            lock.lock_timeout(zero).unwrap().is_none()
        });
        let other = lock.clone();
        blocks_until(
            "Lock::acquire_timeout(MAX)",
            move || kept(other.acquire_timeout(max).unwrap()),
            || lock.release_unowned().unwrap(),
        );
        let other = lock.clone();
        blocks_until(
            "Lock::lock_timeout(MAX)",
            move || {
                // Released by the main thread (a Lock may be released by anyone).
                kept(other.lock_timeout(max).unwrap())
            },
            || lock.release_unowned().unwrap(),
        );

        let rlock = RLock::new().unwrap();
        let other = rlock.clone();
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let held = other.acquire().unwrap();
            held_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            drop(held);
        });
        held_rx.recv().unwrap();
        polls_once("RLock::acquire_timeout(0) held", false, || {
            rlock.acquire_timeout(zero).unwrap().is_some()
        });
        polls_once("RLock::lock_timeout(0) held", true, || {
            rlock.lock_timeout(zero).unwrap().is_none()
        });
        let other = rlock.clone();
        blocks_until(
            "RLock::lock_timeout(MAX)",
            move || other.lock_timeout(max).unwrap().is_some(),
            || go_tx.send(()).unwrap(),
        );
        holder.join().unwrap();
        let mut outer = None;
        polls_once("RLock::acquire_timeout(0) free", true, || {
            outer = rlock.acquire_timeout(zero).unwrap();
            outer.is_some()
        });
        let inner = rlock.acquire_timeout(max).unwrap();
        assert!(inner.is_some(), "recursive acquire with MAX");
        drop((inner, outer));
        assert!(!rlock.is_owned());

        let sem = Semaphore::new(0).unwrap();
        polls_once("Semaphore::acquire_timeout(0) empty", false, || {
            sem.acquire_timeout(zero)
                .map(SemaphoreGuard::forget)
                .is_some()
        });
        let other = sem.clone();
        blocks_until(
            "Semaphore::acquire_timeout(MAX)",
            move || {
                other
                    .acquire_timeout(max)
                    .map(SemaphoreGuard::forget)
                    .is_some()
            },
            || sem.release_unowned(),
        );
        let bounded = BoundedSemaphore::new(1).unwrap();
        polls_once("BoundedSemaphore::acquire_timeout(0)", true, || {
            bounded
                .acquire_timeout(zero)
                .map(SemaphoreGuard::forget)
                .is_some()
        });
        polls_once("BoundedSemaphore::acquire_timeout(0) empty", false, || {
            bounded
                .acquire_timeout(zero)
                .map(SemaphoreGuard::forget)
                .is_some()
        });
        let other = bounded.clone();
        blocks_until(
            "BoundedSemaphore::acquire_timeout(MAX)",
            move || {
                other
                    .acquire_timeout(max)
                    .map(SemaphoreGuard::forget)
                    .is_some()
            },
            || bounded.release_unowned().unwrap(),
        );

        let event = Event::new().unwrap();
        polls_once("Event::wait_timeout(0) clear", false, || {
            event.wait_timeout(zero)
        });
        let other = event.clone();
        blocks_until(
            "Event::wait_timeout(MAX)",
            move || other.wait_timeout(max),
            || event.set(),
        );
        polls_once("Event::wait_timeout(0) set", true, || {
            event.wait_timeout(zero)
        });

        let cond = Condition::new().unwrap();
        polls_once("Condition::acquire_timeout(0)", true, || {
            cond.acquire_timeout(zero)
                .unwrap()
                .map(ConditionGuard::forget)
                .is_some()
        });
        polls_once("Condition::wait_timeout(0)", false, || {
            cond.wait_timeout(zero).unwrap()
        });
        polls_once("Condition::wait_for_timeout(0)", false, || {
            cond.wait_for_timeout(|| false, zero).unwrap()
        });
        cond.release_unowned().unwrap();
        let flag = Value::new(0_u32).unwrap();
        let (other, other_flag) = (cond.clone(), flag.clone());
        blocks_until(
            "Condition::wait_for_timeout(MAX)",
            move || {
                let _held = other.acquire().unwrap();
                other
                    .wait_for_timeout(|| other_flag.get() == 1, max)
                    .unwrap()
            },
            || {
                let _held = cond.acquire().unwrap();
                flag.set(1);
                cond.notify_all();
            },
        );

        let barrier = Barrier::new(2).unwrap();
        let other = barrier.clone();
        blocks_until(
            "Barrier::wait_timeout(MAX)",
            move || other.wait_timeout(max).is_ok(),
            || {
                barrier.wait_timeout(max).unwrap();
            },
        );
        let lonely = Barrier::new(2).unwrap();
        polls_once("Barrier::wait_timeout(0)", true, || {
            lonely.wait_timeout(zero).is_err()
        });

        let value = Value::new(0_u64).unwrap();
        let array = Array::<u64>::zeroed(4).unwrap();
        {
            let _held = value.lock().unwrap();
            let _held_array = array.lock().unwrap();
            let (v, a) = (value.clone(), array.clone());
            let polled = std::thread::spawn(move || {
                let started = Instant::now();
                let v = v.lock_timeout(zero).unwrap().is_none();
                let a = a.lock_timeout(zero).unwrap().is_none();
                (v, a, started.elapsed())
            })
            .join()
            .unwrap();
            assert!(
                polled.0 && polled.1,
                "Value/Array::lock_timeout(0) on a held lock"
            );
            assert!(polled.2 < Duration::from_millis(100), "{:?}", polled.2);
        }
        let (v, a) = (value.clone(), array.clone());
        let guard = value.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waiter = std::thread::spawn(move || {
            let mut g = v.lock_timeout(max).unwrap().expect("MAX waits");
            *g += 1;
            drop(g);
            let mut g = a.lock_timeout(max).unwrap().expect("MAX waits");
            g[0] += 1;
            drop(g);
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(150)).is_err(),
            "Value::lock_timeout(MAX) returned early"
        );
        drop(guard);
        rx.recv_timeout(LONG).unwrap();
        waiter.join().unwrap();
        assert_eq!(value.get(), 1);
        assert_eq!(array.get(0).unwrap(), 1);
    });
}

/// A child holds a `Lock` until told to go: a zero timeout in the parent polls once, and
/// `Duration::MAX` waits until the child lets go, under every start method.
fn hold_until(lock: Lock, holding: Event, go: Event) {
    let _held = lock.acquire().unwrap();
    holding.set();
    assert!(go.wait_timeout(Duration::MAX));
}

#[test]
fn class1_max_and_zero_against_a_child_under_every_start_method() {
    adversarial("class 1 child", || {
        for method in METHODS {
            let (lock, holding, go) = (
                Lock::new().unwrap(),
                Event::new().unwrap(),
                Event::new().unwrap(),
            );
            let mut child = get_context(method)
                .process(hold_until, (lock.clone(), holding.clone(), go.clone()));
            child.start().unwrap();
            assert!(holding.wait_timeout(Duration::MAX), "{method:?}");
            polls_once("Lock::acquire_timeout(0) held by a child", false, || {
                kept(lock.acquire_timeout(Duration::ZERO).unwrap())
            });
            let other = lock.clone();
            blocks_until(
                "Lock::acquire_timeout(MAX) held by a child",
                move || kept(other.acquire_timeout(Duration::MAX).unwrap()),
                || go.set(),
            );
            lock.release_unowned().unwrap();
            child.join_timeout(LONG).unwrap();
        }
    });
}
