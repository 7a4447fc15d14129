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
