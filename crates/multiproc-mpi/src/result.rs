//! Turning a rank's outcomes into the caller's typed results.

use multiproc_pool::PoolError;
use multiproc_process::{CallError, ExitReason, Portable};

use crate::job::JobState;
use crate::wire::{ChunkOutcome, RemoteFailure};

/// The typed results of the `count` items `first..` of a chunk: always `count` of them.
pub(crate) fn decode_chunk<R: Portable>(
    first: usize,
    count: usize,
    outcome: &ChunkOutcome,
    into: &mut Vec<Result<R, PoolError>>,
) {
    match outcome {
        ChunkOutcome::Batch(bytes) => {
            match postcard::from_bytes::<Vec<Result<R, CallError>>>(bytes) {
                Ok(results) if results.len() == count => into.extend(
                    (results.into_iter().enumerate())
                        .map(|(offset, result)| called(result, first + offset)),
                ),
                Ok(_) => into.extend((0..count).map(|_| Err(miscounted()))),
                Err(e) => into.extend((0..count).map(|_| Err(undecodable(&e)))),
            }
        }
        ChunkOutcome::Each(outcomes) if outcomes.len() == count => into.extend(
            (outcomes.iter().enumerate()).map(|(offset, outcome)| match outcome {
                Ok(bytes) => one(bytes, first + offset),
                Err(failure) => Err(remote(failure, first + offset)),
            }),
        ),
        ChunkOutcome::Each(_) => into.extend((0..count).map(|_| Err(miscounted()))),
        ChunkOutcome::Failed(failure) => {
            into.extend((0..count).map(|offset| Err(remote(failure, first + offset))))
        }
    }
}

/// The typed results of items `0..total` of a finished job, in order; the first failed
/// item's error if one failed.
pub(crate) fn all<R: Portable>(state: &JobState, total: usize) -> Result<Vec<R>, PoolError> {
    let mut results = Vec::with_capacity(total);
    while results.len() < total {
        let first = results.len();
        let Some((count, outcome)) = state.chunks.get(&first) else {
            return Err(abandoned());
        };
        decode_chunk(first, *count, outcome, &mut results);
    }
    results.into_iter().collect()
}

/// The typed result of the single item of an `apply_async`.
pub(crate) fn single<R: Portable>(state: &JobState, _total: usize) -> Result<R, PoolError> {
    let Some((count, outcome)) = state.chunks.get(&0) else {
        return Err(abandoned());
    };
    let mut results = Vec::with_capacity(1);
    decode_chunk(0, *count, outcome, &mut results);
    results.pop().unwrap_or_else(|| Err(miscounted()))
}

/// The postcard of a one-element `Vec<Result<R, CallError>>`.
fn one<R: Portable>(bytes: &[u8], index: usize) -> Result<R, PoolError> {
    let mut results: Vec<Result<R, CallError>> =
        postcard::from_bytes(bytes).map_err(|e| undecodable(&e))?;
    match (results.pop(), results.is_empty()) {
        (Some(result), true) => called(result, index),
        _ => Err(miscounted()),
    }
}

fn called<R>(result: Result<R, CallError>, index: usize) -> Result<R, PoolError> {
    match result {
        Ok(value) => Ok(value),
        Err(CallError::Panicked(panic)) => Err(PoolError::Panicked { panic, index }),
        Err(CallError::Failed(message)) => Err(PoolError::Failed { message, index }),
    }
}

fn remote(failure: &RemoteFailure, index: usize) -> PoolError {
    match failure {
        RemoteFailure::WorkerDied { signal, code } => PoolError::WorkerDied {
            status: signal
                .map(ExitReason::Signal)
                .or(code.map(ExitReason::Code)),
            index,
        },
        RemoteFailure::Panicked(panic) => PoolError::Panicked {
            panic: panic.clone(),
            index,
        },
        RemoteFailure::Other(detail) => PoolError::Transfer {
            detail: detail.clone(),
        },
    }
}

fn undecodable(e: &postcard::Error) -> PoolError {
    PoolError::Transfer {
        detail: format!("a rank's result did not decode: {e}"),
    }
}

fn miscounted() -> PoolError {
    PoolError::Transfer {
        detail: "a rank answered with another number of results than it was sent".into(),
    }
}

/// The error of an item whose outcome never came back: the dispatcher stopped.
pub(crate) fn abandoned() -> PoolError {
    PoolError::Terminated
}
