//! [`DictProxy`]: a dict in a manager.

use std::marker::PhantomData;

use multiproc_process::{FunctionRef, Target};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ManagerError;
use crate::proxy::{Handle, decode, encode, proxy_impls, unexpected};
use crate::wire::{DictOp, Kind, Reply, Request};

/// A proxy to a dict that lives in a manager's server: Python's `DictProxy`, from
/// [`Manager::dict`](crate::Manager::dict).
///
/// Every method is one round trip to the server; [`update`](Self::update) sends all its
/// pairs in one. Keys are compared by their postcard encoding (equal keys of ordinary
/// types encode alike; a key type whose equal values encode differently, such as a
/// `HashMap`, or floats `0.0` and `-0.0`, gives distinct keys). Iteration follows
/// insertion order, as in Python.
///
/// [`update_with`](Self::update_with) runs a function in the server while the dict is
/// locked: an atomic read-modify-write, which CPython's `d[k] += 1` is not.
///
/// # Examples
///
/// ```
/// use multiproc_manager::Manager;
///
/// let manager = Manager::start()?;
/// let ages = manager.dict::<String, u32>()?;
/// ages.insert("ada".into(), 36)?;
/// ages.update([("alan".to_owned(), 41), ("grace".to_owned(), 85)])?;
/// assert_eq!(ages.get(&"alan".to_owned())?, Some(41));
/// assert_eq!(ages.len()?, 3);
/// assert_eq!(ages.keys()?, ["ada", "alan", "grace"]);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[doc(alias = "multiprocessing.managers.DictProxy")]
#[doc(alias = "managers.DictProxy")]
pub struct DictProxy<K, V> {
    handle: Handle,
    _types: PhantomData<fn() -> (K, V)>,
}

proxy_impls!(DictProxy<K, V>, Kind::Dict);

impl<K, V> DictProxy<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    fn call(&self, op: DictOp) -> Result<Reply, ManagerError> {
        self.handle.call(&Request::Dict(self.handle.id, op))
    }

    fn optional(&self, op: DictOp) -> Result<Option<V>, ManagerError> {
        match self.call(op)? {
            Reply::Bytes(Some(bytes)) => decode(&bytes).map(Some),
            Reply::Bytes(None) => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// The value of `key`, if any (Python's `d.get(key)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, char>()?;
    /// assert_eq!(d.get(&1)?, None);
    /// d.insert(1, 'a')?;
    /// assert_eq!(d.get(&1)?, Some('a'));
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.optional(DictOp::Get(encode(key)?))
    }

    /// Sets `key` to `value` and returns the value it replaced (Python's `d[key] = value`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// assert_eq!(d.insert(1, 10)?, None);
    /// assert_eq!(d.insert(1, 11)?, Some(10));
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn insert(&self, key: K, value: V) -> Result<Option<V>, ManagerError> {
        self.optional(DictOp::Insert(encode(&key)?, encode(&value)?))
    }

    /// Removes `key` and returns its value (Python's `d.pop(key, None)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.insert(1, 10)?;
    /// assert_eq!(d.remove(&1)?, Some(10));
    /// assert_eq!(d.remove(&1)?, None);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn remove(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.optional(DictOp::Remove(encode(key)?))
    }

    /// Whether `key` is present (Python's `key in d`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.insert(1, 10)?;
    /// assert!(d.contains_key(&1)? && !d.contains_key(&2)?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn contains_key(&self, key: &K) -> Result<bool, ManagerError> {
        match self.call(DictOp::ContainsKey(encode(key)?))? {
            Reply::Bool(found) => Ok(found),
            other => Err(unexpected(other)),
        }
    }

    /// The number of entries (Python's `len(d)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.update((0..5).map(|i| (i, i)))?;
    /// assert_eq!(d.len()?, 5);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(DictOp::Len)? {
            Reply::Len(len) => usize::try_from(len).map_err(|e| ManagerError::Codec(e.to_string())),
            other => Err(unexpected(other)),
        }
    }

    /// Whether the dict is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// assert!(manager.dict::<u8, u8>()?.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// The keys, in insertion order: a snapshot taken in one round trip.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.update([(3, 0), (1, 0)])?;
    /// assert_eq!(d.keys()?, [3, 1]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn keys(&self) -> Result<Vec<K>, ManagerError> {
        match self.call(DictOp::Keys)? {
            Reply::List(keys) => keys.iter().map(|key| decode(key)).collect(),
            other => Err(unexpected(other)),
        }
    }

    /// The values, in insertion order of their keys: a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.update([(3, 30), (1, 10)])?;
    /// assert_eq!(d.values()?, [30, 10]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn values(&self) -> Result<Vec<V>, ManagerError> {
        match self.call(DictOp::Values)? {
            Reply::List(values) => values.iter().map(|value| decode(value)).collect(),
            other => Err(unexpected(other)),
        }
    }

    /// The entries, in insertion order: a snapshot (Python's `d.items()`, copied as
    /// `list(d.items())`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.update([(3, 30), (1, 10)])?;
    /// assert_eq!(d.items()?, [(3, 30), (1, 10)]);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn items(&self) -> Result<Vec<(K, V)>, ManagerError> {
        match self.call(DictOp::Items)? {
            Reply::Pairs(pairs) => pairs
                .iter()
                .map(|(key, value)| Ok((decode(key)?, decode(value)?)))
                .collect(),
            other => Err(unexpected(other)),
        }
    }

    /// Inserts every pair, in one round trip (Python's `d.update(pairs)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u32, u32>()?;
    /// d.update((0..1000).map(|i| (i, i * i)))?;
    /// assert_eq!(d.get(&30)?, Some(900));
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn update(&self, pairs: impl IntoIterator<Item = (K, V)>) -> Result<(), ManagerError> {
        let pairs = pairs
            .into_iter()
            .map(|(key, value)| Ok((encode(&key)?, encode(&value)?)))
            .collect::<Result<Vec<_>, ManagerError>>()?;
        match self.call(DictOp::Update(pairs))? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Sets `key` to `f(old)` atomically, where `old` is its value (`None` if absent), and
    /// returns the new value. `f` runs in the manager's server while the dict is locked,
    /// so concurrent `update_with` calls never lose an update.
    ///
    /// `f` is a function item or a closure that captures nothing, as a pool task is; it
    /// travels as a checked function identity, which verifies only in processes of the same
    /// program tree (a manager started by this program, or one whose process adopted its
    /// key). A panic in `f` leaves the entry as it was and gives
    /// [`RemoteError::Function`](crate::RemoteError::Function).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let counts = manager.dict::<String, u64>()?;
    /// let add_one = |old: Option<u64>| old.unwrap_or(0) + 1;
    /// counts.update_with("word".into(), add_one)?;
    /// assert_eq!(counts.update_with("word".into(), add_one)?, 2);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn update_with<F>(&self, key: K, f: F) -> Result<V, ManagerError>
    where
        F: Target<(Option<V>,), Output = V>,
        V: Send + 'static,
    {
        let function = FunctionRef::new::<F, (Option<V>,)>(f);
        match self.optional(DictOp::UpdateWith(encode(&key)?, function))? {
            Some(value) => Ok(value),
            None => Err(ManagerError::Codec("update_with returned no value".into())),
        }
    }

    /// Removes every entry.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let d = manager.dict::<u8, u8>()?;
    /// d.insert(1, 1)?;
    /// d.clear()?;
    /// assert!(d.is_empty()?);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn clear(&self) -> Result<(), ManagerError> {
        match self.call(DictOp::Clear)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}
