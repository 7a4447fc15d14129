//! `Listener`, `Client` and `SocketConnection`: Python's `multiprocessing.connection` over
//! a Unix socket or TCP, with the `authkey` handshake of [`auth`](crate::auth).
//!
//! A message is a length-prefixed frame, as in CPython: a 4-byte big-endian signed length,
//! or `-1` followed by an 8-byte big-endian length for messages above 2 GiB, then the
//! payload. Typed messages are postcard-encoded payloads, so
//! [`send`](SocketConnection::send) is `send_bytes(postcard(value))`, as Python's `send` is
//! `send_bytes(pickle(value))`.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::{self, Role, Timeouts};
use crate::error::{Error, SendError};

/// How long a peer may take over the `authkey` handshake unless configured otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest message a connection accepts unless configured otherwise: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Payload bytes reserved up front for a frame; larger frames grow as their bytes arrive,
/// so a peer that announces a large message and sends nothing costs no more than this.
const PREALLOCATE_AT_MOST: usize = 1 << 20;

/// Frames up to this size go out in one `write` together with their header.
const COALESCE_AT_MOST: usize = 64 << 10;

/// Where a [`Listener`] listens: a Unix socket path or a TCP address.
///
/// # Examples
///
/// ```
/// use multiproc_channel::Address;
///
/// let unix = Address::from(std::path::Path::new("/run/user/1000/app.sock"));
/// let tcp: Address = "127.0.0.1:6000".parse::<std::net::SocketAddr>()?.into();
/// assert_eq!(unix.to_string(), "/run/user/1000/app.sock");
/// assert_eq!(tcp.to_string(), "127.0.0.1:6000");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// A Unix domain socket at this path (Python's `'AF_UNIX'` family).
    Unix(PathBuf),
    /// A TCP address (Python's `'AF_INET'` family); always needs an `authkey`.
    Tcp(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => fmt::Display::fmt(&path.display(), f),
            Address::Tcp(addr) => fmt::Display::fmt(addr, f),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Address {
        Address::Tcp(addr)
    }
}

impl From<PathBuf> for Address {
    fn from(path: PathBuf) -> Address {
        Address::Unix(path)
    }
}

impl From<&Path> for Address {
    fn from(path: &Path) -> Address {
        Address::Unix(path.to_owned())
    }
}

/// Turns an `authkey` argument into the key to use, refusing an empty one.
fn checked_key(authkey: Option<&[u8]>) -> Result<Option<Vec<u8>>, Error> {
    match authkey {
        Some([]) => Err(Error::AuthkeyRequired),
        Some(key) => Ok(Some(key.to_vec())),
        None => Ok(None),
    }
}

fn from_io(err: io::Error) -> Error {
    match err.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => Error::Closed,
        _ => Error::Io(err),
    }
}

/// Writes one frame: the length prefix, then `payload`.
pub(crate) fn write_frame(stream: &mut impl Write, payload: &[u8]) -> Result<(), Error> {
    let mut header = Vec::with_capacity(12);
    match i32::try_from(payload.len()) {
        Ok(len) => header.extend_from_slice(&len.to_be_bytes()),
        Err(_) => {
            header.extend_from_slice(&(-1_i32).to_be_bytes());
            header.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
    }
    let result = if payload.len() <= COALESCE_AT_MOST {
        header.extend_from_slice(payload);
        stream.write_all(&header)
    } else {
        stream
            .write_all(&header)
            .and_then(|()| stream.write_all(payload))
    };
    result.map_err(from_io)
}

/// Reads one frame of at most `max` payload bytes.
///
/// The announced length is checked before anything is allocated for it, and the payload
/// buffer grows only as bytes arrive. A clean or mid-frame end of stream is
/// [`Error::Closed`].
pub(crate) fn read_frame(stream: &mut impl Read, max: usize) -> Result<Vec<u8>, Error> {
    let mut header = [0; 4];
    stream.read_exact(&mut header).map_err(from_io)?;
    let size = match i32::from_be_bytes(header) {
        -1 => {
            let mut long = [0; 8];
            stream.read_exact(&mut long).map_err(from_io)?;
            u64::from_be_bytes(long)
        }
        len if len >= 0 => len as u64,
        len => return Err(Error::Decode(format!("invalid message length {len}"))),
    };
    if size > max as u64 {
        return Err(Error::MessageTooLarge { size, max });
    }
    let size = size as usize;
    let mut payload = Vec::with_capacity(size.min(PREALLOCATE_AT_MOST));
    stream
        .take(size as u64)
        .read_to_end(&mut payload)
        .map_err(from_io)?;
    if payload.len() < size {
        return Err(Error::Closed);
    }
    Ok(payload)
}

/// Encodes `value` with postcard, refusing shared-memory handles and connections.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    multiproc_shared::with_plain_serialization(|| postcard::to_stdvec(value)).map_err(|err| {
        // A raw ipc-channel end may have pushed its fd before the failure.
        crate::frame::drain_stale_handles();
        // postcard drops custom messages; the usual custom error here is a handle
        // refusing plain serialization.
        let hint = if matches!(err, postcard::Error::SerdeSerCustom) {
            " (shared-memory handles and Connections cannot travel over a socket; send them \
             over a Pipe or pass them as Process arguments)"
        } else {
            ""
        };
        Error::Encode(format!("{err}{hint}"))
    })
}

