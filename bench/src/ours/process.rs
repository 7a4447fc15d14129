//! `multiproc-process`: start+join of a no-op child per start method.

use crate::measure::{Outcome, Params};

/// Start and join `n` no-op children with `get_context(StartMethod::Fork)`.
pub(crate) fn start_join_fork(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::process::{get_context, StartMethod::Fork, Process}")
}

/// Start and join `n` no-op children with `get_context(StartMethod::Spawn)`.
pub(crate) fn start_join_spawn(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::process::{get_context, StartMethod::Spawn, Process}")
}

/// Start and join `n` no-op children with `get_context(StartMethod::Forkserver)`, after one
/// untimed start that brings the server up.
pub(crate) fn start_join_forkserver(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::process::{get_context, StartMethod::Forkserver, Process}")
}
