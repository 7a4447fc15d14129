//! Named `SharedMemory` across real (forked) processes.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use multiproc_shared::{SharedError, SharedMemory};
use multiproc_test_support::{fork, watchdog};

#[test]
fn child_attaches_by_name_and_parent_sees_its_writes() {
    watchdog(Duration::from_secs(60), "attach by name", || {
        let block = SharedMemory::create_unique(4096).unwrap();
        let name = block.name().to_owned();
        let mode = std::fs::metadata(format!("/dev/shm/{name}"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let child = fork(move || {
            let attached = SharedMemory::attach(&name).unwrap();
            assert_eq!(attached.len(), 4096);
            attached.write_at(0, b"ping").unwrap();
        });
        assert_eq!(child.wait(), 0);
        let mut head = [0; 4];
        block.read_at(0, &mut head).unwrap();
        assert_eq!(&head, b"ping");
        block.unlink().unwrap();
        assert!(SharedMemory::attach(block.name()).is_err());
        // The mapping stays usable after unlink; the child is gone, so nobody writes.
        // SAFETY: no other process maps the block any more, and this thread only reads.
        let mut head = [0; 4];
        block.read_at(0, &mut head).unwrap();
        assert_eq!(&head, b"ping");
    });
}

#[test]
fn create_refuses_an_existing_name_and_zero_size() {
    let block = SharedMemory::create_unique(1).unwrap();
    assert!(matches!(
        SharedMemory::create(block.name(), 1),
        Err(SharedError::Io(_))
    ));
    assert!(matches!(
        SharedMemory::create("multiproc-zero", 0),
        Err(SharedError::ZeroSize)
    ));
    block.unlink().unwrap();
}

#[test]
fn bad_names_are_rejected() {
    let long = "x".repeat(256);
    for name in [
        "",
        "a/b",
        "/abs",
        "..",
        ".",
        "../etc/passwd",
        "nul\0byte",
        long.as_str(),
    ] {
        assert!(
            matches!(
                SharedMemory::create(name, 8),
                Err(SharedError::InvalidName { .. })
            ),
            "{name:?} was accepted by create"
        );
        assert!(
            matches!(
                SharedMemory::attach(name),
                Err(SharedError::InvalidName { .. })
            ),
            "{name:?} was accepted by attach"
        );
    }
    let message = SharedMemory::create("a/b", 8).unwrap_err().to_string();
    assert!(message.contains("'/'"), "{message}");
}
