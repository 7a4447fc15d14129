//! [`ManagerError`]: everything a manager or a proxy call can fail with.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why starting a manager, connecting to one, or a proxy call failed.
///
/// # Examples
///
/// ```
/// use multiproc_manager::{Manager, ManagerError};
///
/// let manager = Manager::start()?;
/// let list = manager.list::<u32>()?;
/// manager.shutdown()?;
/// // The server is gone: every call says so, none hangs.
/// assert!(matches!(list.len(), Err(ManagerError::ManagerGone)));
/// # Ok::<(), ManagerError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The manager's server is gone: it was shut down, it died, or the connection to it
    /// broke. CPython raises `EOFError`, `BrokenPipeError` or `ConnectionRefusedError` here.
    #[error("the manager is gone (shut down, dead, or unreachable)")]
    ManagerGone,
    /// A call did not complete within the timeout set with a proxy's `with_timeout`.
    #[error("the manager did not answer within {0:?}")]
    Timeout(Duration),
    /// A timed queue `get` found no item in time, or `get_nowait` found the queue empty
    /// (Python's `queue.Empty`).
    #[error("the queue is empty")]
    Empty,
    /// Connecting or authenticating failed (a wrong `authkey`, a handshake timeout).
    #[error("could not connect to the manager: {0}")]
    Connect(#[source] multiproc_channel::ListenerError),
    /// The server process could not be started or reaped.
    #[error("the manager process failed: {0}")]
    Process(#[from] multiproc_process::ProcessError),
    /// The manager process could not listen at the address asked for.
    #[error("the manager could not listen: {0}")]
    Bind(String),
    /// A value could not be encoded, or a reply could not be decoded as the proxy's type
    /// (a proxy used with another type than its object's).
    #[error("encoding or decoding failed: {0}")]
    Codec(String),
    /// This handle did not start the manager (it was made by [`Manager::connect`], or it is
    /// a copy in a forked child), so it cannot shut it down.
    ///
    /// [`Manager::connect`]: crate::Manager::connect
    #[error("only the handle that started a manager can shut it down")]
    NotOwner,
    /// The server refused the call; the reason is in [`RemoteError`].
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// A call the server refused. The connection and the object stay usable.
///
/// # Examples
///
/// ```
/// use multiproc_manager::{Manager, ManagerError, RemoteError};
///
/// let manager = Manager::start()?;
/// let list = manager.list::<u8>()?;
/// let err = list.set(3, 1).unwrap_err();
/// assert!(matches!(err, ManagerError::Remote(RemoteError::IndexOutOfRange { index: 3, len: 0 })));
/// # Ok::<(), ManagerError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// No object has this id on the server.
    #[error("the manager has no object {0}")]
    NoSuchObject(u64),
    /// The object is of another kind than the proxy expects.
    #[error("object {id} is a {actual}, not a {expected}")]
    WrongKind {
        /// The object's id.
        id: u64,
        /// The kind the proxy expected.
        expected: String,
        /// The kind the object is.
        actual: String,
    },
    /// A list index past the end (Python's `IndexError`).
    #[error("index {index} is out of range for a list of {len}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The list's length.
        len: u64,
    },
    /// A function run in the server (`update_with`, a registered type's handler) panicked
    /// or could not be called.
    #[error("the function run in the manager failed: {0}")]
    Function(String),
    /// `create` of a type that was not registered with [`Manager::register`].
    ///
    /// [`Manager::register`]: crate::Manager::register
    #[error("type {0} is not registered with this manager")]
    NotRegistered(String),
    /// No object was published under this name.
    #[error("no object is published as {0:?}")]
    NoSuchName(String),
    /// `release` of a lock that is not held (Python's `ValueError`/`RuntimeError`).
    #[error("release of an unlocked lock")]
    NotLocked,
    /// A barrier was broken (by [`BarrierProxy::abort`](crate::BarrierProxy::abort), a
    /// reset, or a party's timeout) while waiting or before (Python's
    /// `threading.BrokenBarrierError`).
    #[error("the barrier is broken")]
    BrokenBarrier,
    /// `release` of a bounded semaphore above its initial value (Python's `ValueError`).
    #[error("semaphore released too many times (its bound is {bound})")]
    SemaphoreReleasedTooOften {
        /// The semaphore's initial value.
        bound: u64,
    },
    /// The server could not decode the request (a proxy of another program version).
    #[error("the manager could not decode the request: {0}")]
    BadRequest(String),
}
