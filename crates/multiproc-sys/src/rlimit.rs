//! Resource limits of the calling process. See getrlimit(2).

use std::io;

use rustix::process::{Resource, Rlimit};

/// Lowers (or raises, up to the hard limit) the soft limit on the size of this process's
/// virtual address space (`RLIMIT_AS`), in bytes; `None` removes it. A `mmap(2)` or
/// allocation past it fails with `ENOMEM` instead of succeeding. setrlimit(2).
///
/// ```
/// let before = multiproc_sys::rlimit::address_space()?;
/// multiproc_sys::rlimit::set_address_space(before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_address_space(bytes: Option<u64>) -> io::Result<()> {
    let hard = rustix::process::getrlimit(Resource::As).maximum;
    let limit = Rlimit {
        current: match (bytes, hard) {
            (Some(bytes), Some(hard)) => Some(bytes.min(hard)),
            (bytes, _) => bytes,
        },
        maximum: hard,
    };
    rustix::process::setrlimit(Resource::As, limit).map_err(Into::into)
}

/// The soft `RLIMIT_AS` of this process in bytes, `None` if unlimited. getrlimit(2).
///
/// ```
/// let _ = multiproc_sys::rlimit::address_space()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn address_space() -> io::Result<Option<u64>> {
    Ok(rustix::process::getrlimit(Resource::As).current)
}
