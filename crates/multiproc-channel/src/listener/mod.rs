//! `Listener`, `Client` and `SocketConnection`: Python's `multiprocessing.connection` over
//! a Unix socket or TCP, with the `authkey` handshake of [`auth`](crate::auth).
//!
//! The layers, bottom up: [`framing`] (length-prefixed frames, CPython's wire format),
//! `auth` (the handshake, over frames), [`codec`] (postcard payloads), then [`stream`],
//! [`connection`], and the two ends that make connections, [`server`] and [`client`].
//! [`address`] names where a listener listens.

mod address;
mod client;
pub(crate) mod codec;
mod connection;
pub(crate) mod framing;
mod server;
mod stream;

pub use self::address::Address;
pub use self::client::Client;
pub use self::connection::SocketConnection;
pub use self::framing::DEFAULT_MAX_MESSAGE_SIZE;
pub use self::server::Listener;
