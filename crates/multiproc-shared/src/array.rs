//! `Array<T>` and `RawArray<T>`: a fixed-length slice of plain data in shared memory.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use bytemuck::Pod;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cell::{self, SeqLock};
use crate::data_lock::{DataLock, GUARD_FLAG, data_offset};
use crate::error::{LockResult, OwnerDied};
use crate::lock::deadline_after;
use crate::sys::GuardHeld;
use crate::words::Acquire;
use crate::{RLock, Segment, SharedError};

/// Bytes needed for `len` elements after `offset`, or `TooLarge`.
fn byte_len<T>(offset: usize, len: usize) -> Result<usize, SharedError> {
    size_of::<T>()
        .checked_mul(len)
        .and_then(|bytes| bytes.checked_add(offset))
        .ok_or(SharedError::TooLarge)
}

/// The elements of an `Array` or `RawArray`: `len` values of `T` at byte `offset` of a
/// segment sized by `byte_len::<T>(offset, len)`. The element accesses of both types live
/// here, once. An `Array` calls them under its lock (`raw == false`), and they copy bytes;
/// a `RawArray` accesses each element with one native atomic where `T` fits one, and
/// otherwise through the array's sequence lock.
struct Elements<'a, T> {
    segment: &'a Segment,
    offset: usize,
    len: usize,
    raw: bool,
    _data: PhantomData<T>,
}

impl<'a, T: Pod> Elements<'a, T> {
    fn of(segment: &'a Segment, offset: usize, len: usize, raw: bool) -> Self {
        Elements {
            segment,
            offset,
            len,
            raw,
            _data: PhantomData,
        }
    }

    /// Byte offset of element `index` (< len, so in bounds by the segment's sizing).
    fn at(&self, index: usize) -> usize {
        self.offset + index * size_of::<T>()
    }

    fn get(&self, index: usize) -> Result<T, SharedError> {
        check_index(index, self.len)?;
        let at = self.at(index);
        match (self.raw, cell::is_native::<T>()) {
            (true, true) => cell::load_native(self.segment, at),
            (true, false) => SeqLock::of(self.segment).read(|| cell::read_bytes(self.segment, at)),
            (false, _) => cell::read_bytes(self.segment, at),
        }
    }

    fn set(&self, index: usize, value: T) -> Result<(), SharedError> {
        check_index(index, self.len)?;
        let at = self.at(index);
        match (self.raw, cell::is_native::<T>()) {
            (true, true) => cell::store_native(self.segment, at, value),
            (true, false) => SeqLock::of(self.segment)
                .write(|| self.segment.write_at(at, bytemuck::bytes_of(&value))),
            (false, _) => self.segment.write_at(at, bytemuck::bytes_of(&value)),
        }
    }

    fn copy_to_slice(&self, dst: &mut [T]) -> Result<(), SharedError> {
        check_len(self.len, dst.len())?;
        match (self.raw, cell::is_native::<T>()) {
            (true, true) => {
                for (index, slot) in dst.iter_mut().enumerate() {
                    *slot = cell::load_native(self.segment, self.at(index))?;
                }
                Ok(())
            }
            (true, false) => SeqLock::of(self.segment).read(|| {
                self.segment
                    .read_at(self.offset, bytemuck::cast_slice_mut(&mut *dst))
            }),
            (false, _) => self
                .segment
                .read_at(self.offset, bytemuck::cast_slice_mut(dst)),
        }
    }

    fn copy_from_slice(&self, src: &[T]) -> Result<(), SharedError> {
        check_len(self.len, src.len())?;
        match (self.raw, cell::is_native::<T>()) {
            (true, true) => {
                for (index, value) in src.iter().enumerate() {
                    cell::store_native(self.segment, self.at(index), *value)?;
                }
                Ok(())
            }
            (true, false) => SeqLock::of(self.segment).write(|| {
                self.segment
                    .write_at(self.offset, bytemuck::cast_slice(src))
            }),
            (false, _) => self
                .segment
                .write_at(self.offset, bytemuck::cast_slice(src)),
        }
    }
}