/// Decodes a whole payload as `T`; trailing bytes are an error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // A type holding ipc-channel handles panics inside ipc-channel when decoded from plain
    // bytes (it indexes an empty descriptor table); that is hostile input, not a bug here.
    let decoded = crate::decode::guard_decode(|| postcard::take_from_bytes::<T>(bytes))
        .map_err(Error::Decode)?;
    match decoded {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Error::Decode(format!(
            "{} trailing bytes after a {}",
            rest.len(),
            std::any::type_name::<T>()
        ))),
        Err(err) => Err(Error::Decode(format!(
            "a {}-byte message does not decode as {}: {err}",
            bytes.len(),
            std::any::type_name::<T>()
        ))),
    }
}

#[derive(Debug)]
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(stream) => (&*stream).read(buf),
            Stream::Tcp(stream) => (&*stream).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(stream) => (&*stream).write(buf),
            Stream::Tcp(stream) => (&*stream).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Timeouts for &Stream {
    fn set_io_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(stream) => {
                stream.set_read_timeout(timeout)?;
                stream.set_write_timeout(timeout)
            }
            Stream::Tcp(stream) => {
                stream.set_read_timeout(timeout)?;
                stream.set_write_timeout(timeout)
            }
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Unix(stream) => stream.as_fd(),
            Stream::Tcp(stream) => stream.as_fd(),
        }
    }
}

/// Runs the handshake (if there is a key) and wraps the stream.
fn establish<T>(
    stream: Stream,
    role: Role,
    authkey: Option<&[u8]>,
    handshake_timeout: Duration,
    max_message_size: usize,
) -> Result<SocketConnection<T>, Error> {
    if let Some(authkey) = authkey {
        let nonce = auth::random_nonce()?;
        auth::handshake(&mut &stream, role, authkey, &nonce, handshake_timeout)?;
    }
    Ok(SocketConnection {
        stream: Some(stream),
        readable: Cell::new(true),
        writable: Cell::new(true),
        max_message_size,
        _items: PhantomData,
    })
}

/// A random lowercase hex name of `2 * bytes` characters.
fn random_name(bytes: usize) -> Result<String, Error> {
    let mut random = vec![0; bytes];
    getrandom::fill(&mut random)
        .map_err(|err| Error::Io(io::Error::other(format!("getrandom failed: {err}"))))?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// Binds a Unix socket at `path` that only its owner can connect to, with no window in
/// which the path is reachable with looser permissions: the socket is bound inside a new
/// 0700 directory next to `path`, made 0600, and then hard-linked to `path` (link(2) fails
/// rather than replace an existing file).
fn bind_owner_only(path: &Path) -> Result<UnixListener, Error> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let private_dir = parent.join(format!(".multiproc-{}", random_name(6)?));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private_dir)?;
    let staged = private_dir.join("s");
    let result = (|| {
        let listener = UnixListener::bind(&staged)?;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
        std::fs::hard_link(&staged, path)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&private_dir);
    result
}

/// What a Unix listener removes when dropped.
#[derive(Debug)]
struct UnixCleanup {
    path: PathBuf,
    /// Device and inode of our socket, so a file someone else put at `path` later survives.
    identity: (u64, u64),
    /// The private directory made by [`Listener::bind_unix_temp`].
    temp_dir: Option<PathBuf>,
}

