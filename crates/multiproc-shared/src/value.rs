//! `Value<T>` and `RawValue<T>`: one plain-data value in shared memory.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{self, Ordering};
use std::time::Duration;

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cell::{self, SeqLock};
use crate::data_lock::{DataLock, GUARD_FLAG, data_offset, value_data_offset};
use crate::error::{LockResult, OwnerDied};
use crate::lock::{deadline_after, segment_of_len};
use crate::sys::{GuardHeld, NativeAtomic};
use crate::words::Acquire;
use crate::{RLock, Segment, SharedError};

/// Reads the `T` at byte `offset` of `segment`, which the crate's layout sized for it.
///
/// A value of 1, 2, 4 or 8 bytes is read with one atomic load of its own size, the size the
/// lock-free atomic helpers use, so that no two accesses to its bytes ever differ in size.
/// Callers hold the value's lock, whose acquire and release order the access: `Relaxed`.
#[inline]
fn read_data<T: Pod>(segment: &Segment, offset: usize) -> T {
    let read = if cell::is_native::<T>() {
        cell::load_native_ordered(segment, offset, std::sync::atomic::Ordering::Relaxed)
    } else {
        cell::read_bytes(segment, offset)
    };
    match read {
        Ok(value) => value,
        Err(err) => crate::segment::misplaced(err),
    }
}

/// Writes the `T` at byte `offset` of `segment`, which the crate's layout sized for it.
///
/// Sizes as in [`read_data`].
#[inline]
fn write_data<T: Pod>(segment: &Segment, offset: usize, value: &T) {
    let written = if cell::is_native::<T>() {
        cell::store_native_ordered(
            segment,
            offset,
            *value,
            std::sync::atomic::Ordering::Relaxed,
        )
    } else {
        segment.write_at(offset, bytemuck::bytes_of(value))
    };
    if let Err(err) = written {
        crate::segment::misplaced(err)
    }
}

