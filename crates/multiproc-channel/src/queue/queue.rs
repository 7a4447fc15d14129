//! `Queue`: the typed, multi-producer multi-consumer FIFO over a shared [`Ring`].

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codec::{
    byte_vec_parts, decode, decode_byte_vec, decode_byte_vec_bytes, decode_string_bytes,
    encode_into, with_scratch,
};
use crate::deadline::Deadline;
use crate::error::{QueueError, SendError};
use crate::ring::{DEFAULT_RING_BYTES, Ring};

/// A multi-producer, multi-consumer FIFO queue shared by any number of processes, like
/// Python's `multiprocessing.Queue`.
///
/// Items live in one shared-memory segment (one fd per queue, whatever the number of
/// items or processes) as postcard bytes in a ring buffer guarded by a cross-process lock.
/// A `Queue` is `Clone` (another handle to the same queue), `Send + Sync`, and
/// `Serialize`/`Deserialize`, so it passes to children as a `Process` argument under
/// every start method.
///
/// **No feeder thread.** `put` copies the item into shared memory before it returns, or
/// blocks while the queue is full (a bounded queue, or a ring out of bytes). Nothing is
/// buffered in the producer, so unlike CPython a producer can be joined before the queue
/// is drained, and an item is visible to consumers (and to [`len`](Self::len)) the
/// moment `put` returns.
///
/// Items larger than the ring (1 MiB + 64 KiB by default, see [`with_capacity`](Self::with_capacity))
/// stream through it in chunks: the producer blocks until a consumer has read them.
///
/// Items must not contain fd-carrying handles: shared memory and [`Connection`]s are
/// refused with [`QueueError::Encode`] (they cannot travel as bytes); send them over a
/// [`Pipe`] instead. Raw `ipc_channel` ends inside an item cannot be detected and lose
/// their fd.
///
/// A process killed inside `put` or `get` does not wedge the queue: the next process to
/// take the lock repairs it. A half-written item is dropped; a half-read one counts as
/// taken by the dead consumer; no other item is lost.
///
/// The ring's shared memory is checked like input from the network: a process that
/// scribbles bogus positions or lengths into it makes the next `put` or `get` fail with
/// [`QueueError::Corrupt`], never a panic or a huge allocation, and the queue stays poisoned
/// for this process (every later `put`, `get` and `task_done` fails the same way).
///
/// [`Connection`]: crate::Connection
/// [`Pipe`]: crate::Pipe
///
/// # Examples
///
/// ```
/// use multiproc_channel::Queue;
///
/// let queue = Queue::<(u32, String)>::new()?;
/// queue.put((1, "one".into()))?;
/// assert_eq!(queue.len(), 1);
/// assert_eq!(queue.get()?, (1, "one".into()));
/// # Ok::<(), multiproc_channel::QueueError>(())
/// ```
#[doc(alias = "multiprocessing.Queue")]
pub struct Queue<T> {
    ring: Ring,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            ring: self.ring.clone(),
            _items: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("qsize", &self.ring.len())
            .field("maxsize", &self.ring.maxsize())
            .field("closed", &self.ring.is_closed())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Queue<T> {
    /// An unbounded queue (bounded only by its ring of 1 MiB + 64 KiB: a full ring blocks `put`).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::new()?;
    /// assert!(queue.is_empty());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn new() -> Result<Self, QueueError> {
        Self::with_capacity(None, DEFAULT_RING_BYTES)
    }

