//! `Value<T>` and `RawValue<T>`: one plain-data value in shared memory.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{self, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{LockResult, OwnerDied};
use crate::lock::{deadline_after, segment_of_len};
use crate::words::{Acquire, RLockWord};
use crate::{Error, RLock, Segment};

/// Where the data of a `Value` or `Array` starts: past the lock word, on its own cache
/// line, and aligned for `T` (the segment itself is page-aligned).
pub(crate) const fn data_offset<T>() -> usize {
    if align_of::<T>() > 64 {
        align_of::<T>()
    } else {
        64
    }
}

/// Where the "a guard is out" flag of a `Value` or `Array` lives, after its `RLockWord`.
const GUARD_FLAG: usize = size_of::<RLockWord>();

/// The lock of a `Value` or `Array` as its data accessors use it.
///
/// The lock is an `RLock`, so Python's `with v.get_lock(): v.value += 1` works: `get`
/// and `set` re-acquire it recursively. A guard that hands out `&mut T` is different: a
/// second guard, or `get`/`set`, on the same thread would alias it, so the segment
/// records that a guard is out and those calls panic instead.
pub(crate) struct DataLock<'a> {
    word: &'a RLockWord,
    guard_out: &'a AtomicU32,
}

impl<'a> DataLock<'a> {
    pub(crate) fn of(segment: &'a Segment) -> DataLock<'a> {
        DataLock {
            word: segment.word(0),
            guard_out: segment.word(GUARD_FLAG),
        }
    }

    fn assert_no_guard(&self, what: &str) {
        // The flag is only ours to read while we own the lock.
        assert!(
            !(self.word.is_owned() && self.guard_out.load(Ordering::Relaxed) != 0),
            "{what} called while this thread holds a guard of the same data; use the guard"
        );
    }

    fn acquire(&self, deadline: Option<Instant>, what: &str) -> Acquire {
        if self.word.acquire_if_free() {
            // It was free, so this thread held no guard of it.
            return Acquire::Acquired;
        }
        self.assert_no_guard(what);
        let outcome = self.word.acquire_held(deadline);
        if outcome == Acquire::OwnerDied {
            // A guard the dead owner held is gone with it.
            self.guard_out.store(0, Ordering::Relaxed);
        }
        outcome
    }

    /// Takes the lock for one short access (get/set/copy). Owner death is logged, since
    /// the access itself cannot report it.
    pub(crate) fn begin_access(&self, what: &str) {
        if self.acquire(None, what) == Acquire::OwnerDied {
            log::warn!(
                "{what}: the previous owner of the lock died while holding it; the data may be inconsistent"
            );
        }
    }

    pub(crate) fn end_access(&self) {
        let _ = self.word.release();
    }

    /// Takes the lock for a guard.
    pub(crate) fn acquire_guard(&self, deadline: Option<Instant>, what: &str) -> Acquire {
        let outcome = self.acquire(deadline, what);
        if outcome.is_held() {
            self.guard_out.store(1, Ordering::Relaxed);
        }
        outcome
    }

    pub(crate) fn release_guard(&self) {
        self.guard_out.store(0, Ordering::Relaxed);
        let _ = self.word.release();
    }
}

/// A `T` in shared memory with the `RLock` that guards it (Python's `multiprocessing.Value`).
///
/// `T` is plain data ([`bytemuck::Pod`]: no pointers, no references, valid for any bit
/// pattern), because each process maps the memory at its own address. `get` and `set`
/// take the lock for the access, like Python's `.value`; [`lock`](Value::lock) holds it
/// across a read-modify-write; for integers, the atomic helpers
/// ([`fetch_add`](Value::fetch_add), ...) need no lock at all.
///
/// ```
/// use multiproc_shared::Value;
///
/// let counter = Value::new(0_i32)?;
/// {
///     let mut guard = counter.lock()?;
///     *guard += 1;
/// }
/// counter.fetch_add(1);
/// assert_eq!(counter.get(), 2);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
///
/// Only plain data fits in shared memory:
///
/// ```compile_fail
/// let name = multiproc_shared::Value::new(String::from("no"));
/// ```
#[doc(alias = "multiprocessing.Value")]
pub struct Value<T: Pod> {
    lock: RLock,
    _data: PhantomData<T>,
}

impl<T: Pod> Value<T> {
    const DATA: usize = data_offset::<T>();

