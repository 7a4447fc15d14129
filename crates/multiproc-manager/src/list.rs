//! [`ListProxy`]: a list in a manager.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{Kind, ListOp, Reply, Request};

/// A proxy to a list that lives in a manager's server: Python's `ListProxy`, from
/// [`Manager::list`](crate::Manager::list).
///
/// Every method is one round trip; [`extend`](Self::extend) sends all its items in one.
///
/// # Iteration is a snapshot
///
/// [`iter`](Self::iter) copies the whole list in one round trip and iterates over the copy.
/// CPython's proxy iterator instead lives in the server and fetches one item per round
/// trip over the live list, so a loop sees changes made meanwhile, pays a round trip per
/// item, and can skip or repeat items when others insert or remove. A snapshot costs one
/// round trip and is consistent (the list as it was at one instant); for a huge list,
/// read a range with [`get`](Self::get) instead.
///
/// # Examples
///
/// ```
/// use multiproc_manager::Manager;
///
/// let manager = Manager::start()?;
/// let log = manager.list::<String>()?;
/// log.push("started".into())?;
/// log.extend(["working".to_owned(), "done".to_owned()])?;
/// assert_eq!(log.len()?, 3);
/// assert_eq!(log.get(1)?, "working");
/// assert_eq!(log.iter()?.collect::<Vec<_>>(), ["started", "working", "done"]);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.ListProxy")]
#[doc(alias = "managers.ListProxy")]
pub struct ListProxy<T> {
    handle: Handle,
    _types: PhantomData<fn() -> T>,
}

proxy_impls!(ListProxy<T>, Kind::List);

impl<T: Serialize + DeserializeOwned> ListProxy<T> {
    fn call(&self, op: ListOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::List(self.handle.id, op))
    }

    fn done(&self, op: ListOp) -> Result<(), ManagerError> {
        match self.call(op)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Appends `item` (Python's `l.append(item)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.push(7)?;
    /// assert_eq!(l.get(0)?, 7);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn push(&self, item: T) -> Result<(), ManagerError> {
        self.done(ListOp::Push(encode(&item)?))
    }

    /// Removes and returns the last item, `None` if the list is empty (Python's `l.pop()`
    /// raises instead).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.extend([1, 2])?;
    /// assert_eq!(l.pop()?, Some(2));
    /// assert_eq!(l.pop()?, Some(1));
    /// assert_eq!(l.pop()?, None);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn pop(&self) -> Result<Option<T>, ManagerError> {
        match self.call(ListOp::Pop)? {
            Reply::Bytes(Some(bytes)) => decode(&bytes).map(Some),
            Reply::Bytes(None) => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// The item at `index`; past the end gives
    /// [`RemoteError::IndexOutOfRange`](crate::RemoteError::IndexOutOfRange).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.push(5)?;
    /// assert_eq!(l.get(0)?, 5);
    /// assert!(l.get(1).is_err());
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<T, ManagerError> {
        match self.call(ListOp::Get(index as u64))? {
            Reply::Bytes(Some(bytes)) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the item at `index` (Python's `l[index] = item`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.push(5)?;
    /// l.set(0, 6)?;
    /// assert_eq!(l.get(0)?, 6);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn set(&self, index: usize, item: T) -> Result<(), ManagerError> {
        self.done(ListOp::Set(index as u64, encode(&item)?))
    }

    /// The number of items (Python's `len(l)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// assert_eq!(l.len()?, 0);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(ListOp::Len)? {
            Reply::Len(len) => usize::try_from(len).map_err(|e| ManagerError::Codec(e.to_string())),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the list is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.list::<u8>()?.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// Appends every item, in one round trip (Python's `l.extend(items)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u32>()?;
    /// l.extend(0..1000)?;
    /// assert_eq!(l.len()?, 1000);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn extend(&self, items: impl IntoIterator<Item = T>) -> Result<(), ManagerError> {
        let items = items
            .into_iter()
            .map(|item| encode(&item))
            .collect::<Result<Vec<_>, _>>()?;
        self.done(ListOp::Extend(items))
    }

    /// A snapshot of the whole list, copied in one round trip (see the type's docs for why
    /// it is not CPython's live server-side iterator).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.extend([1, 2, 3])?;
    /// let snapshot = l.iter()?;
    /// l.push(4)?; // not in the snapshot
    /// assert_eq!(snapshot.sum::<u8>(), 6);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn iter(&self) -> Result<std::vec::IntoIter<T>, ManagerError> {
        match self.call(ListOp::Snapshot)? {
            Reply::List(items) => Ok(items
                .iter()
                .map(|item| decode(item))
                .collect::<Result<Vec<T>, _>>()?
                .into_iter()),
            other => Err(unexpected(other)),
        }
    }

    /// Removes every item.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let l = manager.list::<u8>()?;
    /// l.push(1)?;
    /// l.clear()?;
    /// assert!(l.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.done(ListOp::Clear)
    }
}