/// A `T` in shared memory with the `RLock` that guards it (Python's `multiprocessing.Value`).
///
/// `T` is plain data ([`bytemuck::Pod`]: no pointers, no references, valid for any bit
/// pattern), because each process maps the memory at its own address. `get` and `set`
/// take the lock for the access, like Python's `.value`; [`lock`](Value::lock) holds it
/// across a read-modify-write; for integers, the atomic helpers
/// ([`fetch_add`](Value::fetch_add), ...) do one lock-free atomic operation, without the
/// lock. A [`ValueGuard`] works on a copy of the value that it writes back when dropped.
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
/// # Ok::<(), multiproc_shared::SharedError>(())
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
    const DATA: usize = value_data_offset::<T>();

    /// Creates a value in a fresh segment.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(1.5_f64)?;
    /// assert_eq!(x.get(), 1.5);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(value: T) -> Result<Value<T>, SharedError> {
        let segment = Segment::new(Self::DATA + size_of::<T>())?;
        write_data(&segment, Self::DATA, &value);
        Ok(Value {
            lock: RLock::in_segment(segment, 0, GUARD_FLAG),
            _data: PhantomData,
        })
    }

    /// A pointer to the value in this process's mapping, for foreign code. Other processes
    /// may access it concurrently: reading or writing through it is `unsafe` and needs
    /// [`get_lock`](Value::get_lock) held; safe code uses [`lock`](Value::lock) instead.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(3_u64)?;
    /// assert_eq!(x.as_ptr() as usize % align_of::<u64>(), 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
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
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get(&self) -> T {
        let lock = DataLock::of(self.segment());
        lock.begin_access("Value::get");
        let value = read_data(self.segment(), Self::DATA);
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
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn set(&self, value: T) {
        let lock = DataLock::of(self.segment());
        lock.begin_access("Value::set");
        write_data(self.segment(), Self::DATA, &value);
        lock.end_access();
    }

    /// The `RLock` that guards the value (Python's `get_lock()`).
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(0_i32)?;
    /// let lock = x.get_lock().clone();
    /// let _held = lock.acquire()?;
    /// x.set(x.get() + 1); // `get`/`set` take the same lock again
    /// assert_eq!(x.get(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
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
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    // Always inlined, as is the guard's drop, and the guard is built once after the wait:
    // called out of line, or built in two arms, the guard went through memory and a
    // locked increment cost twice as long (22 ns against 11 ns in one process).
    #[inline(always)]
    pub fn lock(&self) -> LockResult<ValueGuard<'_, T>> {
        let lock = DataLock::of(self.segment());
        let (held, outcome) = match lock.guard_if_free() {
            Some(held) => (held, Acquire::Acquired),
            None => lock.wait_for_guard("Value::lock"),
        };
        let guard = ValueGuard::new(self, held);
        if outcome == Acquire::OwnerDied {
            return Err(OwnerDied::new(guard));
        }
        Ok(guard)
    }

    /// Like [`lock`](Value::lock), waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// let x = multiproc_shared::Value::new(1_u32)?;
    /// assert!(x.lock_timeout(std::time::Duration::from_millis(5))?.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> LockResult<Option<ValueGuard<'_, T>>> {
        match DataLock::of(self.segment()).acquire_guard(deadline_after(timeout), "Value::lock") {
            Some((held, Acquire::OwnerDied)) => {
                Err(OwnerDied::new(Some(ValueGuard::new(self, held))))
            }
            Some((held, _)) => Ok(Some(ValueGuard::new(self, held))),
            None => Ok(None),
        }
    }

    /// The segment the value and its lock live in.
    pub(crate) fn segment(&self) -> &Segment {
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
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ValueGuard<'a, T: Pod> {
    /// The segment of the value, and its lock's words in it, looked up once when the lock
    /// was taken: the drop then writes back and releases without finding them again.
    segment: &'a Segment,
    lock: DataLock<'a>,
    held: GuardHeld,
    /// The value as it was read when the lock was taken; the guard derefs to this copy and
    /// writes it back when it is dropped, if it was borrowed mutably. No reference ever
    /// points into the shared memory itself, so the lock-free atomic helpers cannot race
    /// with a guard.
    copy: T,
    dirty: bool,
}

impl<'a, T: Pod> ValueGuard<'a, T> {
    #[inline]
    fn new(value: &'a Value<T>, held: GuardHeld) -> ValueGuard<'a, T> {
        let segment = value.segment();
        let copy = read_data(segment, Value::<T>::DATA);
        ValueGuard {
            segment,
            lock: DataLock::of(segment),
            held,
            copy,
            dirty: false,
        }
    }
}

impl<T: Pod> Deref for ValueGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.copy
    }
}

impl<T: Pod> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.dirty = true;
        &mut self.copy
    }
}

impl<T: Pod> Drop for ValueGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.dirty {
            write_data(self.segment, Value::<T>::DATA, &self.copy);
        }
        self.lock.release_guard(&mut self.held);
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

/// Shows the value, read under the lock if that needs no waiting; `<locked>` while
/// another thread or process holds the lock, or this thread holds a guard of it (never a
/// wait, never a panic).
///
/// ```
/// let x = multiproc_shared::Value::new(7_u32)?;
/// assert!(format!("{x:?}").contains("value: 7"));
/// let guard = x.lock()?;
/// assert!(format!("{x:?}").contains("<locked>"));
/// drop(guard);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
impl<T: Pod + fmt::Debug> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lock = DataLock::of(self.segment());
        let mut out = f.debug_struct("Value");
        if lock.try_begin_access() {
            let value: T = read_data(self.segment(), Self::DATA);
            lock.end_access();
            out.field("value", &value);
        } else {
            out.field("value", &format_args!("<locked>"));
        }
        out.field("type", &std::any::type_name::<T>()).finish()
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
            lock: RLock::in_segment(segment, 0, GUARD_FLAG),
            _data: PhantomData,
        })
    }
}

