//! The client side of the protocol: where a manager is, the connections this process keeps
//! to it, and one call's round trip with its deadline.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use multiproc_channel::{
    Address, Client, DEFAULT_HANDSHAKE_TIMEOUT, ListenerError, PipeError, SocketConnection,
};
use serde::{Deserialize, Serialize};

use crate::error::ManagerError;
use crate::wire::{Reply, Request};

/// An [`Address`] as it travels inside a serialized proxy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum WireAddress {
    /// The bytes of a Unix socket path.
    Unix(Vec<u8>),
    Tcp(SocketAddr),
}

impl WireAddress {
    pub(crate) fn from_address(address: &Address) -> Result<WireAddress, ManagerError> {
        match address {
            Address::Unix(path) => Ok(WireAddress::Unix(path.as_os_str().as_bytes().to_vec())),
            Address::Tcp(addr) => Ok(WireAddress::Tcp(*addr)),
            other => Err(ManagerError::Bind(format!("unsupported address {other}"))),
        }
    }

    pub(crate) fn to_address(&self) -> Address {
        match self {
            WireAddress::Unix(path) => {
                Address::Unix(PathBuf::from(std::ffi::OsString::from_vec(path.clone())))
            }
            WireAddress::Tcp(addr) => Address::Tcp(*addr),
        }
    }
}

/// Where a manager listens and the key it wants: all a proxy needs to reach it from any
/// process. It travels inside serialized proxies, key included, as CPython's proxies
/// carry their manager's `authkey` to the processes that unpickle them.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Endpoint {
    pub(crate) address: WireAddress,
    pub(crate) authkey: Vec<u8>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        fmt::Display::fmt(&self.address.to_address(), f)
    }
}

/// Idle connections of this process, by manager. A call takes one (or connects), and puts
/// it back once its reply is read; a connection whose call failed is dropped, so one
/// that is out of step with the server is never reused. Threads of one process therefore
/// make calls concurrently, each on its own connection, and a proxy that arrives in a pool
/// task reuses the connection of the task before.
struct IdleConnections {
    /// The process these connections belong to: a forked child must not share its
    /// parent's sockets, and starts with none.
    pid: u32,
    by_endpoint: HashMap<Endpoint, Vec<SocketConnection<()>>>,
}

static IDLE: Mutex<Option<IdleConnections>> = Mutex::new(None);

/// The connection that this thread used last, kept out of the shared pool: a thread that
/// makes call after call to one manager takes it back without a lock or a hash.
struct ThreadSlot {
    /// The process it was opened in (a forked child starts without one).
    pid: u32,
    endpoint: Endpoint,
    /// `None` while a call of this thread uses it.
    connection: Option<SocketConnection<()>>,
}

thread_local! {
    static THREAD_SLOT: RefCell<Option<ThreadSlot>> = const { RefCell::new(None) };
}

/// Idle connections kept per manager; more are closed when returned.
const MAX_IDLE_PER_MANAGER: usize = 64;

/// Connection attempts when the server hangs up handshakes, and the pause before the first
/// retry (doubled each time: about 0.6 s in all).
const HANDSHAKE_ATTEMPTS: u32 = 8;
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(5);

/// How one connection attempt ended, when it did not connect.
enum Attempt {
    /// The server hung up the handshake: try again.
    Dropped,
    /// A final answer.
    Failed(ManagerError),
}
use Attempt::{Dropped, Failed};

/// Whether an error on a connection means that the server went away.
fn gone(error: &PipeError) -> bool {
    matches!(error, PipeError::Closed | PipeError::Io(_))
}

