//! Managers: shared dicts, lists, queues, locks and user types in a server process, behind typed proxies, local or over TCP.
//!
//! The manager layer of `multiproc`, a rebuild of Python's `multiprocessing`: a
//! [`Manager`] starts a server process (with any start method) that holds objects, and
//! hands out typed proxies to them ([`DictProxy`], [`ListProxy`], [`ValueProxy`],
//! [`ArrayProxy`], [`QueueProxy`], [`LockProxy`], [`RLockProxy`], [`SemaphoreProxy`],
//! [`ConditionProxy`], [`BarrierProxy`], [`EventProxy`], [`Namespace`], and
//! [`ObjectProxy`] for your own [`SharedObject`] types). A proxy is `Send + Clone + Serialize`: it crosses
//! into `Process` and `Pool` tasks as an ordinary argument and reconnects there.
//!
//! ```
//! use multiproc_manager::Manager;
//!
//! let manager = Manager::start()?;
//! let counts = manager.dict::<String, u64>()?;
//! counts.insert("apple".into(), 1)?;
//! counts.update_with("apple".into(), |n: Option<u64>| n.unwrap_or(0) + 1)?;
//! assert_eq!(counts.get(&"apple".to_owned())?, Some(2));
//! manager.shutdown()?;
//! # Ok::<(), multiproc_manager::ManagerError>(())
//! ```
//!
//! # What it does better than CPython's
//!
//! * **Typed calls.** Every proxy method is a Rust method with typed arguments; a
//!   registered type is called with its own request and reply enums, never with method
//!   names as strings.
//! * **Atomic updates.** [`DictProxy::update_with`] runs a function in the server with the
//!   dict locked (CPython's `d[k] += 1` is two calls and loses updates).
//! * **Faults.** A dead manager gives every call [`ManagerError::ManagerGone`] at once; a
//!   stopped one cannot hang a call given a timeout ([`Proxy::with_timeout`]). A client that
//!   dies mid-call leaves the server and the other clients unaffected, and what it held
//!   (a lock, rlock, semaphore unit or condition lock) is released. One server thread per
//!   connection: a slow call blocks only its client.
//! * **Batches.** [`DictProxy::update`] and [`ListProxy::extend`] are one round trip.
//!
//! # Transport
//!
//! The channel crate's authenticated `Listener`/`Client`: a private Unix socket (mode
//! 0600 in a 0700 directory) and a random 32-byte key for [`Manager::start`], TCP with
//! your key for [`Manager::serve`]/[`Manager::connect`]. Every connection runs the HMAC
//! challenge, frames are bounded (64 MiB), handshakes time out. Requests and replies are
//! postcard; the server stores each value as the postcard bytes of its proxy's type, so
//! it is type-erased while every proxy is typed. Bytes from a client are decoded, never
//! trusted: a malformed request gets [`RemoteError::BadRequest`] and the connection goes
//! on.
//!
//! On a local (Unix-socket) manager, each connection moves its frames onto a pair of pipes
//! right after the handshake (the client sends the server its ends over the socket): a
//! round trip on pipes costs about half of one on a socket. The socket stays open beside
//! them, so a dead client or manager still ends every wait, and a connection whose move
//! fails stays on the socket. A process that does not ignore `SIGPIPE` (Rust programs
//! ignore it unless they restore it) keeps its connections on sockets, as before; see
//! `SocketConnection::offer_pipes` in `multiproc-channel`.
//!
//! A serialized proxy carries its manager's address and key, as CPython's pickled proxies
//! carry the `authkey`: whoever reads one can use the manager.
//!
//! # Feature flags
//!
//! None.
//!
//! # Platform support
//!
//! Linux, as the process and channel crates.
//!
//! # Examples
//!
//! `examples/manager_word_count.rs` in the repository: workers of a pool count words
//! into a shared dict.
#![cfg(target_os = "linux")]
#![forbid(unsafe_code)]

mod array;
mod barrier;
mod builder;
mod condition;
mod dict;
mod endpoint;
mod error;
mod event;
mod held;
mod list;
mod lock;
mod manager;
mod namespace;
mod ordered_map;
mod proxy;
mod queue;
mod rlock;
mod semaphore;
mod server;
mod store;
mod sync_store;
mod user;
mod value;
mod waitable;
mod wire;

pub use self::array::ArrayProxy;
pub use self::barrier::BarrierProxy;
pub use self::builder::ManagerBuilder;
pub use self::condition::{ConditionGuard, ConditionProxy};
pub use self::dict::DictProxy;
pub use self::error::{ManagerError, RemoteError};
pub use self::event::EventProxy;
pub use self::list::ListProxy;
pub use self::lock::{LockProxy, LockProxyGuard};
pub use self::manager::Manager;
pub use self::namespace::Namespace;
pub use self::proxy::Proxy;
pub use self::queue::QueueProxy;
pub use self::rlock::{RLockGuard, RLockProxy};
pub use self::semaphore::{SemaphoreGuard, SemaphoreProxy};
pub use self::user::{ObjectProxy, SharedObject};
pub use self::value::ValueProxy;
