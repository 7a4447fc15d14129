//! [`Manager`]: starts, reaches and stops a manager's server, and makes its objects.

use std::fmt;
use std::net::ToSocketAddrs;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use multiproc_channel::Address;
use multiproc_process::Process;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::array::ArrayProxy;
use crate::barrier::BarrierProxy;
use crate::condition::ConditionProxy;
use crate::dict::DictProxy;
use crate::endpoint::{Endpoint, WireAddress, exchange, first_address};
use crate::error::{ManagerError, RemoteError};
use crate::event::EventProxy;
use crate::list::ListProxy;
use crate::lock::LockProxy;
use crate::namespace::Namespace;
use crate::proxy::{Handle, Proxy, encode, unexpected};
use crate::queue::QueueProxy;
use crate::rlock::RLockProxy;
use crate::semaphore::SemaphoreProxy;
use crate::user::{ObjectProxy, SharedObject, entry_ref, type_key};
use crate::value::ValueProxy;
use crate::wire::{Kind, Reply, Request};

/// The server's process: its target returns `Err` only if it could not listen.
pub(crate) type ServerProcess = Process<Result<(), String>>;

/// How long [`Manager::shutdown`] waits for the server to exit before killing it.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A manager: a server process that holds shared objects, and the handle that makes them.
/// Python's `multiprocessing.Manager()` (a started `SyncManager`) and `BaseManager`.
///
/// * [`Manager::start`] starts a server process on a private Unix socket, with a random
///   `authkey`; [`Manager::serve`] starts one on a TCP address for other machines or
///   programs, which reach it with [`Manager::connect`].
/// * [`dict`](Self::dict), [`list`](Self::list), [`value`](Self::value),
///   [`queue`](Self::queue), [`lock`](Self::lock), [`event`](Self::event),
///   [`namespace`](Self::namespace) and, for registered user types,
///   [`create`](Self::create) make an object in the server and return a typed proxy. A
///   proxy is `Send + Clone + Serialize`: pass it to a `Process` or a pool task as an
///   argument, and it reconnects in the process that receives it.
/// * The handle that started the server owns it: [`shutdown`](Self::shutdown), or
///   dropping that handle, stops the server and reaps its process. Proxies do not keep
///   the server alive; once it is gone, each of their calls fails with
///   [`ManagerError::ManagerGone`] at once, never hangs. A `Manager` from
///   [`connect`](Self::connect) owns nothing.
///
/// Objects live as long as the server: dropping a proxy does not free its object (CPython
/// counts references across processes for that; here a long-lived manager should reuse
/// its objects, or clear them).
///
/// The server runs one thread per client connection (at most
/// [`ManagerBuilder::max_connections`](crate::ManagerBuilder::max_connections), 256 by default): a slow call, or a blocking
/// `get` or `acquire`, holds up only its own client. Each process keeps idle connections
/// for reuse, so a proxy call costs one request and one reply on an open socket.
///
/// # Examples
///
/// ```
/// use multiproc_manager::Manager;
/// use multiproc_process::Process;
///
/// fn record(scores: multiproc_manager::DictProxy<String, u32>, name: String, score: u32) {
///     scores.insert(name, score).unwrap();
/// }
///
/// let manager = Manager::start()?;
/// let scores = manager.dict::<String, u32>()?;
/// let mut workers: Vec<_> = [("ada", 3), ("alan", 5)]
///     .into_iter()
///     .map(|(name, score)| Process::new(record, (scores.clone(), name.to_owned(), score)))
///     .collect();
/// for worker in &mut workers {
///     worker.start()?;
/// }
/// for worker in &mut workers {
///     worker.join()?;
/// }
/// assert_eq!(scores.get(&"alan".to_owned())?, Some(5));
/// manager.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.Manager")]
#[doc(alias = "multiprocessing.managers.BaseManager")]
#[doc(alias = "multiprocessing.managers.SyncManager")]
#[doc(alias = "BaseManager")]
#[doc(alias = "managers.BaseManager")]
pub struct Manager {
    pub(crate) endpoint: Endpoint,
    /// The server's process, for the handle that started it; `None` once shut down.
    pub(crate) server: Option<Mutex<Option<ServerProcess>>>,
    /// The process that started the server: a copy of the handle in a forked child owns
    /// nothing (its drop must not stop the parent's manager).
    pub(crate) owner_pid: u32,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("address", &self.endpoint)
            .field("owner", &self.server.is_some())
            .field("pid", &self.pid())
            .finish()
    }
}

