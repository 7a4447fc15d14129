//! `multiproc-manager`: proxy call round trips from one client, beside CPython's
//! `Manager().dict()` / `.list()` and the pipe ping-pong floor. The manager is started
//! (and a first call made) before timing, as on the Python side.

use multiproc::manager::{DictProxy, Manager};

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
