//! Lock-free access to plain data in shared memory, as crossbeam's `AtomicCell` does it:
//! a value whose size is that of a native atomic (1, 2, 4 or 8 bytes) is one atomic load
//! or store; a larger one is guarded by a sequence lock. Used by `RawValue` and `RawArray`.
//!
//! The data of a larger value is copied with [`Segment::read_at`]/[`Segment::write_at`],
//! which use 8-byte atomics only, so a torn read is never a data race: the sequence lock
//! only tells the reader to try again.

use std::sync::atomic::{self, AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use bytemuck::Pod;

use crate::words::OWNER_CHECK_INTERVAL;
use crate::{Segment, SharedError};

/// Whether a `T` is accessed as one native atomic.
pub(crate) const fn is_native<T>() -> bool {
    matches!(size_of::<T>(), 1 | 2 | 4 | 8)
}

/// Loads the `T` at `offset` with one atomic load of its size (`is_native::<T>()`).
pub(crate) fn load_native<T: Pod>(segment: &Segment, offset: usize) -> Result<T, SharedError> {
    load_native_ordered(segment, offset, Ordering::SeqCst)
}

/// [`load_native`] with the given ordering (`Relaxed` under a lock, whose acquire and
/// release order the access).
pub(crate) fn load_native_ordered<T: Pod>(
    segment: &Segment,
    offset: usize,
    order: Ordering,
) -> Result<T, SharedError> {
    let mapping = segment.mapping();
    let value = match size_of::<T>() {
        1 => bytemuck::pod_read_unaligned(
            &mapping
                .atomic::<AtomicU8>(offset)?
                .load(order)
                .to_ne_bytes(),
        ),
        2 => bytemuck::pod_read_unaligned(
            &mapping
                .atomic::<AtomicU16>(offset)?
                .load(order)
                .to_ne_bytes(),
        ),
        4 => bytemuck::pod_read_unaligned(
            &mapping
                .atomic::<AtomicU32>(offset)?
                .load(order)
                .to_ne_bytes(),
        ),
        8 => bytemuck::pod_read_unaligned(
            &mapping
                .atomic::<AtomicU64>(offset)?
                .load(order)
                .to_ne_bytes(),
        ),
        _ => {
            return Err(SharedError::Unaligned {
                offset,
                align: size_of::<T>(),
            });
        }
    };
    Ok(value)
}

/// Stores `value` at `offset` with one atomic store of its size (`is_native::<T>()`).
pub(crate) fn store_native<T: Pod>(
    segment: &Segment,
    offset: usize,
    value: T,
) -> Result<(), SharedError> {
    store_native_ordered(segment, offset, value, Ordering::SeqCst)
}

/// [`store_native`] with the given ordering (`Relaxed` under a lock).
pub(crate) fn store_native_ordered<T: Pod>(
    segment: &Segment,
    offset: usize,
    value: T,
    order: Ordering,
) -> Result<(), SharedError> {
    let mapping = segment.mapping();
    let bytes = bytemuck::bytes_of(&value);
    match size_of::<T>() {
        1 => mapping
            .atomic::<AtomicU8>(offset)?
            .store(u8::from_ne_bytes(bits(bytes)), order),
        2 => mapping
            .atomic::<AtomicU16>(offset)?
            .store(u16::from_ne_bytes(bits(bytes)), order),
        4 => mapping
            .atomic::<AtomicU32>(offset)?
            .store(u32::from_ne_bytes(bits(bytes)), order),
        8 => mapping
            .atomic::<AtomicU64>(offset)?
            .store(u64::from_ne_bytes(bits(bytes)), order),
        _ => {
            return Err(SharedError::Unaligned {
                offset,
                align: size_of::<T>(),
            });
        }
    }
    Ok(())
}

/// The bytes of a value as an array of the atomic's size (callers match the size first).
fn bits<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// Reads a `T` at `offset` as bytes (8-byte atomic copies, possibly torn).
pub(crate) fn read_bytes<T: Pod>(segment: &Segment, offset: usize) -> Result<T, SharedError> {
    let mut value = T::zeroed();
    segment.read_at(offset, bytemuck::bytes_of_mut(&mut value))?;
    Ok(value)
}

/// A sequence lock in one `AtomicU64` of shared memory: the low 32 bits count writes
/// (odd while one is under way), the high 32 bits hold the writer's pid while it writes,
/// so that a writer that died mid-write can be told from a slow one. Writers exclude each
/// other with a compare-and-swap that makes the count odd.
pub(crate) struct SeqLock<'a> {
    state: &'a AtomicU64,
}

