//! [`ArrayProxy`]: a typed array of fixed length in a manager.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Kind, ListOp, Reply, Request};

/// A proxy to an array of `T` of fixed length in a manager's server: Python's
/// `manager.Array(typecode, sequence)`, from [`Manager::array`](crate::Manager::array).
///
/// The element type is the Rust type, checked by the compiler (no typecode); any
/// `Serialize + DeserializeOwned` type fits, numbers as well as strings or structs.
/// Every call is one round trip; [`to_vec`](Self::to_vec) copies the whole array in one.
/// An index past the end is
/// [`RemoteError::IndexOutOfRange`](crate::RemoteError::IndexOutOfRange). For numbers that
/// many processes update often, the shared-memory `multiproc_shared::Array` is far faster;
/// this one also reaches processes on other machines.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let array = manager.array(vec![0.0f64; 4])?;
/// array.set(2, 1.5)?;
/// assert_eq!(array.get(2)?, 1.5);
/// assert_eq!(array.len()?, 4);
/// assert_eq!(array.to_vec()?, [0.0, 0.0, 1.5, 0.0]);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.SyncManager.Array")]
#[doc(alias = "multiprocessing.managers.ArrayProxy")]
pub struct ArrayProxy<T> {
    handle: Handle,
    _types: PhantomData<fn(T) -> T>,
}

proxy_impls!(ArrayProxy<T>, Kind::Array);

impl<T: Serialize + DeserializeOwned> ArrayProxy<T> {
    fn call(&self, op: ListOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Array(self.handle.id, op))
    }

    /// The element at `index` (Python's `a[index]`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let array = manager.array(vec![1u8, 2, 3])?;
    /// assert_eq!(array.get(1)?, 2);
    /// assert!(array.get(3).is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<T, ManagerError> {
        match self.call(ListOp::Get(index as u64))? {
            Reply::Bytes(Some(bytes)) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Sets the element at `index` (Python's `a[index] = value`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let array = manager.array(vec![String::new(); 2])?;
    /// array.set(0, "first".into())?;
    /// assert_eq!(array.get(0)?, "first");
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), ManagerError> {
        match self.call(ListOp::Set(index as u64, encode(&value)?))? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// The array's length, fixed when it was made.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.array(vec![0i32; 10])?.len()?, 10);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(ListOp::Len)? {
            Reply::Len(len) => usize::try_from(len)
                .map_err(|_| ManagerError::Codec(format!("an array of {len} elements"))),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the array has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.array(Vec::<u8>::new())?.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// A copy of the whole array, in one round trip (Python's `a[:]`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.array(vec![1u16, 2])?.to_vec()?, [1, 2]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>, ManagerError> {
        match self.call(ListOp::Snapshot)? {
            Reply::List(items) => items.iter().map(|item| decode(item)).collect(),
            other => Err(unexpected(other)),
        }
    }
}