fn check_index(index: usize, len: usize) -> Result<(), SharedError> {
    if index < len {
        Ok(())
    } else {
        Err(SharedError::OutOfBounds { index, len })
    }
}

fn check_len(expected: usize, found: usize) -> Result<(), SharedError> {
    if expected == found {
        Ok(())
    } else {
        Err(SharedError::LengthMismatch { expected, found })
    }
}

/// A fixed-length array of `T` in shared memory with the `RLock` that guards it
/// (Python's `multiprocessing.Array`).
///
/// Element access ([`get`](Array::get), [`set`](Array::set)) and the bulk copies take
/// the lock for the access; [`lock`](Array::lock) returns a guard that dereferences to
/// `[T]` for longer work. Bulk copies run near memory bandwidth (8-byte atomic copies).
///
/// ```
/// use multiproc_shared::Array;
///
/// let squares = Array::<u64>::zeroed(4)?;
/// for i in 0..4 {
///     squares.set(i, (i * i) as u64)?;
/// }
/// assert_eq!(squares.to_vec(), [0, 1, 4, 9]);
/// assert!(squares.get(4).is_err());
/// let total: u64 = squares.lock()?.iter().sum();
/// assert_eq!(total, 14);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Array")]
pub struct Array<T: Pod> {
    lock: RLock,
    len: usize,
    _data: PhantomData<T>,
}

impl<T: Pod> Array<T> {
    const DATA: usize = data_offset::<T>();

