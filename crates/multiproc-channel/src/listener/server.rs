//! [`Listener`]: the server end, which binds a socket and accepts authenticated
//! connections.

use std::fmt;
use std::net::{TcpListener, ToSocketAddrs};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::acceptor::{self, Acceptor};
use super::address::Address;
use super::auth::{DEFAULT_HANDSHAKE_TIMEOUT, checked_key};
use super::connection::SocketConnection;
use super::framing::DEFAULT_MAX_MESSAGE_SIZE;
use super::stream::Stream;
use crate::error::ListenerError;

/// A random lowercase hex name of `2 * bytes` characters.
fn random_name(bytes: usize) -> Result<String, ListenerError> {
    let mut random = vec![0; bytes];
    multiproc_sys::random::fill(&mut random)?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// Binds a Unix socket at `path` that only its owner can connect to, with no window in
/// which the path is reachable with looser permissions: the socket is bound inside a new
/// 0700 directory next to `path`, made 0600, and then hard-linked to `path` (link(2) fails
/// rather than replace an existing file).
fn bind_owner_only(path: &Path) -> Result<UnixListener, ListenerError> {
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
/// above [`DEFAULT_MAX_MESSAGE_SIZE`] is refused with an error.
///
/// Unlike Python's, a listener with a key runs the handshakes concurrently, each with its
/// own deadline, on short-lived threads behind one acceptor thread (started by the first
/// `accept`, ended when the listener is dropped): silent or slow peers ahead of an honest
/// client never delay it by more than one handshake timeout. At most
/// [`MAX_PENDING_HANDSHAKES`](crate::MAX_PENDING_HANDSHAKES) handshakes run at once;
/// beyond that the oldest is dropped, so a flood costs bounded threads and descriptors, and
/// an honest client is served unless that many peers arrive after it within one handshake
/// timeout. Accept in the process that first called `accept` (a forked copy gets an
/// error). Without a key there is no handshake: every connection is a client, served in
/// order, and a peer that connects and stays silent is indistinguishable from a slow
/// client (use a key where other programs of the same user may connect).
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
/// let client = std::thread::spawn(move || -> Result<String, multiproc_channel::ListenerError> {
///     let connection = Client::new(Some(b"secret")).connect::<String>(&address)?;
///     connection.send("hello".to_owned())?;
///     Ok(connection.recv()?)
/// });
/// let connection = listener.accept::<String>()?;
/// let greeting = connection.recv()?;
/// connection.send(format!("{greeting} back"))?;
/// assert_eq!(client.join().unwrap()?, "hello back");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.connection.Listener")]
pub struct Listener {
    socket: ListenerSocket,
    address: Address,
    authkey: Option<Vec<u8>>,
    handshake_timeout: Duration,
    max_message_size: usize,
    /// The concurrent handshakes of a listener with a key, from the first `accept` on.
    acceptor: Mutex<Option<Arc<Acceptor>>>,
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
            acceptor: Mutex::new(None),
        }
    }

    /// Listens at `address`; a TCP address needs an `authkey`
    /// ([`ListenerError::AuthkeyRequired`] otherwise, before any socket is made).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{Address, ListenerError, Listener};
    ///
    /// let tcp: Address = "127.0.0.1:0".parse::<std::net::SocketAddr>()?.into();
    /// assert!(matches!(Listener::bind(&tcp, None), Err(ListenerError::AuthkeyRequired)));
    /// let listener = Listener::bind(&tcp, Some(b"key"))?;
    /// assert!(matches!(listener.address(), Address::Tcp(a) if a.port() != 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind(address: &Address, authkey: Option<&[u8]>) -> Result<Listener, ListenerError> {
        match address {
            Address::Unix(path) => Listener::bind_unix(path, authkey),
            Address::Tcp(addr) => match authkey {
                Some(authkey) => Listener::bind_tcp(addr, authkey),
                None => Err(ListenerError::AuthkeyRequired),
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
    pub fn bind_unix(
        path: impl AsRef<Path>,
        authkey: Option<&[u8]>,
    ) -> Result<Listener, ListenerError> {
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
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_unix_temp(authkey: Option<&[u8]>) -> Result<Listener, ListenerError> {
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
    /// use multiproc_channel::{ListenerError, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// println!("listening on {}", listener.address());
    /// assert!(matches!(Listener::bind_tcp("127.0.0.1:0", b""), Err(ListenerError::AuthkeyRequired)));
    /// # Ok::<(), ListenerError>(())
    /// ```
    pub fn bind_tcp(
        address: impl ToSocketAddrs,
        authkey: &[u8],
    ) -> Result<Listener, ListenerError> {
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
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Listener {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets the largest message the accepted connections receive (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`]); a larger one is refused with
    /// [`PipeError::MessageTooLarge`](crate::PipeError::MessageTooLarge) before anything is allocated for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = multiproc_channel::Listener::bind_unix_temp(None)?
    ///     .with_max_message_size(1 << 20);
    /// # drop(listener);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
    /// use multiproc_channel::{Client, ListenerError, Listener};
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"right")?;
    /// let address = listener.address().clone();
    /// let intruder = std::thread::spawn(move || {
    ///     Client::new(Some(b"wrong")).connect::<()>(&address).unwrap_err()
    /// });
    /// assert!(matches!(listener.accept::<()>(), Err(ListenerError::AuthenticationFailed(_))));
    /// assert!(matches!(intruder.join().unwrap(), ListenerError::AuthenticationFailed(_)));
    /// # Ok::<(), ListenerError>(())
    /// ```
    pub fn accept<T>(&self) -> Result<SocketConnection<T>, ListenerError> {
        self.accept_until(None)
    }

    /// Like [`accept`](Self::accept), but gives up with [`ListenerError::Timeout`] once `timeout`
    /// has passed without a client (`Duration::ZERO`: take one that is already
    /// authenticated, or give up; `Duration::MAX`: no limit).
    ///
    /// Without a key, a client that connects in time is returned even if another thread's
    /// `accept` takes it first and this one then waits for the next.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{ListenerError, Listener};
    /// use std::time::Duration;
    ///
    /// let listener = Listener::bind_tcp("127.0.0.1:0", b"key")?;
    /// let nobody = listener.accept_timeout::<()>(Duration::from_millis(10));
    /// assert!(matches!(nobody, Err(ListenerError::Timeout)));
    /// # Ok::<(), ListenerError>(())
    /// ```
    pub fn accept_timeout<T>(
        &self,
        timeout: Duration,
    ) -> Result<SocketConnection<T>, ListenerError> {
        self.accept_until(Some(multiproc_sys::time::deadline_after(Some(timeout))))
    }

    /// Accepts until `deadline`: `None` waits for ever, `Some(None)` is a deadline beyond
    /// the clock (no limit either).
    fn accept_until<T>(
        &self,
        deadline: Option<Option<Instant>>,
    ) -> Result<SocketConnection<T>, ListenerError> {
        let deadline = deadline.flatten();
        let Some(authkey) = &self.authkey else {
            if let Some(remaining) = multiproc_sys::time::remaining(deadline) {
                let fd = match &self.socket {
                    ListenerSocket::Unix { listener, .. } => listener.as_fd(),
                    ListenerSocket::Tcp(listener) => listener.as_fd(),
                };
                if !multiproc_sys::poll::wait_readable(fd, Some(remaining))? {
                    return Err(ListenerError::Timeout);
                }
            }
            let stream = match &self.socket {
                ListenerSocket::Unix { listener, .. } => Stream::Unix(listener.accept()?.0),
                ListenerSocket::Tcp(listener) => {
                    let stream = listener.accept()?.0;
                    stream.set_nodelay(true)?;
                    Stream::Tcp(stream)
                }
            };
            return Ok(SocketConnection::established(stream, self.max_message_size));
        };
        let mut slot = self.acceptor.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            let socket = match &self.socket {
                ListenerSocket::Unix { listener, .. } => {
                    acceptor::Socket::Unix(listener.try_clone()?)
                }
                ListenerSocket::Tcp(listener) => acceptor::Socket::Tcp(listener.try_clone()?),
            };
            *slot = Some(Arc::new(Acceptor::start(
                socket,
                authkey.clone(),
                self.handshake_timeout,
            )?));
        }
        let Some(acceptor) = slot.as_ref().map(Arc::clone) else {
            return Err(ListenerError::Closed);
        };
        drop(slot);
        match acceptor.next(deadline)? {
            Some(stream) => Ok(SocketConnection::established(stream, self.max_message_size)),
            None => Err(ListenerError::Timeout),
        }
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
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(self) {}
}
