//! Nothing leaks: a manager's process is reaped and every descriptor closed. In a file of
//! its own, so that no other test opens descriptors meanwhile.

use std::time::Duration;

use multiproc_manager::{ListProxy, Manager, ManagerError};
use multiproc_process::Process;
use multiproc_test_support::{fd_count, gone, watchdog};

const LIMIT: Duration = Duration::from_secs(180);

fn touch(list: ListProxy<u32>) {
    list.push(1).unwrap();
}

#[test]
fn shutdown_reaps_the_server_and_closes_every_descriptor() {
    watchdog(LIMIT, "shutdown leaves nothing", || {
        // Warm up lazily opened descriptors (the fork server, logging) first.
        let warm = Manager::start().unwrap();
        touch(warm.list().unwrap());
        let mut p = Process::new(touch, (warm.list().unwrap(),));
        p.start().unwrap();
        p.join().unwrap();
        drop(warm);
        let before = fd_count();
        for _ in 0..3 {
            let manager = Manager::start().unwrap();
            let pid = manager.pid().unwrap();
            let list = manager.list::<u32>().unwrap();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let list = list.clone();
                    std::thread::spawn(move || touch(list))
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(list.len().unwrap(), 4);
            drop(manager);
            assert!(
                gone(pid, Duration::from_secs(30)),
                "manager {pid} not reaped"
            );
            assert!(matches!(list.len(), Err(ManagerError::ManagerGone)));
        }
        assert_eq!(fd_count(), before, "descriptors leaked");
    });
}
