//! [`Client`]: the end that connects to a [`Listener`](crate::Listener).

use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::address::Address;
use super::auth::{DEFAULT_HANDSHAKE_TIMEOUT, Role, checked_key};
use super::connection::SocketConnection;
use super::framing::DEFAULT_MAX_MESSAGE_SIZE;
use super::stream::Stream;
use crate::error::ListenerError;

/// Connects to a [`Listener`](crate::Listener): Python's `multiprocessing.connection.Client`.
///
/// `Client::new(authkey)` holds the key and the limits; [`connect`](Self::connect) opens
/// a connection and, with a key, runs the mutual handshake. [`connect_unix`](Self::connect_unix)
/// and [`connect_tcp`](Self::connect_tcp) are shorthands with the default limits. A TCP
/// address without a key is refused before any socket is made.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Client, Listener};
///
/// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
/// let address = listener.address().clone();
/// let server = std::thread::spawn(move || -> Result<Vec<u8>, multiproc_channel::ListenerError> {
///     Ok(listener.accept::<Vec<u8>>()?.recv_bytes()?)
/// });
/// let connection = Client::connect_tcp::<Vec<u8>>(address.to_string(), b"key")?;
/// connection.send_bytes(b"raw bytes")?;
/// assert_eq!(server.join().unwrap()?, b"raw bytes");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.connection.Client")]
#[derive(Clone)]
pub struct Client {
    authkey: Option<Vec<u8>>,
    handshake_timeout: Duration,
    max_message_size: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("authenticated", &self.authkey.is_some())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_message_size", &self.max_message_size)
            .finish()
    }
}

impl Client {
    /// A client that authenticates with `authkey` (`None`: no handshake, Unix sockets
    /// only), with the default handshake timeout and maximum message size.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = multiproc_channel::Client::new(Some(b"key"));
    /// # drop(client);
    /// ```
    pub fn new(authkey: Option<&[u8]>) -> Client {
        Client {
            authkey: authkey.map(<[u8]>::to_vec),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }

    /// Sets how long [`connect`](Self::connect) waits for the TCP connection and for the
    /// server's side of the handshake (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = multiproc_channel::Client::new(Some(b"key"))
    ///     .with_handshake_timeout(Duration::from_secs(1));
    /// # drop(client);
    /// ```
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Client {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets the largest message the connection receives (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let client = multiproc_channel::Client::new(None).with_max_message_size(4096);
    /// # drop(client);
    /// ```
    pub fn with_max_message_size(mut self, bytes: usize) -> Client {
        self.max_message_size = bytes;
        self
    }

    /// Connects to `address` and authenticates.
    ///
    /// Fails with [`ListenerError::AuthkeyRequired`] for a TCP address without a key (or with an
    /// empty key), before connecting; with [`ListenerError::AuthenticationFailed`] if the keys
    /// differ; with [`ListenerError::HandshakeTimeout`] if the server does not complete the
    /// handshake in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, ListenerError, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// let err = Client::new(None).connect::<()>(listener.address()).unwrap_err();
    /// assert!(matches!(err, ListenerError::AuthkeyRequired));
    /// # Ok::<(), ListenerError>(())
    /// ```
    pub fn connect<T>(&self, address: &Address) -> Result<SocketConnection<T>, ListenerError> {
        let authkey = checked_key(self.authkey.as_deref())?;
        let stream = match address {
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Address::Tcp(addr) => {
                if authkey.is_none() {
                    return Err(ListenerError::AuthkeyRequired);
                }
                // A timeout too large for the clock (`Duration::MAX`) means no limit.
                let stream = match multiproc_sys::time::deadline_after(Some(self.handshake_timeout))
                {
                    Some(_) => TcpStream::connect_timeout(addr, self.handshake_timeout)?,
                    None => TcpStream::connect(addr)?,
                };
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
        };
        SocketConnection::establish(
            stream,
            Role::Client,
            authkey.as_deref(),
            self.handshake_timeout,
            self.max_message_size,
        )
    }

    /// Connects to the Unix socket at `path`, with the default limits.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(Some(b"key"))?;
    /// let Address::Unix(path) = listener.address().clone() else { unreachable!() };
    /// let client = std::thread::spawn(move || Client::connect_unix::<u8>(path, Some(b"key")));
    /// let server_side = listener.accept::<u8>()?;
    /// client.join().unwrap()?.send(1)?;
    /// assert_eq!(server_side.recv()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_unix<T>(
        path: impl AsRef<Path>,
        authkey: Option<&[u8]>,
    ) -> Result<SocketConnection<T>, ListenerError> {
        Client::new(authkey).connect(&Address::Unix(path.as_ref().to_owned()))
    }

    /// Connects over TCP to the first address of `address` that answers, with the default
    /// limits.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// let address = listener.address().to_string();
    /// let client = std::thread::spawn(move || Client::connect_tcp::<String>(address, b"key"));
    /// let server_side = listener.accept::<String>()?;
    /// server_side.send("welcome".into())?;
    /// assert_eq!(client.join().unwrap()?.recv()?, "welcome");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_tcp<T>(
        address: impl ToSocketAddrs,
        authkey: &[u8],
    ) -> Result<SocketConnection<T>, ListenerError> {
        let client = Client::new(Some(authkey));
        let mut last_error = None;
        for addr in address.to_socket_addrs()? {
            match client.connect(&Address::Tcp(addr)) {
                Ok(connection) => return Ok(connection),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            ListenerError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to nothing",
            ))
        }))
    }
}
