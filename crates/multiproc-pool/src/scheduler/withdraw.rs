//! Hooks for cancellation: where the chunks of one submission are (queued, or on a worker),
//! and taking them back. A submission is named by its sink.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::chunk::{Chunk, Sink};

use super::state::Shared;

/// How far [`Shared::withdraw`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Withdraw {
    /// Take the queued chunks back only if none of the submission is on a worker yet.
    IfNotStarted,
    /// Take the queued chunks back; leave the ones on workers alone.
    Queued,
    /// Take the queued chunks back, and kill every worker running one of the submission
    /// (the pool buries and replaces it as after any death).
    AndKill,
}

/// What [`Shared::withdraw`] did.
pub(crate) struct Withdrawn {
    /// Whether the submission was withdrawn: not when all of it has finished (or is being
    /// delivered), nor with [`Withdraw::IfNotStarted`] when part of it was on a worker.
    pub(crate) withdrawn: bool,
    /// The queued chunks taken back: the caller fails them (outside the core lock).
    pub(crate) queued: Vec<Chunk>,
}

/// The address of a sink, which names its submission while the sink lives.
fn address(sink: &Arc<dyn Sink>) -> *const () {
    Arc::as_ptr(sink).cast::<()>()
}

/// Whether a chunk belongs to the submission of `sink`.
fn owned_by(sink: &Arc<dyn Sink>) -> impl Fn(&Chunk) -> bool + use<> {
    let sink = address(sink);
    move |chunk| address(&chunk.sink) == sink
}

impl Shared {
    /// Whether a chunk of the submission of `sink` is running: the first chunk in flight on
    /// a worker (chunks sent behind it wait in the worker's channel).
    pub(crate) fn is_running(&self, sink: &Arc<dyn Sink>) -> bool {
        let owns = owned_by(sink);
        let core = self.core();
        core.workers
            .iter()
            .flatten()
            .any(|w| w.in_flight.front().is_some_and(&owns))
    }

    /// Takes back the chunks of the submission of `sink` that no worker has yet, as `how`
    /// says. `mark` runs under the core lock once the submission is withdrawn, before any
    /// worker is killed (so that a result that is delivered next is known to be cancelled);
    /// it must not call into the pool.
    pub(crate) fn withdraw(
        &self,
        sink: &Arc<dyn Sink>,
        how: Withdraw,
        mark: &dyn Fn(),
    ) -> Withdrawn {
        let owns = owned_by(sink);
        let mut core = self.core();
        let started = core
            .workers
            .iter()
            .flatten()
            .any(|w| w.in_flight.iter().any(&owns));
        if started && how == Withdraw::IfNotStarted {
            return Withdrawn {
                withdrawn: false,
                queued: Vec::new(),
            };
        }
        let (queued, kept): (VecDeque<Chunk>, VecDeque<Chunk>) = std::mem::take(&mut core.pending)
            .into_iter()
            .partition(|c| owns(c));
        core.pending = kept;
        if queued.is_empty() && !started {
            // Neither queued nor on a worker: its results are in, or being delivered now.
            return Withdrawn {
                withdrawn: false,
                queued: Vec::new(),
            };
        }
        mark();
        if how == Withdraw::AndKill {
            for worker in core.workers.iter().flatten() {
                if worker.in_flight.front().is_some_and(&owns)
                    && let Err(e) = worker.process.kill()
                {
                    log::error!("could not kill pool worker {}: {e}", worker.pid);
                }
            }
        }
        Withdrawn {
            withdrawn: true,
            queued: queued.into(),
        }
    }

    /// Takes back every queued chunk (for `shutdown(cancel_pending)`): the caller fails them.
    pub(crate) fn withdraw_all_queued(&self) -> Vec<Chunk> {
        std::mem::take(&mut self.core().pending).into()
    }
}
