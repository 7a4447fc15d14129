//! `multiproc-manager`: proxy call round trips from one client, beside CPython's
//! `Manager().dict()` / `.list()` and the pipe ping-pong floor. The manager is started
//! (and a first call made) before timing, as on the Python side.

use multiproc::manager::{DictProxy, Manager};
use multiproc::pool::Pool;

use super::fail;
use crate::measure::{BoxError, Outcome, Params, ensure, time_repeats};

/// A manager and a dict with keys `0..1000` set.
fn warm_dict() -> Result<(Manager, DictProxy<u64, u64>), BoxError> {
    let manager = Manager::start().map_err(fail)?;
    let dict = manager.dict::<u64, u64>().map_err(fail)?;
    dict.update((0..1000).map(|i| (i, i))).map_err(fail)?;
    Ok((manager, dict))
}

/// `d[i % 1000] = i`, one call at a time.
pub(crate) fn dict_set(params: &Params) -> Outcome {
    (|| {
        let (_manager, dict) = warm_dict()?;
        time_repeats(params, || -> Result<(), BoxError> {
            for i in 0..params.n {
                dict.insert(i % 1000, i).map_err(fail)?;
            }
            Ok(())
        })
    })()
    .into()
}

/// `d[i % 1000]`, one call at a time.
pub(crate) fn dict_get(params: &Params) -> Outcome {
    (|| {
        let (_manager, dict) = warm_dict()?;
        time_repeats(params, || -> Result<(), BoxError> {
            for i in 0..params.n {
                let value = dict.get(&(i % 1000)).map_err(fail)?;
                ensure(value.is_some(), || "missing key".into())?;
            }
            Ok(())
        })
    })()
    .into()
}

/// `l.append(i)`, one call at a time.
pub(crate) fn list_push(params: &Params) -> Outcome {
    (|| -> Result<Vec<f64>, BoxError> {
        let manager = Manager::start().map_err(fail)?;
        let list = manager.list::<u64>().map_err(fail)?;
        list.push(0).map_err(fail)?;
        let samples = time_repeats(params, || -> Result<(), BoxError> {
            for i in 0..params.n {
                list.push(i).map_err(fail)?;
            }
            Ok(())
        })?;
        let expected = 1 + params.n * params.repeats as u64;
        ensure(list.len().map_err(fail)? as u64 == expected, || {
            "lost appends".into()
        })?;
        Ok(samples)
    })()
    .into()
}

/// A pool task: `d[i % 1000] = i` for `count` values of `i` from `first`, as one client.
fn set_many((dict, first, count): (DictProxy<u64, u64>, u64, u64)) -> Result<u64, String> {
    for i in first..first + count {
        dict.insert(i % 1000, i)
            .map_err(|error| error.to_string())?;
    }
    Ok(count)
}

/// `d[i % 1000] = i` from `clients` pool workers at once, `n / clients` calls each: the
/// figure is the total rate. The workers connect (one first call each) before timing.
fn dict_set_clients(params: &Params, clients: usize) -> Outcome {
    (|| {
        let (_manager, dict) = warm_dict()?;
        let pool = Pool::new(clients).map_err(fail)?;
        let warm = (0..clients).map(|_| (dict.clone(), 0, 1));
        pool.chunksize(1).map(set_many, warm).map_err(fail)?;
        let per_client = params.n / clients as u64;
        time_repeats(params, || -> Result<(), BoxError> {
            let tasks = (0..clients as u64).map(|c| (dict.clone(), c * per_client, per_client));
            let done = pool.chunksize(1).map(set_many, tasks).map_err(fail)?;
            let total = done.into_iter().sum::<Result<u64, String>>()?;
            ensure(total == per_client * clients as u64, || "lost sets".into())?;
            Ok(())
        })
    })()
    .into()
}

/// One client's rate, through a pool worker as with more clients.
pub(crate) fn dict_set_1_client(params: &Params) -> Outcome {
    dict_set_clients(params, 1)
}

/// Two clients at once.
pub(crate) fn dict_set_2_clients(params: &Params) -> Outcome {
    dict_set_clients(params, 2)
}

/// Four clients at once (on a machine with fewer cores, the rate shows the contention).
pub(crate) fn dict_set_4_clients(params: &Params) -> Outcome {
    dict_set_clients(params, 4)
}
