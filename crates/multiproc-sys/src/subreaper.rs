//! Child subreapers: a process that adopts its orphaned descendants, so that it can end them
//! (`PR_SET_CHILD_SUBREAPER`, prctl(2), Linux 3.4).
//!
//! ```
//! multiproc_sys::subreaper::set(true)?;
//! // The shell double-forks: its `sleep` is orphaned and adopted by us, not by init.
//! std::process::Command::new("sh").args(["-c", "sleep 30 &"]).status()?;
//! assert!(!multiproc_sys::subreaper::children().is_empty());
//! assert!(multiproc_sys::subreaper::end_children() >= 1);
//! multiproc_sys::subreaper::set(false)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// Makes this process a child subreaper: a descendant orphaned by its parent (for example a
/// grandchild that double-forked and called `setsid`) becomes this process's child instead
/// of init's.
///
/// ```
/// # multiproc_sys::subreaper::set(false)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set(on: bool) -> io::Result<()> {
    rustix::process::set_child_subreaper(if on {
        Some(rustix::process::Pid::from_raw(1).ok_or(io::ErrorKind::InvalidInput)?)
    } else {
        None
    })
    .map_err(Into::into)
}

/// The pids of this process's children, running or zombie (read from `/proc`).
///
/// ```
/// let mut child = std::process::Command::new("sleep").arg("5").spawn()?;
/// assert!(multiproc_sys::subreaper::children().contains(&child.id()));
/// child.kill()?;
/// child.wait()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn children() -> Vec<u32> {
    let me = crate::process::pid();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| matches!(crate::process::stat(pid), Ok(stat) if stat.parent == me))
        .collect()
}

/// Kills every child of this process with SIGKILL and reaps it, again until none is left
/// (each killed child's own orphans come back to a subreaper). For a subreaper on its way
/// out. Returns how many it ended. A child is signalled by pid: it is unreaped, so its pid
/// cannot have been reused.
///
/// ```
/// let child = std::process::Command::new("sleep").arg("60").spawn()?;
/// assert!(multiproc_sys::subreaper::end_children() >= 1);
/// # drop(child);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn end_children() -> usize {
    let mut ended = 0;
    // Bounded: a fork bomb among the descendants cannot keep us here forever.
    for _ in 0..64 {
        let children = children();
        if children.is_empty() {
            break;
        }
        for &pid in &children {
            let _ = crate::signal::kill(pid, libc::SIGKILL);
        }
        for &pid in &children {
            if crate::wait::waitpid(pid, true).is_ok() {
                ended += 1;
            }
        }
    }
    ended
}

/// Kills (SIGKILL) every living descendant of process `root`, not `root` itself, again until
/// none is left, and returns how many it signalled. Meant for a `root` that is a child
/// subreaper and still runs: then no descendant can leave its tree (an orphan goes back to
/// `root`), so the tree read from `/proc` holds them all. The killed processes are left to
/// their parents (or to `root`) to reap.
///
/// Each one is signalled through a pidfd opened before its parent is checked again, so a pid
/// that was reused in between is never signalled.
///
/// ```
/// use std::process::Command;
/// // A shell (the root) with a sleeping child; the shell waits for it.
/// let mut shell = Command::new("sh").args(["-c", "sleep 60 & wait"]).spawn()?;
/// let root = shell.id();
/// // The shell may not have started its child yet: end it once it is there.
/// let mut ended = 0;
/// while ended == 0 {
///     ended = multiproc_sys::subreaper::end_descendants_of(root);
/// }
/// // Its child ended, so the shell's `wait` returns and the shell exits.
/// assert!(shell.wait()?.success());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn end_descendants_of(root: u32) -> usize {
    let mut ended = 0;
    if has_children(root) == Some(false) {
        return 0;
    }
    // Bounded: a fork bomb among the descendants cannot keep us here forever.
    for _ in 0..64 {
        let tree = living_descendants(root);
        if tree.is_empty() {
            break;
        }
        for &pid in &tree {
            let Ok(pidfd) = crate::pidfd::open(pid) else {
                continue;
            };
            // Still in the tree, now that the pidfd pins the process: its parent is `root`
            // or another descendant.
            let in_tree = crate::process::stat(pid)
                .is_ok_and(|stat| stat.parent == root || tree.contains(&stat.parent));
            if in_tree
                && crate::pidfd::send_signal(std::os::fd::AsFd::as_fd(&pidfd), libc::SIGKILL)
                    .is_ok()
            {
                ended += 1;
            }
        }
    }
    ended
}

/// Whether `root` has any child, from the `children` files of its threads (cheap beside a
/// pass over `/proc`); `None` if they cannot be read (a kernel without
/// `CONFIG_PROC_CHILDREN`).
fn has_children(root: u32) -> Option<bool> {
    for task in std::fs::read_dir(format!("/proc/{root}/task")).ok()? {
        let children = std::fs::read(task.ok()?.path().join("children")).ok()?;
        if children.iter().any(u8::is_ascii_digit) {
            return Some(true);
        }
    }
    Some(false)
}

/// The descendants of `root` that have not exited, from one pass over `/proc`.
fn living_descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let table: Vec<(u32, u32, bool)> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = crate::process::stat(pid).ok()?;
            Some((pid, stat.parent, stat.has_exited()))
        })
        .collect();
    let mut parents = vec![root];
    let mut living = Vec::new();
    let mut next = 0;
    while let Some(&parent) = parents.get(next) {
        next += 1;
        for &(pid, ppid, exited) in &table {
            if ppid == parent && pid != root && !parents.contains(&pid) {
                parents.push(pid);
                if !exited {
                    living.push(pid);
                }
            }
        }
    }
    living
}