impl Manager {
    /// Reaches a manager that another program serves on TCP `address`: Python's
    /// `BaseManager(address, authkey).connect()`. Connects once to check the address and
    /// the key ([`ManagerError::Connect`] for a wrong key).
    ///
    /// Built-in objects work from any program. [`DictProxy::update_with`] and registered
    /// types send function identities, which the server accepts only from processes of its
    /// own program tree (see `multiproc_process::adopt_function_key`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::{Manager, ManagerError};
    ///
    /// let server = Manager::serve("127.0.0.1:0", b"right")?;
    /// let wrong = Manager::connect(server.address().to_string(), b"wrong");
    /// assert!(matches!(wrong, Err(ManagerError::Connect(_))));
    /// # Ok::<(), ManagerError>(())
    /// ```
    pub fn connect(address: impl ToSocketAddrs, authkey: &[u8]) -> Result<Manager, ManagerError> {
        if authkey.is_empty() {
            return Err(ManagerError::Connect(
                multiproc_channel::ListenerError::AuthkeyRequired,
            ));
        }
        let endpoint = Endpoint {
            address: WireAddress::Tcp(first_address(address)?),
            authkey: authkey.to_vec(),
        };
        let connection = endpoint.checkout()?;
        endpoint.checkin(connection);
        Ok(Manager {
            endpoint,
            server: None,
            owner_pid: std::process::id(),
        })
    }