    /// Creates an array of `len` zeroes (Python's `Array('d', n)`).
    ///
    /// ```
    /// let a = multiproc_shared::Array::<f64>::zeroed(3)?;
    /// assert_eq!(a.to_vec(), [0.0; 3]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn zeroed(len: usize) -> Result<Array<T>, SharedError> {
        let segment = Segment::new(byte_len::<T>(Self::DATA, len)?)?;
        Ok(Array {
            lock: RLock::in_segment(segment, 0, GUARD_FLAG),
            len,
            _data: PhantomData,
        })
    }

    /// Creates an array holding a copy of `values` (Python's `Array('i', [..])`).
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[1_i32, 2, 3])?;
    /// assert_eq!(a.len(), 3);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<Array<T>, SharedError> {
        let array = Self::zeroed(values.len())?;
        array.copy_from_slice(values)?;
        Ok(array)
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::<u8>::zeroed(7)?.len(), 7);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// assert!(multiproc_shared::Array::<u8>::zeroed(0)?.is_empty());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A pointer to the first element in this process's mapping. Hold
    /// [`get_lock`](Array::get_lock) while using it.
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u32>::zeroed(2)?;
    /// assert_eq!(a.as_ptr() as usize % 64, 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.segment().as_ptr().wrapping_add(Self::DATA).cast::<T>()
    }

    fn elements(&self) -> Elements<'_, T> {
        Elements::of(self.segment(), Self::DATA, self.len, false)
    }

    fn data_lock(&self) -> DataLock<'_> {
        DataLock::of(self.segment())
    }

    /// Reads element `index` under the lock; [`SharedError::OutOfBounds`] past the end.
    ///
    /// # Panics
    ///
    /// If the calling thread holds an [`ArrayGuard`] of this array (use the guard instead).
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[5_u8, 6])?;
    /// assert_eq!(a.get(1)?, 6);
    /// assert!(a.get(2).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<T, SharedError> {
        check_index(index, self.len)?;
        let lock = self.data_lock();
        lock.begin_access("Array::get");
        let value = self.elements().get(index);
        lock.end_access();
        value
    }

    /// Writes element `index` under the lock; [`SharedError::OutOfBounds`] past the end.
    ///
    /// # Panics
    ///
    /// If the calling thread holds an [`ArrayGuard`] of this array (use the guard instead).
    ///
    /// ```
    /// let a = multiproc_shared::Array::<i64>::zeroed(2)?;
    /// a.set(0, -1)?;
    /// assert!(a.set(2, 0).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), SharedError> {
        check_index(index, self.len)?;
        let lock = self.data_lock();
        lock.begin_access("Array::set");
        let done = self.elements().set(index, value);
        lock.end_access();
        done
    }

    /// Copies the whole array into `dst` under the lock; [`SharedError::LengthMismatch`] if
    /// the lengths differ.
    ///
    /// # Panics
    ///
    /// If the calling thread holds an [`ArrayGuard`] of this array (use the guard instead).
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[1.0_f32, 2.0])?;
    /// let mut out = [0.0; 2];
    /// a.copy_to_slice(&mut out)?;
    /// assert_eq!(out, [1.0, 2.0]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<(), SharedError> {
        check_len(self.len, dst.len())?;
        let lock = self.data_lock();
        lock.begin_access("Array::copy_to_slice");
        let done = self.elements().copy_to_slice(dst);
        lock.end_access();
        done
    }

    /// Copies `src` over the whole array under the lock; [`SharedError::LengthMismatch`] if
    /// the lengths differ.
    ///
    /// # Panics
    ///
    /// If the calling thread holds an [`ArrayGuard`] of this array (use the guard instead).
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u16>::zeroed(2)?;
    /// a.copy_from_slice(&[3, 4])?;
    /// assert!(a.copy_from_slice(&[1]).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn copy_from_slice(&self, src: &[T]) -> Result<(), SharedError> {
        check_len(self.len, src.len())?;
        let lock = self.data_lock();
        lock.begin_access("Array::copy_from_slice");
        let done = self.elements().copy_from_slice(src);
        lock.end_access();
        done
    }

    /// Copies the array into a new `Vec` under the lock.
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[1_u8, 2])?;
    /// assert_eq!(a.to_vec(), vec![1, 2]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = vec![T::zeroed(); self.len];
        self.copy_to_slice(&mut out)
            .expect("lengths are equal by construction");
        out
    }

    /// The `RLock` that guards the array (Python's `get_lock()`).
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::zeroed(1)?;
    /// assert!(!a.get_lock().is_owned());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get_lock(&self) -> &RLock {
        &self.lock
    }

    /// Locks the array and returns a guard that dereferences to `[T]`.
    ///
    /// If the previous holder died, the guard comes inside [`OwnerDied`].
    ///
    /// # Panics
    ///
    /// If the calling thread already holds an [`ArrayGuard`] of this array.
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u32>::zeroed(3)?;
    /// a.lock()?.fill(7);
    /// assert_eq!(a.to_vec(), [7, 7, 7]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock(&self) -> LockResult<ArrayGuard<'_, T>> {
        match self.data_lock().acquire_guard(None, "Array::lock") {
            Some((held, Acquire::OwnerDied)) => {
                Err(OwnerDied::new(ArrayGuard { array: self, held }))
            }
            Some((held, _)) => Ok(ArrayGuard { array: self, held }),
            None => unreachable!("an acquire without a deadline does not time out"),
        }
    }

    /// Like [`lock`](Array::lock), waiting at most `timeout`; `Ok(None)` if it timed out.
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u32>::zeroed(1)?;
    /// assert!(a.lock_timeout(std::time::Duration::from_millis(5))?.is_some());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> LockResult<Option<ArrayGuard<'_, T>>> {
        match self
            .data_lock()
            .acquire_guard(deadline_after(timeout), "Array::lock")
        {
            Some((held, Acquire::OwnerDied)) => {
                Err(OwnerDied::new(Some(ArrayGuard { array: self, held })))
            }
            Some((held, _)) => Ok(Some(ArrayGuard { array: self, held })),
            None => Ok(None),
        }
    }

    /// The segment the array and its lock live in.
    pub(crate) fn segment(&self) -> &Segment {
        self.lock.segment()
    }
}

/// Holds the lock of an [`Array`] and dereferences to its `[T]`; releases on drop.
///
/// ```
/// let a = multiproc_shared::Array::from_slice(&[3_i32, 1, 2])?;
/// let mut guard: multiproc_shared::ArrayGuard<'_, i32> = a.lock()?;
/// guard.sort();
/// drop(guard);
/// assert_eq!(a.to_vec(), [1, 2, 3]);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the lock is released when the guard is dropped"]
pub struct ArrayGuard<'a, T: Pod> {
    array: &'a Array<T>,
    held: GuardHeld,
}

