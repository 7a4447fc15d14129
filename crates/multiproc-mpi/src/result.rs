//! Turning a rank's outcome into the caller's typed result.

use multiproc_pool::PoolError;
use multiproc_process::{CallError, ExitReason, Portable};

use crate::job::Outcome;
use crate::wire::RemoteFailure;

/// The typed result of item `index` of its submission.
pub(crate) fn typed<R: Portable>(outcome: Outcome, index: usize) -> Result<R, PoolError> {
    match outcome {
        Ok(bytes) => {
            let mut results: Vec<Result<R, CallError>> =
                postcard::from_bytes(&bytes).map_err(|e| PoolError::Transfer {
                    detail: format!("a rank's result did not decode: {e}"),
                })?;
            match (results.pop(), results.is_empty()) {
                (Some(Ok(value)), true) => Ok(value),
                (Some(Err(CallError::Panicked(panic))), true) => {
                    Err(PoolError::Panicked { panic, index })
                }
                (Some(Err(CallError::Failed(message))), true) => {
                    Err(PoolError::Failed { message, index })
                }
                _ => Err(PoolError::Transfer {
                    detail: "a rank answered with a result count other than one".into(),
                }),
            }
        }
        Err(RemoteFailure::WorkerDied { signal, code }) => Err(PoolError::WorkerDied {
            status: signal
                .map(ExitReason::Signal)
                .or(code.map(ExitReason::Code)),
            index,
        }),
        Err(RemoteFailure::Panicked(panic)) => Err(PoolError::Panicked { panic, index }),
        Err(RemoteFailure::Other(detail)) => Err(PoolError::Transfer { detail }),
    }
}

/// The error of an item whose outcome never came back: the dispatcher stopped.
pub(crate) fn abandoned() -> PoolError {
    PoolError::Terminated
}