impl Drop for UnixCleanup {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
        {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[derive(Debug)]
enum ListenerSocket {
    Unix {
        listener: UnixListener,
        /// Removes the socket file on drop, after the listener is closed.
        _cleanup: UnixCleanup,
    },
    Tcp(TcpListener),
}

/// A server socket that accepts authenticated connections: Python's
/// `multiprocessing.connection.Listener`.
///
/// * [`bind_unix`](Self::bind_unix) / [`bind_unix_temp`](Self::bind_unix_temp): a Unix
///   socket only its owner can connect to (mode 0600; the temporary one inside a 0700
///   directory). The `authkey` is optional there: file permissions already keep other
///   users out, and a key also keeps out other programs of the same user.
/// * [`bind_tcp`](Self::bind_tcp): TCP, `authkey` required. The key authenticates; it does
///   not encrypt, so use TCP on loopback or a trusted network only, as with Python.
///
/// With a key, [`accept`](Self::accept) runs a mutual HMAC-SHA256 challenge–response (the
/// wire format of CPython 3.12's `deliver_challenge`/`answer_challenge`) before any
/// message is read. A peer with another key, one that does not complete the handshake
/// within [`DEFAULT_HANDSHAKE_TIMEOUT`] (see
/// [`with_handshake_timeout`](Self::with_handshake_timeout)), or one that sends a message
/// above [`DEFAULT_MAX_MESSAGE_SIZE`] is refused with an error. Accepting is serial, as in
/// Python: a silent peer delays the next `accept` by at most the handshake timeout.
///
/// The socket file of a Unix listener is removed when the listener is dropped.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Client, Listener};
///
/// let listener = Listener::bind_tcp("127.0.0.1:0", b"secret")?;
/// let address = listener.address().clone();
/// let client = std::thread::spawn(move || -> Result<String, multiproc_channel::Error> {
///     let connection = Client::new(Some(b"secret")).connect::<String>(&address)?;
///     connection.send("hello".to_owned())?;
///     connection.recv()
/// });
/// let connection = listener.accept::<String>()?;
/// let greeting = connection.recv()?;
/// connection.send(format!("{greeting} back"))?;
/// assert_eq!(client.join().unwrap()?, "hello back");
/// # Ok::<(), multiproc_channel::Error>(())
/// ```
#[doc(alias = "multiprocessing.connection.Listener")]
pub struct Listener {
    socket: ListenerSocket,
    address: Address,
    authkey: Option<Vec<u8>>,
    handshake_timeout: Duration,
    max_message_size: usize,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("address", &self.address)
            .field("authenticated", &self.authkey.is_some())
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_message_size", &self.max_message_size)
            .finish()
    }
}

impl Listener {
    fn new(socket: ListenerSocket, address: Address, authkey: Option<Vec<u8>>) -> Listener {
        Listener {
            socket,
            address,
            authkey,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }

    /// Listens at `address`; a TCP address needs an `authkey`
    /// ([`Error::AuthkeyRequired`] otherwise, before any socket is made).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, Error, Listener};
    ///
    /// let tcp: Address = "127.0.0.1:0".parse::<std::net::SocketAddr>()?.into();
    /// assert!(matches!(Listener::bind(&tcp, None), Err(Error::AuthkeyRequired)));
    /// let listener = Listener::bind(&tcp, Some(b"key"))?;
    /// assert!(matches!(listener.address(), Address::Tcp(a) if a.port() != 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind(address: &Address, authkey: Option<&[u8]>) -> Result<Listener, Error> {
        match address {
            Address::Unix(path) => Listener::bind_unix(path, authkey),
            Address::Tcp(addr) => match authkey {
                Some(authkey) => Listener::bind_tcp(addr, authkey),
                None => Err(Error::AuthkeyRequired),
            },
        }
    }

    /// Listens on a new Unix socket at `path` with mode 0600 (only the owner may connect).
    ///
    /// Fails if `path` exists. The file is removed when the listener is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Listener;
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-listener-{}.sock", std::process::id()));
    /// let listener = Listener::bind_unix(&path, Some(b"key"))?;
    /// let mode = std::fs::metadata(&path)?.permissions().mode();
    /// assert_eq!(mode & 0o777, 0o600);
    /// drop(listener);
    /// assert!(!path.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_unix(path: impl AsRef<Path>, authkey: Option<&[u8]>) -> Result<Listener, Error> {
        let authkey = checked_key(authkey)?;
        let path = path.as_ref();
        let listener = bind_owner_only(path)?;
        let meta = std::fs::symlink_metadata(path)?;
        let cleanup = UnixCleanup {
            path: path.to_owned(),
            identity: (meta.dev(), meta.ino()),
            temp_dir: None,
        };
        Ok(Listener::new(
            ListenerSocket::Unix {
                listener,
                _cleanup: cleanup,
            },
            Address::Unix(path.to_owned()),
            authkey,
        ))
    }

