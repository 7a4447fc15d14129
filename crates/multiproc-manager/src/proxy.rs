//! What every proxy holds ([`Handle`]), the [`Proxy`] trait, and the value codec.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize as SerializeDerive};

use crate::endpoint::Endpoint;
use crate::error::ManagerError;
use crate::wire::{Bytes, Kind, Reply, Request};

/// A proxy's manager, object and call timeout: what a proxy serializes as. Not a stable
/// interface; reach it through [`Proxy`].
///
/// ```
/// use multiproc_manager::Proxy;
/// let manager = multiproc_manager::Manager::start()?;
/// let first = manager.list::<u8>()?;
/// let second = manager.list::<u8>()?;
/// assert_ne!(first.id(), second.id());
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(hidden)]
#[derive(Clone, Debug, SerializeDerive, Deserialize)]
pub struct Handle {
    pub(crate) endpoint: Endpoint,
    pub(crate) id: u64,
    pub(crate) timeout: Option<Duration>,
}

impl Handle {
    pub(crate) fn new(endpoint: Endpoint, id: u64) -> Handle {
        Handle {
            endpoint,
            id,
            timeout: None,
        }
    }

    pub(crate) fn call(&self, request: &Request) -> Result<Reply, ManagerError> {
        self.endpoint.call(request, self.timeout)
    }
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A typed proxy to an object in a manager: [`DictProxy`](crate::DictProxy),
/// [`ListProxy`](crate::ListProxy), [`ValueProxy`](crate::ValueProxy),
/// [`QueueProxy`](crate::QueueProxy), [`LockProxy`](crate::LockProxy),
/// [`EventProxy`](crate::EventProxy), [`Namespace`](crate::Namespace) and
/// [`ObjectProxy`](crate::ObjectProxy).
///
/// Every proxy is `Send + Sync + Clone + Serialize + Deserialize`: pass it to a `Process`
/// or a `Pool` task as an ordinary argument. It serializes as its manager's address and
/// `authkey` and its object's id; the process that deserializes it connects on its first
/// call. The `authkey` travels with it, as in CPython: a serialized proxy gives whoever
/// reads it access to the manager.
///
/// This trait is sealed; it gives every proxy [`id`](Self::id) and
/// [`with_timeout`](Self::with_timeout), and lets [`Manager::lookup`](crate::Manager::lookup)
/// make a proxy of a published object.
///
/// # Examples
///
/// ```
/// use multiproc_manager::{Manager, Proxy};
/// use std::time::Duration;
///
/// let manager = Manager::start()?;
/// let list = manager.list::<u32>()?.with_timeout(Duration::from_secs(5));
/// list.push(1)?;
/// let bytes = postcard::to_stdvec(&list).unwrap();
/// let copy: multiproc_manager::ListProxy<u32> = postcard::from_bytes(&bytes).unwrap();
/// assert_eq!(copy.id(), list.id());
/// assert_eq!(copy.len()?, 1);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
pub trait Proxy: Sealed + Sized {
    #[doc(hidden)]
    const KIND: Kind;
    #[doc(hidden)]
    fn from_handle(handle: Handle) -> Self;
    #[doc(hidden)]
    fn handle(&self) -> &Handle;
    #[doc(hidden)]
    fn handle_mut(&mut self) -> &mut Handle;

    /// The object's id in its manager.
    fn id(&self) -> u64 {
        self.handle().id
    }

    /// Gives every call of this proxy (and of its clones) at most `timeout` to complete,
    /// then fails it with [`ManagerError::Timeout`]; `Duration::MAX` is no limit, the
    /// default. A manager that is stopped (not dead: a dead one gives
    /// [`ManagerError::ManagerGone`] at once) cannot hang such a call while it waits for
    /// the reply; a new connection's handshake has its own limit (5 s by default). The
    /// request itself is written without a limit: one larger than the socket's buffer
    /// (a few hundred KiB) can still wait for a stopped server to read it.
    fn with_timeout(mut self, timeout: Duration) -> Self {
        self.handle_mut().timeout = Some(timeout);
        self
    }
}

/// Implements the sealed [`Proxy`] trait and the serde impls of a proxy type whose
/// `handle` field is its [`Handle`].
macro_rules! proxy_impls {
    ($proxy:ident, $kind:expr) => {
        $crate::proxy::proxy_impls!($proxy<>, $kind);
    };
    ($proxy:ident < $($param:ident),* >, $kind:expr) => {
        impl<$($param),*> $crate::proxy::Sealed for $proxy<$($param),*> {}

        impl<$($param),*> $crate::proxy::Proxy for $proxy<$($param),*> {
            const KIND: $crate::wire::Kind = $kind;
            fn from_handle(handle: $crate::proxy::Handle) -> Self {
                $proxy { handle, _types: std::marker::PhantomData }
            }
            fn handle(&self) -> &$crate::proxy::Handle {
                &self.handle
            }
            fn handle_mut(&mut self) -> &mut $crate::proxy::Handle {
                &mut self.handle
            }
        }

        impl<$($param),*> Clone for $proxy<$($param),*> {
            fn clone(&self) -> Self {
                $proxy { handle: self.handle.clone(), _types: std::marker::PhantomData }
            }
        }

        impl<$($param),*> std::fmt::Debug for $proxy<$($param),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($proxy))
                    .field("manager", &self.handle.endpoint)
                    .field("id", &self.handle.id)
                    .finish()
            }
        }

        impl<$($param),*> serde::Serialize for $proxy<$($param),*> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.handle.serialize(serializer)
            }
        }

        impl<'de, $($param),*> serde::Deserialize<'de> for $proxy<$($param),*> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let handle = $crate::proxy::Handle::deserialize(deserializer)?;
                Ok($proxy { handle, _types: std::marker::PhantomData })
            }
        }
    };
}
pub(crate) use proxy_impls;

/// The postcard bytes of `value`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, ManagerError> {
    postcard::to_stdvec(value).map_err(|e| ManagerError::Codec(e.to_string()))
}

/// A value from its postcard bytes: all of them, and nothing else.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ManagerError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(ManagerError::Codec(format!(
            "{} bytes left after the value: is the proxy's type its object's?",
            rest.len()
        ))),
        Err(e) => Err(ManagerError::Codec(e.to_string())),
    }
}

/// The error for a reply of the wrong shape (a server of another version).
pub(crate) fn unexpected(reply: Reply) -> ManagerError {
    ManagerError::Codec(format!("unexpected reply from the manager: {reply:?}"))
}
