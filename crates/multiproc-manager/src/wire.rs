//! The protocol between proxies and the server: one postcard-encoded [`Request`] frame,
//! one [`Reply`] frame. Values inside are the postcard bytes of the proxy's types: the
//! server is type-erased, the proxies are typed.

use std::time::Duration;

use multiproc_process::FunctionRef;
use serde::{Deserialize, Serialize};

use crate::error::RemoteError;

/// Postcard bytes of one value.
pub(crate) type Bytes = Vec<u8>;

/// The kinds of object a server holds; the name is shown in [`RemoteError::WrongKind`].
/// Not a stable interface; a wrong kind shows in [`RemoteError::WrongKind`]:
///
/// ```
/// use multiproc_manager::{ListProxy, Manager, ManagerError, RemoteError};
/// let manager = Manager::start()?;
/// manager.publish("d", &manager.dict::<u8, u8>()?)?;
/// let err = manager.lookup::<ListProxy<u8>>("d").unwrap_err();
/// assert!(matches!(err, ManagerError::Remote(RemoteError::WrongKind { .. })));
/// # Ok::<(), ManagerError>(())
/// ```
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Kind {
    Dict,
    List,
    Value,
    Queue,
    Lock,
    Event,
    Namespace,
    User,
    RLock,
    Semaphore,
    Barrier,
    Array,
    Condition,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Dict => "dict",
            Kind::List => "list",
            Kind::Value => "value",
            Kind::Queue => "queue",
            Kind::Lock => "lock",
            Kind::Event => "event",
            Kind::Namespace => "namespace",
            Kind::User => "registered object",
            Kind::RLock => "reentrant lock",
            Kind::Semaphore => "semaphore",
            Kind::Barrier => "barrier",
            Kind::Array => "array",
            Kind::Condition => "condition",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// A new object of a built-in kind; a `Value` starts with the bytes given.
    Create(Kind, Option<Bytes>),
    /// Records the entry point of a registered type under its name.
    Register {
        name: String,
        entry: FunctionRef,
    },
    /// A new object of a registered type, from its encoded initial value.
    CreateUser {
        name: String,
        init: Bytes,
    },
    /// Gives object `id` a name that [`Request::Lookup`] finds.
    Publish {
        name: String,
        id: u64,
    },
    Lookup(String),
    Dict(u64, DictOp),
    List(u64, ListOp),
    Value(u64, ValueOp),
    Queue(u64, QueueOp),
    Lock(u64, LockOp),
    Event(u64, EventOp),
    Namespace(u64, NamespaceOp),
    User(u64, Bytes),
    Shutdown,
    RLock(u64, RLockOp),
    Semaphore(u64, SemaphoreOp),
    Barrier(u64, BarrierOp),
    /// An array takes `Get`, `Set`, `Len` and `Snapshot`; it keeps its length.
    Array(u64, ListOp),
    Condition(u64, ConditionOp),
    /// A local client asks to move the connection's frames onto pipes: the server answers
    /// `Done` on the socket, then takes the pipe ends that follow
    /// ([`SocketConnection::accept_pipes`](multiproc_channel::SocketConnection::accept_pipes)).
    /// Last, so that the numbers of the variants before it do not change.
    UsePipes,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum DictOp {
    Get(Bytes),
    Insert(Bytes, Bytes),
    Remove(Bytes),
    ContainsKey(Bytes),
    Len,
    Keys,
    Values,
    Items,
    Update(Vec<(Bytes, Bytes)>),
    UpdateWith(Bytes, FunctionRef),
    Clear,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ListOp {
    Push(Bytes),
    Pop,
    Get(u64),
    Set(u64, Bytes),
    Len,
    Extend(Vec<Bytes>),
    Snapshot,
    Clear,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ValueOp {
    Get,
    Set(Bytes),
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum QueueOp {
    Put(Bytes),
    /// `None`: wait for ever; `Some(ZERO)`: do not wait.
    Get(Option<Duration>),
    Len,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum LockOp {
    /// `None`: wait for ever.
    Acquire(Option<Duration>),
    Release,
    Locked,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum RLockOp {
    /// `owner`: the client's process and thread, which may acquire again.
    Acquire {
        owner: (u32, u64),
        timeout: Option<Duration>,
    },
    /// Releases one acquisition made on this connection.
    Release,
    Locked,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum SemaphoreOp {
    Acquire(Option<Duration>),
    /// Gives back an acquisition made on this connection.
    ReleaseHeld,
    /// Python's `release`: from anyone, bounded by a `BoundedSemaphore`'s initial value.
    Release,
    Value,
}

/// A condition's lock is tied to the connection that acquired it; the other operations
/// are refused from a connection that does not hold it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ConditionOp {
    Acquire(Option<Duration>),
    Release,
    /// Releases the lock, waits for a notify (or the timeout), takes the lock back.
    Wait(Option<Duration>),
    /// Wakes up to this many waiters (`u64::MAX`: all).
    Notify(u64),
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum BarrierOp {
    Wait(Option<Duration>),
    Abort,
    Reset,
    State,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum EventOp {
    Set,
    Clear,
    IsSet,
    /// `None`: wait for ever.
    Wait(Option<Duration>),
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum NamespaceOp {
    Get(String),
    Set(String, Bytes),
    Remove(String),
    Names,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    Done,
    Id(u64),
    Found(Kind, u64),
    Bytes(Option<Bytes>),
    Bool(bool),
    Len(u64),
    List(Vec<Bytes>),
    Pairs(Vec<(Bytes, Bytes)>),
    Names(Vec<String>),
    /// A timed wait ran out (queue get, lock acquire, event wait).
    TimedOut,
    Error(RemoteError),
    Barrier {
        parties: u64,
        waiting: u64,
        broken: bool,
    },
}
