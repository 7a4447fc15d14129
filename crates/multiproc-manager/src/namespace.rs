//! [`Namespace`]: named attributes in a manager.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Kind, NamespaceOp, Reply, Request};

/// A proxy to a set of named attributes in a manager's server: Python's
/// `manager.Namespace()`, from [`Manager::namespace`](crate::Manager::namespace).
///
/// Python's attributes are untyped; here each read and write names its type, and reading
/// an attribute as another type than it was written with gives
/// [`ManagerError::Codec`] instead of a wrong value (where the encodings differ in
/// length; postcard carries no type tags, so same-shaped types are not told apart).
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let ns = manager.namespace()?;
/// ns.set("x", 10u32)?;
/// ns.set("y", "hello".to_owned())?;
/// assert_eq!(ns.get::<u32>("x")?, Some(10));
/// assert_eq!(ns.get::<String>("y")?.as_deref(), Some("hello"));
/// assert_eq!(ns.names()?, ["x", "y"]);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.Namespace")]
#[doc(alias = "managers.Namespace")]
pub struct Namespace {
    handle: Handle,
    _types: PhantomData<()>,
}

proxy_impls!(Namespace, Kind::Namespace);

impl Namespace {
    fn call(&self, op: NamespaceOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Namespace(self.handle.id, op))
    }

    fn optional<T: DeserializeOwned>(&self, op: NamespaceOp) -> Result<Option<T>, ManagerError> {
        match self.call(op)? {
            Reply::Bytes(Some(bytes)) => decode(&bytes).map(Some),
            Reply::Bytes(None) => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// The attribute `name` read as a `T`, `None` if it is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let ns = manager.namespace()?;
    /// assert_eq!(ns.get::<u8>("missing")?, None);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ManagerError> {
        self.optional(NamespaceOp::Get(name.to_owned()))
    }

    /// Sets the attribute `name` (Python's `ns.name = value`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let ns = manager.namespace()?;
    /// ns.set("flag", true)?;
    /// assert_eq!(ns.get::<bool>("flag")?, Some(true));
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn set<T: Serialize>(&self, name: &str, value: T) -> Result<(), ManagerError> {
        match self.call(NamespaceOp::Set(name.to_owned(), encode(&value)?))? {
            Reply::Bytes(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Removes the attribute `name` and returns it read as a `T` (Python's `del ns.name`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let ns = manager.namespace()?;
    /// ns.set("n", 1i64)?;
    /// assert_eq!(ns.remove::<i64>("n")?, Some(1));
    /// assert_eq!(ns.get::<i64>("n")?, None);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn remove<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ManagerError> {
        self.optional(NamespaceOp::Remove(name.to_owned()))
    }

    /// The names of the attributes that are set, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let ns = manager.namespace()?;
    /// ns.set("b", 1u8)?;
    /// ns.set("a", 2u8)?;
    /// assert_eq!(ns.names()?, ["a", "b"]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn names(&self) -> Result<Vec<String>, ManagerError> {
        match self.call(NamespaceOp::Names)? {
            Reply::Names(names) => Ok(names),
            other => Err(unexpected(other)),
        }
    }
}