/// A `T` in shared memory with no lock (Python's `multiprocessing.sharedctypes.RawValue`).
///
/// Reads and writes are atomic, as crossbeam's `AtomicCell` makes them: a `T` of 1, 2, 4
/// or 8 bytes is one atomic load or store; a larger `T` is guarded by a sequence lock in
/// the segment, so a reader never sees half of one write and half of another. A writer
/// process that dies in the middle of a write is noticed by the others within
/// [`OWNER_CHECK_INTERVAL`](crate::words::OWNER_CHECK_INTERVAL), and its write abandoned.
/// Use [`Value`] for read-modify-write sequences, or the atomic helpers for integers.
///
/// ```
/// use multiproc_shared::RawValue;
///
/// let hits = RawValue::new(0_u64)?;
/// hits.fetch_add(5);
/// hits.set(hits.get() * 2);
/// assert_eq!(hits.get(), 10);
///
/// let corners = RawValue::new([1_u64; 4])?; // 32 bytes: a sequence lock
/// corners.set([2; 4]);
/// assert_eq!(corners.get(), [2; 4]);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.RawValue")]
pub struct RawValue<T: Pod> {
    segment: Segment,
    _data: PhantomData<T>,
}

impl<T: Pod> RawValue<T> {
    /// Where the value lives; the sequence word of a large `T` is at byte 0.
    const DATA: usize = data_offset::<T>();

    /// Creates a value in a fresh segment.
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(2_i8)?;
    /// assert_eq!(x.get(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(value: T) -> Result<RawValue<T>, SharedError> {
        let created: RawValue<T> = RawValue {
            segment: Segment::new(Self::DATA + size_of::<T>())?,
            _data: PhantomData,
        };
        created.set(value);
        Ok(created)
    }

    /// A pointer to the value in this process's mapping.
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(0_u32)?;
    /// assert_eq!(x.as_ptr() as usize % 64, 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.segment.as_ptr().wrapping_add(Self::DATA).cast::<T>()
    }

    /// Reads the value atomically (no lock).
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawValue::new(1_u16)?.get(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get(&self) -> T {
        let read = if cell::is_native::<T>() {
            cell::load_native(&self.segment, Self::DATA)
        } else {
            SeqLock::of(&self.segment).read(|| cell::read_bytes(&self.segment, Self::DATA))
        };
        match read {
            Ok(value) => value,
            Err(err) => unreachable!("the data of a raw value is misplaced: {err}"),
        }
    }

    /// Writes the value atomically (no lock).
    ///
    /// ```
    /// let x = multiproc_shared::RawValue::new(1_u16)?;
    /// x.set(2);
    /// assert_eq!(x.get(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn set(&self, value: T) {
        let written = if cell::is_native::<T>() {
            cell::store_native(&self.segment, Self::DATA, value)
        } else {
            SeqLock::of(&self.segment).write(|| {
                self.segment
                    .write_at(Self::DATA, bytemuck::bytes_of(&value))
            })
        };
        if let Err(err) = written {
            unreachable!("the data of a raw value is misplaced: {err}")
        }
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
            segment: segment_of_len(deserializer, Self::DATA + size_of::<T>())?,
            _data: PhantomData,
        })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Integer types whose [`Value`] and [`RawValue`] have atomic helpers
