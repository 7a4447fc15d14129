//! This process's own sockets, reached the way a hostile process of the same user could: by
//! duplicating them with `pidfd_getfd(2)` on this very process, so that no raw descriptor
//! number is trusted and no `unsafe` is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::OwnedFd;

/// This process's sockets: descriptor number and `socket:[inode]`, from `/proc/self/fd`.
///
/// ```
/// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
/// use std::os::fd::AsRawFd;
/// let sockets = multiproc_test_support::sockets();
/// assert!(sockets[&ours.as_raw_fd()].starts_with("socket:["));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sockets() -> BTreeMap<i32, String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| {
            let fd: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
            let target = target.to_string_lossy().into_owned();
            target.starts_with("socket:").then_some((fd, target))
        })
        .collect()
}

/// Runs `make` and returns what it made, with duplicates of the sockets it opened (those
/// that were not open before, by inode). Other threads must not open sockets meanwhile.
///
/// ```
/// let (pair, opened) = multiproc_test_support::with_new_sockets(|| {
///     std::os::unix::net::UnixStream::pair().unwrap()
/// });
/// assert_eq!(opened.len(), 2);
/// # drop(pair);
/// ```
pub fn with_new_sockets<R>(make: impl FnOnce() -> R) -> (R, Vec<OwnedFd>) {
    let before: BTreeSet<String> = sockets().into_values().collect();
    let made = make();
    let opened = sockets()
        .into_iter()
        .filter(|(_, target)| !before.contains(target))
        .filter_map(|(fd, _)| duplicate(fd))
        .collect();
    (made, opened)
}

/// Duplicates of this process's `SOCK_SEQPACKET` sockets whose peer is process `peer` (as
/// the kernel says, `SO_PEERCRED`): a child's result channel to its parent, say.
///
/// ```
/// use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};
/// let pair = socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
/// // Both ends of a pair made here have this process as their peer.
/// assert!(multiproc_test_support::seqpacket_sockets_to(std::process::id()).len() >= 2);
/// # drop(pair);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn seqpacket_sockets_to(peer: u32) -> Vec<OwnedFd> {
    let peer = i32::try_from(peer).ok();
    sockets()
        .into_keys()
        .filter_map(duplicate)
        .filter(|fd| {
            rustix::net::sockopt::socket_type(fd).ok() == Some(rustix::net::SocketType::SEQPACKET)
        })
        .filter(|fd| {
            let creds = rustix::net::sockopt::socket_peercred(fd);
            creds.ok().map(|creds| creds.pid.as_raw_nonzero().get()) == peer
        })
        .collect()
}

/// A duplicate of this process's descriptor `fd`, through `pidfd_getfd(2)`; `None` if it was
/// closed meanwhile (or the kernel refuses).
fn duplicate(fd: i32) -> Option<OwnedFd> {
    let me = rustix::process::pidfd_open(
        rustix::process::getpid(),
        rustix::process::PidfdFlags::empty(),
    )
    .ok()?;
    rustix::process::pidfd_getfd(&me, fd, rustix::process::PidfdGetfdFlags::empty()).ok()
}