impl Endpoint {
    /// An idle connection of this process to the manager, or a new one.
    pub(crate) fn checkout(&self) -> Result<SocketConnection<()>, ManagerError> {
        let pid = multiproc_sys::process::pid();
        let mine = THREAD_SLOT.with(|slot| {
            let mut slot = slot.try_borrow_mut().ok()?;
            let slot = slot.as_mut()?;
            if slot.pid == pid && slot.endpoint == *self {
                slot.connection.take()
            } else {
                None
            }
        });
        if let Some(connection) = mine {
            return Ok(connection);
        }
        {
            let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.as_ref().is_some_and(|idle| idle.pid != pid) {
                // Inherited through fork: these sockets are shared with the parent. Close
                // our copies (the parent's stay open) and start afresh.
                *idle = None;
            }
            if let Some(connection) = idle
                .as_mut()
                .and_then(|idle| idle.by_endpoint.get_mut(self))
                .and_then(Vec::pop)
            {
                return Ok(connection);
            }
        }
        self.connect(DEFAULT_HANDSHAKE_TIMEOUT)
    }

    /// A new authenticated connection.
    ///
    /// A handshake that the server hangs up is tried again a few times: the listener drops
    /// the oldest of its handshakes in progress when more than
    /// [`MAX_PENDING_HANDSHAKES`](multiproc_channel::MAX_PENDING_HANDSHAKES) peers arrive at
    /// once (its flood bound), which a burst of honest clients on a loaded machine can reach.
    /// A server that is gone refuses the next connection at once, so that costs one attempt.
    pub(crate) fn connect(
        &self,
        handshake_timeout: Duration,
    ) -> Result<SocketConnection<()>, ManagerError> {
        let mut pause = FIRST_RETRY_PAUSE;
        for _ in 1..HANDSHAKE_ATTEMPTS {
            match self.connect_once(handshake_timeout) {
                Err(Dropped) => {
                    std::thread::sleep(pause);
                    pause = pause.saturating_mul(2);
                }
                Ok(connection) => return Ok(connection),
                Err(Failed(error)) => return Err(error),
            }
        }
        match self.connect_once(handshake_timeout) {
            Ok(connection) => Ok(connection),
            Err(Dropped) => Err(ManagerGone),
            Err(Failed(error)) => Err(error),
        }
    }

    fn connect_once(&self, handshake_timeout: Duration) -> Result<SocketConnection<()>, Attempt> {
        let connection = Client::new(Some(&self.authkey))
            .with_handshake_timeout(handshake_timeout)
            .connect(&self.address.to_address())
            .map_err(|error| match error {
                ListenerError::Io(_) => Failed(ManagerGone),
                ListenerError::Connection(ref pipe) if gone(pipe) => Failed(ManagerGone),
                // The server hung up during the handshake: it died or shut down, or its
                // listener dropped this handshake for its flood bound.
                ListenerError::HandshakeClosed => Dropped,
                other => Failed(ManagerError::Connect(other)),
            })?;
        match self.address {
            WireAddress::Unix(_) => move_to_pipes(connection, handshake_timeout).map_err(Failed),
            WireAddress::Tcp(_) => Ok(connection),
        }
    }

    /// Returns a connection whose last call completed.
    pub(crate) fn checkin(&self, connection: SocketConnection<()>) {
        let pid = multiproc_sys::process::pid();
        // This thread's slot first: empty, or keeping the place of this manager.
        let connection = THREAD_SLOT.with(|slot| {
            let Ok(mut slot) = slot.try_borrow_mut() else {
                return Some(connection);
            };
            match slot.as_mut() {
                Some(slot) if slot.pid == pid && slot.endpoint == *self => {
                    if slot.connection.is_none() {
                        slot.connection = Some(connection);
                        None
                    } else {
                        Some(connection)
                    }
                }
                Some(slot) if slot.pid == pid && slot.connection.is_some() => Some(connection),
                _ => {
                    *slot = Some(ThreadSlot {
                        pid,
                        endpoint: self.clone(),
                        connection: Some(connection),
                    });
                    None
                }
            }
        });
        let Some(connection) = connection else {
            return;
        };
        let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
        let idle = idle.get_or_insert_with(|| IdleConnections {
            pid,
            by_endpoint: HashMap::new(),
        });
        if idle.pid != pid {
            return;
        }
        // Look up before inserting: a call should not clone the endpoint (two allocations).
        match idle.by_endpoint.get_mut(self) {
            Some(pool) if pool.len() < MAX_IDLE_PER_MANAGER => pool.push(connection),
            Some(_) => {}
            None => {
                idle.by_endpoint.insert(self.clone(), vec![connection]);
            }
        }
    }

