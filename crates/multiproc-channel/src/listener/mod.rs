//! `Listener`, `Client` and `SocketConnection`: Python's `multiprocessing.connection` over
//! a Unix socket or TCP, with the `authkey` handshake of [`auth`].
//!
//! The layers, bottom up; each file imports only from the ones above it in this list:
//! * [`framing`]: length-prefixed frames, CPython's wire format;
//! * [`auth`]: the handshake, a few small frames;
//! * [`codec`]: typed payloads (postcard), behind the crate's decode guard;
//! * [`address`], [`stream`]: where to connect, and the socket under a connection;
//! * [`connection`]: a connection, made by the two ends on top, [`server`] and [`client`].

mod address;
pub(crate) mod auth;
mod client;
pub(crate) mod codec;
mod connection;
pub(crate) mod framing;
mod server;
mod stream;

pub use self::address::Address;
pub use self::auth::DEFAULT_HANDSHAKE_TIMEOUT;
pub use self::client::Client;
pub use self::connection::SocketConnection;
pub use self::framing::DEFAULT_MAX_MESSAGE_SIZE;
pub use self::server::Listener;
