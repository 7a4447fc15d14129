//! Where the results of one submission collect, as they come back from the ranks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::wire::RemoteFailure;

/// One item's outcome: the postcard of a one-element `Vec<Result<R, PanicInfo>>`, or why it
/// failed on the rank.
pub(crate) type Outcome = Result<Vec<u8>, RemoteFailure>;

/// The results of one submission (a `map`, an `imap`, an `apply_async`).
#[derive(Debug, Default)]
pub(crate) struct Job {
    state: Mutex<JobState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
pub(crate) struct JobState {
    /// Items reserved so far: indices `0..reserved` were submitted.
    pub(crate) reserved: usize,
    /// The outcomes that are back and not yet taken, by index: a lazy `imap` takes them as
    /// it goes, so this holds at most its window.
    pub(crate) outcomes: HashMap<usize, Outcome>,
    /// Indices in the order their outcomes arrived (for `imap_unordered`).
    pub(crate) arrived: VecDeque<usize>,
    /// Set when the dispatcher stopped with items of this job still out.
    pub(crate) abandoned: bool,
}

impl Job {
    /// Reserves `count` more item slots and returns the index of the first.
    pub(crate) fn reserve(&self, count: usize) -> usize {
        let mut state = self.lock();
        let first = state.reserved;
        state.reserved += count;
        first
    }

    /// Records the outcomes of items `first..`.
    pub(crate) fn complete(&self, first: usize, outcomes: Vec<Outcome>) {
        let mut state = self.lock();
        for (offset, outcome) in outcomes.into_iter().enumerate() {
            let index = first + offset;
            if index < state.reserved {
                state.outcomes.insert(index, outcome);
                state.arrived.push_back(index);
            }
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Marks the job as abandoned: nothing more will arrive.
    pub(crate) fn abandon(&self) {
        self.lock().abandoned = true;
        self.changed.notify_all();
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, JobState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `ready` holds of the state or `deadline` passes (`None`: no limit);
    /// returns the state with `ready` true, or `None` on timeout.
    pub(crate) fn wait_until(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&mut JobState) -> bool,
    ) -> Option<MutexGuard<'_, JobState>> {
        let mut state = self.lock();
        loop {
            if ready(&mut state) {
                return Some(state);
            }
            match deadline {
                None => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left == Duration::ZERO {
                        return None;
                    }
                    state = self
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
            }
        }
    }
}
