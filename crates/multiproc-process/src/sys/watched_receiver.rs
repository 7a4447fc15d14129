//! An ipc-channel receiver together with its descriptor, lent out for `poll` and for the
//! `MSG_PEEK` check of each record's header (`multiproc_sys::ipc_record`): ipc-channel trusts
//! the size a message announces and reserves it at once, so the header is checked first.

use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use ipc_channel::ipc::IpcReceiver;
use ipc_channel::{IpcError, TryRecvError};
use serde::{Deserialize, Serialize};

/// An ipc-channel receiver and the descriptor it owns. It is never serialized (serializing
/// would move the descriptor out), so the descriptor stays the receiver's while it lives.
pub(crate) struct WatchedReceiver<T> {
    inner: IpcReceiver<T>,
    /// The descriptor `inner` owns, if it could be learnt.
    fd: Option<RawFd>,
}

impl<T> WatchedReceiver<T>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    pub(crate) fn new(inner: IpcReceiver<T>) -> WatchedReceiver<T> {
        // The opaque form's `Debug` needs no `T: Debug`; the round trip moves no descriptor.
        let opaque = inner.to_opaque();
        let fd = multiproc_sys::ipc_record::receiver_fd_from_debug(&format!("{opaque:?}"));
        WatchedReceiver {
            inner: opaque.to(),
            fd,
        }
    }
}

impl<T> WatchedReceiver<T>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    /// ipc-channel's blocking receive (the inner receiver is never lent out: its
    /// `Serialize` would move the descriptor out from under [`fd`](Self::fd)).
    pub(crate) fn recv(&self) -> Result<T, IpcError> {
        self.inner.recv()
    }

    /// ipc-channel's receive with a timeout, unchecked: for a receiver whose descriptor is
    /// unknown.
    pub(crate) fn try_recv_timeout(&self, timeout: Duration) -> Result<T, TryRecvError> {
        self.inner.try_recv_timeout(timeout)
    }

    /// The receiver's descriptor, unless it is unknown (an ipc-channel other than 0.23).
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        let fd = self.fd?;
        // SAFETY: `fd` is the descriptor `self.inner` owns: it was read from `inner`'s own
        // `Debug` form when `self` was made, and `inner` keeps it open until it is dropped,
        // which cannot happen while `&self` is borrowed for the returned lifetime. The only
        // other way to move it out is serializing `inner`, which is private and never lent
        // out, and `WatchedReceiver` is not `Serialize`.
        Some(unsafe { BorrowedFd::borrow_raw(fd) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_is_found() {
        let (_tx, rx) = ipc_channel::ipc::channel::<u8>().unwrap();
        let receiver = WatchedReceiver::new(rx);
        let fd = receiver.fd().expect("ipc-channel's Debug form changed");
        let ready = multiproc_sys::poll::wait_readable(fd, Some(std::time::Duration::ZERO));
        assert!(!ready.unwrap());
    }
}
