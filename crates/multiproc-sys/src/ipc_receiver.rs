//! An ipc-channel receiver that lends out its descriptor, for `poll` and for the `MSG_PEEK`
//! check of each record's header ([`ipc_record`](crate::ipc_record)) before ipc-channel
//! reads it: the one such wrapper for every crate that receives from another process through
//! ipc-channel (a pipe's connection, a child's result channel, a pool worker's results).
//!
//! ```
//! let (tx, rx) = ipc_channel::ipc::channel::<String>()?;
//! let rx = multiproc_sys::ipc_receiver::WatchedReceiver::new(rx);
//! tx.send("hi".into()).unwrap();
//! assert_eq!(rx.recv().unwrap(), "hi");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::Cell;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use ipc_channel::ipc::IpcReceiver;
use ipc_channel::{IpcError, TryRecvError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ipc-channel receiver together with the descriptor it owns.
///
/// The inner receiver is never lent out: its `Serialize` moves the descriptor out (ipc-channel
/// sets its own copy to -1 and closes it once the message is sent). Serializing this wrapper
/// does the same, and [`fd`](Self::fd) says `None` from then on.
///
/// ```
/// use multiproc_sys::ipc_receiver::WatchedReceiver;
/// use std::time::Duration;
///
/// let (tx, rx) = ipc_channel::ipc::channel::<u32>()?;
/// let rx = WatchedReceiver::new(rx);
/// let fd = rx.fd().expect("ipc-channel 0.23 shows its descriptor");
/// assert!(!multiproc_sys::poll::wait_readable(fd, Some(Duration::ZERO))?);
/// tx.send(7).unwrap();
/// assert!(multiproc_sys::poll::wait_readable(fd, Some(Duration::ZERO))?);
/// assert_eq!(rx.recv().unwrap(), 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct WatchedReceiver<T> {
    inner: IpcReceiver<T>,
    /// The descriptor `inner` owns, if it could be learnt.
    fd: Option<RawFd>,
    /// Set once `inner` was serialized: its descriptor moved out, so `fd` is stale.
    moved: Cell<bool>,
}

impl<T> WatchedReceiver<T>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    /// Wraps `inner`, learning its descriptor from its `Debug` form
    /// ([`receiver_fd_from_debug`](crate::ipc_record::receiver_fd_from_debug)).
    ///
    /// ```
    /// let (_tx, rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let rx = multiproc_sys::ipc_receiver::WatchedReceiver::new(rx);
    /// assert!(rx.fd().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: IpcReceiver<T>) -> WatchedReceiver<T> {
        // The opaque form's `Debug` needs no `T: Debug`; the round trip moves no descriptor.
        let opaque = inner.to_opaque();
        let fd = crate::ipc_record::receiver_fd_from_debug(&format!("{opaque:?}"));
        WatchedReceiver {
            inner: opaque.to(),
            fd,
            moved: Cell::new(false),
        }
    }

    /// ipc-channel's blocking receive: after a check of the next record's header, it returns
    /// at once.
    ///
    /// ```
    /// let (tx, rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let rx = multiproc_sys::ipc_receiver::WatchedReceiver::new(rx);
    /// drop(tx);
    /// assert!(matches!(rx.recv(), Err(ipc_channel::IpcError::Disconnected)));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv(&self) -> Result<T, IpcError> {
        self.inner.recv()
    }

    /// ipc-channel's receive with a timeout, unchecked: for a receiver whose descriptor is
    /// unknown. It flips `O_NONBLOCK` on the open file description, which a forked copy of
    /// the descriptor shares.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let rx = multiproc_sys::ipc_receiver::WatchedReceiver::new(rx);
    /// assert!(rx.try_recv_timeout(Duration::from_millis(1)).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        self.inner.try_recv_timeout(timeout)
    }
}

impl<T> WatchedReceiver<T> {
    /// The receiver's descriptor, unless it is unknown (an ipc-channel other than 0.23) or
    /// was moved out by serialization.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, rx) = ipc_channel::ipc::channel::<u8>()?;
    /// let rx = multiproc_sys::ipc_receiver::WatchedReceiver::new(rx);
    /// tx.send(1).unwrap();
    /// let fd = rx.fd().unwrap();
    /// assert!(multiproc_sys::poll::wait_readable(fd, Some(Duration::ZERO))?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        if self.moved.get() {
            return None;
        }
        let fd = self.fd?;
        // SAFETY: `fd` is the descriptor `self.inner` owns: it was read from `inner`'s own
        // `Debug` form when `self` was made, and `inner` keeps it open until it is dropped
        // (which cannot happen while `&self` is borrowed for the returned lifetime) or
        // serialized (the only way to move it out, since `inner` is private and never lent
        // out; `Serialize` below sets `moved` first, checked above).
        Some(unsafe { BorrowedFd::borrow_raw(fd) })
    }
}

impl<T> Serialize for WatchedReceiver<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.moved.set(true);
        self.inner.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for WatchedReceiver<T>
where
    T: for<'a> Deserialize<'a> + Serialize,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IpcReceiver::deserialize(deserializer).map(WatchedReceiver::new)
    }
}

impl<T> std::fmt::Debug for WatchedReceiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedReceiver")
            .field("fd", &self.fd)
            .field("moved", &self.moved.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_is_found_and_forgotten_once_moved() {
        let (_tx, rx) = ipc_channel::ipc::channel::<u8>().unwrap();
        let receiver = WatchedReceiver::new(rx);
        assert!(receiver.fd().is_some(), "ipc-channel's Debug form changed");
        let _ = postcard::to_stdvec(&receiver);
        assert!(receiver.fd().is_none());
    }
}
