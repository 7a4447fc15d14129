//! `Barrier`: a rendezvous point for a fixed number of processes.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lock::{deadline_after, segment_of_len};
use crate::words::{Acquire, CondvarWord, LockWord};
use crate::{Segment, SharedError};

// Layout of the segment. All fields but the lock and condvar are changed only under the lock.
const LOCK: usize = 0;
const CONDVAR: usize = 8;
const PARTIES: usize = 16;
/// Parties waiting in the current generation.
const COUNT: usize = 20;
/// Non-zero while the barrier is broken.
const BROKEN: usize = 24;
/// Incremented each time a generation ends, by a trip or a reset.
const GENERATION: usize = 28;
/// Outcome of the last 64 generations, newest in bit 0: 1 tripped, 0 broken by reset.
/// A waiter that wakes late reads its own generation's outcome here.
const HISTORY: usize = 32;
const SIZE: usize = 40;

/// A barrier for a fixed number of parties in any processes (Python's
/// `multiprocessing.Barrier`, without the `action` callable, which cannot cross
/// processes).
///
/// Each [`wait`](Barrier::wait) blocks until `parties` waits have arrived, then all
/// return, each with a distinct index in `0..parties`. A timed-out wait, an
/// [`abort`](Barrier::abort), or the death of a process inside the barrier's own short
/// critical section breaks it: waiters get [`SharedError::BrokenBarrier`] until
/// [`reset`](Barrier::reset). A party that dies while waiting is still counted, so the
/// others are never wedged by it (use a timeout to notice missing parties).
///
/// ```
/// use multiproc_shared::Barrier;
///
/// let barrier = Barrier::new(1)?;
/// assert_eq!(barrier.wait()?, 0);
/// barrier.abort();
/// assert!(barrier.wait().is_err());
/// barrier.reset();
/// assert_eq!(barrier.wait()?, 0);
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Barrier")]
#[derive(Clone)]
pub struct Barrier {
    segment: Segment,
}

