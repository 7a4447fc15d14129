//! Resource limits of the calling process. See getrlimit(2).

use std::io;

use rustix::process::{Resource, Rlimit};

/// The limits this module sets.
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