    /// Closes this process's idle connections to the manager (it is being shut down).
    pub(crate) fn forget_idle(&self) {
        THREAD_SLOT.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut()
                && slot.as_ref().is_some_and(|slot| slot.endpoint == *self)
            {
                *slot = None;
            }
        });
        let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(idle) = idle.as_mut() {
            idle.by_endpoint.remove(self);
        }
    }

    /// One round trip on a connection of the pool.
    pub(crate) fn call(
        &self,
        request: &Request,
        timeout: Option<Duration>,
    ) -> Result<Reply, ManagerError> {
        let connection = self.checkout()?;
        let reply = exchange(&connection, request, timeout)?;
        // A refused call leaves the connection in step: keep it.
        self.checkin(connection);
        into_result(reply)
    }
}

use ManagerError::ManagerGone;

/// Moves a new connection to a local manager onto pipes (a round trip there costs about half
/// of one on the socket): `UsePipes`, the server's go-ahead, then the pipe ends. A server
/// that declines leaves the connection on the socket, still working; one that hangs up is
/// gone. Everything waits at most `timeout`, as a handshake does.
fn move_to_pipes(
    mut connection: SocketConnection<()>,
    timeout: Duration,
) -> Result<SocketConnection<()>, ManagerError> {
    let deadline = multiproc_sys::time::deadline_after(Some(timeout));
    match exchange(&connection, &Request::UsePipes, Some(timeout))? {
        Reply::Done => {}
        // A server that does not know the request: stay on the socket.
        _ => return Ok(connection),
    }
    let left = multiproc_sys::time::remaining(deadline);
    match connection.offer_pipes(left) {
        Ok(moved) => {
            log::trace!("manager connection on pipes: {moved}");
            Ok(connection)
        }
        Err(PipeError::Timeout) => Err(ManagerError::Timeout(timeout)),
        Err(error) if gone(&error) => Err(ManagerGone),
        Err(error) => Err(ManagerError::Codec(error.to_string())),
    }
}

/// Sends `request` and reads its reply on `connection`, within `timeout` if there is one.
/// On an error the connection may be out of step: the caller drops it. A refusal by the
/// server is an `Ok(Reply::Error)`.
pub(crate) fn exchange(
    connection: &SocketConnection<()>,
    request: &Request,
    timeout: Option<Duration>,
) -> Result<Reply, ManagerError> {
    let deadline = multiproc_sys::time::deadline_after(timeout);
    let bytes = postcard::to_stdvec(request).map_err(|e| ManagerError::Codec(e.to_string()))?;
    connection.send_bytes(&bytes).map_err(|error| {
        if gone(&error) {
            ManagerGone
        } else {
            ManagerError::Codec(error.to_string())
        }
    })?;
    if let Some(remaining) = multiproc_sys::time::remaining(deadline) {
        match connection.poll(Some(remaining)) {
            Ok(true) => {}
            Ok(false) => return Err(ManagerError::Timeout(timeout.unwrap_or_default())),
            Err(_) => return Err(ManagerGone),
        }
    }
    let reply = connection.recv_bytes().map_err(|error| {
        if gone(&error) {
            ManagerGone
        } else {
            ManagerError::Codec(error.to_string())
        }
    })?;
    postcard::from_bytes(&reply).map_err(|e| ManagerError::Codec(e.to_string()))
}

/// A reply, with the server's refusal turned into an error.
pub(crate) fn into_result(reply: Reply) -> Result<Reply, ManagerError> {
    match reply {
        Reply::Error(error) => Err(ManagerError::Remote(error)),
        reply => Ok(reply),
    }
}

/// The first socket address that `address` resolves to.
pub(crate) fn first_address(address: impl ToSocketAddrs) -> Result<SocketAddr, ManagerError> {
    address
        .to_socket_addrs()
        .map_err(|e| ManagerError::Bind(e.to_string()))?
        .next()
        .ok_or_else(|| ManagerError::Bind("the address resolved to nothing".into()))
}
