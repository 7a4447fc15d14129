//! A re-executed child does not keep shared memory that the parent was handling when it was
//! started. ipc-channel's copies of a shared-memory descriptor (one per clone, one per
//! message carrying it) lack `FD_CLOEXEC`, so they survive execve; a child that kept one
//! would hold another process's memory alive, and open, for its whole life.
//! (Alone in its test binary: the parent's descriptors must stay as the test sets them.)

use std::fs;
use std::time::Duration;

use ipc_channel::ipc::IpcSharedMemory;
use multiproc_process::{StartMethod, get_context};
use multiproc_test_support::watchdog;

const IPC_MEMFD: &str = "/memfd:/ipc-channel-shared-memory";

/// This process's descriptors that name a memfd of ipc-channel, with whether each has
/// `FD_CLOEXEC` (the `flags` line of `/proc/self/fdinfo/<n>`, octal, `O_CLOEXEC` = 02000000).
fn ipc_memfds() -> Vec<(u32, bool)> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc/self/fd").unwrap() {
        let entry = entry.unwrap();
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        if !target.to_string_lossy().starts_with(IPC_MEMFD) {
            continue;
        }
        let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
        let flags = info
            .lines()
            .find_map(|line| line.strip_prefix("flags:"))
            .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
            .unwrap_or(0);
        found.push((fd, flags & 0o2000000 != 0));
    }
    found
}

/// In the child: how many ipc-channel memfds it holds.
fn count_in_child(_: u8) -> usize {
    ipc_memfds().len()
}

#[test]
fn a_re_executed_child_keeps_none_of_the_parents_shared_memory() {
    watchdog(Duration::from_secs(120), "inherited shared memory", || {
        let memory = IpcSharedMemory::from_byte(7, 4096);
        #[allow(clippy::redundant_clone)]
        let copy = memory.clone();
        let inheritable = ipc_memfds().iter().filter(|(_, cloexec)| !cloexec).count();
        if inheritable == 0 {
            println!(
                "skipped: ipc-channel's copy of a shared-memory descriptor now has FD_CLOEXEC, \
                 so there is nothing for a child to inherit"
            );
            return;
        }
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            let mut child = get_context(method).process(count_in_child, (0,));
            child.start().unwrap();
            assert_eq!(
                child.join().unwrap(),
                0,
                "{method}: the child kept the parent's {inheritable} inheritable shared-memory \
                 descriptors"
            );
        }
        drop((memory, copy));
    });
}
