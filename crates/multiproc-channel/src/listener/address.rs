//! [`Address`]: where a [`Listener`](crate::Listener) listens.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where a [`Listener`](crate::Listener) listens: a Unix socket path or a TCP address.
///
/// # Examples
///
/// ```
/// use multiproc_channel::Address;
///
/// let unix = Address::from(std::path::Path::new("/run/user/1000/app.sock"));
/// let tcp: Address = "127.0.0.1:6000".parse::<std::net::SocketAddr>()?.into();
/// assert_eq!(unix.to_string(), "/run/user/1000/app.sock");
/// assert_eq!(tcp.to_string(), "127.0.0.1:6000");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// A Unix domain socket at this path (Python's `'AF_UNIX'` family).
    Unix(PathBuf),
    /// A TCP address (Python's `'AF_INET'` family); always needs an `authkey`.
    Tcp(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => fmt::Display::fmt(&path.display(), f),
            Address::Tcp(addr) => fmt::Display::fmt(addr, f),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Address {
        Address::Tcp(addr)
    }
}

impl From<PathBuf> for Address {
    fn from(path: PathBuf) -> Address {
        Address::Unix(path)
    }
}

impl From<&Path> for Address {
    fn from(path: &Path) -> Address {
        Address::Unix(path.to_owned())
    }
}
