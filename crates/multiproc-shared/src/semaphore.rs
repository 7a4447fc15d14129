//! `Semaphore` and `BoundedSemaphore` shared between processes.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lock::{deadline_after, segment_of_len};
use crate::words::SemaphoreWord;
use crate::{Segment, SharedError};

/// Layout: the semaphore word, then the bound (0 for unbounded).
const BOUND_OFFSET: usize = size_of::<SemaphoreWord>();
const SIZE: usize = BOUND_OFFSET + size_of::<u32>();

fn new_segment(value: u32, bound: u32) -> Result<Segment, SharedError> {
    let segment = Segment::new(SIZE)?;
    segment.placed::<SemaphoreWord>(0).init(value);
    bound_of(&segment).store(bound, Ordering::Relaxed);
    Ok(segment)
}

fn bound_of(segment: &Segment) -> &AtomicU32 {
    segment.placed(BOUND_OFFSET)
}

/// A counting semaphore shared between processes (Python's `multiprocessing.Semaphore`).
///
/// A process that dies while *waiting* does no harm. A process that dies while holding
/// a unit does not give it back (as in Python): use a [`Lock`](crate::Lock) where owner
/// death must be detected.
///
/// ```
/// use multiproc_shared::Semaphore;
///
/// let slots = Semaphore::new(2)?;
/// slots.acquire();
/// assert!(slots.try_acquire());
/// assert!(!slots.try_acquire());
/// slots.release();
/// assert_eq!(slots.value(), 1);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Semaphore")]
#[derive(Clone)]
pub struct Semaphore {
    segment: Segment,
}

impl Semaphore {
    /// Creates a semaphore with `value` units.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(3)?;
    /// assert_eq!(s.value(), 3);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(value: u32) -> Result<Semaphore, SharedError> {
        Ok(Semaphore {
            segment: new_segment(value, 0)?,
        })
    }

    fn word(&self) -> &SemaphoreWord {
        self.segment.placed(0)
    }

    /// Takes a unit, waiting as long as it takes.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(1)?;
    /// s.acquire();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) {
        self.word().acquire(None);
    }

    /// Takes a unit, waiting at most `timeout`; returns whether it got one.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(0)?;
    /// assert!(!s.acquire_timeout(std::time::Duration::from_millis(10)));
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.word().acquire(deadline_after(timeout))
    }

    /// Takes a unit if one is free.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(0)?;
    /// assert!(!s.try_acquire());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.word().try_acquire()
    }

    /// Gives a unit back (from any process) and wakes a waiter.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(0)?;
    /// s.release();
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn release(&self) {
        self.word().release();
    }

    /// The number of free units (Python's `get_value()`).
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Semaphore::new(4)?.value(), 4);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "get_value")]
    pub fn value(&self) -> u32 {
        self.word().value()
    }

    /// Takes a unit and returns a guard that gives it back on drop.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(1)?;
    /// {
    ///     let _unit = s.guard();
    ///     assert_eq!(s.value(), 0);
    /// }
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard {
            word: self.word(),
            bound: 0,
        }
    }
}

/// A `Semaphore` that refuses to be released above its initial value
/// (Python's `multiprocessing.BoundedSemaphore`).
///
/// ```
/// use multiproc_shared::{BoundedSemaphore, SharedError};
///
/// let s = BoundedSemaphore::new(1)?;
/// assert!(matches!(s.release(), Err(SharedError::TooManyReleases)));
/// s.acquire();
/// s.release()?;
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.BoundedSemaphore")]
#[derive(Clone)]
pub struct BoundedSemaphore {
    segment: Segment,
}

impl BoundedSemaphore {
    /// Creates a semaphore with `value` units, which is also its bound.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(2)?;
    /// assert_eq!(s.value(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(value: u32) -> Result<BoundedSemaphore, SharedError> {
        Ok(BoundedSemaphore {
            segment: new_segment(value, value)?,
        })
    }

    fn word(&self) -> &SemaphoreWord {
        self.segment.placed(0)
    }

    fn bound(&self) -> u32 {
        bound_of(&self.segment).load(Ordering::Relaxed)
    }

    /// Takes a unit, waiting as long as it takes.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// s.acquire();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire(&self) {
        self.word().acquire(None);
    }

    /// Takes a unit, waiting at most `timeout`; returns whether it got one.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(0)?;
    /// assert!(!s.acquire_timeout(std::time::Duration::from_millis(5)));
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.word().acquire(deadline_after(timeout))
    }

    /// Takes a unit if one is free.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// assert!(s.try_acquire());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.word().try_acquire()
    }

    /// Gives a unit back; [`SharedError::TooManyReleases`] if that would exceed the bound.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// assert!(s.release().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn release(&self) -> Result<(), SharedError> {
        if self.word().release_bounded(self.bound()) {
            Ok(())
        } else {
            Err(SharedError::TooManyReleases)
        }
    }

    /// The number of free units.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::BoundedSemaphore::new(2)?.value(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "get_value")]
    pub fn value(&self) -> u32 {
        self.word().value()
    }

    /// Takes a unit and returns a guard that gives it back on drop.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// drop(s.guard());
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard {
            word: self.word(),
            bound: self.bound(),
        }
    }
}

/// Holds one unit of a [`Semaphore`] or [`BoundedSemaphore`]; gives it back on drop.
///
/// ```
/// let s = multiproc_shared::Semaphore::new(1)?;
/// let unit: multiproc_shared::SemaphoreGuard<'_> = s.guard();
/// drop(unit);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[must_use = "the unit is given back when the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    word: &'a SemaphoreWord,
    /// 0 for an unbounded semaphore.
    bound: u32,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        if self.bound == 0 {
            self.word.release();
        } else {
            // Fails only if someone else over-released meanwhile: nothing to give back.
            let _ = self.word.release_bounded(self.bound);
        }
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound())
            .finish()
    }
}

macro_rules! serde_by_segment {
    ($($ty:ident),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.segment.serialize(serializer)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($ty { segment: segment_of_len(deserializer, SIZE)? })
            }
        }
    )*};
}
serde_by_segment!(Semaphore, BoundedSemaphore);
