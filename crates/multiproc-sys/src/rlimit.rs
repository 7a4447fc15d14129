//! Resource limits a process sets on itself: getrlimit(2), setrlimit(2).

use std::io;

/// Sets this process's soft limit on open descriptors (`RLIMIT_NOFILE`) to `limit`, keeping
/// the hard limit; for tests of what happens when descriptors run out.
///
/// ```
/// let before = multiproc_sys::rlimit::open_files();
/// multiproc_sys::rlimit::set_open_files(before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_open_files(limit: u64) -> io::Result<()> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut rlimit = getrlimit(Resource::Nofile);
    rlimit.current = Some(limit);
    setrlimit(Resource::Nofile, rlimit).map_err(Into::into)
}

/// This process's soft limit on open descriptors (`u64::MAX` when unlimited).
///
/// ```
/// assert!(multiproc_sys::rlimit::open_files() > 0);
/// ```
pub fn open_files() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}
