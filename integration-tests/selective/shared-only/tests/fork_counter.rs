//! `multiproc-shared` alone: shared memory and locks with children made by the program's own
//! `fork`, no other multiproc crate.

use multiproc_shared::{Lock, Value};

/// Forks a child that runs `body` and leaves with `_exit` (never returning into the harness).
fn fork_child(body: impl FnOnce()) -> libc::pid_t {
    // SAFETY: the child only runs `body` (atomics and futexes on shared memory) and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_ok();
        // SAFETY: `_exit` never returns and runs no destructors of the parent's state.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    pid
}

fn wait_child(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer; `pid` is our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

#[test]
fn forked_children_increment_a_shared_value_exactly() {
    let counter = Value::<u64>::new(0).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            fork_child(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for pid in children {
        assert_eq!(wait_child(pid), 0);
    }
    assert_eq!(counter.get(), 40_000);
}

#[test]
fn a_lock_taken_by_the_parent_is_released_by_a_child() {
    // Python's Lock may be released by any process, not only the one that acquired it.
    let lock = Lock::new().unwrap();
    lock.acquire().unwrap();
    let releaser = lock.clone();
    let pid = fork_child(move || releaser.release().unwrap());
    assert_eq!(wait_child(pid), 0);
    assert!(
        lock.try_acquire().unwrap(),
        "the child's release did not unlock it"
    );
    lock.release().unwrap();
}
