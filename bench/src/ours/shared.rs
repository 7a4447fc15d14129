//! `multiproc-shared`: `Value`, `Lock`, atomics, `Array` and named `SharedMemory`.

use std::time::Instant;

use multiproc::process::{StartMethod, Target, get_context};
use multiproc::shared::{Array, Lock, SharedMemory, Value};

use super::fail;
use crate::floor;
use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};

/// The value of the start gate that lets the children run, as in the floor.
const GATE_OPEN: i64 = crate::floor::GATE_OPEN as i64;

/// First thing in a contending child: announce itself on `gate`, wait until it opens.
fn wait_at_gate(gate: &Value<i64>) {
    gate.fetch_add(1);
    while gate.load() < GATE_OPEN {
        std::hint::spin_loop();
    }
}

/// Child target: `count` increments of `value` under its lock; false if the lock reported
/// a dead owner.
fn add_locked(value: Value<i64>, gate: Value<i64>, count: u64) -> bool {
    wait_at_gate(&gate);
    for _ in 0..count {
        match value.lock() {
            Ok(mut guard) => *guard += 1,
            Err(_) => return false,
        }
    }
    true
}

/// Child target: `count` lock-free `fetch_add(1)` on `value`.
fn add_atomic(value: Value<i64>, gate: Value<i64>, count: u64) -> bool {
    wait_at_gate(&gate);
    for _ in 0..count {
        value.fetch_add(1);
    }
    true
}

/// Runs `target(value, gate, n / 2)` in two fork-started processes that start together
/// (the protocol of the floor's `two_children_together`): a sample is the time from the
/// opening of the gate to both joins; then `value` must hold `n` (rounded down to even).
fn two_children_together<F>(params: &Params, target: F) -> Result<Vec<f64>, BoxError>
where
    // A function item (zero-sized), not a fn pointer: the child finds it by its type.
    F: Target<(Value<i64>, Value<i64>, u64), Output = bool>,
{
    let context = get_context(StartMethod::Fork);
    let per_process = params.n / 2;
    let mut samples = Vec::with_capacity(params.repeats);
    for _ in 0..params.repeats {
        let value = Value::<i64>::new(0).map_err(fail)?;
        let gate = Value::<i64>::new(0).map_err(fail)?;
        let mut first = context.process(target, (value.clone(), gate.clone(), per_process));
        let mut second = context.process(target, (value.clone(), gate.clone(), per_process));
        first.start().map_err(fail)?;
        second.start().map_err(fail)?;
        while gate.load() < 2 {
            std::thread::yield_now();
        }
        let start = Instant::now();
        gate.store(GATE_OPEN);
        let ok = first.join().map_err(fail)? & second.join().map_err(fail)?;
        samples.push(start.elapsed().as_secs_f64());
        ensure(ok, || "a lock owner died".into())?;
        let total = value.get();
        ensure(total == 2 * per_process as i64, || {
            format!("counter {total}")
        })?;
    }
    Ok(samples)
}

/// Two fork-started processes, started together, each add 1 to one `Value<i64>` `n / 2`
/// times under `value.lock()`.
pub(crate) fn value_locked_increments(params: &Params) -> Outcome {
    two_children_together(params, add_locked).into()
}

/// `lock.acquire()` and the drop of its guard (Python's `acquire()` + `release()`) on an
/// uncontended `Lock`, `n` times.
pub(crate) fn lock_uncontended(params: &Params) -> Outcome {
    (|| {
        let lock = Lock::new().map_err(fail)?;
        time_repeats(params, || -> Result<(), BoxError> {
            for _ in 0..params.n {
                let guard = lock.acquire().map_err(fail)?;
                drop(guard);
            }
            Ok(())
        })
    })()
    .into()
}

/// Two fork-started processes, started together, each `fetch_add(1)` `n / 2` times on one
/// `Value<i64>`.
pub(crate) fn atomic_fetch_add(params: &Params) -> Outcome {
    two_children_together(params, add_atomic).into()
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

/// Child target: fill the array with `0, 1, 2, ...` in a plain loop under its lock.
fn fill_array(array: Array<f64>) -> bool {
    let Ok(mut values) = array.lock() else {
        return false;
    };
    for (i, value) in values.iter_mut().enumerate() {
        *value = i as f64;
    }
    true
}

/// A fresh `Array::<f64>::zeroed(n)`; a fork-started child fills it in a plain loop (every
/// page first touched by the child) and is joined; the parent checks the last value.
pub(crate) fn array_fill_by_child(params: &Params) -> Outcome {
    let n = params.n as usize;
    time_repeats(params, || -> Result<(), BoxError> {
        let array = Array::<f64>::zeroed(n).map_err(fail)?;
        let mut child = get_context(StartMethod::Fork).process(fill_array, (array.clone(),));
        child.start().map_err(fail)?;
        ensure(child.join().map_err(fail)?, || {
            "filling child failed".into()
        })?;
        let last = array.lock().map_err(|_| "the array's lock owner died")?[n - 1];
        ensure(last == (n - 1) as f64, || format!("last value {last}"))?;
        Ok(())
    })
    .into()
}
