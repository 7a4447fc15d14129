//! `multiproc-process`: start+join of a no-op child per start method.

use multiproc::process::{StartMethod, get_context};

use super::fail;
use crate::measure::{BoxError, Outcome, Params, time_repeats};

/// The child's target: nothing.
fn noop() {}

/// Start and join `n` no-op children with `method`, after one untimed start (which brings
/// the forkserver up, and warms the others as the Python side does).
fn start_join(method: StartMethod, params: &Params) -> Outcome {
    let context = get_context(method);
    let once = || -> Result<(), BoxError> {
        let mut child = context.process(noop, ());
        child.start().map_err(fail)?;
        child.join().map_err(fail)?;
        Ok(())
    };
    (|| {
        once()?;
        time_repeats(params, || {
            for _ in 0..params.n {
                once()?;
            }
            Ok::<(), BoxError>(())
        })
    })()
    .into()
}

/// Start and join `n` no-op children with `get_context(StartMethod::Fork)`.
pub(crate) fn start_join_fork(params: &Params) -> Outcome {
    start_join(StartMethod::Fork, params)
}

/// Start and join `n` no-op children with `get_context(StartMethod::Spawn)`.
pub(crate) fn start_join_spawn(params: &Params) -> Outcome {
    start_join(StartMethod::Spawn, params)
}

/// Start and join `n` no-op children with `get_context(StartMethod::Forkserver)`, after one
/// untimed start that brings the server up.
pub(crate) fn start_join_forkserver(params: &Params) -> Outcome {
    start_join(StartMethod::Forkserver, params)
}
