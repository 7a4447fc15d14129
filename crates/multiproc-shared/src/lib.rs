//! Shared memory for processes: Value, Array, locks, semaphores, conditions, events, barriers and named SharedMemory.
//!
//! This is the `multiprocessing.Value` / `Array` / `Lock` / ... part of Python's
//! `multiprocessing`, for Rust processes. Every type is a cheap handle onto a
//! [`Segment`] of shared memory: clone it, hand the clone to a child process (as an
//! ordinary `Process` argument, or by letting a forked child inherit it), and both
//! processes see the same memory and the same locks.
//!
//! ```
//! use multiproc_shared::Value;
//!
//! let counter = Value::new(0_i32)?;
//! let for_child = counter.clone(); // pass this to a child process
//! *for_child.lock()? += 1;
//! assert_eq!(counter.get(), 1);
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! What it adds to Python's version:
//!
//! * **Owner death is an error, never a hang.** A process killed while holding a
//!   [`Lock`], an [`RLock`] or the lock of a [`Value`]/[`Array`] is noticed by the next
//!   acquirer within [`words::OWNER_CHECK_INTERVAL`]; it gets [`SharedError::OwnerDied`] (or
//!   [`OwnerDied`] carrying the guard) and **holds the lock**, so it can repair the data.
//! * **Timeouts work** (`acquire_timeout`, `wait_timeout`): relative, on the monotonic clock.
//! * **Nothing leaks.** Segments are anonymous memfds that the kernel frees when the
//!   last process unmaps them, even after a crash. Only the named [`SharedMemory`]
//!   (Python's `shared_memory` module) lives in `/dev/shm` until unlinked.
//! * **Plain data only.** `Value<T>`/`Array<T>` require [`bytemuck::Pod`]: a `String`
//!   or a `Box` holds a pointer that means nothing in another process.
//!
//! The synchronisation words underneath are public in [`words`], for crates that lay
//! out their own shared structures (queues, for instance).
//!
//! # Why not raw_sync
//!
//! The design asked to use the `raw_sync` crate (0.1.5) where it passes this crate's
//! tests. It passes none that matter, so it is not a dependency:
//!
//! * **Timed waits fail with `EINVAL`.** Its absolute `timespec` is not normalised
//!   (nanoseconds are not carried into seconds), so a timeout such as 700 ms fails at
//!   once with probability about 0.7; it also follows the wall clock.
//!   Upstream: <https://github.com/elast0ny/raw_sync-rs/issues/39>; the fix
//!   <https://github.com/elast0ny/raw_sync-rs/pull/38> was closed unreleased.
//! * **No robust mutex.** A process that dies holding its mutex leaves every other
//!   process blocked forever; a robust variant exists only as the unmerged
//!   <https://github.com/elast0ny/raw_sync-rs/pull/17>.
//! * **Unlock by another process is undefined.** Python's `Lock` may be released by
//!   any process; a pthread mutex must be unlocked by the thread that locked it.
//! * It has no semaphore, condition variable, barrier or recursive lock.
//!
//! What replaced it: futex words on `multiproc-sys` (see [`words`]). A lock word holds the
//! owner's pid, with the owner's start time beside it (so a reused pid cannot pass for a
//! dead owner), so an uncontended acquire is one compare-and-swap, release is one swap
//! plus a `FUTEX_WAKE` only when someone sleeps, and a sleeping waiter checks the
//! owner's liveness at a bounded interval. Shared (non-private) futexes key on the
//! mapped page, so processes that map a segment at different addresses wake each other.
//!
//! # Guards: `acquire` returns one
//!
//! Every lock-like type ([`Lock`], [`RLock`], [`Condition`], [`Semaphore`],
//! [`BoundedSemaphore`], and the lock of a [`Value`]/[`Array`]) hands out a `#[must_use]`
//! guard from `acquire()` (and from `acquire_timeout`/`try_acquire`, inside an `Option`),
//! which releases when dropped. Python's
//!
//! ```text
//! lock.acquire()
//! try: ...
//! finally: lock.release()
//! ```
//!
//! is `let _guard = lock.acquire()?;`, and the lock is released where `_guard` goes out of
//! scope, on every path, panics included. Python's cross-process `release()` of a lock
//! acquired elsewhere is still there, under a name that says what it does:
//! `guard.forget()` keeps the lock held past the guard, and `release_unowned()` releases a
//! lock (or semaphore unit) that no guard holds, in any process. Never call
//! `release_unowned()` for what a live guard holds: the guard would release again.
//!
//! ```
//! use multiproc_shared::{Lock, Semaphore};
//!
//! let lock = Lock::new()?;
//! {
//!     let _guard = lock.acquire()?;
//!     assert!(lock.is_locked());
//! }
//! assert!(!lock.is_locked());
//!
//! let items = Semaphore::new(0)?;
//! items.release_unowned(); // a producer signals
//! items.acquire().forget(); // a consumer takes the item for good
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! A guard that is not kept is a warning (`unused_must_use`), so the Python-shaped line
//! that drops it at once does not pass `-D warnings`:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! fn critical(lock: &multiproc_shared::Lock) -> Result<(), multiproc_shared::SharedError> {
//!     lock.acquire()?; // warns: the guard is dropped here, releasing at once
//!     Ok(())
//! }
//! ```
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let units = multiproc_shared::Semaphore::new(1)?;
//! units.acquire(); // warns: the unit is given back at once
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! The same lines with the guard bound to a name compile under the same lint:
//!
//! ```
//! #![deny(unused_must_use)]
//! fn critical(lock: &multiproc_shared::Lock) -> Result<(), multiproc_shared::SharedError> {
//!     let _guard = lock.acquire()?;
//!     Ok(())
//! }
//! let units = multiproc_shared::Semaphore::new(1)?;
//! let _unit = units.acquire();
//! critical(&multiproc_shared::Lock::new()?)?;
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! # Safety
//!
//! No sequence of safe calls can cause undefined behaviour, even while other processes
//! scribble on the shared memory. All `unsafe` lives in one private module (`sys`), under
//! three rules: only atomics are ever referenced in shared memory; bytes are copied by the
//! hardware, outside Rust's memory model ([`Segment::read_at`], [`Segment::write_at`]: on
//! x86_64 `rep movsb` in inline assembly, which the compiler treats as opaque, so a racing
//! peer changes only the values copied; elsewhere relaxed 8-byte atomics); and a
//! `&mut T`/`&mut [T]` exists only inside a [`ValueGuard`]/[`ArrayGuard`], while its lock
//! is held and its "guard out" flag is up. [`RawValue`] and [`RawArray`] use a native atomic
//! when `T` has the size of one, and a sequence lock otherwise. The compiler enforces the
//! rest; each of these fails to compile:
//!
//! A guard's `&mut` cannot outlive the guard:
//!
//! ```compile_fail
//! let value = multiproc_shared::Value::new(0_u32)?;
//! let mut guard = value.lock()?;
//! let inner: &mut u32 = &mut *guard;
//! drop(guard);
//! *inner += 1;
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! Nor the `Value` it came from:
//!
//! ```compile_fail
//! let slice: &mut [u8] = {
//!     let array = multiproc_shared::Array::<u8>::zeroed(4)?;
//!     let mut guard = array.lock()?;
//!     &mut *guard
//! };
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! A guard stays on the thread that holds the lock:
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! let value = multiproc_shared::Value::new(0_u32)?;
//! send(value.lock()?);
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! Shared values hold plain data only (no pointers, every bit pattern valid):
//!
//! ```compile_fail
//! let name = multiproc_shared::RawValue::new(String::from("no"))?;
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! ```compile_fail
//! let flags = multiproc_shared::RawArray::<bool>::zeroed(4)?; // not every byte is a bool
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! The data segment of a value is not reachable from safe code (it would let `read_at`
//! race with a guard's `&mut`):
//!
//! ```compile_fail
//! let value = multiproc_shared::Value::new(0_u32)?;
//! let _ = value.segment();
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! ```compile_fail
//! let value = multiproc_shared::Value::new([0_u64; 4])?;
//! let _ = value.get_lock().segment();
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! Named shared memory, which other processes write, is read and written by copies
//! (`read_at`/`write_at`, which may race); it has no safe slice view:
//!
//! ```compile_fail
//! let block = multiproc_shared::SharedMemory::create_unique(8)?;
//! let bytes: &[u8] = block.as_slice();
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! # Which crate do I need
//!
//! | You want | Depend on |
//! |---|---|
//! | all of it, with Python's names in one place | `multiproc` (the facade; its features pick the parts) |
//! | functions run in child processes: `Process`, start methods, `current_process`, `cpu_count`, `log_to_stderr` | `multiproc-process` |
//! | shared memory and cross-process locks: `Value`, `Array`, `Lock`, `RLock`, `Semaphore`, `Condition`, `Event`, `Barrier`, `SharedMemory` | `multiproc-shared` |
//! | pipes and queues between processes: `Pipe`, `Connection`, `Queue`, `JoinableQueue`, `wait`; with its `listener` feature (default) `Listener`/`Client` over sockets | `multiproc-channel` |
//! | a crash-proof process pool: `Pool`, `map`, `imap`, `apply_async`; it re-exports the process types its signatures name, so it is the only dependency a pool needs | `multiproc-pool` |
//! | the system calls underneath (futexes, pidfds, `fork`, `/proc`), for the other crates | `multiproc-sys` |
//!
//! # Feature flags
//!
//! None. The crate always builds everything it has.
//!
//! # Platform support
//!
//! Linux only (memfd, futex, `/proc`, `/dev/shm`); on other systems the build stops in
//! `multiproc-sys`, which makes every system call of this crate. Owner-death detection is
//! `multiproc_sys::process::is_alive` (`/proc/<pid>/stat`, a zombie counts as dead), so
//! all processes must share a pid namespace; a thread that dies
//! holding a lock inside a live process is not detected (Python does not detect it
//! either).
//!
//! Serializing a handle outside an ipc-channel message (plain postcard, JSON) would drop
//! its file descriptor: byte transports run inside [`with_plain_serialization`], which
//! makes every shared handle refuse to serialize with a clear error.
//!
//! # Examples
//!
//! A lock that another process releases (Python semantics), and a barrier:
//!
//! ```
//! use multiproc_shared::{Barrier, Event, Lock};
//!
//! let lock = Lock::new()?;
//! lock.acquire()?.forget(); // keep it held past the guard
//! let elsewhere = lock.clone(); // e.g. in a child process
//! elsewhere.release_unowned()?;
//!
//! let ready = Event::new()?;
//! ready.set();
//! assert!(ready.wait_timeout(std::time::Duration::from_secs(1)));
//!
//! let barrier = Barrier::new(1)?;
//! assert_eq!(barrier.wait()?, 0);
//! # Ok::<(), multiproc_shared::SharedError>(())
//! ```
//!
//! Across real processes, see `examples/shared_value.rs` and `examples/shared_array.rs`
//! in the repository.
#![cfg(target_os = "linux")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

mod array;
mod barrier;
mod cell;
mod condition;
mod data_lock;
mod error;
mod event;
mod lock;
mod rlock;
mod segment;
mod semaphore;
mod shared_memory;
#[allow(unsafe_code)]
mod sys;
mod value;
pub mod words;

pub use self::array::{Array, ArrayGuard, RawArray};
pub use self::barrier::Barrier;
pub use self::condition::{Condition, ConditionGuard};
pub use self::error::{LockResult, OwnerDied, SharedError};
pub use self::event::Event;
pub use self::lock::{Lock, LockGuard};
pub use self::rlock::{RLock, RLockGuard};
pub use self::segment::{
    Segment, U64Words, WordHandle, plain_serialization_active, refuse_plain_serialization,
    with_plain_serialization, with_plain_serialization_refusals,
};
pub use self::semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use self::shared_memory::SharedMemory;
pub use self::value::{AtomicInteger, RawValue, Value, ValueGuard};
pub use bytemuck::Pod;
