//! The threads of a serving rank that run its chunks: started as needed and kept for the
//! next chunk, so that a short round trip pays no thread start (the largest cost of a
//! `submit` on a rank before).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// A chunk to run, with where its outcome goes.
pub(crate) type Work = Box<dyn FnOnce() + Send>;

/// How long an idle thread keeps looking for work without sleeping (yielding the core
/// between looks), like the serving loop: a chunk that comes within it starts at once.
const SPIN: Duration = Duration::from_micros(200);
/// How long an idle thread then sleeps for work before it ends.
const LINGER: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    queue: VecDeque<Work>,
    /// Threads not running work (looking for it, or asleep).
    idle: usize,
    stopping: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Work queued: read without the lock by a spinning thread.
    queued: AtomicUsize,
    more: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The rank's chunk threads: as many as chunks have run at once, each ending after
/// [`LINGER`] without work.
#[derive(Default)]
pub(crate) struct Crew {
    shared: Arc<Shared>,
}

impl Crew {
    /// Runs `work` on an idle thread, or on a new one if none is idle; fails (dropping the
    /// work) if no thread could be started for it.
    pub(crate) fn run(&self, work: Work) -> Result<(), std::io::Error> {
        let mut state = self.shared.lock();
        state.queue.push_back(work);
        self.shared.queued.fetch_add(1, Ordering::Release);
        if state.queue.len() <= state.idle {
            drop(state);
            self.shared.more.notify_one();
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        let started = thread::Builder::new()
            .name("multiproc-mpi-chunks".into())
            .spawn(move || work_loop(&shared));
        if started.is_err() {
            // Nobody will take it: take it back (the last one pushed is ours).
            if state.queue.pop_back().is_some() {
                self.shared.queued.fetch_sub(1, Ordering::Release);
            }
        }
        started.map(drop)
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.more.notify_all();
    }
}

fn work_loop(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(work) = state.queue.pop_front() {
            shared.queued.fetch_sub(1, Ordering::Release);
            drop(state);
            work();
            state = shared.lock();
            continue;
        }
        if state.stopping {
            return;
        }
        state.idle += 1;
        drop(state);
        let spin_until = Instant::now().checked_add(SPIN);
        while shared.queued.load(Ordering::Acquire) == 0
            && spin_until.is_some_and(|end| Instant::now() < end)
        {
            thread::yield_now();
        }
        state = shared.lock();
        if state.queue.is_empty() && !state.stopping {
            state = shared
                .more
                .wait_timeout(state, LINGER)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.idle -= 1;
        if state.queue.is_empty() && !state.stopping {
            // Nothing came for a while: end, and a later chunk starts a thread again.
            return;
        }
    }
}
