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
/// let first = slots.acquire();
/// let second = slots.try_acquire();
/// assert!(second.is_some());
/// assert!(slots.try_acquire().is_none());
/// drop(second);
/// assert_eq!(slots.value(), 1);
/// drop(first);
///
/// // As a signal between processes: the consumer keeps the unit it takes.
/// let items = Semaphore::new(0)?;
/// items.release_unowned(); // producer
/// items.acquire().forget(); // consumer
/// assert_eq!(items.value(), 0);
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

    /// Takes a unit, waiting as long as it takes, and returns a guard that gives it back
    /// when dropped (the same as [`guard`](Semaphore::guard)). To keep the unit (a consumer
    /// of a signalling semaphore), call [`SemaphoreGuard::forget`].
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(1)?;
    /// {
    ///     let _unit = s.acquire();
    ///     assert_eq!(s.value(), 0);
    /// }
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn acquire(&self) -> SemaphoreGuard<'_> {
        self.word().acquire(None);
        self.unit()
    }

    /// Takes a unit, waiting at most `timeout`; `None` if none came free.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(0)?;
    /// assert!(s.acquire_timeout(std::time::Duration::from_millis(10)).is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.word()
            .acquire(deadline_after(timeout))
            .then(|| self.unit())
    }

    /// Takes a unit if one is free (Python's `acquire(block=False)`).
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(1)?;
    /// let unit = s.try_acquire();
    /// assert!(unit.is_some());
    /// assert!(s.try_acquire().is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.word().try_acquire().then(|| self.unit())
    }

    /// Gives a unit that no guard holds (Python's `release()`), from any process, and
    /// wakes a waiter: a producer signalling a consumer, or the return of a unit whose
    /// guard was [forgotten](SemaphoreGuard::forget). Never call it for a unit a live
    /// guard holds: the guard gives it back too when dropped.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(0)?;
    /// s.release_unowned();
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "release")]
    pub fn release_unowned(&self) {
        self.word().release();
    }

    fn unit(&self) -> SemaphoreGuard<'_> {
        SemaphoreGuard {
            word: self.word(),
            bound: 0,
        }
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
        self.acquire()
    }
}

/// A `Semaphore` that refuses to be released above its initial value
/// (Python's `multiprocessing.BoundedSemaphore`).
///
/// ```
/// use multiproc_shared::{BoundedSemaphore, SharedError};
///
/// let s = BoundedSemaphore::new(1)?;
/// assert!(matches!(s.release_unowned(), Err(SharedError::TooManyReleases)));
/// s.acquire().forget();
/// s.release_unowned()?;
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

    /// Takes a unit, waiting as long as it takes, and returns a guard that gives it back
    /// when dropped (the same as [`guard`](BoundedSemaphore::guard)). To keep the unit (a consumer
    /// of a signalling semaphore), call [`SemaphoreGuard::forget`].
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// {
    ///     let _unit = s.acquire();
    ///     assert_eq!(s.value(), 0);
    /// }
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn acquire(&self) -> SemaphoreGuard<'_> {
        self.word().acquire(None);
        self.unit()
    }

    /// Takes a unit, waiting at most `timeout`; `None` if none came free.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(0)?;
    /// assert!(s.acquire_timeout(std::time::Duration::from_millis(10)).is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        self.word()
            .acquire(deadline_after(timeout))
            .then(|| self.unit())
    }

    /// Takes a unit if one is free (Python's `acquire(block=False)`).
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// let unit = s.try_acquire();
    /// assert!(unit.is_some());
    /// assert!(s.try_acquire().is_none());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[must_use = "the unit is given back when the guard is dropped; `.forget()` keeps it"]
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.word().try_acquire().then(|| self.unit())
    }

    /// Gives a unit that no guard holds (Python's `release()`), from any process;
    /// [`SharedError::TooManyReleases`] if that would exceed the bound. Never call it for a unit
    /// a live guard holds: the guard gives it back too when dropped.
    ///
    /// ```
    /// let s = multiproc_shared::BoundedSemaphore::new(1)?;
    /// assert!(s.release_unowned().is_err());
    /// s.acquire().forget();
    /// s.release_unowned()?;
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    #[doc(alias = "release")]
    pub fn release_unowned(&self) -> Result<(), SharedError> {
        if self.word().release_bounded(self.bound()) {
            Ok(())
        } else {
            Err(SharedError::TooManyReleases)
        }
    }

    fn unit(&self) -> SemaphoreGuard<'_> {
        SemaphoreGuard {
            word: self.word(),
            bound: self.bound(),
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
        self.acquire()
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

impl SemaphoreGuard<'_> {
    /// Gives up the guard and keeps the unit: nothing is given back on drop. Python's
    /// `acquire()` without a matching `release()`; another process may give a unit back
    /// later with `release_unowned`.
    ///
    /// ```
    /// let s = multiproc_shared::Semaphore::new(1)?;
    /// s.acquire().forget();
    /// assert_eq!(s.value(), 0);
    /// s.release_unowned();
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
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
