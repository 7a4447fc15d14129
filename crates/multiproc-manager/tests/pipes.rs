//! A local manager's connections move onto pipes after the handshake: the test checks that
//! the client and the server's process share pipes once a call was made, that calls work
//! on them from threads and processes, and that no descriptor is left behind. In a file of
//! its own (one test), so that no other test opens descriptors meanwhile.

use std::collections::HashSet;
use std::time::Duration;

use multiproc_manager::{ListProxy, Manager};
use multiproc_process::Process;
use multiproc_test_support::{fd_count, gone, watchdog};

const LIMIT: Duration = Duration::from_secs(180);

/// The inodes of the pipes that process `pid` holds open.
fn pipes_of(pid: u32) -> HashSet<String> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target.starts_with("pipe:").then_some(target)
        })
        .collect()
}

fn push_twice(list: ListProxy<u32>) {
    list.push(1).unwrap();
    list.push(2).unwrap();
}

#[test]
fn local_calls_travel_on_pipes_shared_with_the_server_and_nothing_leaks() {
    watchdog(LIMIT, "calls over pipes", || {
        // Warm up lazily opened descriptors (the fork server, logging) first.
        let warm = Manager::start().unwrap();
        push_twice(warm.list().unwrap());
        drop(warm);
        let before = fd_count();
        let manager = Manager::start().unwrap();
        let pid = manager.pid().unwrap();
        // Pipes the server's process may share with us from its start (its stdio).
        let shared_at_start: HashSet<_> = pipes_of(std::process::id())
            .intersection(&pipes_of(pid))
            .cloned()
            .collect();
        let list = manager.list::<u32>().unwrap();
        let servers = pipes_of(pid);
        let new: Vec<_> = pipes_of(std::process::id())
            .intersection(&servers)
            .filter(|pipe| !shared_at_start.contains(*pipe))
            .cloned()
            .collect();
        // One connection, for that call: its two pipes, one end of each on either side.
        assert_eq!(new.len(), 2, "pipes shared with the server: {new:?}");
        // Calls from threads (each on a connection of its own) and from a child process.
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let list = list.clone();
                std::thread::spawn(move || push_twice(list))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut child = Process::new(push_twice, (list.clone(),));
        child.start().unwrap();
        child.join().unwrap();
        assert_eq!(list.len().unwrap(), 10);
        let shared = pipes_of(std::process::id())
            .intersection(&pipes_of(pid))
            .count();
        assert!(
            shared >= shared_at_start.len() + 2,
            "{shared} pipes shared after the calls"
        );
        drop(list);
        manager.shutdown().unwrap();
        assert!(gone(pid, Duration::from_secs(30)));
        drop(manager);
        assert_eq!(fd_count(), before, "descriptors before and after a manager");
        let left: Vec<_> = new
            .iter()
            .filter(|pipe| pipes_of(std::process::id()).contains(*pipe))
            .collect();
        assert!(
            left.is_empty(),
            "pipes of a stopped manager still open: {left:?}"
        );
    });
}
