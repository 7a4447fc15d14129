//! Who is at the other end of a Unix-domain socket.
//!
//! Sockets that start or feed child processes accept only the same user: a connection is
//! checked with `SO_PEERCRED`, the credentials the kernel recorded when the peer called
//! `connect(2)` (or `socketpair(2)`), which the peer cannot forge.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::net::sockopt;

/// The effective user id of the process at the other end of a connected Unix-domain socket
/// (`SO_PEERCRED`, socket(7), unix(7)).
///
/// ```
/// use std::os::fd::AsFd;
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// assert_eq!(multiproc_sys::socket::peer_uid(a.as_fd())?, multiproc_sys::socket::own_uid());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn peer_uid(socket: BorrowedFd<'_>) -> io::Result<u32> {
    Ok(sockopt::socket_peercred(socket)?.uid.as_raw())
}

/// The pid of the process at the other end of a connected Unix-domain socket
/// (`SO_PEERCRED`, socket(7), unix(7)): the process that connected, as the kernel saw it then.
///
/// ```
/// use std::os::fd::AsFd;
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// assert_eq!(multiproc_sys::socket::peer_pid(a.as_fd())?, std::process::id());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn peer_pid(socket: BorrowedFd<'_>) -> io::Result<u32> {
    let pid = sockopt::socket_peercred(socket)?.pid;
    Ok(pid.as_raw_nonzero().get() as u32)
}

/// This process's effective user id (`geteuid(2)`): the id a peer's is compared with.
///
/// ```
/// let _me = multiproc_sys::socket::own_uid();
/// ```
pub fn own_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}
