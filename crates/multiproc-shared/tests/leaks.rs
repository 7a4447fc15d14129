//! Creating and dropping shared objects leaves no file descriptors or mappings behind.
//! Its own test binary: other tests' threads would disturb the counts.

use multiproc_shared::{Array, Lock, Value};
use multiproc_test_support::{fd_count, mappings};

#[test]
fn ten_thousand_create_drop_cycles_leak_nothing() {
    // Warm up lazily created process state (ipc-channel, the pid cache).
    drop((
        Value::new(0_u8).unwrap(),
        Array::<u8>::zeroed(1).unwrap(),
        Lock::new().unwrap(),
    ));
    let (fds, maps) = (fd_count(), mappings());
    for i in 0..10_000_u32 {
        let value = Value::new(i).unwrap();
        let array = Array::<u64>::zeroed(16).unwrap();
        let lock = Lock::new().unwrap();
        let clones = (value.clone(), array.clone(), lock.clone());
        *value.lock().unwrap() += 1;
        array.set(3, 1).unwrap();
        drop(lock.acquire().unwrap());
        drop(clones);
    }
    assert_eq!(fd_count(), fds, "file descriptors leaked");
    assert_eq!(mappings(), maps, "mappings leaked");
}
