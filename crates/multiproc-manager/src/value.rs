//! [`ValueProxy`]: one value in a manager.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Kind, Reply, Request, ValueOp};

/// A proxy to one value of any serde type in a manager's server: Python's
/// `manager.Value(typecode, value)` (`ValueProxy`), from [`Manager::value`](crate::Manager::value).
///
/// For a number shared by processes of one machine, `multiproc::shared::Value` in shared
/// memory is far faster; this one reaches over TCP and holds any type.
///
/// # Examples
///
/// ```
/// let manager = multiproc_manager::Manager::start()?;
/// let status = manager.value("idle".to_owned())?;
/// status.set("busy".to_owned())?;
/// assert_eq!(status.get()?, "busy");
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.ValueProxy")]
pub struct ValueProxy<T> {
    handle: Handle,
    _types: PhantomData<fn() -> T>,
}

proxy_impls!(ValueProxy<T>, Kind::Value);

impl<T: Serialize + DeserializeOwned> ValueProxy<T> {
    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert_eq!(manager.value(3.5f64)?.get()?, 3.5);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get(&self) -> Result<T, ManagerError> {
        match self
            .handle
            .call(&Request::Value(self.handle.id, ValueOp::Get))?
        {
            Reply::Bytes(Some(bytes)) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let v = manager.value(1u8)?;
    /// v.set(2)?;
    /// assert_eq!(v.get()?, 2);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn set(&self, value: T) -> Result<(), ManagerError> {
        match self.handle.call(&Request::Value(
            self.handle.id,
            ValueOp::Set(encode(&value)?),
        ))? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}
