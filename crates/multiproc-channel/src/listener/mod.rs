//! `Listener`, `Client` and `SocketConnection`: Python's `multiprocessing.connection` over
//! a Unix socket or TCP, with the `authkey` handshake of [`auth`].
//!
//! The layers, bottom up; each file imports only from the ones above it in this list:
//! * [`framing`]: length-prefixed frames, CPython's wire format;
//! * [`auth`]: the handshake, a few small frames;
//! * [`codec`]: typed payloads (postcard), behind the crate's decode guard;
//! * [`address`], [`stream`]: where to connect, and the socket under a connection;
//! * [`pipes`]: the pipes a local connection's frames may move to after the handshake;
//! * [`connection`]: a connection, made by the two ends on top, [`server`] and [`client`];
//! * [`acceptor`]: the server's concurrent handshakes.

//!
//! Everything but [`framing`] and [`codec`] (which pipes use too) is behind the `listener`
//! feature: the handshake needs `hmac` and `sha2`.

#[cfg(feature = "listener")]
mod acceptor;
#[cfg(feature = "listener")]
mod address;
#[cfg(feature = "listener")]
pub(crate) mod auth;
#[cfg(feature = "listener")]
mod client;
// Without `listener` only pipes use these, and only their reading half.
#[cfg_attr(not(feature = "listener"), allow(dead_code))]
pub(crate) mod codec;
#[cfg(feature = "listener")]
mod connection;
#[cfg_attr(not(feature = "listener"), allow(dead_code))]
pub(crate) mod framing;
#[cfg(feature = "listener")]
mod pipes;
#[cfg(feature = "listener")]
mod server;
#[cfg(feature = "listener")]
mod stream;

#[cfg(feature = "listener")]
pub use self::acceptor::MAX_PENDING_HANDSHAKES;
#[cfg(feature = "listener")]
pub use self::address::Address;
#[cfg(feature = "listener")]
pub use self::auth::DEFAULT_HANDSHAKE_TIMEOUT;
#[cfg(feature = "listener")]
pub use self::client::Client;
#[cfg(feature = "listener")]
pub use self::connection::SocketConnection;
pub use self::framing::DEFAULT_MAX_MESSAGE_SIZE;
#[cfg(feature = "listener")]
pub use self::server::Listener;