    /// Creates a value in a fresh segment.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(1.5_f64)?;
    /// assert_eq!(x.get(), 1.5);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Value<T>, Error> {
        let segment = Segment::new(Self::DATA + size_of::<T>())?;
        let created: Value<T> = Value {
            lock: RLock::in_segment(segment, 0),
            _data: PhantomData,
        };
        // SAFETY: in bounds and aligned (layout above); nobody else has the segment yet.
        unsafe { created.as_ptr().write(value) };
        Ok(created)
    }

    /// A pointer to the value in this process's mapping. Other processes may access it
    /// concurrently; hold [`get_lock`](Value::get_lock) while using it.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(3_u8)?;
    /// let _guard = x.get_lock().lock()?;
    /// // SAFETY: the lock is held; the pointer is valid while `x` lives.
    /// assert_eq!(unsafe { x.as_ptr().read() }, 3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.segment().as_ptr().wrapping_add(Self::DATA).cast::<T>()
    }

    /// Reads the value under its lock (Python's `v.value`).
    ///
    /// # Panics
    ///
    /// If the calling thread holds a [`ValueGuard`] of this value (read through the guard).
    /// Holding the lock through [`get_lock`](Value::get_lock) is fine, as in Python.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Value::new(7_u64)?.get(), 7);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get(&self) -> T {
        let lock = DataLock::of(self.segment());
        lock.begin_access("Value::get");
        // SAFETY: in bounds and aligned; the lock is held, and no `&mut T` from a guard
        // exists on this thread (checked above); volatile since other processes write it.
        let value = unsafe { self.as_ptr().read_volatile() };
        lock.end_access();
        value
    }

    /// Writes the value under its lock (Python's `v.value = x`).
    ///
    /// # Panics
    ///
    /// If the calling thread holds a [`ValueGuard`] of this value (write through the guard).
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(0_i16)?;
    /// x.set(-3);
    /// assert_eq!(x.get(), -3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn set(&self, value: T) {
        let lock = DataLock::of(self.segment());
        lock.begin_access("Value::set");
        // SAFETY: as in `get`.
        unsafe { self.as_ptr().write_volatile(value) };
        lock.end_access();
    }

    /// The `RLock` that guards the value (Python's `get_lock()`).
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(0_i32)?;
    /// let lock = x.get_lock().clone();
    /// lock.acquire()?;
    /// lock.release()?;
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get_lock(&self) -> &RLock {
        &self.lock
    }

    /// Locks the value and returns a guard that dereferences to `T`
    /// (Python's `with v.get_lock(): v.value += 1`).
    ///
    /// If the previous holder died, the guard comes inside [`OwnerDied`]: the lock is
    /// held and the value may be half-written.
    ///
    /// # Panics
    ///
    /// If the calling thread already holds a guard of this value: a second guard would
    /// alias the first (`std::sync::Mutex` makes the same demand).
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(1_u32)?;
    /// *x.lock()? *= 10;
    /// assert_eq!(x.get(), 10);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn lock(&self) -> LockResult<ValueGuard<'_, T>> {
        let guard = ValueGuard { value: self };
        match DataLock::of(self.segment()).acquire_guard(None, "Value::lock") {
            Acquire::OwnerDied => Err(OwnerDied::new(guard)),
            _ => Ok(guard),
        }
    }

    /// Like [`lock`](Value::lock), waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(1_u32)?;
    /// assert!(x.lock_timeout(std::time::Duration::from_millis(5))?.is_some());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> LockResult<Option<ValueGuard<'_, T>>> {
        match DataLock::of(self.segment()).acquire_guard(deadline_after(timeout), "Value::lock") {
            Acquire::Acquired => Ok(Some(ValueGuard { value: self })),
            Acquire::OwnerDied => Err(OwnerDied::new(Some(ValueGuard { value: self }))),
            Acquire::TimedOut => Ok(None),
        }
    }

    /// The segment the value and its lock live in.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(0_u8)?;
    /// assert!(x.segment().len() > 0);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn segment(&self) -> &Segment {
        self.lock.segment()
    }
}