impl<T: Pod> Deref for ArrayGuard<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        let mapping = self.array.segment().mapping();
        match mapping.locked_slice::<T>(Array::<T>::DATA, self.array.len, &self.held) {
            Ok(elements) => elements,
            Err(err) => unreachable!("the data of an array is misplaced: {err}"),
        }
    }
}

impl<T: Pod> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let mapping = self.array.segment().mapping();
        match mapping.locked_slice_mut::<T>(Array::<T>::DATA, self.array.len, &mut self.held) {
            Ok(elements) => elements,
            Err(err) => unreachable!("the data of an array is misplaced: {err}"),
        }
    }
}

impl<T: Pod> Drop for ArrayGuard<'_, T> {
    fn drop(&mut self) {
        self.array.data_lock().release_guard(&mut self.held);
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArrayGuard").field(&&**self).finish()
    }
}

impl<T: Pod> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            lock: self.lock.clone(),
            len: self.len,
            _data: PhantomData,
        }
    }
}

/// How many elements `Debug` shows of an [`Array`].
const DEBUG_PREFIX: usize = 16;

/// Shows the length and the first (up to 16) elements, read under the lock if that needs
/// no waiting; `<locked>` while another thread or process holds the lock, or this thread
/// holds a guard of it (never a wait, never a panic).
///
/// ```
/// let a = multiproc_shared::Array::from_slice(&[1_u8, 2, 3])?;
/// assert!(format!("{a:?}").contains("len: 3, head: [1, 2, 3]"));
/// let long = multiproc_shared::Array::<u16>::zeroed(100)?;
/// assert!(format!("{long:?}").contains("len: 100"));
/// let guard = a.lock()?;
/// assert!(format!("{a:?}").contains("<locked>"));
/// drop(guard);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
impl<T: Pod + fmt::Debug> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Array");
        out.field("len", &self.len);
        let lock = self.data_lock();
        if lock.try_begin_access() {
            let mut head = [T::zeroed(); DEBUG_PREFIX];
            let shown = self.len.min(DEBUG_PREFIX);
            let read = Elements::of(self.segment(), Self::DATA, shown, false)
                .copy_to_slice(&mut head[..shown]);
            lock.end_access();
            match read {
                Ok(()) if shown < self.len => out.field(
                    "head",
                    &format_args!("{:?} (and {} more)", &head[..shown], self.len - shown),
                ),
                Ok(()) => out.field("head", &&head[..shown]),
                Err(_) => out.field("head", &format_args!("<unreadable>")),
            };
        } else {
            out.field("head", &format_args!("<locked>"));
        }
        out.field("type", &std::any::type_name::<T>()).finish()
    }
}

impl<T: Pod> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.segment(), self.len as u64).serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (segment, len) = <(Segment, u64)>::deserialize(deserializer)?;
        let len = usize::try_from(len).map_err(serde::de::Error::custom)?;
        let needed = byte_len::<T>(Self::DATA, len).map_err(serde::de::Error::custom)?;
        if segment.len() < needed {
            return Err(serde::de::Error::custom(
                "received shared memory is too small for this array",
            ));
        }
        Ok(Array {
            lock: RLock::in_segment(segment, 0, GUARD_FLAG),
            len,
            _data: PhantomData,
        })
    }
}

/// A fixed-length array of `T` in shared memory with no lock (Python's `RawArray`).
///
/// Every access is atomic, as for [`RawValue`](crate::RawValue): an element of 1, 2, 4 or
/// 8 bytes is one atomic load or store (and the bulk copies go element by element, so they
/// may mix elements from before and after a concurrent writer's copy); for a larger
/// element, every access, bulk copies included, runs under the array's sequence lock, so
/// each copy is one consistent snapshot. For more than that, synchronise with a separate
/// [`Lock`](crate::Lock), an [`Event`](crate::Event) or a [`Barrier`](crate::Barrier).
///
/// ```
/// use multiproc_shared::RawArray;
///
/// let a = RawArray::from_slice(&[1.0_f64, 2.0, 3.0])?;
/// a.set(0, 10.0)?;
/// assert_eq!(a.to_vec(), [10.0, 2.0, 3.0]);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.RawArray")]
pub struct RawArray<T: Pod> {
    segment: Segment,
    len: usize,
    _data: PhantomData<T>,
}

