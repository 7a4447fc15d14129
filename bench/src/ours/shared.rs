//! `multiproc-shared`: `Value`, `Lock`, atomics, `Array` and named `SharedMemory`.

use crate::measure::{Outcome, Params};

/// Two fork-started processes each add 1 to one `Value<i64>` `n / 2` times under
/// `value.lock()`; a sample is the time from the first start to the second join.
pub(crate) fn value_locked_increments(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::shared::Value::lock and multiproc::process (fork)")
}

/// `lock.acquire()` + `lock.release()` of an uncontended `Lock`, `n` times.
pub(crate) fn lock_uncontended(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::shared::Lock::{new, acquire, release}")
}

/// Two fork-started processes each `fetch_add(1)` `n / 2` times on one `Value<i64>`.
pub(crate) fn atomic_fetch_add(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::shared::Value::fetch_add and multiproc::process (fork)")
}

/// Fill an already-touched `Array::<f64>::zeroed(n)` with `0, 1, 2, ...` through
/// `array.lock()` and sum it (the body is `crate::floor::fill_and_sum`).
pub(crate) fn array_fill_sum(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::shared::Array::{zeroed, lock}")
}

/// `SharedMemory::create(name, 4096)`, `SharedMemory::attach(name)`, close both, unlink;
/// `n` times.
pub(crate) fn shared_memory_cycle(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::shared::SharedMemory::{create, attach, close, unlink}")
}