/// Holds the lock of a [`Value`] and dereferences to its `T`; releases on drop.
///
/// ```
/// let x = multiproc_shared::Value::new([0_u8; 4])?;
/// let mut guard: multiproc_shared::ValueGuard<'_, [u8; 4]> = x.lock()?;
/// guard[2] = 9;
/// drop(guard);
/// assert_eq!(x.get(), [0, 0, 9, 0]);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ValueGuard<'a, T: Pod> {
    value: &'a Value<T>,
}

impl<T: Pod> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: in bounds, aligned, valid for any bit pattern (Pod); the lock is held
        // by this thread, and `Value` refuses a second guard or get/set on this thread,
        // so no other reference to the data exists in this process.
        unsafe { &*self.value.as_ptr() }
    }
}

impl<T: Pod> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow unique.
        unsafe { &mut *self.value.as_ptr() }
    }
}

impl<T: Pod> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        DataLock::of(self.value.segment()).release_guard();
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&**self).finish()
    }
}

impl<T: Pod> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            lock: self.lock.clone(),
            _data: PhantomData,
        }
    }
}

impl<T: Pod> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reading would take the lock and could block: show the type and lock only.
        f.debug_struct("Value")
            .field("type", &std::any::type_name::<T>())
            .field("lock", &self.lock)
            .finish()
    }
}

impl<T: Pod> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.segment().serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let segment = segment_of_len(deserializer, Self::DATA + size_of::<T>())?;
        Ok(Value {
            lock: RLock::in_segment(segment, 0),
            _data: PhantomData,
        })
    }
}

/// A `T` in shared memory with no lock (Python's `multiprocessing.sharedctypes.RawValue`).
///
/// Reads and writes are single volatile accesses: a `T` wider than the machine word can
/// tear when another process writes it at the same time. Use [`Value`] for a lock, or
/// the atomic helpers for integers.
///
/// ```
/// use multiproc_shared::RawValue;
///
/// let hits = RawValue::new(0_u64)?;
/// hits.fetch_add(5);
/// hits.set(hits.get() * 2);
/// assert_eq!(hits.get(), 10);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[doc(alias = "multiprocessing.RawValue")]
pub struct RawValue<T: Pod> {
    segment: Segment,
    _data: PhantomData<T>,
}

impl<T: Pod> RawValue<T> {
    /// Creates a value in a fresh segment.
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(2_i8)?;
    /// assert_eq!(x.get(), 2);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(value: T) -> Result<RawValue<T>, Error> {
        let created: RawValue<T> = RawValue {
            segment: Segment::new(size_of::<T>())?,
            _data: PhantomData,
        };
        created.set(value);
        Ok(created)
    }

    /// A pointer to the value in this process's mapping.
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(0_u32)?;
    /// assert_eq!(x.as_ptr() as usize % 4096, 0);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.segment.as_ptr().cast::<T>()
    }

    /// Reads the value (one volatile read, no lock).
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawValue::new(1_u16)?.get(), 1);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get(&self) -> T {
        // SAFETY: in bounds, page-aligned, any bit pattern is a valid `T` (Pod); volatile
        // because other processes write the memory behind the compiler's back.
        unsafe { self.as_ptr().read_volatile() }
    }

    /// Writes the value (one volatile write, no lock).
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(1_u16)?;
    /// x.set(2);
    /// assert_eq!(x.get(), 2);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn set(&self, value: T) {
        // SAFETY: as in `get`.
        unsafe { self.as_ptr().write_volatile(value) }
    }

    /// The segment the value lives in.
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(0_u8)?;
    /// assert_eq!(x.segment().len(), 1);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn segment(&self) -> &Segment {
        &self.segment
    }
}