/// (`fetch_add`, `compare_exchange`, ...). Implemented for all primitive integers.
///
/// ```
/// let x = multiproc_shared::Value::new(5_usize)?;
/// assert_eq!(x.fetch_sub(2), 5);
/// assert_eq!(x.load(), 3);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
pub trait AtomicInteger: Pod + sealed::Sealed {
    /// The matching `std::sync::atomic` type.
    #[doc(hidden)]
    type Atomic: NativeAtomic;
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
    ($ty:ident, $example:literal, $doc:literal) => {
        impl<T: AtomicInteger> $ty<T> {
            /// Runs `op` on the value's atomic.
            fn with_atomic<R>(&self, op: impl FnOnce(&T::Atomic) -> R) -> R {
                self.atomic_op(|segment| match segment.mapping().atomic::<T::Atomic>(Self::DATA) {
                    Ok(atomic) => op(atomic),
                    Err(err) => unreachable!("the data of a value is misplaced: {err}"),
                })
            }

            #[doc = concat!("Atomically adds, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(1_i32)?;\nassert_eq!(x.fetch_add(2), 1);\nassert_eq!(x.load(), 3);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_add(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_add(a, value))
            }

            #[doc = concat!("Atomically subtracts, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(3_u8)?;\nassert_eq!(x.fetch_sub(1), 3);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_sub(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_sub(a, value))
            }

            #[doc = concat!("Atomic bitwise and, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(0b110_u8)?;\nx.fetch_and(0b011);\nassert_eq!(x.load(), 0b010);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_and(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_and(a, value))
            }

            #[doc = concat!("Atomic bitwise or, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(0b100_u8)?;\nx.fetch_or(0b001);\nassert_eq!(x.load(), 0b101);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_or(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_or(a, value))
            }

            #[doc = concat!("Atomic bitwise xor, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(0b110_u8)?;\nx.fetch_xor(0b011);\nassert_eq!(x.load(), 0b101);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_xor(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_xor(a, value))
            }

            #[doc = concat!("Atomic maximum, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(4_i64)?;\nx.fetch_max(9);\nassert_eq!(x.load(), 9);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_max(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_max(a, value))
            }

            #[doc = concat!("Atomic minimum, returning the previous value", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(4_i64)?;\nx.fetch_min(-1);\nassert_eq!(x.load(), -1);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn fetch_min(&self, value: T) -> T {
                self.with_atomic(|a| T::fetch_min(a, value))
            }

            #[doc = concat!("Atomically replaces the value, returning the previous one", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(1_u16)?;\nassert_eq!(x.swap(2), 1);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn swap(&self, value: T) -> T {
                self.with_atomic(|a| T::swap(a, value))
            }

            #[doc = concat!("Atomically stores `new` if the value is `current`; returns the previous value, `Err` if it was not `current`", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(1_u32)?;\nassert_eq!(x.compare_exchange(1, 5), Ok(1));\nassert_eq!(x.compare_exchange(1, 6), Err(5));\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn compare_exchange(&self, current: T, new: T) -> Result<T, T> {
                self.with_atomic(|a| T::compare_exchange(a, current, new))
            }

            #[doc = concat!("Atomic read", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(8_usize)?;\nassert_eq!(x.load(), 8);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn load(&self) -> T {
                self.with_atomic(|a| T::load(a))
            }

            #[doc = concat!("Atomic write", $doc, ".\n\n```\nlet x = multiproc_shared::", $example, "::new(8_usize)?;\nx.store(9);\nassert_eq!(x.load(), 9);\n# Ok::<(), multiproc_shared::SharedError>(())\n```")]
            pub fn store(&self, value: T) {
                self.with_atomic(|a| T::store(a, value))
            }
        }
    };
}

impl<T: Pod> Value<T> {
    /// Runs `op` directly: a guard works on a copy, and every access to the data is an
    /// atomic of the value's own size, so nothing can race with it.
    fn atomic_op<R>(&self, op: impl FnOnce(&Segment) -> R) -> R {
        op(self.segment())
    }
}

impl<T: Pod> RawValue<T> {
    /// Runs `op` directly: nothing but atomics ever touches a raw value.
    fn atomic_op<R>(&self, op: impl FnOnce(&Segment) -> R) -> R {
        op(&self.segment)
    }
}

atomic_helpers!(
    Value,
    "Value",
    " (lock-free: it does not take the value's lock, and a `ValueGuard` that is written back later overwrites it)"
);
atomic_helpers!(RawValue, "RawValue", " (lock-free)");
