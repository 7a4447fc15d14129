//! Shared memory for processes: Value, Array, locks, semaphores, conditions, events, barriers and named SharedMemory.
#![cfg(target_os = "linux")]

mod error;
mod lock;
mod rlock;
mod segment;
mod sys;
mod value;
pub mod words;

pub use self::error::{Error, LockResult, OwnerDied};
pub use self::lock::{Lock, LockGuard};
pub use self::segment::{Segment, plain_serialization_active, with_plain_serialization};
pub use self::rlock::{RLock, RLockGuard};
pub use self::value::{AtomicInteger, RawValue, Value, ValueGuard};