    /// Where the server listens (for [`serve`](Self::serve), the TCP address with the port
    /// that was picked).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::Address;
    ///
    /// let manager = multiproc_manager::Manager::serve("127.0.0.1:0", b"key")?;
    /// let Address::Tcp(addr) = manager.address() else { unreachable!() };
    /// assert_ne!(addr.port(), 0);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn address(&self) -> Address {
        self.endpoint.address.to_address()
    }

    /// The server's process id, for the handle that started it and until it is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.pid().is_some());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn pid(&self) -> Option<u32> {
        let server = self.server.as_ref()?;
        let process = server.lock().unwrap_or_else(PoisonError::into_inner);
        process.as_ref().and_then(Process::pid)
    }

    fn create_builtin<P: Proxy>(&self, initial: Option<Vec<u8>>) -> Result<P, ManagerError> {
        match self
            .endpoint
            .call(&Request::Create(P::KIND, initial), None)?
        {
            Reply::Id(id) => Ok(P::from_handle(Handle::new(self.endpoint.clone(), id))),
            other => Err(unexpected(other)),
        }
    }

    /// A new, empty dict in the server (Python's `manager.dict()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u32, String>()?;
    /// assert!(d.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.dict")]
    pub fn dict<K, V>(&self) -> Result<DictProxy<K, V>, ManagerError>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.create_builtin(None)
    }

    /// A new, empty list in the server (Python's `manager.list()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<f64>()?;
    /// l.push(1.5)?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.list")]
    pub fn list<T: Serialize + DeserializeOwned>(&self) -> Result<ListProxy<T>, ManagerError> {
        self.create_builtin(None)
    }

    /// A new value in the server, set to `initial` (Python's `manager.Value(typecode,
    /// value)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.value(7u64)?.get()?, 7);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Value")]
    pub fn value<T: Serialize + DeserializeOwned>(
        &self,
        initial: T,
    ) -> Result<ValueProxy<T>, ManagerError> {
        self.create_builtin(Some(encode(&initial)?))
    }

    /// A new, empty, unbounded queue in the server (Python's `manager.Queue()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let q = manager.queue::<String>()?;
    /// q.put("x".into())?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Queue")]
    pub fn queue<T: Serialize + DeserializeOwned>(&self) -> Result<QueueProxy<T>, ManagerError> {
        self.create_builtin(None)
    }

    /// A new lock in the server (Python's `manager.Lock()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let lock = manager.lock()?;
    /// drop(lock.acquire()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Lock")]
    pub fn lock(&self) -> Result<LockProxy, ManagerError> {
        self.create_builtin(None)
    }

    /// A new reentrant lock in the server (Python's `manager.RLock()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let rlock = manager.rlock()?;
    /// let _outer = rlock.acquire()?;
    /// let _inner = rlock.acquire()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.RLock")]
    pub fn rlock(&self) -> Result<RLockProxy, ManagerError> {
        self.create_builtin(None)
    }

    /// A new semaphore in the server with counter `value` (Python's
    /// `manager.Semaphore(value)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let semaphore = manager.semaphore(2)?;
    /// let _unit = semaphore.acquire()?;
    /// assert_eq!(semaphore.value()?, 1);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Semaphore")]
    pub fn semaphore(&self, value: u64) -> Result<SemaphoreProxy, ManagerError> {
        self.create_builtin(Some(encode(&(value, false))?))
    }

    /// A new semaphore whose counter may not go above `value` (Python's
    /// `manager.BoundedSemaphore(value)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let semaphore = manager.bounded_semaphore(1)?;
    /// assert!(semaphore.release().is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.BoundedSemaphore")]
    pub fn bounded_semaphore(&self, value: u64) -> Result<SemaphoreProxy, ManagerError> {
        self.create_builtin(Some(encode(&(value, true))?))
    }

    /// A new condition variable with its own lock in the server (Python's
    /// `manager.Condition()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let condition = manager.condition()?;
    /// condition.acquire()?.notify_all()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Condition")]
    pub fn condition(&self) -> Result<ConditionProxy, ManagerError> {
        self.create_builtin(None)
    }

    /// A new barrier in the server for `parties` parties (Python's
    /// `manager.Barrier(parties)`); zero is taken as one.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.barrier(3)?.parties()?, 3);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Barrier")]
    pub fn barrier(&self, parties: u64) -> Result<BarrierProxy, ManagerError> {
        self.create_builtin(Some(encode(&parties)?))
    }

    /// A new array in the server holding `values`; its length stays `values.len()`
    /// (Python's `manager.Array(typecode, sequence)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let array = manager.array([1u32, 2, 3])?;
    /// assert_eq!(array.to_vec()?, [1, 2, 3]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Array")]
    pub fn array<T: Serialize + DeserializeOwned>(
        &self,
        values: impl IntoIterator<Item = T>,
    ) -> Result<ArrayProxy<T>, ManagerError> {
        let items = values
            .into_iter()
            .map(|value| encode(&value))
            .collect::<Result<Vec<_>, _>>()?;
        self.create_builtin(Some(encode(&items)?))
    }

    /// A new event in the server, not set (Python's `manager.Event()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(!manager.event()?.is_set()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Event")]
    pub fn event(&self) -> Result<EventProxy, ManagerError> {
        self.create_builtin(None)
    }

    /// A new, empty namespace in the server (Python's `manager.Namespace()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let ns = manager.namespace()?;
    /// ns.set("x", 1u8)?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "SyncManager.Namespace")]
    pub fn namespace(&self) -> Result<Namespace, ManagerError> {
        self.create_builtin(None)
    }

    /// Makes `T` available to [`create`](Self::create) in this manager's server (Python's
    /// `BaseManager.register`). It sends the checked function identity of `T`'s entry
    /// point; registering again is harmless.
    ///
    /// # Examples
    ///
    /// See [`SharedObject`].
    ///
    /// ```
    /// # use multiproc_manager::{Manager, SharedObject};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Unit;
    /// # impl SharedObject for Unit {
    /// #     type Request = ();
    /// #     type Reply = ();
    /// #     fn handle(&mut self, _: ()) {}
    /// # }
    /// let manager = Manager::start()?;
    /// manager.register::<Unit>()?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    #[doc(alias = "multiprocessing.managers.BaseManager.register")]
    pub fn register<T: SharedObject>(&self) -> Result<(), ManagerError> {
        let request = Request::Register {
            name: type_key::<T>(),
            entry: entry_ref::<T>(),
        };
        match self.endpoint.call(&request, None)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Moves `value` into the server and returns a proxy to it. `T` must be
    /// [`register`](Self::register)ed first ([`RemoteError::NotRegistered`] otherwise).
    ///
    /// # Examples
    ///
    /// See [`SharedObject`].
    ///
    /// ```
    /// # use multiproc_manager::{Manager, ManagerError, RemoteError, SharedObject};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Unit;
    /// # impl SharedObject for Unit {
    /// #     type Request = ();
    /// #     type Reply = ();
    /// #     fn handle(&mut self, _: ()) {}
    /// # }
    /// let manager = Manager::start()?;
    /// let err = manager.create(Unit).unwrap_err();
    /// assert!(matches!(err, ManagerError::Remote(RemoteError::NotRegistered(_))));
    /// manager.register::<Unit>()?;
    /// manager.create(Unit)?.call(())?;
    /// # Ok::<(), ManagerError>(())
    /// ```
    pub fn create<T: SharedObject>(&self, value: T) -> Result<ObjectProxy<T>, ManagerError> {
        let request = Request::CreateUser {
            name: type_key::<T>(),
            init: encode(&value)?,
        };
        match self.endpoint.call(&request, None)? {
            Reply::Id(id) => Ok(ObjectProxy::from_handle(Handle::new(
                self.endpoint.clone(),
                id,
            ))),
            other => Err(unexpected(other)),
        }
    }

    /// Names an object so that [`lookup`](Self::lookup) finds it, from any client of
    /// this manager (CPython's registered typeids that return a shared object).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::{ListProxy, Manager};
    ///
    /// let manager = Manager::start()?;
    /// let results = manager.list::<u32>()?;
    /// manager.publish("results", &results)?;
    /// let found: ListProxy<u32> = manager.lookup("results")?;
    /// results.push(1)?;
    /// assert_eq!(found.len()?, 1);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn publish<P: Proxy>(&self, name: &str, proxy: &P) -> Result<(), ManagerError> {
        let request = Request::Publish {
            name: name.to_owned(),
            id: proxy.id(),
        };
        match self.endpoint.call(&request, None)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// A proxy to the object published as `name`; [`RemoteError::NoSuchName`] if there is
    /// none, [`RemoteError::WrongKind`] if it is not a `P` (a dict asked for as a list).
    /// The element types are the caller's word, as with a deserialized proxy.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::{LockProxy, Manager};
    ///
    /// let manager = Manager::start()?;
    /// assert!(manager.lookup::<LockProxy>("nothing").is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn lookup<P: Proxy>(&self, name: &str) -> Result<P, ManagerError> {
        match self
            .endpoint
            .call(&Request::Lookup(name.to_owned()), None)?
        {
            Reply::Found(kind, id) if kind == P::KIND => {
                Ok(P::from_handle(Handle::new(self.endpoint.clone(), id)))
            }
            Reply::Found(kind, id) => Err(ManagerError::Remote(RemoteError::WrongKind {
                id,
                expected: P::KIND.name().to_owned(),
                actual: kind.name().to_owned(),
            })),
            other => Err(unexpected(other)),
        }
    }

    /// Stops the server and reaps its process (Python's `manager.shutdown()`); dropping
    /// the handle that started the manager does the same. The server is asked to exit,
    /// and killed if it has not within a few seconds. Calling it again does nothing; a
    /// handle from [`connect`](Self::connect), or a copy of the handle in a forked child,
    /// gets [`ManagerError::NotOwner`] (and its drop leaves the server alone).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let pid = manager.pid().unwrap();
    /// manager.shutdown()?;
    /// assert_eq!(manager.pid(), None);
    /// # let _ = pid;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn shutdown(&self) -> Result<(), ManagerError> {
        let Some(server) = &self.server else {
            return Err(ManagerError::NotOwner);
        };
        if std::process::id() != self.owner_pid {
            return Err(ManagerError::NotOwner);
        }
        let Some(mut process) = server.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            return Ok(());
        };
        // Idle connections of this process to the server are of no further use.
        self.endpoint.forget_idle();
        let asked = self
            .endpoint
            .connect(SHUTDOWN_GRACE)
            .and_then(|connection| exchange(&connection, &Request::Shutdown, Some(SHUTDOWN_GRACE)));
        if let Err(error) = &asked {
            log::debug!("manager shutdown request: {error}");
        }
        let joined = match asked {
            Ok(_) => process.join_timeout(SHUTDOWN_GRACE),
            Err(error) => Err(multiproc_process::ProcessError::Io {
                context: "asking the manager to shut down",
                source: std::io::Error::other(error.to_string()),
            }),
        };
        match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(ManagerError::Bind(message)),
            Err(error) => {
                log::debug!("manager did not exit when asked ({error}); killing it");
                let _ = process.kill();
                match process.join() {
                    // Killed: the exit status says so, which is the expected end here.
                    Ok(_) | Err(multiproc_process::ProcessError::Died { .. }) => Ok(()),
                    Err(error) => Err(error.into()),
                }
            }
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        if self.server.is_some()
            && std::process::id() == self.owner_pid
            && let Err(error) = self.shutdown()
        {
            log::warn!("stopping the manager: {error}");
        }
    }
}

// The kind name is also used by `lookup`; keep it referenced from here.
const _: fn(Kind) -> &'static str = Kind::name;
