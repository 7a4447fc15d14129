//! The manager's server: the target of its process, the accept loop, and one thread per
//! client connection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use multiproc_channel::{
    Client, DEFAULT_HANDSHAKE_TIMEOUT, Listener, ListenerError, PipeWriter, SocketConnection,
};
use serde::{Deserialize, Serialize};

use crate::endpoint::WireAddress;
use crate::store::Store;
use crate::waitable::Peer;
use crate::wire::{Reply, Request};

/// Where a server listens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Bind {
    /// A Unix socket in a new private temporary directory.
    UnixTemp,
    Tcp(SocketAddr),
}

/// What the server tells its starter once it listens: the address, or why it cannot.
pub(crate) type Ready = Result<WireAddress, String>;

/// The shared state of one server.
struct Server {
    store: Store,
    stopping: AtomicBool,
    /// Connections being served, and the signal that one ended.
    active: Mutex<usize>,
    ended: Condvar,
    max_connections: usize,
    next_connection: AtomicU64,
}

/// The target of a manager's process: listens, tells `ready` where, and serves until a
/// `Shutdown` request. Returns `Err` only if it could not listen.
pub(crate) fn serve(
    bind: Bind,
    authkey: Vec<u8>,
    max_connections: u64,
    ready: PipeWriter<Ready>,
) -> Result<(), String> {
    let listener = match &bind {
        Bind::UnixTemp => Listener::bind_unix_temp(Some(&authkey)),
        Bind::Tcp(addr) => Listener::bind_tcp(addr, &authkey),
    };
    let listener = match listener {
        Ok(listener) => listener,
        Err(error) => {
            let message = format!("binding {bind:?}: {error}");
            let _ = ready.send(Err(message.clone()));
            return Err(message);
        }
    };
    let address = match WireAddress::from_address(listener.address()) {
        Ok(address) => address,
        Err(error) => return Err(error.to_string()),
    };
    if ready.send(Ok(address.clone())).is_err() {
        // The starter is gone.
        return Ok(());
    }
    drop(ready);
    let server = Arc::new(Server {
        store: Store::default(),
        stopping: AtomicBool::new(false),
        active: Mutex::new(0),
        ended: Condvar::new(),
        max_connections: usize::try_from(max_connections)
            .unwrap_or(usize::MAX)
            .max(1),
        next_connection: AtomicU64::new(0),
    });
    accept_loop(&server, &listener, address, authkey);
    Ok(())
}

fn accept_loop(server: &Arc<Server>, listener: &Listener, address: WireAddress, authkey: Vec<u8>) {
    let wake = Arc::new((address, authkey));
    loop {
        {
            // At most `max_connections` threads: further clients wait in the backlog
            // (and their handshake may time out) until one ends.
            let mut active = server.active.lock().unwrap_or_else(PoisonError::into_inner);
            while *active >= server.max_connections {
                active = server
                    .ended
                    .wait(active)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        let connection = match listener.accept::<()>() {
            Ok(connection) => connection,
            Err(ListenerError::Closed) => return,
            Err(ListenerError::Io(error)) => {
                // Out of descriptors or memory: give the system a moment, then go on.
                log::warn!("manager accept: {error}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(error) => {
                // One peer's failed handshake; the next may be fine.
                log::debug!("manager accept: {error}");
                continue;
            }
        };
        if server.stopping.load(Ordering::SeqCst) {
            return;
        }
        *server.active.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        let id = server.next_connection.fetch_add(1, Ordering::Relaxed);
        let thread_server = Arc::clone(server);
        let thread_wake = Arc::clone(&wake);
        let spawned = std::thread::Builder::new()
            .name(format!("multiproc-mgr-{id}"))
            .spawn(move || {
                serve_connection(&thread_server, connection, id, &thread_wake);
                *thread_server
                    .active
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) -= 1;
                thread_server.ended.notify_one();
            });
        if let Err(error) = spawned {
            log::warn!("manager: no thread for a connection: {error}");
            *server.active.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        }
    }
}

/// The client of one server thread.
struct Connection {
    id: u64,
    socket: SocketConnection<()>,
}

impl Peer for Connection {
    fn id(&self) -> u64 {
        self.id
    }

    fn gone(&self) -> bool {
        // A client sends nothing while it waits for a reply: anything readable now is
        // the end of the stream (or a peer out of protocol, which is dropped too).
        self.socket.poll(Some(Duration::ZERO)).unwrap_or(true)
    }
}

fn serve_connection(
    server: &Server,
    socket: SocketConnection<()>,
    id: u64,
    wake: &(WireAddress, Vec<u8>),
) {
    let mut connection = Connection { id, socket };
    let mut held_locks = HashSet::new();
    while let Ok(bytes) = connection.socket.recv_bytes() {
        let (reply, undo) = match postcard::from_bytes::<Request>(&bytes) {
            Ok(Request::UsePipes) => {
                if !move_to_pipes(&mut connection.socket) {
                    break;
                }
                continue;
            }
            Ok(Request::Shutdown) => {
                server.stopping.store(true, Ordering::SeqCst);
                let _ = connection.socket.send_bytes(&encode_reply(&Reply::Done));
                wake_acceptor(wake);
                break;
            }
            Ok(request) => server.store.handle(request, &connection, &mut held_locks),
            Err(error) => (
                Reply::Error(crate::error::RemoteError::BadRequest(error.to_string())),
                None,
            ),
        };
        if connection.socket.send_bytes(&encode_reply(&reply)).is_err() {
            if let Some(undo) = undo {
                server.store.undo(undo);
            }
            break;
        }
    }
    server.store.release_locks_of(id, &held_locks);
}

/// Moves a client's connection onto the pipes it offers: `Done` on the socket (the go-ahead),
/// then its pipe ends. Returns whether the connection is still in step (on pipes, or on the
/// socket if the client sent none that fit); if not, the caller drops it.
fn move_to_pipes(socket: &mut SocketConnection<()>) -> bool {
    if socket.uses_pipes() || socket.send_bytes(&encode_reply(&Reply::Done)).is_err() {
        return false;
    }
    match socket.accept_pipes(Some(DEFAULT_HANDSHAKE_TIMEOUT)) {
        Ok(moved) => {
            log::trace!("manager connection on pipes: {moved}");
            true
        }
        Err(error) => {
            log::debug!("manager connection: pipes not taken: {error}");
            false
        }
    }
}

fn encode_reply(reply: &Reply) -> Vec<u8> {
    postcard::to_stdvec(reply).unwrap_or_else(|error| {
        postcard::to_stdvec(&Reply::Error(crate::error::RemoteError::BadRequest(
            error.to_string(),
        )))
        .unwrap_or_default()
    })
}

/// Connects to our own listener so that the accept loop wakes and sees `stopping`.
fn wake_acceptor((address, authkey): &(WireAddress, Vec<u8>)) {
    let woke = Client::new(Some(authkey))
        .with_handshake_timeout(Duration::from_secs(5))
        .connect::<()>(&address.to_address());
    if let Err(error) = woke {
        log::warn!("manager shutdown: could not wake the accept loop: {error}");
    }
}
