//! `multiproc-shared`: `Value`, `Lock`, atomics, `Array` and named `SharedMemory`.

use multiproc::process::{StartMethod, get_context};
use multiproc::shared::{Array, Lock, SharedMemory, Value};

use super::fail;
use crate::floor;
use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};

/// Child target: `count` increments of `value` under its lock; false if the lock reported
/// a dead owner.
fn add_locked(value: Value<i64>, count: u64) -> bool {
    for _ in 0..count {
        match value.lock() {
            Ok(mut guard) => *guard += 1,
            Err(_) => return false,
        }
    }
    true
}

/// Child target: `count` lock-free `fetch_add(1)` on `value`.
fn add_atomic(value: Value<i64>, count: u64) {
    for _ in 0..count {
        value.fetch_add(1);
    }
}

/// Two fork-started processes each add 1 to one `Value<i64>` `n / 2` times under
/// `value.lock()`; a sample is the time from the first start to the second join.
pub(crate) fn value_locked_increments(params: &Params) -> Outcome {
    let context = get_context(StartMethod::Fork);
    let per_process = params.n / 2;
    time_repeats(params, || -> Result<(), BoxError> {
        let value = Value::<i64>::new(0).map_err(fail)?;
        let mut first = context.process(add_locked, (value.clone(), per_process));
        let mut second = context.process(add_locked, (value.clone(), per_process));
        first.start().map_err(fail)?;
        second.start().map_err(fail)?;
        let ok = first.join().map_err(fail)? & second.join().map_err(fail)?;
        ensure(ok, || "a lock owner died".into())?;
        let total = value.get();
        ensure(total == 2 * per_process as i64, || {
            format!("counter {total}")
        })?;
        Ok(())
    })
    .into()
}

/// `lock.acquire()` + `lock.release()` of an uncontended `Lock`, `n` times.
pub(crate) fn lock_uncontended(params: &Params) -> Outcome {
    (|| {
        let lock = Lock::new().map_err(fail)?;
        time_repeats(params, || -> Result<(), BoxError> {
            for _ in 0..params.n {
                lock.acquire().map_err(fail)?;
                lock.release().map_err(fail)?;
            }
            Ok(())
        })
    })()
    .into()
}

/// Two fork-started processes each `fetch_add(1)` `n / 2` times on one `Value<i64>`.
pub(crate) fn atomic_fetch_add(params: &Params) -> Outcome {
    let context = get_context(StartMethod::Fork);
    let per_process = params.n / 2;
    time_repeats(params, || -> Result<(), BoxError> {
        let value = Value::<i64>::new(0).map_err(fail)?;
        let mut first = context.process(add_atomic, (value.clone(), per_process));
        let mut second = context.process(add_atomic, (value.clone(), per_process));
        first.start().map_err(fail)?;
        second.start().map_err(fail)?;
        first.join().map_err(fail)?;
        second.join().map_err(fail)?;
        let total = value.get();
        ensure(total == 2 * per_process as i64, || {
            format!("counter {total}")
        })?;
        Ok(())
    })
    .into()
}

/// Fill an already-touched `Array::<f64>::zeroed(n)` with `0, 1, 2, ...` through
/// `array.lock()` and sum it (the body is `crate::floor::fill_and_sum`).
pub(crate) fn array_fill_sum(params: &Params) -> Outcome {
    (|| {
        let array = Array::<f64>::zeroed(params.n as usize).map_err(fail)?;
        let fill_and_sum = || -> Result<f64, BoxError> {
            let mut guard = array.lock().map_err(|_| "the array's lock owner died")?;
            Ok(floor::fill_and_sum(&mut guard))
        };
        fill_and_sum()?; // touch every page before timing, as the floor does
        time_repeats(params, || -> Result<(), BoxError> {
            let sum = fill_and_sum()?;
            let n = params.n as f64;
            ensure(sum == n * (n - 1.0) / 2.0, || format!("sum {sum}"))?;
            Ok(())
        })
    })()
    .into()
}

/// `SharedMemory::create(name, 4096)`, `SharedMemory::attach(name)`, close both, unlink;
/// `n` times.
pub(crate) fn shared_memory_cycle(params: &Params) -> Outcome {
    let mut counter = 0u64;
    time_repeats(params, || -> Result<(), BoxError> {
        for _ in 0..params.n {
            counter += 1;
            let name = format!("mpbench-rs-{}-{counter}", std::process::id());
            let created = SharedMemory::create(&name, 4096).map_err(fail)?;
            let attached = SharedMemory::attach(&name).map_err(fail)?;
            attached.close();
            created.unlink().map_err(fail)?;
            created.close();
        }
        Ok(())
    })
    .into()
}
