//! The acceptor of an authenticating [`Listener`](crate::Listener): handshakes run
//! concurrently, each with its own deadline, so a silent or slow peer never delays an honest
//! client by more than one handshake timeout.
//!
//! One acceptor thread (started by the first `accept`) polls the listening socket and a wake
//! socket. Each connection it takes from the kernel gets a short-lived handshake thread; a
//! finished handshake (the stream, or the error that concerns that one peer) goes into a
//! queue that `accept` takes from. The number of handshakes in progress is bounded by
//! [`MAX_PENDING_HANDSHAKES`]: beyond it the oldest one is dropped (its socket is shut
//! down, which ends its thread at once), so a flood of peers costs a bounded number of
//! threads and descriptors and keeps the kernel's backlog drained, and an honest client is
//! served as long as fewer than that many peers arrive after it within one handshake.
//! Authenticated connections that nobody accepts yet are bounded too: while that many wait,
//! the acceptor takes nothing from the kernel (backpressure, as a full backlog).
//!
//! No thread here panics (each body runs under the quiet panic catcher) or touches stdio.
//! Dropping the listener wakes the acceptor, which shuts down every handshake in progress,
//! joins their threads and ends; the drop joins the acceptor.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::auth::{self, Role};
use super::stream::Stream;
use crate::error::ListenerError;

/// How many handshakes a [`Listener`](crate::Listener) with a key runs at once; beyond
/// this the oldest is dropped. Authenticated connections waiting for `accept` are bounded
/// by the same number.
///
/// ```
/// assert_eq!(multiproc_channel::MAX_PENDING_HANDSHAKES, 32);
/// ```
pub const MAX_PENDING_HANDSHAKES: usize = 32;

/// Handshake errors kept for `accept` to report; older ones are dropped beyond this.
const MAX_QUEUED_ERRORS: usize = 8;

/// Stack of a handshake thread: it only runs HMAC-SHA256 over a few small frames.
const HANDSHAKE_STACK: usize = 128 << 10;

/// How long the acceptor leaves the listening socket alone after an error such as `EMFILE`,
/// which would otherwise leave it readable and spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The listening socket, as the acceptor holds it (a duplicate of the listener's).
pub(super) enum Socket {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Socket {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Unix(listener) => listener.as_fd(),
            Socket::Tcp(listener) => listener.as_fd(),
        }
    }

    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Socket::Unix(listener) => listener.set_nonblocking(true),
            Socket::Tcp(listener) => listener.set_nonblocking(true),
        }
    }

    /// One connection from the kernel, blocking (accepted sockets do not inherit
    /// `O_NONBLOCK` on Linux).
    fn accept(&self) -> io::Result<Stream> {
        match self {
            Socket::Unix(listener) => Ok(Stream::Unix(listener.accept()?.0)),
            Socket::Tcp(listener) => {
                let stream = listener.accept()?.0;
                stream.set_nodelay(true)?;
                Ok(Stream::Tcp(stream))
            }
        }
    }
}

struct State {
    /// Finished handshakes, oldest first.
    done: VecDeque<Result<Stream, ListenerError>>,
    /// How many entries of `done` are errors.
    errors: usize,
    /// Set by the listener's drop.
    closing: bool,
    /// Why the acceptor stopped, if it did on its own.
    failed: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when `done` grows or the acceptor stops.
    ready: Condvar,
    /// Written to wake the acceptor's poll (nonblocking; a full buffer is a pending wake).
    wake_tx: UnixStream,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        let _ = (&self.wake_tx).write(&[1]);
    }

    fn finish(&self, result: Result<Stream, ListenerError>) {
        let mut state = self.lock();
        if result.is_err() {
            if state.errors >= MAX_QUEUED_ERRORS
                && let Some(oldest) = state.done.iter().position(Result::is_err)
            {
                state.done.remove(oldest);
                state.errors -= 1;
            }
            state.errors += 1;
        }
        state.done.push_back(result);
        drop(state);
        self.ready.notify_one();
    }
}

