//! The crate's error type and the owner-death result of the guard-returning lock methods.

use std::fmt;
use std::io;

/// Everything that can go wrong in `multiproc-shared`.
///
/// # Owner death
///
/// [`SharedError::OwnerDied`] is unusual: it reports a *success with a warning*. The process
/// that held the lock died without releasing it, the lock has been taken over and **the
/// caller now holds it**, exactly as if the acquire had succeeded. The data the lock
/// protects may be half-updated, so the caller should repair or check it, then release
/// the lock as usual. The guard-returning methods (`acquire()`, `lock()`) report the same
/// event as [`OwnerDied`], which carries the guard, like std's `PoisonError`; `?` turns it
/// into this variant (and drops the guard, releasing the lock).
///
/// ```
/// use multiproc_shared::{SharedError, Lock};
///
/// let lock = Lock::new()?;
/// let _guard = match lock.acquire() {
///     Ok(guard) => guard,
///     Err(died) => {
///         let guard = died.into_inner(); // held now: repair the protected data
///         guard
///     }
/// };
/// # Ok::<(), SharedError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharedError {
    /// The operating system refused an operation (creating, mapping or opening memory).
    #[error("shared memory: {0}")]
    Io(#[from] io::Error),
    /// A named shared-memory block that this process will not use: a symbolic link, not a
    /// regular file, owned by another user, or open to other users (mode wider than 0600).
    #[error("refused shared memory block {name:?}: {reason}")]
    Refused {
        /// The block's name.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The previous owner of a lock died while holding it; the caller holds it now.
    #[error(
        "the previous owner of the lock died while holding it; the lock is now held by the caller and the data it protects may be inconsistent"
    )]
    OwnerDied,
    /// `release()` was called on a lock that is not locked.
    #[error("release of an unlocked lock")]
    NotLocked,
    /// An `RLock` (or a `Condition` on one) was released or waited on by a thread that
    /// does not own it.
    #[error("cannot release or wait on an rlock that the calling thread does not own")]
    NotOwner,
    /// A `BoundedSemaphore` was released more often than it was acquired.
    #[error("bounded semaphore released too many times")]
    TooManyReleases,
    /// An index past the end of an `Array`.
    #[error("index {index} out of bounds for array of length {len}")]
    OutOfBounds {
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// A slice copied into or out of an `Array` has the wrong length.
    #[error("slice of length {found} does not match array of length {expected}")]
    LengthMismatch {
        /// The array's length.
        expected: usize,
        /// The slice's length.
        found: usize,
    },
    /// An offset into shared memory that is not aligned for the access.
    #[error("offset {offset} is not aligned to {align} bytes")]
    Unaligned {
        /// The offset asked for.
        offset: usize,
        /// The alignment the access needs.
        align: usize,
    },
    /// A range of shared memory that does not fit inside it.
    #[error("{len} bytes at offset {offset} do not fit in shared memory of {size} bytes")]
    OutOfRange {
        /// The offset asked for.
        offset: usize,
        /// The length asked for.
        len: usize,
        /// The size of the shared memory.
        size: usize,
    },
    /// Bytes of a segment that this process already accesses with atomics of another
    /// size (an `AtomicU32` where 8-byte copies or an `AtomicU64` were used, or the
    /// reverse), which Rust's memory model does not allow to race.
    #[error("{len} bytes at offset {offset} are already accessed with atomics of another size")]
    MixedAccess {
        /// The start of the refused 8-byte words.
        offset: usize,
        /// Their length in bytes.
        len: usize,
    },
    /// The lock of a `Value` or `Array` was to be released (or waited on) at the level that
    /// one of its guards holds on this thread: drop the guard instead.
    #[error("the lock is held by a guard of its value or array on this thread; drop the guard")]
    GuardOut,
    /// The requested size overflows the address space.
    #[error("requested shared memory size is too large")]
    TooLarge,
    /// The `Barrier` is broken: aborted, reset while this party waited, or a wait timed out.
    #[error("barrier is broken")]
    BrokenBarrier,
    /// A name for `SharedMemory` that is empty, contains `/` or NUL, is `.` or `..`, or is
    /// longer than the system allows.
    #[error("invalid shared memory name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An argument out of range (for example a barrier of zero parties).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// A `SharedMemory` of size zero was requested.
    #[error("shared memory size must be positive")]
    ZeroSize,
}

/// A lock was acquired, but its previous owner had died holding it.
///
/// Returned by the guard-returning methods (`Lock::lock`, `Value::lock`, ...). The guard
/// is inside: the lock **is held**. Take it with [`into_inner`](OwnerDied::into_inner)
/// to repair the data, or convert the whole thing into [`SharedError::OwnerDied`] with `?`,
/// which drops the guard and so releases the lock.
///
/// ```
/// use multiproc_shared::{Lock, OwnerDied};
///
/// let lock = Lock::new()?;
/// let guard = lock.lock().unwrap_or_else(OwnerDied::into_inner);
/// drop(guard);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub struct OwnerDied<G> {
    guard: G,
}

impl<G> OwnerDied<G> {
    pub(crate) fn new(guard: G) -> Self {
        OwnerDied { guard }
    }

    /// The guard: the lock is held.
    ///
    /// ```
    /// # use multiproc_shared::{Lock, OwnerDied};
    /// let lock = Lock::new()?;
    /// let _guard = lock.lock().unwrap_or_else(OwnerDied::into_inner);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// A reference to the guard.
    ///
    /// ```
    /// # use multiproc_shared::{Lock, OwnerDied};
    /// let lock = Lock::new()?;
    /// if let Err(died) = lock.lock() {
    ///     let _guard: &_ = died.get_ref();
    /// }
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get_ref(&self) -> &G {
        &self.guard
    }

    /// A mutable reference to the guard (for example to repair a `Value`'s data).
    ///
    /// ```
    /// # use multiproc_shared::{Value, OwnerDied};
    /// let value = Value::new(0_u32)?;
    /// if let Err(mut died) = value.lock() {
    ///     **died.get_mut() = 0;
    /// }
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut G {
        &mut self.guard
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied").finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&SharedError::OwnerDied, f)
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

impl<G> From<OwnerDied<G>> for SharedError {
    fn from(_: OwnerDied<G>) -> SharedError {
        SharedError::OwnerDied
    }
}

/// What the guard-returning lock methods return: the guard, or the guard wrapped in
/// [`OwnerDied`] when the previous owner died holding the lock.
///
/// ```
/// use multiproc_shared::{LockResult, Value, ValueGuard};
/// let value = Value::<u32>::new(1)?;
/// let locked: LockResult<ValueGuard<'_, u32>> = value.lock();
/// // `OwnerDied` still holds the guard: take it over with `into_inner`.
/// let mut guard = locked.unwrap_or_else(|died| died.into_inner());
/// *guard += 1;
/// drop(guard);
/// assert_eq!(value.get(), 2);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub type LockResult<G> = Result<G, OwnerDied<G>>;
