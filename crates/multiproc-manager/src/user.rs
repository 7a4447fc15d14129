//! User types in a manager: the [`SharedObject`] trait, the entry point that the server
//! calls through a checked [`FunctionRef`], and [`ObjectProxy`].

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use multiproc_process::{CallError, FunctionRef};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ManagerError, RemoteError};
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Bytes, Kind, Reply, Request};

/// A type whose values can live in a manager's server, called through typed requests and
/// replies: what CPython's `BaseManager.register(typeid, callable)` does with method names
/// as strings, checked here by the compiler.
///
/// Register the type once with [`Manager::register`](crate::Manager::register), make
/// objects with [`Manager::create`](crate::Manager::create), and call them with
/// [`ObjectProxy::call`]. The server runs [`handle`](Self::handle) with the object locked,
/// so each call is atomic; calls on different objects run concurrently.
///
/// Parent and server run the same executable: the server finds this type's code through a
/// checked function identity (a `FunctionRef`), never through an address read from bytes.
///
/// # Examples
///
/// ```
/// use multiproc_manager::{Manager, SharedObject};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Account { balance: i64 }
///
/// #[derive(Serialize, Deserialize)]
/// enum Op { Deposit(i64), Withdraw(i64), Balance }
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// enum Answer { Ok(i64), Insufficient }
///
/// impl SharedObject for Account {
///     type Request = Op;
///     type Reply = Answer;
///     fn handle(&mut self, op: Op) -> Answer {
///         match op {
///             Op::Deposit(n) => self.balance += n,
///             Op::Withdraw(n) if n > self.balance => return Answer::Insufficient,
///             Op::Withdraw(n) => self.balance -= n,
///             Op::Balance => {}
///         }
///         Answer::Ok(self.balance)
///     }
/// }
///
/// let manager = Manager::start()?;
/// manager.register::<Account>()?;
/// let account = manager.create(Account { balance: 10 })?;
/// assert_eq!(account.call(Op::Deposit(5))?, Answer::Ok(15));
/// assert_eq!(account.call(Op::Withdraw(20))?, Answer::Insufficient);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.BaseManager.register")]
pub trait SharedObject: Serialize + DeserializeOwned + Send + 'static {
    /// What a call asks for.
    type Request: Serialize + DeserializeOwned + Send + 'static;
    /// What a call answers.
    type Reply: Serialize + DeserializeOwned + Send + 'static;
    /// Runs one call, in the manager's server.
    fn handle(&mut self, request: Self::Request) -> Self::Reply;
}

/// What the server asks of a registered type's entry point.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum UserOp {
    /// Decode the initial value and file it as object `id`.
    Create { id: u64, init: Bytes },
    /// Decode a request, run it on object `id`, and encode the reply.
    Call { id: u64, request: Bytes },
}

type Slot = Arc<Mutex<Box<dyn Any + Send>>>;

/// The registered objects of this process (only a server has any), by id.
static OBJECTS: Mutex<Option<HashMap<u64, Slot>>> = Mutex::new(None);

/// The entry point of type `T`: the function the server calls through a `FunctionRef`.
fn entry<T: SharedObject>(op: UserOp) -> Result<Bytes, String> {
    let error = |e: postcard::Error| e.to_string();
    match op {
        UserOp::Create { id, init } => {
            let object: T = postcard::from_bytes(&init).map_err(error)?;
            OBJECTS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(HashMap::new)
                .insert(id, Arc::new(Mutex::new(Box::new(object))));
            Ok(Vec::new())
        }
        UserOp::Call { id, request } => {
            let slot = OBJECTS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .and_then(|objects| objects.get(&id).cloned())
                .ok_or_else(|| format!("no registered object {id}"))?;
            let request: T::Request = postcard::from_bytes(&request).map_err(error)?;
            // A handler that panicked left the object as it was at the panic; it stays
            // usable, as a Python object does after an exception.
            let mut object = slot.lock().unwrap_or_else(PoisonError::into_inner);
            let object = object
                .downcast_mut::<T>()
                .ok_or_else(|| format!("object {id} is not a {}", std::any::type_name::<T>()))?;
            let reply = object.handle(request);
            postcard::to_stdvec(&reply).map_err(error)
        }
    }
}

/// The function identity of `T`'s entry point, which [`Manager::register`] sends.
///
/// [`Manager::register`]: crate::Manager::register
pub(crate) fn entry_ref<T: SharedObject>() -> FunctionRef {
    FunctionRef::new::<_, (UserOp,)>(entry::<T>)
}

/// The name a type is registered under.
pub(crate) fn type_key<T: SharedObject>() -> String {
    std::any::type_name::<T>().to_owned()
}

/// Calls a registered type's entry point, in the server.
pub(crate) fn call_entry(entry: &FunctionRef, op: UserOp) -> Result<Bytes, RemoteError> {
    let input =
        postcard::to_stdvec(&vec![(op,)]).map_err(|e| RemoteError::Function(e.to_string()))?;
    let output = entry.call(&input).map_err(RemoteError::Function)?;
    let results: Vec<Result<Result<Bytes, String>, CallError>> =
        postcard::from_bytes(&output).map_err(|e| RemoteError::Function(e.to_string()))?;
    match results.into_iter().next() {
        Some(Ok(Ok(bytes))) => Ok(bytes),
        Some(Ok(Err(message))) => Err(RemoteError::Function(message)),
        Some(Err(error)) => Err(RemoteError::Function(error.to_string())),
        None => Err(RemoteError::Function("no result".into())),
    }
}

/// A proxy to an object of a registered [`SharedObject`] type, from
/// [`Manager::create`](crate::Manager::create).
///
/// # Examples
///
/// ```
/// use multiproc_manager::{Manager, SharedObject};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Counter(u64);
///
/// impl SharedObject for Counter {
///     type Request = u64;
///     type Reply = u64;
///     fn handle(&mut self, add: u64) -> u64 {
///         self.0 += add;
///         self.0
///     }
/// }
///
/// let manager = Manager::start()?;
/// manager.register::<Counter>()?;
/// let counter = manager.create(Counter(0))?;
/// counter.call(2)?;
/// assert_eq!(counter.call(3)?, 5);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.BaseProxy")]
pub struct ObjectProxy<T> {
    handle: Handle,
    _types: PhantomData<fn() -> T>,
}

proxy_impls!(ObjectProxy<T>, Kind::User);

impl<T: SharedObject> ObjectProxy<T> {
    /// Runs `request` on the object, in the server, and returns its reply.
    ///
    /// A panic in the handler gives [`RemoteError::Function`] with its message; the
    /// server and the object stay up.
    ///
    /// # Examples
    ///
    /// See [`ObjectProxy`].
    ///
    /// ```
    /// # use multiproc_manager::{Manager, SharedObject};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Echo;
    /// # impl SharedObject for Echo {
    /// #     type Request = String;
    /// #     type Reply = String;
    /// #     fn handle(&mut self, s: String) -> String { s }
    /// # }
    /// let manager = Manager::start()?;
    /// manager.register::<Echo>()?;
    /// assert_eq!(manager.create(Echo)?.call("hi".into())?, "hi");
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn call(&self, request: T::Request) -> Result<T::Reply, ManagerError> {
        match self
            .handle
            .call(&Request::User(self.handle.id, encode(&request)?))?
        {
            Reply::Bytes(Some(bytes)) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }
}