/// The running acceptor of one listener.
pub(super) struct Acceptor {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The process that started the thread; in another (a forked child) it does not exist.
    pid: u32,
}

struct Config {
    authkey: Vec<u8>,
    timeout: Duration,
}

impl Acceptor {
    /// Starts the acceptor thread on `socket`.
    pub(super) fn start(
        socket: Socket,
        authkey: Vec<u8>,
        timeout: Duration,
    ) -> Result<Acceptor, ListenerError> {
        socket.set_nonblocking()?;
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                done: VecDeque::new(),
                errors: 0,
                closing: false,
                failed: None,
            }),
            ready: Condvar::new(),
            wake_tx,
        });
        let config = Config { authkey, timeout };
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("multiproc-acceptor".into())
            .stack_size(HANDSHAKE_STACK)
            .spawn(move || {
                let shared = thread_shared;
                let outcome =
                    multiproc_sys::panic::catch(true, || run(&socket, &wake_rx, &shared, &config));
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(err)) => Some(format!("the listener's accept thread failed: {err}")),
                    Err(caught) => Some(format!(
                        "the listener's accept thread panicked: {}",
                        caught.message
                    )),
                };
                let mut state = shared.lock();
                if !state.closing {
                    state.failed = failure.or_else(|| Some("the listener stopped".into()));
                }
                drop(state);
                shared.ready.notify_all();
            })?;
        Ok(Acceptor {
            shared,
            thread: Some(thread),
            pid: multiproc_sys::process::pid(),
        })
    }

    /// The next finished handshake, waiting until `deadline` (`None`: no limit); `Ok(None)`
    /// when the deadline passed first.
    pub(super) fn next(&self, deadline: Option<Instant>) -> Result<Option<Stream>, ListenerError> {
        if multiproc_sys::process::pid() != self.pid {
            return Err(ListenerError::Io(io::Error::other(
                "this listener's accept thread runs in the process that first called accept; \
                 accept in that process",
            )));
        }
        let mut state = self.shared.lock();
        loop {
            if let Some(result) = state.done.pop_front() {
                if result.is_err() {
                    state.errors -= 1;
                }
                drop(state);
                // Room for one more: the acceptor may have stopped taking connections.
                self.shared.wake();
                return result.map(Some);
            }
            if let Some(why) = &state.failed {
                return Err(ListenerError::Io(io::Error::other(why.clone())));
            }
            state = match multiproc_sys::time::remaining(deadline) {
                None => self
                    .shared
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(remaining) if remaining.is_zero() => return Ok(None),
                Some(remaining) => {
                    self.shared
                        .ready
                        .wait_timeout(state, remaining)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if multiproc_sys::process::pid() != self.pid {
            // A forked copy: the thread lives in the parent only.
            std::mem::forget(thread);
            return;
        }
        self.shared.lock().closing = true;
        self.shared.wake();
        let _ = thread.join();
    }
}

/// A stream under handshake, which the acceptor may shut down.
struct Handshaking {
    stream: Stream,
    aborted: AtomicBool,
}

/// A handshake in progress: the thread, and a handle on its stream to shut it down.
struct Pending {
    stream: Weak<Handshaking>,
    thread: JoinHandle<()>,
}

fn shut_down(pending: &Pending) {
    if let Some(handshaking) = pending.stream.upgrade() {
        handshaking.aborted.store(true, Ordering::Relaxed);
        handshaking.stream.shutdown();
    }
}

/// The acceptor's loop; returns when the listener is dropped.
fn run(
    socket: &Socket,
    wake_rx: &UnixStream,
    shared: &Arc<Shared>,
    config: &Config,
) -> io::Result<()> {
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut aborted: Vec<JoinHandle<()>> = Vec::new();
    let mut pause_until: Option<Instant> = None;
    let result = loop {
        // Join the handshake threads that are done.
        pending.retain_mut(|p| !p.thread.is_finished());
        aborted.retain(|t| !t.is_finished());
        let waiting = {
            let state = shared.lock();
            if state.closing {
                break Ok(());
            }
            state.done.len() - state.errors
        };
        if pause_until.is_some_and(|until| Instant::now() >= until) {
            pause_until = None;
        }
        let listen = waiting < MAX_PENDING_HANDSHAKES && pause_until.is_none();
        let timeout = pause_until.map(|until| until.saturating_duration_since(Instant::now()));
        let ready = if listen {
            multiproc_sys::poll::readable(&[wake_rx.as_fd(), socket.fd()], timeout)
        } else {
            multiproc_sys::poll::readable(&[wake_rx.as_fd()], timeout)
        };
        let ready = match ready {
            Ok(ready) => ready,
            Err(err) => break Err(err),
        };
        if ready.first() == Some(&true) {
            let mut buf = [0u8; 64];
            while matches!((&*wake_rx).read(&mut buf), Ok(n) if n > 0) {}
        }
        if ready.get(1) != Some(&true) {
            continue;
        }
        // Take what the kernel has, up to the room left.
        for _ in waiting..MAX_PENDING_HANDSHAKES {
            let stream = match socket.accept() {
                Ok(stream) => stream,
                Err(err) => match err.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => continue,
                    _ => {
                        shared.finish(Err(ListenerError::Io(err)));
                        pause_until = Instant::now().checked_add(ACCEPT_ERROR_PAUSE);
                        break;
                    }
                },
            };
            if pending.len() >= MAX_PENDING_HANDSHAKES
                && let Some(oldest) = pending.pop_front()
            {
                shut_down(&oldest);
                aborted.push(oldest.thread);
            }
            let stream = Arc::new(Handshaking {
                stream,
                aborted: AtomicBool::new(false),
            });
            let weak = Arc::downgrade(&stream);
            let thread_shared = Arc::clone(shared);
            let authkey = config.authkey.clone();
            let timeout = config.timeout;
            let spawned = std::thread::Builder::new()
                .name("multiproc-handshake".into())
                .stack_size(HANDSHAKE_STACK)
                .spawn(move || handshake(stream, &authkey, timeout, &thread_shared));
            match spawned {
                Ok(thread) => pending.push_back(Pending {
                    stream: weak,
                    thread,
                }),
                // The stream went down with the closure.
                Err(err) => shared.finish(Err(ListenerError::Io(err))),
            }
        }
    };
    for p in &pending {
        shut_down(p);
    }
    for p in pending {
        let _ = p.thread.join();
    }
    for thread in aborted {
        let _ = thread.join();
    }
    result
}

/// A handshake thread's body: the server side of the handshake on `stream`, whose result
/// goes to `accept` unless the acceptor dropped the stream meanwhile.
fn handshake(handshaking: Arc<Handshaking>, authkey: &[u8], timeout: Duration, shared: &Shared) {
    let outcome = multiproc_sys::panic::catch(true, || {
        let nonce = auth::random_nonce()?;
        auth::handshake(
            &mut &handshaking.stream,
            Role::Server,
            authkey,
            &nonce,
            timeout,
        )
    });
    let result = match outcome {
        Ok(result) => result,
        Err(caught) => Err(ListenerError::AuthenticationFailed(format!(
            "the handshake panicked: {}",
            caught.message
        ))),
    };
    // Shut down by the acceptor (the flood bound, or the listener dropped): not reported.
    let aborted = handshaking.aborted.load(Ordering::Relaxed);
    if !aborted && !shared.lock().closing {
        let result = result.and_then(|()| {
            // Fails only while the acceptor is shutting this stream down.
            Arc::try_unwrap(handshaking)
                .map(|h| h.stream)
                .map_err(|_| ListenerError::Closed)
        });
        shared.finish(result);
    }
    shared.wake();
}
