//! Looks at the process table (`/proc/<pid>/stat`), and signals to processes in it.

use std::collections::HashMap;

/// (parent pid, state) of process `pid`, from `/proc/<pid>/stat`; `None` if there is no such
/// process (a zombie still has its entry).
pub fn stat_of(pid: u32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// (parent pid, state) of every process on the machine, from `/proc/<pid>/stat`.
pub fn process_table() -> HashMap<u32, (u32, char)> {
    let mut table = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(stat) = stat_of(pid) {
            table.insert(pid, stat);
        }
    }
    table
}

/// Whether process `pid` still exists (a zombie counts as existing).
pub fn exists(pid: u32) -> bool {
    stat_of(pid).is_some()
}

/// The pids of this process's direct children (running or zombie), in ascending order.
pub fn child_pids() -> Vec<u32> {
    let me = std::process::id();
    let mut pids: Vec<u32> = process_table()
        .into_iter()
        .filter(|&(_, (ppid, _))| ppid == me)
        .map(|(pid, _)| pid)
        .collect();
    pids.sort_unstable();
    pids
}

/// The zombie children of this process.
pub fn zombie_children() -> Vec<u32> {
    child_pids()
        .into_iter()
        .filter(|&p| matches!(stat_of(p), Some((_, 'Z'))))
        .collect()
}

/// Every living descendant of `root` (children, their children, ...), zombies excluded.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = process_table();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, &(ppid, state)) in &table {
            if ppid == parent && !found.contains(&pid) {
                if state != 'Z' {
                    found.push(pid);
                }
                frontier.push(pid);
            }
        }
    }
    found
}

/// Sends `signal` to `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    let _ = multiproc_sys::signal::kill(pid, signal);
}

/// Sends `signal` to every process of the process group `group`.
pub fn send_signal_to_group(group: u32, signal: i32) {
    let _ = multiproc_sys::signal::kill_group(group, signal);
}

/// SIGKILLs a process.
pub fn kill(pid: u32) {
    send_signal(pid, libc::SIGKILL);
}
