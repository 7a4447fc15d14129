//! An ipc-channel sender that lends out its descriptor, so that a pipe can write records of
//! its own on the same socket (see `multiproc_channel`'s frame of its own for byte
//! messages) and keep ipc-channel for the messages that carry descriptors.
//!
//! ```
//! let (tx, _rx) = ipc_channel::ipc::channel::<u8>()?;
//! let tx = multiproc_sys::ipc_sender::WatchedSender::new(tx.to_opaque());
//! assert!(tx.fd().is_some());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::os::fd::{BorrowedFd, RawFd};

use ipc_channel::ipc::OpaqueIpcSender;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An [`OpaqueIpcSender`] with its descriptor, read once from its `Debug` form (ipc-channel
/// 0.23 offers no accessor). It serializes as the sender itself.
///
/// ```
/// use multiproc_sys::ipc_sender::WatchedSender;
/// let (tx, rx) = ipc_channel::ipc::channel::<u8>()?;
/// let watched = WatchedSender::new(tx.to_opaque());
/// watched.inner().clone().to::<u8>().send(7).unwrap();
/// assert_eq!(rx.recv().unwrap(), 7);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct WatchedSender {
    inner: OpaqueIpcSender,
    fd: Option<RawFd>,
}

/// The descriptor an ipc-channel sender holds, read from its `Debug` form:
/// `OsIpcSender { fd: SharedFileDescriptor(N) }`. `None` if the form is not that one.
///
/// ```
/// use multiproc_sys::ipc_sender::sender_fd_from_debug;
/// let form = "OpaqueIpcSender { os_sender: OsIpcSender { fd: SharedFileDescriptor(9) } }";
/// assert_eq!(sender_fd_from_debug(form), Some(9));
/// assert_eq!(sender_fd_from_debug("something else"), None);
/// ```
pub fn sender_fd_from_debug(debug: &str) -> Option<RawFd> {
    const MARK: &str = "OsIpcSender { fd: SharedFileDescriptor(";
    let start = debug.find(MARK)? + MARK.len();
    let digits = debug[start..].split(')').next()?;
    digits.parse().ok().filter(|fd| *fd >= 0)
}

impl WatchedSender {
    /// Wraps `inner`, finding its descriptor.
    ///
    /// ```
    /// let (tx, _rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let _ = multiproc_sys::ipc_sender::WatchedSender::new(tx.to_opaque());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: OpaqueIpcSender) -> WatchedSender {
        let fd = sender_fd_from_debug(&format!("{inner:?}"));
        WatchedSender { inner, fd }
    }

    /// The wrapped sender.
    ///
    /// ```
    /// let (tx, _rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let watched = multiproc_sys::ipc_sender::WatchedSender::new(tx.to_opaque());
    /// let _typed = watched.inner().clone().to::<u8>();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inner(&self) -> &OpaqueIpcSender {
        &self.inner
    }

    /// The sender's descriptor, borrowed for as long as the sender is; `None` if ipc-channel's
    /// `Debug` form did not show it (another version).
    ///
    /// ```
    /// let (tx, _rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let watched = multiproc_sys::ipc_sender::WatchedSender::new(tx.to_opaque());
    /// assert!(watched.fd().is_some(), "ipc-channel's Debug form changed");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        let fd = self.fd?;
        // SAFETY: `fd` is the descriptor `self.inner` holds: it was read from `inner`'s own
        // `Debug` form when `self` was made. ipc-channel keeps it open in an `Arc` that
        // `inner` shares until the last clone is dropped; `inner` is private and never
        // moved out, and serializing it clones that `Arc` rather than taking the descriptor,
        // so it stays open for as long as `&self` is borrowed.
        Some(unsafe { BorrowedFd::borrow_raw(fd) })
    }
}

impl Serialize for WatchedSender {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WatchedSender {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        OpaqueIpcSender::deserialize(deserializer).map(WatchedSender::new)
    }
}

impl std::fmt::Debug for WatchedSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedSender")
            .field("fd", &self.fd)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_is_the_senders_socket() {
        let (tx, rx) = ipc_channel::ipc::channel::<u8>().unwrap();
        let watched = WatchedSender::new(tx.to_opaque());
        let fd = watched.fd().expect("ipc-channel's Debug form changed");
        rustix::net::send(fd, b"raw", rustix::net::SendFlags::empty()).unwrap();
        let rx = crate::ipc_receiver::WatchedReceiver::new(rx);
        let mut got = [0u8; 8];
        let (_, len) = rustix::net::recv(
            rx.fd().unwrap(),
            &mut got[..],
            rustix::net::RecvFlags::empty(),
        )
        .unwrap();
        assert_eq!(&got[..len], b"raw");
    }
}