    /// Listens on a Unix socket (mode 0600) in a new private directory (mode 0700) under
    /// the system temporary directory, like Python's `Listener()` with no address.
    ///
    /// The socket and the directory are removed when the listener is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let Address::Unix(path) = listener.address() else { unreachable!() };
    /// let client = Client::connect_unix::<u32>(path, None)?;
    /// client.send(7)?;
    /// assert_eq!(listener.accept::<u32>()?.recv()?, 7);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn bind_unix_temp(authkey: Option<&[u8]>) -> Result<Listener, Error> {
        let authkey = checked_key(authkey)?;
        let dir = std::env::temp_dir().join(format!("multiproc-listener-{}", random_name(8)?));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let path = dir.join("listener.sock");
        let bound = UnixListener::bind(&path).and_then(|listener| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            let meta = std::fs::symlink_metadata(&path)?;
            Ok((listener, (meta.dev(), meta.ino())))
        });
        let (listener, identity) = match bound {
            Ok(bound) => bound,
            Err(err) => {
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_dir(&dir);
                return Err(err.into());
            }
        };
        let cleanup = UnixCleanup {
            path: path.clone(),
            identity,
            temp_dir: Some(dir),
        };
        Ok(Listener::new(
            ListenerSocket::Unix {
                listener,
                _cleanup: cleanup,
            },
            Address::Unix(path),
            authkey,
        ))
    }

    /// Listens on TCP at `address` (port 0 picks a free port; see
    /// [`address`](Self::address)). The `authkey` must not be empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Error, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// println!("listening on {}", listener.address());
    /// assert!(matches!(Listener::bind_tcp("127.0.0.1:0", b""), Err(Error::AuthkeyRequired)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn bind_tcp(address: impl ToSocketAddrs, authkey: &[u8]) -> Result<Listener, Error> {
        let authkey = checked_key(Some(authkey))?;
        let listener = TcpListener::bind(address)?;
        let address = Address::Tcp(listener.local_addr()?);
        Ok(Listener::new(
            ListenerSocket::Tcp(listener),
            address,
            authkey,
        ))
    }

    /// Sets how long [`accept`](Self::accept) waits for a peer to complete the handshake
    /// (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let listener = multiproc_channel::Listener::bind_tcp("127.0.0.1:0", b"key")?
    ///     .with_handshake_timeout(Duration::from_millis(500));
    /// # drop(listener);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Listener {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets the largest message the accepted connections receive (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`]); a larger one is refused with
    /// [`Error::MessageTooLarge`] before anything is allocated for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = multiproc_channel::Listener::bind_unix_temp(None)?
    ///     .with_max_message_size(1 << 20);
    /// # drop(listener);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn with_max_message_size(mut self, bytes: usize) -> Listener {
        self.max_message_size = bytes;
        self
    }

    /// The address clients connect to, like Python's `Listener.address` (for TCP port 0,
    /// the port that was picked).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// let Address::Tcp(addr) = listener.address() else { unreachable!() };
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Waits for the next client and authenticates it, like Python's `Listener.accept`.
    ///
    /// An error concerns that one peer (a wrong key, a handshake timeout, a peer that
    /// hung up); the listener keeps working and the next `accept` serves the next client.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Error, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"right")?;
    /// let address = listener.address().clone();
    /// let intruder = std::thread::spawn(move || {
    ///     Client::new(Some(b"wrong")).connect::<()>(&address).unwrap_err()
    /// });
    /// assert!(matches!(listener.accept::<()>(), Err(Error::AuthenticationFailed(_))));
    /// assert!(matches!(intruder.join().unwrap(), Error::AuthenticationFailed(_)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn accept<T>(&self) -> Result<SocketConnection<T>, Error> {
        let stream = match &self.socket {
            ListenerSocket::Unix { listener, .. } => Stream::Unix(listener.accept()?.0),
            ListenerSocket::Tcp(listener) => {
                let stream = listener.accept()?.0;
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
        };
        establish(
            stream,
            Role::Server,
            self.authkey.as_deref(),
            self.handshake_timeout,
            self.max_message_size,
        )
    }

    /// Stops listening (and removes a Unix socket file), like Python's `Listener.close`;
    /// the same as dropping it.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let Address::Unix(path) = listener.address().clone() else { unreachable!() };
    /// listener.close();
    /// assert!(!path.exists());
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn close(self) {}
}

