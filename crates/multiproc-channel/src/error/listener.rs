//! Errors of listeners and clients.

use std::io;
use std::time::Duration;

use super::PipeError;

/// Everything that can go wrong while binding a [`Listener`](crate::Listener), or while
/// accepting or connecting a [`SocketConnection`](crate::SocketConnection). Once connected,
/// the connection's own operations return [`PipeError`].
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Listener, ListenerError};
///
/// // A TCP listener must be authenticated.
/// let err = Listener::bind_tcp("127.0.0.1:0", b"").unwrap_err();
/// assert!(matches!(err, ListenerError::AuthkeyRequired));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    /// The `authkey` handshake failed: a different key, or a peer that does not speak the
    /// protocol (Python's `multiprocessing.AuthenticationError`).
    #[doc(alias = "multiprocessing.AuthenticationError")]
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// The peer closed the connection in the middle of the `authkey` handshake: it died
    /// or shut down, it is not a multiproc or Python peer, or its listener dropped this
    /// handshake for its flood bound
    /// ([`MAX_PENDING_HANDSHAKES`](crate::MAX_PENDING_HANDSHAKES) in progress). Unlike
    /// [`AuthenticationFailed`](Self::AuthenticationFailed), nothing was refused: trying
    /// again may succeed.
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener, ListenerError};
    ///
    /// let listener = Listener::bind_unix_temp(Some(b"key"))?;
    /// let address = listener.address().clone();
    /// // A raw peer that connects and hangs up without answering the challenge.
    /// let multiproc_channel::Address::Unix(path) = &address else { unreachable!() };
    /// drop(std::os::unix::net::UnixStream::connect(path)?);
    /// assert!(matches!(listener.accept::<()>(), Err(ListenerError::HandshakeClosed)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[error("the peer closed the connection during the authentication handshake")]
    HandshakeClosed,
    /// A TCP listener or client was made without an `authkey`, or a key was empty.
    #[error(
        "an authkey is required: TCP connections must be authenticated and the key must not be empty"
    )]
    AuthkeyRequired,
    /// The peer did not complete the `authkey` handshake in time.
    #[error("the peer did not complete the authentication handshake within {0:?}")]
    HandshakeTimeout(Duration),
    /// A timed accept saw no peer in time.
    #[error("timed out waiting for a connection")]
    Timeout,
    /// The listener was closed.
    #[error("the listener is closed")]
    Closed,
    /// The handshake's messages failed on the connection.
    #[error(transparent)]
    Connection(#[from] PipeError),
    /// An operating-system error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