const COUNT_MASK: u64 = 0xffff_ffff;

/// The unlocked state that follows `state`.
fn next_even(state: u64) -> u64 {
    (state & COUNT_MASK).wrapping_add(1) & COUNT_MASK
}

impl<'a> SeqLock<'a> {
    /// The lock whose state word is at byte 0 of `segment`.
    pub(crate) fn of(segment: &'a Segment) -> SeqLock<'a> {
        SeqLock {
            state: segment.placed(0),
        }
    }

    /// Runs `read` until it ran while no writer wrote, and returns its result.
    pub(crate) fn read<R>(&self, mut read: impl FnMut() -> R) -> R {
        let mut wait = Wait::new();
        loop {
            let before = self.state.load(Ordering::Acquire);
            if before & 1 == 0 {
                let result = read();
                atomic::fence(Ordering::Acquire);
                if self.state.load(Ordering::Relaxed) == before {
                    return result;
                }
            } else {
                wait.writer(self.state, before);
            }
        }
    }

    /// Runs `write` as the only writer, while readers retry.
    pub(crate) fn write<R>(&self, write: impl FnOnce() -> R) -> R {
        let me = u64::from(multiproc_sys::process::pid());
        let mut wait = Wait::new();
        let unlocked = loop {
            let current = self.state.load(Ordering::Relaxed);
            if current & 1 == 0 {
                let writing = (me << 32) | ((current + 1) & COUNT_MASK);
                if self
                    .state
                    .compare_exchange_weak(current, writing, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    break next_even(writing);
                }
            } else {
                wait.writer(self.state, current);
            }
        };
        // Orders the odd count before the data stores (crossbeam's `SeqLock::write`).
        atomic::fence(Ordering::Release);
        let result = write();
        self.state.store(unlocked, Ordering::Release);
        result
    }
}

/// Waiting for a writer: spin, then yield, and every [`OWNER_CHECK_INTERVAL`] on the same
/// odd state, check that its writer lives; a dead writer's write is abandoned (the data may
/// be half-written, which for plain data is a value, not undefined behaviour).
struct Wait {
    spins: u32,
    observed: u64,
    since: Option<Instant>,
}

impl Wait {
    fn new() -> Wait {
        Wait {
            spins: 0,
            observed: 0,
            since: None,
        }
    }

    fn writer(&mut self, state: &AtomicU64, observed: u64) {
        if self.spins < 64 {
            self.spins += 1;
            std::hint::spin_loop();
            return;
        }
        std::thread::yield_now();
        let since = match self.since {
            Some(since) if self.observed == observed => since,
            _ => {
                self.observed = observed;
                self.since = Some(Instant::now());
                return;
            }
        };
        if since.elapsed() < OWNER_CHECK_INTERVAL {
            return;
        }
        self.since = Some(Instant::now());
        let writer = u32::try_from(observed >> 32).unwrap_or(0);
        let me = multiproc_sys::process::pid();
        if writer == me || (writer != 0 && multiproc_sys::process::is_alive(writer)) {
            return;
        }
        if state
            .compare_exchange(
                observed,
                next_even(observed),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            log::warn!(
                "the writer of a shared raw value (pid {writer}) died while writing it; the value may be half-written"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_writer_does_not_hang_readers_or_writers() {
        let segment = Segment::new(128).unwrap();
        let state: &AtomicU64 = segment.placed(0);
        // A pid far above pid_max cannot be alive; an odd count: "writing".
        state.store((0x3FFF_FFF0_u64 << 32) | 7, Ordering::Relaxed);
        let lock = SeqLock::of(&segment);
        assert_eq!(lock.read(|| 5), 5);
        assert_eq!(state.load(Ordering::Relaxed), 8);
        state.store((0x3FFF_FFF0_u64 << 32) | 9, Ordering::Relaxed);
        lock.write(|| ());
        assert_eq!(state.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn a_live_writer_is_waited_for() {
        let segment = Segment::new(128).unwrap();
        let state: &AtomicU64 = segment.placed(0);
        let me = u64::from(multiproc_sys::process::pid());
        state.store((me << 32) | 1, Ordering::Relaxed);
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| SeqLock::of(&segment).read(|| 1));
            // The reader cannot finish while "this process" writes; it still runs after
            // more than one owner-check interval.
            std::thread::sleep(OWNER_CHECK_INTERVAL * 3);
            assert!(!reader.is_finished());
            state.store(2, Ordering::Release);
            assert_eq!(reader.join().unwrap(), 1);
        });
    }
}