/// Connects to a [`Listener`]: Python's `multiprocessing.connection.Client`.
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
/// let server = std::thread::spawn(move || listener.accept::<Vec<u8>>()?.recv_bytes());
/// let connection = Client::connect_tcp::<Vec<u8>>(address.to_string(), b"key")?;
/// connection.send_bytes(b"raw bytes")?;
/// assert_eq!(server.join().unwrap()?, b"raw bytes");
/// # Ok::<(), multiproc_channel::Error>(())
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
    /// Fails with [`Error::AuthkeyRequired`] for a TCP address without a key (or with an
    /// empty key), before connecting; with [`Error::AuthenticationFailed`] if the keys
    /// differ; with [`Error::HandshakeTimeout`] if the server does not complete the
    /// handshake in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Error, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// let err = Client::new(None).connect::<()>(listener.address()).unwrap_err();
    /// assert!(matches!(err, Error::AuthkeyRequired));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn connect<T>(&self, address: &Address) -> Result<SocketConnection<T>, Error> {
        let authkey = checked_key(self.authkey.as_deref())?;
        let stream = match address {
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
            Address::Tcp(addr) => {
                if authkey.is_none() {
                    return Err(Error::AuthkeyRequired);
                }
                let stream = TcpStream::connect_timeout(addr, self.handshake_timeout)?;
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
        };
        establish(
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
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn connect_unix<T>(
        path: impl AsRef<Path>,
        authkey: Option<&[u8]>,
    ) -> Result<SocketConnection<T>, Error> {
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
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn connect_tcp<T>(
        address: impl ToSocketAddrs,
        authkey: &[u8],
    ) -> Result<SocketConnection<T>, Error> {
        let client = Client::new(Some(authkey));
        let mut last_error = None;
        for addr in address.to_socket_addrs()? {
            match client.connect(&Address::Tcp(addr)) {
                Ok(connection) => return Ok(connection),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address resolved to nothing",
            ))
        }))
    }
}

/// An authenticated connection over a socket, from [`Listener::accept`] or
/// [`Client::connect`]: Python's `multiprocessing.connection.Connection` on a socket.
///
/// Messages are values of `T` ([`send`](Self::send)/[`recv`](Self::recv), postcard) or raw
/// bytes ([`send_bytes`](Self::send_bytes)/[`recv_bytes`](Self::recv_bytes)); both are one
/// length-prefixed frame on the wire, so `recv` decodes whatever bytes arrive, as Python's
/// `recv` unpickles them. Unlike a [`Connection`](crate::Connection) over a
/// [`Pipe`](crate::Pipe), a message cannot carry handles: a value holding shared memory or
/// a `Connection` is refused with [`Error::Encode`] (raw ipc-channel ends are not
/// detected; do not send them).
///
/// A message above the maximum message size ([`DEFAULT_MAX_MESSAGE_SIZE`] unless
/// configured) gives [`Error::MessageTooLarge`] without being allocated, and the
/// connection then receives nothing more ([`Error::Closed`]), as with Python's
/// `recv_bytes(maxlength)`. A peer that hangs up gives [`Error::Closed`].
///
/// `Send` but not `Sync`: one thread uses it at a time.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Client, Listener};
///
/// let listener = Listener::bind_unix_temp(Some(b"key"))?;
/// let address = listener.address().clone();
/// let client = std::thread::spawn(move || -> Result<(), multiproc_channel::Error> {
///     let connection = Client::new(Some(b"key")).connect::<(u32, String)>(&address)?;
///     connection.send((1, "one".into()))?;
///     Ok(())
/// });
/// let connection = listener.accept::<(u32, String)>()?;
/// assert_eq!(connection.recv()?, (1, "one".to_owned()));
/// client.join().unwrap()?;
/// # Ok::<(), multiproc_channel::Error>(())
/// ```
#[doc(alias = "multiprocessing.connection.Connection")]
pub struct SocketConnection<T> {
    stream: Option<Stream>,
    /// Cleared once the incoming bytes may no longer be at a frame boundary.
    readable: Cell<bool>,
    /// Cleared once a frame may have been sent in part.
    writable: Cell<bool>,
    max_message_size: usize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for SocketConnection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.stream {
            Some(Stream::Unix(_)) => "unix",
            Some(Stream::Tcp(_)) => "tcp",
            None => "closed",
        };
        f.debug_struct("SocketConnection")
            .field("transport", &transport)
            .field("readable", &self.readable.get())
            .field("writable", &self.writable.get())
            .field("max_message_size", &self.max_message_size)
            .finish()
    }
}

