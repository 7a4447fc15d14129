//! The one thread that waits for children to end on behalf of futures
//! ([`Process::join_async`](crate::Process::join_async)): it polls the pidfds of every child
//! being awaited and wakes the future of each one that ended. No runtime is a dependency of
//! this crate, so it has its own small reactor; one thread serves every awaited child.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::registry::ChildHandle;

/// How often an awaited child's future is woken even though its pidfd is not readable: a
/// child whose result does not fit in the channel's buffer cannot end before it is read, so
/// the future reads its channel at this pace.
const RECHECK: Duration = Duration::from_millis(100);

/// What one registration waits for.
struct Entry {
    child: Arc<ChildHandle>,
    waker: Waker,
}

struct Reactor {
    /// The process whose thread this is: a forked child has the static, not the thread.
    owner: u32,
    entries: Mutex<Registry>,
    /// Readable when `entries` changed: the thread then polls the new set.
    changed: OwnedFd,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    entries: HashMap<u64, Entry>,
}

static REACTOR: Mutex<Option<Arc<Reactor>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The reactor of this process, started on first use (and again in a forked child, where
/// the parent's thread does not exist).
fn reactor() -> std::io::Result<Arc<Reactor>> {
    let mut slot = lock(&REACTOR);
    let current = multiproc_sys::process::pid();
    if let Some(reactor) = slot.as_ref().filter(|r| r.owner == current) {
        return Ok(reactor.clone());
    }
    let reactor = Arc::new(Reactor {
        owner: current,
        entries: Mutex::new(Registry::default()),
        changed: multiproc_sys::eventfd::new()?,
    });
    let running = reactor.clone();
    std::thread::Builder::new()
        .name("multiproc-reactor".into())
        .spawn(move || running.run())?;
    *slot = Some(reactor.clone());
    Ok(reactor)
}

/// A child being awaited: removed from the reactor when dropped.
pub(crate) struct Registration {
    id: u64,
    reactor: Arc<Reactor>,
}

/// Asks the reactor to wake `waker` once `child` has ended (or after [`RECHECK`]).
pub(crate) fn register(child: &Arc<ChildHandle>, waker: &Waker) -> std::io::Result<Registration> {
    let reactor = reactor()?;
    let id = {
        let mut registry = lock(&reactor.entries);
        let id = registry.next_id;
        registry.next_id += 1;
        registry.entries.insert(
            id,
            Entry {
                child: child.clone(),
                waker: waker.clone(),
            },
        );
        id
    };
    multiproc_sys::eventfd::signal(reactor.changed.as_fd());
    Ok(Registration { id, reactor })
}

impl Registration {
    /// Replaces the waker to wake, if it changed; `false` if the reactor already woke this
    /// registration (then register again).
    pub(crate) fn update(&self, waker: &Waker) -> bool {
        let mut registry = lock(&self.reactor.entries);
        match registry.entries.get_mut(&self.id) {
            Some(entry) => {
                if !entry.waker.will_wake(waker) {
                    entry.waker = waker.clone();
                }
                true
            }
            None => false,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = lock(&self.reactor.entries).entries.remove(&self.id);
        if removed.is_some() {
            // The thread lets go of the child's record (and its pidfd) at once.
            multiproc_sys::eventfd::signal(self.reactor.changed.as_fd());
        }
    }
}

impl Reactor {
    /// The thread: polls the eventfd and every registered pidfd; wakes (and forgets) the
    /// registrations whose child ended, and every registration each [`RECHECK`]. It never
    /// panics (no indexing it does not check) and never returns.
    fn run(&self) {
        let mut last_recheck = Instant::now();
        loop {
            let watched: Vec<(u64, Arc<ChildHandle>)> = lock(&self.entries)
                .entries
                .iter()
                .map(|(id, entry)| (*id, entry.child.clone()))
                .collect();
            let mut fds = vec![self.changed.as_fd()];
            fds.extend(watched.iter().map(|(_, child)| child.pidfd.as_fd()));
            let timeout = if watched.is_empty() {
                None
            } else {
                Some(RECHECK)
            };
            let ready = match multiproc_sys::poll::readable(&fds, timeout) {
                Ok(ready) => ready,
                Err(e) => {
                    // Wake everyone (each future then looks for itself), at the recheck
                    // pace rather than in a busy loop.
                    log::error!("the process reactor could not poll: {e}");
                    std::thread::sleep(RECHECK);
                    vec![true; fds.len()]
                }
            };
            drop(fds);
            if ready.first().copied().unwrap_or(false) {
                multiproc_sys::eventfd::clear(self.changed.as_fd());
            }
            let recheck = last_recheck.elapsed() >= RECHECK;
            if recheck {
                last_recheck = Instant::now();
            }
            let mut wake = Vec::new();
            {
                let mut registry = lock(&self.entries);
                for (k, (id, _)) in watched.iter().enumerate() {
                    let ended = ready.get(k + 1).copied().unwrap_or(false);
                    if ended || recheck {
                        wake.extend(registry.entries.remove(id).map(|e| e.waker));
                    }
                }
            }
            // Woken outside the lock: a waker may run code that registers again.
            for waker in wake {
                waker.wake();
            }
        }
    }
}
