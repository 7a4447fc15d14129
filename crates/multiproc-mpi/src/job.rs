//! Where the results of one submission collect, as they come back from the ranks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::callbacks::{self, Hook};
use crate::wire::ChunkOutcome;

/// How long a waiting thread keeps looking for its results before it sleeps: on a busy
/// machine a wake-up can cost far more than the round trip to a rank.
const SPIN: Duration = Duration::from_micros(200);

/// The results of one submission (a `map`, an `imap`, an `apply_async`), kept by chunk as
/// they arrive: a chunk is decoded into typed results only when the caller takes it.
#[derive(Default)]
pub(crate) struct Job {
    state: Mutex<JobState>,
    changed: Condvar,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Job")
            .field("reserved", &state.reserved)
            .field("done", &state.done)
            .finish()
    }
}

#[derive(Default)]
pub(crate) struct JobState {
    /// Items reserved so far: indices `0..reserved` were submitted.
    pub(crate) reserved: usize,
    /// The chunks that are back and not yet taken, by their first index, with their item
    /// count: a lazy `imap` takes them as it goes, so this holds at most its window.
    pub(crate) chunks: HashMap<usize, (usize, ChunkOutcome)>,
    /// Items whose chunk is back (taken or not).
    pub(crate) done: usize,
    /// The first indices of chunks in the order they arrived (for `imap_unordered`).
    pub(crate) arrived: VecDeque<usize>,
    /// Set when the dispatcher stopped with items of this job still out.
    pub(crate) abandoned: bool,
    /// Run (on the callback thread) once `done` reaches `expected` or the job is abandoned.
    pub(crate) hooks: Vec<Hook>,
    /// Items whose arrival fires the hooks.
    pub(crate) expected: usize,
    /// Hooks sent to the callback thread that have not finished: a result's `get` returns
    /// after its callbacks, as in Python.
    pub(crate) running_hooks: usize,
}

impl JobState {
    /// Whether every expected item is back (or will never be).
    pub(crate) fn finished(&self) -> bool {
        self.abandoned || self.done >= self.expected
    }
}

impl Job {
    /// A job whose hooks fire once `expected` items are back.
    pub(crate) fn expecting(expected: usize) -> Job {
        let job = Job::default();
        job.lock().expected = expected;
        job
    }

    /// Reserves `count` more item slots and returns the index of the first.
    pub(crate) fn reserve(&self, count: usize) -> usize {
        let mut state = self.lock();
        let first = state.reserved;
        state.reserved += count;
        first
    }

    /// Records what came of the `count` items `first..`.
    pub(crate) fn complete(&self, first: usize, count: usize, outcome: ChunkOutcome) {
        let mut state = self.lock();
        if first
            .checked_add(count)
            .is_some_and(|end| end <= state.reserved)
            && !state.chunks.contains_key(&first)
        {
            state.chunks.insert(first, (count, outcome));
            state.arrived.push_back(first);
            state.done += count;
        }
        self.fire(state);
    }

    /// Marks the job as abandoned: nothing more will arrive.
    pub(crate) fn abandon(&self) {
        let mut state = self.lock();
        state.abandoned = true;
        self.fire(state);
    }

    /// Wakes the waiters, and sends the hooks to the callback thread if their time came.
    fn fire(&self, mut state: MutexGuard<'_, JobState>) {
        let hooks = if state.finished() {
            std::mem::take(&mut state.hooks)
        } else {
            Vec::new()
        };
        state.running_hooks += hooks.len();
        drop(state);
        self.changed.notify_all();
        for hook in hooks {
            callbacks::run_later(hook);
        }
    }

    /// Adds `hook`, to run on the callback thread once the job is finished; if it already is,
    /// runs it here at once.
    pub(crate) fn add_hook(&self, hook: Hook) {
        let mut state = self.lock();
        if state.finished() {
            state.running_hooks += 1;
            drop(state);
            callbacks::run(hook);
        } else {
            state.hooks.push(hook);
        }
    }

    /// A hook has run.
    pub(crate) fn hook_done(&self) {
        let mut state = self.lock();
        state.running_hooks = state.running_hooks.saturating_sub(1);
        drop(state);
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
        let spin_until = Instant::now().checked_add(SPIN);
        loop {
            if ready(&mut state) {
                return Some(state);
            }
            let now = Instant::now();
            if spin_until.is_some_and(|end| now < end) && deadline.is_none_or(|end| now < end) {
                // A result that comes within the spin is taken without a sleep and a wake-up.
                drop(state);
                thread::yield_now();
                state = self.lock();
                continue;
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
