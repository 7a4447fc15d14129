//! Who is at the other end of a Unix-domain socket.
//!
//! Sockets that start or feed child processes accept only the same user: a connection is
//! checked with `SO_PEERCRED`, the credentials the kernel recorded when the peer called
//! `connect(2)` (or `socketpair(2)`), which the peer cannot forge.
//!
//! ```
//! use std::os::fd::AsFd;
//! let (a, _b) = std::os::unix::net::UnixStream::pair()?;
//! assert_eq!(multiproc_sys::socket::peer_uid(a.as_fd())?, multiproc_sys::socket::own_uid());
//! assert_eq!(multiproc_sys::socket::peer_pid(a.as_fd())?, std::process::id());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The peer's credentials (`struct ucred`), as the kernel recorded them.
///
/// Through libc rather than rustix's `socket_peercred`: rustix's `UCred` holds the pid as a
/// `NonZero`, and the kernel reports pid 0 for a peer outside this process's pid namespace,
/// which a peer can arrange; a plain `ucred` takes any value.
fn peer_credentials(socket: BorrowedFd<'_>) -> io::Result<libc::ucred> {
    let mut credentials = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `credentials` and `len` are valid for writes for the duration of the call, and
    // `len` says how many bytes `credentials` holds; the kernel writes at most that many.
    crate::cvt(unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut credentials).cast(),
            &mut len,
        )
    })?;
    Ok(credentials)
}

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
    Ok(peer_credentials(socket)?.uid)
}

/// The pid of the process at the other end of a connected Unix-domain socket
/// (`SO_PEERCRED`, socket(7), unix(7)): the process that connected, as the kernel saw it then;
/// 0 for a peer outside this process's pid namespace.
///
/// ```
/// use std::os::fd::AsFd;
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// assert_eq!(multiproc_sys::socket::peer_pid(a.as_fd())?, std::process::id());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn peer_pid(socket: BorrowedFd<'_>) -> io::Result<u32> {
    Ok(u32::try_from(peer_credentials(socket)?.pid).unwrap_or(0))
}

/// This process's effective user id (`geteuid(2)`): the id a peer's is compared with.
///
/// ```
/// let _me = multiproc_sys::socket::own_uid();
/// ```
pub fn own_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}