    /// A queue holding at most `maxsize` items (at least 1), like Python's `Queue(maxsize)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::bounded(2)?;
    /// queue.put(1)?;
    /// queue.put(2)?;
    /// assert!(queue.is_full());
    /// assert!(queue.put_nowait(3).unwrap_err().is_full());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn bounded(maxsize: usize) -> Result<Self, QueueError> {
        Self::with_capacity(Some(maxsize), DEFAULT_RING_BYTES)
    }

    /// A queue of at most `maxsize` items (`None`: unbounded) in a ring of `ring_bytes`
    /// bytes of shared memory. Items larger than the ring still work (they stream).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<Vec<u8>>::with_capacity(None, 64 << 20)?;
    /// queue.put(vec![0; 16 << 20])?;
    /// assert_eq!(queue.get()?.len(), 16 << 20);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn with_capacity(maxsize: Option<usize>, ring_bytes: usize) -> Result<Self, QueueError> {
        Ok(Queue {
            ring: Ring::new(maxsize, ring_bytes)?,
            _items: PhantomData,
        })
    }

    fn put_deadline(&self, item: T, deadline: Deadline) -> Result<(), SendError<T>> {
        let mut prefix = [0u8; 10];
        if let Some(parts) = byte_vec_parts(&item, &mut prefix) {
            let result = self.ring.put_parts(&parts, deadline);
            return result.map_err(|error| SendError::new(item, error));
        }
        let result = with_scratch(|buffer| {
            encode_into(&item, buffer)?;
            self.ring.put(buffer, deadline)
        });
        result.map_err(|error| SendError::new(item, error))
    }

    fn get_deadline(&self, deadline: Deadline) -> Result<T, QueueError> {
        if TypeId::of::<T>() == TypeId::of::<Vec<u8>>() {
            let mut encoded = Vec::new();
            if self.ring.get_skipping(&mut encoded, deadline, true)? {
                return decode_byte_vec_bytes(encoded);
            }
            return decode_byte_vec(encoded);
        }
        if TypeId::of::<T>() == TypeId::of::<String>() {
            let mut encoded = Vec::new();
            if self.ring.get_skipping(&mut encoded, deadline, true)? {
                return decode_string_bytes(encoded);
            }
            return decode(&encoded);
        }
        with_scratch(|buffer| {
            self.ring.get(buffer, deadline)?;
            decode(buffer)
        })
    }

    /// Puts an item, blocking while the queue is full. Fails with [`QueueError::Closed`] after
    /// [`close`](Self::close), giving the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<String>::new()?;
    /// queue.put("hello".to_owned())?;
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), SendError<T>> {
        self.put_deadline(item, Deadline::Never)
    }

    /// Puts an item, waiting at most `timeout` for room; [`QueueError::Full`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let queue = multiproc_channel::Queue::<u8>::bounded(1)?;
    /// queue.put_timeout(1, Duration::from_millis(10))?;
    /// assert!(queue.put_timeout(2, Duration::from_millis(10)).unwrap_err().is_full());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), SendError<T>> {
        self.put_deadline(item, Deadline::After(timeout))
    }

    /// Puts an item only if there is room now, like Python's `put_nowait`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::bounded(1)?;
    /// queue.put_nowait(1)?;
    /// assert!(queue.put_nowait(2).unwrap_err().is_full());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), SendError<T>> {
        self.put_deadline(item, Deadline::After(Duration::ZERO))
    }

    /// Removes and returns the oldest item, blocking while the queue is empty. After
    /// [`close`](Self::close), returns the remaining items, then [`QueueError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::new()?;
    /// queue.put(5)?;
    /// assert_eq!(queue.get()?, 5);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get(&self) -> Result<T, QueueError> {
        self.get_deadline(Deadline::Never)
    }

    /// Like [`get`](Self::get), waiting at most `timeout`; [`QueueError::Empty`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{QueueError, Queue};
    /// use std::time::Duration;
    ///
    /// let queue = Queue::<u8>::new()?;
    /// assert!(matches!(queue.get_timeout(Duration::from_millis(10)), Err(QueueError::Empty)));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, QueueError> {
        self.get_deadline(Deadline::After(timeout))
    }

    /// Removes the oldest item if there is one now, like Python's `get_nowait`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{QueueError, Queue};
    ///
    /// let queue = Queue::<u8>::new()?;
    /// assert!(matches!(queue.get_nowait(), Err(QueueError::Empty)));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_nowait(&self) -> Result<T, QueueError> {
        self.get_deadline(Deadline::After(Duration::ZERO))
    }

    /// Puts raw bytes as one item, like [`Connection::send_bytes`]: no serialization, one
    /// copy into shared memory. The fast path for payloads that already are bytes (what a
    /// Python `bytes` object is to `Queue.put`).
    ///
    /// The item is an ordinary queue item: [`get_bytes`](Self::get_bytes) returns it as
    /// is, and [`get`](Self::get) decodes it as a postcard-encoded `T` (an
    /// [`QueueError::Decode`] if it is not one). Conversely `get_bytes` returns a typed item's
    /// postcard encoding. Blocking, `maxsize` and [`close`](Self::close) work as for
    /// [`put`](Self::put).
    ///
    /// Typed byte items are fast too. A `Queue<Vec<u8>>` copies each item in and out
    /// whole (the same postcard bytes, without serde's element-by-element walk). Inside
    /// your own types, serde encodes a `Vec<u8>` field one element at a time, several
    /// times slower for large fields: mark it `#[serde(with = "serde_bytes")]`, or use
    /// `serde_bytes::ByteBuf`.
    ///
    /// [`Connection::send_bytes`]: crate::Connection::send_bytes
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<Vec<u8>>::new()?;
    /// queue.put_bytes(b"raw payload")?;
    /// assert_eq!(queue.get_bytes()?, b"raw payload");
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<(), QueueError> {
        self.ring.put(bytes, Deadline::Never)
    }

    /// Like [`put_bytes`](Self::put_bytes), waiting at most `timeout` for room;
    /// [`QueueError::Full`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use multiproc_channel::{QueueError, Queue};
    ///
    /// let queue = Queue::<()>::bounded(1)?;
    /// queue.put_bytes_timeout(b"a", Duration::from_millis(10))?;
    /// let full = queue.put_bytes_timeout(b"b", Duration::ZERO);
    /// assert!(matches!(full, Err(QueueError::Full)));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn put_bytes_timeout(&self, bytes: &[u8], timeout: Duration) -> Result<(), QueueError> {
        self.ring.put(bytes, Deadline::After(timeout))
    }

    /// Removes the oldest item and returns its bytes, blocking while the queue is empty;
    /// like [`Connection::recv_bytes`]. See [`put_bytes`](Self::put_bytes).
    ///
    /// [`Connection::recv_bytes`]: crate::Connection::recv_bytes
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u32>::new()?;
    /// queue.put(7)?;
    /// assert_eq!(queue.get_bytes()?, [7]); // postcard's encoding of 7u32
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_bytes(&self) -> Result<Vec<u8>, QueueError> {
        let mut bytes = Vec::new();
        self.ring.get(&mut bytes, Deadline::Never)?;
        Ok(bytes)
    }

    /// Like [`get_bytes`](Self::get_bytes), waiting at most `timeout`;
    /// [`QueueError::Empty`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{QueueError, Queue};
    /// use std::time::Duration;
    ///
    /// let queue = Queue::<()>::new()?;
    /// assert!(matches!(queue.get_bytes_timeout(Duration::ZERO), Err(QueueError::Empty)));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_bytes_timeout(&self, timeout: Duration) -> Result<Vec<u8>, QueueError> {
        let mut bytes = Vec::new();
        self.ring.get(&mut bytes, Deadline::After(timeout))?;
        Ok(bytes)
    }

    /// Removes the oldest item into `buf` (cleared first, grown as needed) and returns its
    /// length: [`get_bytes`](Self::get_bytes) without a fresh allocation per item.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<()>::new()?;
    /// queue.put_bytes(&[1, 2, 3])?;
    /// let mut buf = Vec::new();
    /// assert_eq!(queue.get_bytes_into(&mut buf)?, 3);
    /// assert_eq!(buf, [1, 2, 3]);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn get_bytes_into(&self, buf: &mut Vec<u8>) -> Result<usize, QueueError> {
        self.ring.get(buf, Deadline::Never)?;
        Ok(buf.len())
    }

    /// The number of items in the queue: exact, unlike CPython's (it counts under the
    /// queue lock); other processes may change it right after.
    ///
    /// [`len`](Self::len), [`is_empty`](Self::is_empty) and [`is_full`](Self::is_full) are snapshots and cannot
    /// fail, as in Python. On a queue found corrupt they read counters that then mean
    /// nothing (a peer may have written any value there); the calls that move items or
    /// wait (`put`, `get`, `task_done`, `JoinableQueue::join`) are the ones that report
    /// [`QueueError::Corrupt`], every time after the first.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::new()?;
    /// queue.put(1)?;
    /// queue.put(2)?;
    /// assert_eq!(queue.len(), 2);
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether the queue holds no item now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_channel::Queue::<u8>::new()?.is_empty());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.ring.len() == 0
    }

    /// Whether a bounded queue holds `maxsize` items now.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::bounded(1)?;
    /// queue.put(0)?;
    /// assert!(queue.is_full());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// The bound given to [`bounded`](Self::bounded), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_channel::Queue::<u8>::bounded(3)?.maxsize(), Some(3));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn maxsize(&self) -> Option<usize> {
        self.ring.maxsize()
    }

    /// Closes the queue for every process: `put` fails with [`QueueError::Closed`], `get`
    /// returns the items still queued and then [`QueueError::Closed`] instead of blocking, and
    /// blocked callers wake up.
    ///
    /// This differs from Python, where `close()` only stops the calling process's feeder
    /// thread: here there is no feeder, and a shared "no more items" is what consumers need
    /// to stop without sentinel values.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_channel::{QueueError, Queue};
    ///
    /// let queue = Queue::<u8>::new()?;
    /// queue.put(1)?;
    /// queue.close();
    /// assert!(queue.put(2).unwrap_err().is_closed());
    /// assert_eq!(queue.get()?, 1);
    /// assert!(matches!(queue.get(), Err(QueueError::Closed)));
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn close(&self) {
        self.ring.close();
    }

    /// Whether [`close`](Self::close) was called by any process.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = multiproc_channel::Queue::<u8>::new()?;
    /// queue.close();
    /// assert!(queue.is_closed());
    /// # Ok::<(), multiproc_channel::QueueError>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    pub(crate) fn ready_now(&self) -> bool {
        // A corrupt queue is ready: the next `get` reports it.
        !self.is_empty() || self.is_closed() || self.ring.is_poisoned()
    }
}

impl<T> Queue<T> {
    /// The shared ring, whatever the item type.
    pub(crate) fn ring(&self) -> &Ring {
        &self.ring
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The segment refuses plain serialization itself, with a clear message.
        self.ring.segment().serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let segment = multiproc_shared::Segment::deserialize(deserializer)?;
        Ok(Queue {
            ring: Ring::from_segment(segment).map_err(serde::de::Error::custom)?,
            _items: PhantomData,
        })
    }
}
