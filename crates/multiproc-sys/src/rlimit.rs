//! Resource limits a process sets on itself: getrlimit(2), setrlimit(2).
//!
//! ```
//! let open_files = multiproc_sys::rlimit::open_files();
//! assert!(open_files >= 3);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use rustix::process::{Resource, Rlimit};

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

/// The limits this module sets.
///
/// ```
/// use multiproc_sys::rlimit::{Limit, get};
/// // Usually unlimited (`None`) unless a shell or container set one.
/// let _address_space: Option<u64> = get(Limit::AddressSpace)?;
/// let _data: Option<u64> = get(Limit::Data)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `RLIMIT_AS`: the size of the virtual address space; every `mmap(2)` counts.
    AddressSpace,
    /// `RLIMIT_DATA`: since Linux 4.7, private writable mappings and the heap (so large
    /// allocations count, shared file mappings do not).
    Data,
}

impl Limit {
    fn resource(self) -> Resource {
        match self {
            Limit::AddressSpace => Resource::As,
            Limit::Data => Resource::Data,
        }
    }
}

/// Sets the soft `limit` of this process in bytes (capped at the hard limit); `None`
/// removes it. An `mmap(2)` or allocation past it fails with `ENOMEM`. setrlimit(2).
///
/// ```
/// use multiproc_sys::rlimit::{Limit, get, set};
/// let before = get(Limit::AddressSpace)?;
/// set(Limit::AddressSpace, before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set(limit: Limit, bytes: Option<u64>) -> io::Result<()> {
    let resource = limit.resource();
    let hard = rustix::process::getrlimit(resource).maximum;
    let new = Rlimit {
        current: match (bytes, hard) {
            (Some(bytes), Some(hard)) => Some(bytes.min(hard)),
            (bytes, _) => bytes,
        },
        maximum: hard,
    };
    rustix::process::setrlimit(resource, new).map_err(Into::into)
}

/// The soft `limit` of this process in bytes, `None` if unlimited. getrlimit(2).
///
/// ```
/// let _ = multiproc_sys::rlimit::get(multiproc_sys::rlimit::Limit::Data)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn get(limit: Limit) -> io::Result<Option<u64>> {
    Ok(rustix::process::getrlimit(limit.resource()).current)
}