impl<T: Pod> Clone for RawValue<T> {
    fn clone(&self) -> Self {
        RawValue {
            segment: self.segment.clone(),
            _data: PhantomData,
        }
    }
}

impl<T: Pod> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawValue")
            .field("type", &std::any::type_name::<T>())
            .field("segment", &self.segment)
            .finish()
    }
}

impl<T: Pod> Serialize for RawValue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.segment.serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(RawValue {
            segment: segment_of_len(deserializer, size_of::<T>())?,
            _data: PhantomData,
        })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Integer types whose [`Value`] and [`RawValue`] have lock-free atomic helpers
/// (`fetch_add`, `compare_exchange`, ...). Implemented for all primitive integers.
///
/// ```
/// let x = multiproc_shared::Value::new(5_usize)?;
/// assert_eq!(x.fetch_sub(2), 5);
/// assert_eq!(x.load(), 3);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
pub trait AtomicInteger: Pod + sealed::Sealed {
    /// The matching `std::sync::atomic` type.
    #[doc(hidden)]
    type Atomic: Sync;
    /// Views `ptr` as an atomic.
    ///
    /// # Safety
    ///
    /// `ptr` is aligned for the atomic type, valid for reads and writes for `'a`, and only
    /// accessed atomically (or under a lock) meanwhile.
    #[doc(hidden)]
    unsafe fn atomic<'a>(ptr: *mut Self) -> &'a Self::Atomic;
    #[doc(hidden)]
    fn load(atomic: &Self::Atomic) -> Self;
    #[doc(hidden)]
    fn store(atomic: &Self::Atomic, value: Self);
    #[doc(hidden)]
    fn swap(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_add(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_sub(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_and(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_or(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_xor(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_max(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn fetch_min(atomic: &Self::Atomic, value: Self) -> Self;
    #[doc(hidden)]
    fn compare_exchange(atomic: &Self::Atomic, current: Self, new: Self) -> Result<Self, Self>;
}

macro_rules! atomic_integer {
    ($($int:ty => $atomic:ty),* $(,)?) => {$(
        impl sealed::Sealed for $int {}
        impl AtomicInteger for $int {
            type Atomic = $atomic;
            unsafe fn atomic<'a>(ptr: *mut Self) -> &'a $atomic {
                // SAFETY: forwarded from this function's contract; the atomic type has
                // the same size as the integer, and the data offset (64) is aligned for it.
                unsafe { <$atomic>::from_ptr(ptr) }
            }
            fn load(a: &$atomic) -> Self { a.load(Ordering::SeqCst) }
            fn store(a: &$atomic, v: Self) { a.store(v, Ordering::SeqCst) }
            fn swap(a: &$atomic, v: Self) -> Self { a.swap(v, Ordering::SeqCst) }
            fn fetch_add(a: &$atomic, v: Self) -> Self { a.fetch_add(v, Ordering::SeqCst) }
            fn fetch_sub(a: &$atomic, v: Self) -> Self { a.fetch_sub(v, Ordering::SeqCst) }
            fn fetch_and(a: &$atomic, v: Self) -> Self { a.fetch_and(v, Ordering::SeqCst) }
            fn fetch_or(a: &$atomic, v: Self) -> Self { a.fetch_or(v, Ordering::SeqCst) }
            fn fetch_xor(a: &$atomic, v: Self) -> Self { a.fetch_xor(v, Ordering::SeqCst) }
            fn fetch_max(a: &$atomic, v: Self) -> Self { a.fetch_max(v, Ordering::SeqCst) }
            fn fetch_min(a: &$atomic, v: Self) -> Self { a.fetch_min(v, Ordering::SeqCst) }
            fn compare_exchange(a: &$atomic, c: Self, n: Self) -> Result<Self, Self> {
                a.compare_exchange(c, n, Ordering::SeqCst, Ordering::SeqCst)
            }
        }
    )*};
}

atomic_integer! {
    i8 => atomic::AtomicI8, u8 => atomic::AtomicU8,
    i16 => atomic::AtomicI16, u16 => atomic::AtomicU16,
    i32 => atomic::AtomicI32, u32 => atomic::AtomicU32,
    i64 => atomic::AtomicI64, u64 => atomic::AtomicU64,
    isize => atomic::AtomicIsize, usize => atomic::AtomicUsize,
}

macro_rules! atomic_helpers {
    ($ty:ident, $example:literal) => {
        impl<T: AtomicInteger> $ty<T> {
            fn atomic(&self) -> &T::Atomic {
                // SAFETY: the data is aligned (page or 64-byte offset), lives as long as
                // `self`, and is only accessed atomically, under the lock, or volatilely.
                unsafe { T::atomic(self.as_ptr()) }
            }

            #[doc = concat!("Atomically adds, returning the previous value (no lock taken).\n\n```\nlet x = multiproc_shared::", $example, "::new(1_i32)?;\nassert_eq!(x.fetch_add(2), 1);\nassert_eq!(x.load(), 3);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_add(&self, value: T) -> T {
                T::fetch_add(self.atomic(), value)
            }

            #[doc = concat!("Atomically subtracts, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(3_u8)?;\nassert_eq!(x.fetch_sub(1), 3);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_sub(&self, value: T) -> T {
                T::fetch_sub(self.atomic(), value)
            }

            #[doc = concat!("Atomic bitwise and, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(0b110_u8)?;\nx.fetch_and(0b011);\nassert_eq!(x.load(), 0b010);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_and(&self, value: T) -> T {
                T::fetch_and(self.atomic(), value)
            }

            #[doc = concat!("Atomic bitwise or, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(0b100_u8)?;\nx.fetch_or(0b001);\nassert_eq!(x.load(), 0b101);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_or(&self, value: T) -> T {
                T::fetch_or(self.atomic(), value)
            }

            #[doc = concat!("Atomic bitwise xor, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(0b110_u8)?;\nx.fetch_xor(0b011);\nassert_eq!(x.load(), 0b101);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_xor(&self, value: T) -> T {
                T::fetch_xor(self.atomic(), value)
            }

            #[doc = concat!("Atomic maximum, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(4_i64)?;\nx.fetch_max(9);\nassert_eq!(x.load(), 9);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_max(&self, value: T) -> T {
                T::fetch_max(self.atomic(), value)
            }

            #[doc = concat!("Atomic minimum, returning the previous value.\n\n```\nlet x = multiproc_shared::", $example, "::new(4_i64)?;\nx.fetch_min(-1);\nassert_eq!(x.load(), -1);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn fetch_min(&self, value: T) -> T {
                T::fetch_min(self.atomic(), value)
            }

            #[doc = concat!("Atomically replaces the value, returning the previous one.\n\n```\nlet x = multiproc_shared::", $example, "::new(1_u16)?;\nassert_eq!(x.swap(2), 1);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn swap(&self, value: T) -> T {
                T::swap(self.atomic(), value)
            }

            #[doc = concat!("Atomically stores `new` if the value is `current`; returns the previous value, `Err` if it was not `current`.\n\n```\nlet x = multiproc_shared::", $example, "::new(1_u32)?;\nassert_eq!(x.compare_exchange(1, 5), Ok(1));\nassert_eq!(x.compare_exchange(1, 6), Err(5));\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn compare_exchange(&self, current: T, new: T) -> Result<T, T> {
                T::compare_exchange(self.atomic(), current, new)
            }

            #[doc = concat!("Atomic read (no lock taken).\n\n```\nlet x = multiproc_shared::", $example, "::new(8_usize)?;\nassert_eq!(x.load(), 8);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn load(&self) -> T {
                T::load(self.atomic())
            }

            #[doc = concat!("Atomic write (no lock taken).\n\n```\nlet x = multiproc_shared::", $example, "::new(8_usize)?;\nx.store(9);\nassert_eq!(x.load(), 9);\n# Ok::<(), multiproc_shared::Error>(())\n```")]
            pub fn store(&self, value: T) {
                T::store(self.atomic(), value)
            }
        }
    };
}

atomic_helpers!(Value, "Value");
atomic_helpers!(RawValue, "RawValue");
