//! Shared memory for processes: Value, Array, locks, semaphores, conditions, events, barriers and named SharedMemory.
#![cfg(target_os = "linux")]

mod array;
mod barrier;
mod condition;
mod error;
mod event;
mod lock;
mod rlock;
mod segment;
mod semaphore;
mod shared_memory;
mod sys;
mod value;
pub mod words;

pub use self::error::{Error, LockResult, OwnerDied};
pub use self::lock::{Lock, LockGuard};
pub use self::segment::{Segment, plain_serialization_active, with_plain_serialization};
pub use self::rlock::{RLock, RLockGuard};
pub use self::value::{AtomicInteger, RawValue, Value, ValueGuard};
pub use self::array::{Array, ArrayGuard, RawArray};
pub use self::barrier::Barrier;
pub use self::condition::{Condition, ConditionGuard};
pub use self::event::Event;
pub use self::semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use self::shared_memory::SharedMemory;
