//! The lock of a `Value` or `Array` as their accessors and guards use it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::Segment;
use crate::sys::GuardHeld;
use crate::words::{Acquire, RLockWord};

/// Where the data of a `Value` or `Array` (or the values of a `RawValue`/`RawArray`)
/// starts: past the lock (or sequence) word, on its own cache line, and aligned for `T`
/// (the segment itself is page-aligned).
pub(crate) const fn data_offset<T>() -> usize {
    if align_of::<T>() > 64 {
        align_of::<T>()
    } else {
        64
    }
}

/// Where the data of a `Value` starts: in the lock's own cache line, on the 8-byte words
/// after the guard flag, when `T` fits there (at most 32 bytes, aligned to at most 32), so
/// that a locked update touches one cache line, as a pthread mutex beside its data does;
/// else where [`data_offset`] says. The data never shares an 8-byte word with the lock's
/// words (the crate accesses a word with one size of atomic only).
pub(crate) const fn value_data_offset<T>() -> usize {
    const BESIDE_LOCK: usize = 32;
    if size_of::<T>() <= 64 - BESIDE_LOCK && align_of::<T>() <= BESIDE_LOCK {
        BESIDE_LOCK
    } else {
        data_offset::<T>()
    }
}

/// Where the "a guard is out" flag of a `Value` or `Array` lives, after its `RLockWord`.
pub(crate) const GUARD_FLAG: usize = size_of::<RLockWord>();

/// The lock is an `RLock`, so Python's `with v.get_lock(): v.value += 1` works: `get`
/// and `set` re-acquire it recursively. A guard that hands out `&mut T` is different: a
/// second guard, or `get`/`set`, on the same thread would alias it, so the segment
/// records that a guard is out and those calls panic instead.
pub(crate) struct DataLock<'a> {
    word: &'a RLockWord,
    guard_out: &'a AtomicU32,
}

impl<'a> DataLock<'a> {
    #[inline]
    pub(crate) fn of(segment: &'a Segment) -> DataLock<'a> {
        DataLock {
            word: segment.placed(0),
            guard_out: segment.placed(GUARD_FLAG),
        }
    }

    /// Takes the lock: a free lock with one compare-and-swap (then the caller owns its first
    /// level, and no guard of this process can be out, since a guard holds the lock), else
    /// by [`acquire_held`](DataLock::acquire_held).
    #[inline]
    fn acquire(&self, deadline: Option<Instant>, what: &str) -> Acquire {
        if self.word.acquire_if_free() {
            // A flag raised at the first level was left by a dead owner (or written by a
            // peer). A live guard keeps its level of the lock.
            self.guard_out.store(0, Ordering::Relaxed);
            return Acquire::Acquired;
        }
        self.acquire_held(deadline, what)
    }

    /// [`acquire`](DataLock::acquire) once the lock was seen held: by this thread (one
    /// more level, refused while a guard is out), or by another thread or process (wait).
    #[cold]
    #[inline(never)]
    fn acquire_held(&self, deadline: Option<Instant>, what: &str) -> Acquire {
        // The flag is only ours to read while we own the lock.
        assert!(
            !(self.word.is_owned() && self.guard_out.load(Ordering::Relaxed) != 0),
            "{what} called while this thread holds a guard of the same data; use the guard"
        );
        let outcome = self.word.acquire_held(deadline);
        if outcome.is_held() && self.word.count() == 1 {
            // As in `acquire`: a first-level owner has no guard out.
            self.guard_out.store(0, Ordering::Relaxed);
        }
        outcome
    }

    /// Takes the lock for one short access (get/set/copy). Owner death is logged, since
    /// the access itself cannot report it.
    #[inline]
    pub(crate) fn begin_access(&self, what: &str) {
        if self.acquire(None, what) == Acquire::OwnerDied {
            log::warn!(
                "{what}: the previous owner of the lock died while holding it; the data may be inconsistent"
            );
        }
    }

    /// Takes the lock for one short access if that needs no waiting (for `Debug`, which
    /// must never block or panic): `false` if another thread or process holds it, or if
    /// this thread holds a guard of the data.
    pub(crate) fn try_begin_access(&self) -> bool {
        if self.word.is_owned() && self.guard_out.load(Ordering::Relaxed) != 0 {
            return false;
        }
        let outcome = self.word.try_acquire();
        if outcome.is_held() && self.word.count() == 1 {
            // As in `acquire`: a flag raised at the first level was left by a dead owner.
            self.guard_out.store(0, Ordering::Relaxed);
        }
        outcome.is_held()
    }

    #[inline]
    pub(crate) fn end_access(&self) {
        let _ = self.word.release_level();
    }

    /// Takes the lock for a guard if it is free: one compare-and-swap. The first level of
    /// a lock that was free: as in `acquire`, no guard of this process is out, so the flag
    /// is raised with a store.
    #[inline]
    pub(crate) fn guard_if_free(&self) -> Option<GuardHeld> {
        if self.word.acquire_if_free() {
            return Some(GuardHeld::raise_first(self.word, self.guard_out));
        }
        None
    }

    /// Takes the lock for a guard: `None` if the deadline passed.
    #[inline]
    pub(crate) fn acquire_guard(
        &self,
        deadline: Option<Instant>,
        what: &str,
    ) -> Option<(GuardHeld, Acquire)> {
        if let Some(held) = self.guard_if_free() {
            return Some((held, Acquire::Acquired));
        }
        self.acquire_guard_held(deadline, what)
    }

    /// Takes the lock for a guard, waiting as long as it takes, once
    /// [`guard_if_free`](DataLock::guard_if_free) found it held.
    #[cold]
    #[inline(never)]
    pub(crate) fn wait_for_guard(&self, what: &str) -> (GuardHeld, Acquire) {
        match self.acquire_guard_held(None, what) {
            Some(taken) => taken,
            None => unreachable!("{what}: an acquire without a deadline does not time out"),
        }
    }

    /// [`acquire_guard`](DataLock::acquire_guard) once the lock was seen held.
    #[cold]
    #[inline(never)]
    fn acquire_guard_held(
        &self,
        deadline: Option<Instant>,
        what: &str,
    ) -> Option<(GuardHeld, Acquire)> {
        let outcome = self.acquire_held(deadline, what);
        if !outcome.is_held() {
            return None;
        }
        match GuardHeld::claim(self.word, self.guard_out) {
            Some(held) => Some((held, outcome)),
            None => {
                let _ = self.word.release();
                // `acquire` checked the flag was down and this thread owns the lock.
                unreachable!("{what}: the guard flag of a lock this thread just took is up")
            }
        }
    }

    #[inline]
    pub(crate) fn release_guard(&self, held: &mut GuardHeld) {
        held.give_back(self.guard_out);
        // `GuardHeld` is not `Send`: this is the thread that took the lock.
        self.word.release_guard_level();
    }
}

#[cfg(not(loom))]
const _: () = assert!(
    GUARD_FLAG + size_of::<u32>() <= value_data_offset::<u64>(),
    "a Value's data starts past its lock's words"
);