impl<T> SocketConnection<T> {
    fn stream(&self) -> Result<&Stream, Error> {
        self.stream.as_ref().ok_or(Error::Closed)
    }

    /// Sends raw bytes, like Python's `Connection.send_bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<()>(listener.address())?;
    /// client.send_bytes(b"\x00\x01")?;
    /// assert_eq!(listener.accept::<()>()?.recv_bytes()?, [0, 1]);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), Error> {
        let stream = self.stream()?;
        if !self.writable.get() {
            return Err(Error::Closed);
        }
        write_frame(&mut &*stream, bytes).inspect_err(|_| self.writable.set(false))
    }

    /// Receives a bytes message, blocking until one arrives, like Python's
    /// `Connection.recv_bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<u16>(listener.address())?;
    /// client.send(513)?;
    /// // A typed message is its postcard encoding.
    /// assert_eq!(listener.accept::<u16>()?.recv_bytes()?, postcard::to_stdvec(&513u16).unwrap());
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>, Error> {
        let stream = self.stream()?;
        if !self.readable.get() {
            return Err(Error::Closed);
        }
        read_frame(&mut &*stream, self.max_message_size).inspect_err(|_| self.readable.set(false))
    }

    /// Whether a message (or the end of the stream) is ready, waiting at most `timeout`
    /// (`None`: until one is), like Python's `Connection.poll`.
    ///
    /// It reports that bytes arrived; a peer that sent half a frame makes the next receive
    /// wait for the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    /// use std::time::Duration;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<u8>(listener.address())?;
    /// let server_side = listener.accept::<u8>()?;
    /// assert!(!server_side.poll(Some(Duration::ZERO))?);
    /// client.send(9)?;
    /// assert!(server_side.poll(Some(Duration::from_secs(10)))?);
    /// assert_eq!(server_side.recv()?, 9);
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        let stream = self.stream()?;
        if !self.readable.get() {
            return Ok(true);
        }
        let ready = crate::sys::poll_readable(&[stream.as_fd()], timeout)?;
        Ok(ready[0])
    }

    /// Closes the connection, like Python's `Connection.close`; later calls give
    /// [`Error::Closed`] and the peer sees the end of the stream. Dropping does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Error, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let mut client = Client::new(None).connect::<u8>(listener.address())?;
    /// let server_side = listener.accept::<u8>()?;
    /// client.close();
    /// assert!(client.closed());
    /// assert!(matches!(server_side.recv(), Err(Error::Closed)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn close(&mut self) {
        self.stream = None;
    }

    /// Whether [`close`](Self::close) was called, like Python's `Connection.closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = multiproc_channel::Listener::bind_unix_temp(None)?;
    /// let mut client = multiproc_channel::Client::new(None).connect::<u8>(listener.address())?;
    /// assert!(!client.closed());
    /// client.close();
    /// assert!(client.closed());
    /// # Ok::<(), multiproc_channel::Error>(())
    /// ```
    pub fn closed(&self) -> bool {
        self.stream.is_none()
    }
}

impl<T: Serialize + DeserializeOwned> SocketConnection<T> {
    /// Sends a value (postcard-encoded), like Python's `Connection.send`.
    ///
    /// On failure the value comes back in the [`SendError`]. A value holding shared memory
    /// or a `Connection` is refused with [`Error::Encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Listener};
    /// use multiproc_shared::Value;
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<Value<i32>>(listener.address())?;
    /// let err = client.send(Value::new(1)?).unwrap_err();
    /// assert!(err.error().to_string().contains("cannot travel over a socket"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match encode(&value).and_then(|bytes| self.send_bytes(&bytes)) {
            Ok(()) => Ok(()),
            Err(error) => Err(SendError::new(value, error)),
        }
    }

    /// Receives a value, blocking until one arrives, like Python's `Connection.recv`.
    ///
    /// Bytes that do not decode as exactly one `T` give [`Error::Decode`]; the connection
    /// stays usable.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Client, Error, Listener};
    ///
    /// let listener = Listener::bind_unix_temp(None)?;
    /// let client = Client::new(None).connect::<String>(listener.address())?;
    /// let server_side = listener.accept::<String>()?;
    /// client.send_bytes(&[0xff])?;
    /// client.send("fine".into())?;
    /// assert!(matches!(server_side.recv(), Err(Error::Decode(_))));
    /// assert_eq!(server_side.recv()?, "fine");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn recv(&self) -> Result<T, Error> {
        decode(&self.recv_bytes()?)
    }
}