impl<T: Pod> RawArray<T> {
    /// Where the elements start; the sequence word of a large `T` is at byte 0.
    const DATA: usize = data_offset::<T>();

    fn elements(&self) -> Elements<'_, T> {
        Elements::of(&self.segment, Self::DATA, self.len, true)
    }

    /// Creates an array of `len` zeroes.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u8>::zeroed(5)?;
    /// assert_eq!(a.to_vec(), [0; 5]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn zeroed(len: usize) -> Result<RawArray<T>, SharedError> {
        Ok(RawArray {
            segment: Segment::new(byte_len::<T>(Self::DATA, len)?)?,
            len,
            _data: PhantomData,
        })
    }

    /// Creates an array holding a copy of `values`.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[1_u8])?;
    /// assert_eq!(a.len(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<RawArray<T>, SharedError> {
        let array = Self::zeroed(values.len())?;
        array.copy_from_slice(values)?;
        Ok(array)
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawArray::<u8>::zeroed(2)?.len(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// assert!(multiproc_shared::RawArray::<u8>::zeroed(0)?.is_empty());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A pointer to the first element in this process's mapping (64-byte aligned).
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u64>::zeroed(1)?;
    /// assert_eq!(a.as_ptr() as usize % 64, 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.segment.as_ptr().wrapping_add(Self::DATA).cast::<T>()
    }

    /// Reads element `index`; [`SharedError::OutOfBounds`] past the end.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[4_u8])?;
    /// assert_eq!(a.get(0)?, 4);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<T, SharedError> {
        self.elements().get(index)
    }

    /// Writes element `index`; [`SharedError::OutOfBounds`] past the end.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u8>::zeroed(1)?;
    /// a.set(0, 1)?;
    /// assert!(a.set(1, 1).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), SharedError> {
        self.elements().set(index, value)
    }

    /// Copies the whole array into `dst`; [`SharedError::LengthMismatch`] if the lengths differ.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[1_u8, 2])?;
    /// let mut out = [0; 2];
    /// a.copy_to_slice(&mut out)?;
    /// assert_eq!(out, [1, 2]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<(), SharedError> {
        self.elements().copy_to_slice(dst)
    }

    /// Copies `src` over the whole array; [`SharedError::LengthMismatch`] if the lengths differ.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u8>::zeroed(2)?;
    /// a.copy_from_slice(&[1, 2])?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn copy_from_slice(&self, src: &[T]) -> Result<(), SharedError> {
        self.elements().copy_from_slice(src)
    }

    /// Copies the array into a new `Vec`.
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[1_u8])?;
    /// assert_eq!(a.to_vec(), [1]);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = vec![T::zeroed(); self.len];
        self.copy_to_slice(&mut out)
            .expect("lengths are equal by construction");
        out
    }
}

impl<T: Pod> Clone for RawArray<T> {
    fn clone(&self) -> Self {
        RawArray {
            segment: self.segment.clone(),
            len: self.len,
            _data: PhantomData,
        }
    }
}

impl<T: Pod> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArray")
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .finish()
    }
}

impl<T: Pod> Serialize for RawArray<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.segment, self.len as u64).serialize(serializer)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawArray<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (segment, len) = <(Segment, u64)>::deserialize(deserializer)?;
        let len = usize::try_from(len).map_err(serde::de::Error::custom)?;
        let needed = byte_len::<T>(Self::DATA, len).map_err(serde::de::Error::custom)?;
        if segment.len() < needed {
            return Err(serde::de::Error::custom(
                "received shared memory is too small for this array",
            ));
        }
        Ok(RawArray {
            segment,
            len,
            _data: PhantomData,
        })
    }
}