impl Barrier {
    /// Creates a barrier for `parties` (at least 1) waits per round.
    ///
    /// ```
    /// let b = multiproc_shared::Barrier::new(3)?;
    /// assert_eq!(b.parties(), 3);
    /// assert!(multiproc_shared::Barrier::new(0).is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new(parties: u32) -> Result<Barrier, SharedError> {
        if parties == 0 {
            return Err(SharedError::InvalidArgument(
                "a barrier needs at least one party",
            ));
        }
        let barrier = Barrier {
            segment: Segment::new(SIZE)?,
        };
        barrier.u32_at(PARTIES).store(parties, Ordering::Relaxed);
        Ok(barrier)
    }

    fn lock_word(&self) -> &LockWord {
        self.segment.placed(LOCK)
    }

    fn condvar(&self) -> &CondvarWord {
        self.segment.placed(CONDVAR)
    }

    fn u32_at(&self, offset: usize) -> &AtomicU32 {
        self.segment.placed(offset)
    }

    fn history(&self) -> &AtomicU64 {
        self.segment.placed(HISTORY)
    }

    /// The number of waits needed to trip the barrier.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Barrier::new(2)?.parties(), 2);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn parties(&self) -> u32 {
        self.u32_at(PARTIES).load(Ordering::Relaxed)
    }

    /// The number of parties currently waiting.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Barrier::new(2)?.n_waiting(), 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn n_waiting(&self) -> u32 {
        self.u32_at(COUNT).load(Ordering::Relaxed)
    }

    /// Whether the barrier is broken.
    ///
    /// ```
    /// let b = multiproc_shared::Barrier::new(2)?;
    /// b.abort();
    /// assert!(b.broken());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn broken(&self) -> bool {
        self.u32_at(BROKEN).load(Ordering::Relaxed) != 0
    }

    /// Takes the internal lock. If its holder died mid-update, the state may be torn:
    /// break the barrier rather than trust it.
    fn enter(&self) {
        if self.lock_word().acquire(None) == Acquire::OwnerDied {
            self.break_locked();
        }
    }

    fn leave(&self) {
        let _ = self.lock_word().release();
    }

    fn break_locked(&self) {
        self.u32_at(BROKEN).store(1, Ordering::Relaxed);
        self.condvar().notify_all();
    }

    /// Waits for all parties; returns this party's index in `0..parties`.
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Barrier::new(1)?.wait()?, 0);
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait(&self) -> Result<u32, SharedError> {
        self.wait_until(None)
    }

    /// Like [`wait`](Barrier::wait), for at most `timeout`; a timeout breaks the barrier
    /// and returns [`SharedError::BrokenBarrier`] (as in Python).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = multiproc_shared::Barrier::new(2)?;
    /// assert!(b.wait_timeout(Duration::from_millis(10)).is_err());
    /// assert!(b.broken());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32, SharedError> {
        self.wait_until(deadline_after(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u32, SharedError> {
        self.enter();
        let result = self.wait_locked(deadline);
        self.leave();
        result
    }

    fn wait_locked(&self, deadline: Option<Instant>) -> Result<u32, SharedError> {
        let (count, generation) = (self.u32_at(COUNT), self.u32_at(GENERATION));
        if self.broken() {
            return Err(SharedError::BrokenBarrier);
        }
        let my_generation = generation.load(Ordering::Relaxed);
        let index = count.load(Ordering::Relaxed);
        if index + 1 >= self.parties() {
            count.store(0, Ordering::Relaxed);
            self.end_generation(true);
            return Ok(index);
        }
        count.store(index + 1, Ordering::Relaxed);
        loop {
            let outcome = self.condvar().wait(self.lock_word(), deadline);
            let now = generation.load(Ordering::Relaxed);
            if now != my_generation {
                let age = now.wrapping_sub(my_generation) - 1;
                let tripped = age >= 64 || (self.history().load(Ordering::Relaxed) >> age) & 1 == 1;
                return if tripped {
                    Ok(index)
                } else {
                    Err(SharedError::BrokenBarrier)
                };
            }
            if outcome != Acquire::Acquired {
                // Timed out, or took over the lock of a process that died in it.
                self.break_locked();
            }
            if self.broken() {
                count.fetch_sub(1, Ordering::Relaxed);
                return Err(SharedError::BrokenBarrier);
            }
        }
    }

    /// Ends the current generation (under the lock) and wakes its waiters.
    fn end_generation(&self, tripped: bool) {
        let history = self.history().load(Ordering::Relaxed);
        self.history()
            .store((history << 1) | u64::from(tripped), Ordering::Relaxed);
        self.u32_at(GENERATION).fetch_add(1, Ordering::Relaxed);
        self.condvar().notify_all();
    }

    /// Breaks the barrier: current and future waiters get [`SharedError::BrokenBarrier`]
    /// until [`reset`](Barrier::reset).
    ///
    /// ```
    /// let b = multiproc_shared::Barrier::new(2)?;
    /// b.abort();
    /// assert!(b.wait().is_err());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn abort(&self) {
        self.enter();
        self.break_locked();
        self.leave();
    }

    /// Returns the barrier to its initial state; parties waiting now get
    /// [`SharedError::BrokenBarrier`].
    ///
    /// ```
    /// let b = multiproc_shared::Barrier::new(2)?;
    /// b.abort();
    /// b.reset();
    /// assert!(!b.broken());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn reset(&self) {
        self.enter();
        if self.u32_at(COUNT).load(Ordering::Relaxed) > 0 {
            self.end_generation(false);
        }
        self.u32_at(COUNT).store(0, Ordering::Relaxed);
        self.u32_at(BROKEN).store(0, Ordering::Relaxed);
        self.leave();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}

impl Serialize for Barrier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.segment.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Barrier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Barrier, D::Error> {
        Ok(Barrier {
            segment: segment_of_len(deserializer, SIZE)?,
        })
    }
}
