//! The thread where callbacks on `MpiResult`s run: never the dispatcher, which must not run
//! user code, and so a callback may use its pool.

use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, ThreadId};

/// A callback with its value, ready to run.
pub(crate) type Hook = Box<dyn FnOnce() + Send>;

struct Thread {
    queue: Mutex<Option<Sender<Hook>>>,
    id: Option<ThreadId>,
}

static THREAD: OnceLock<Thread> = OnceLock::new();

fn start() -> Thread {
    let (queue, hooks) = mpsc::channel::<Hook>();
    let spawned = thread::Builder::new()
        .name("multiproc-mpi-callbacks".into())
        .spawn(move || {
            while let Ok(hook) = hooks.recv() {
                run(hook);
            }
        });
    match spawned {
        Ok(handle) => Thread {
            queue: Mutex::new(Some(queue)),
            id: Some(handle.thread().id()),
        },
        Err(e) => {
            log::error!(target: "multiproc::mpi", "cannot start the callback thread: {e}");
            Thread {
                queue: Mutex::new(None),
                id: None,
            }
        }
    }
}

/// Queues `hook` for the callback thread (or, if that could not start, runs it here).
pub(crate) fn run_later(hook: Hook) {
    let thread = THREAD.get_or_init(start);
    let refused = match &*thread
        .queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        Some(queue) => queue.send(hook).err().map(|e| e.0),
        None => Some(hook),
    };
    if let Some(hook) = refused {
        run(hook);
    }
}

/// Whether the caller is the callback thread (where waiting for a callback would never end).
pub(crate) fn is_current() -> bool {
    THREAD
        .get()
        .and_then(|thread| thread.id)
        .is_some_and(|id| id == thread::current().id())
}

/// Runs a callback; a panic in it is logged and goes no further.
pub(crate) fn run(callback: impl FnOnce()) {
    if let Err(panic) = multiproc_sys::panic::catch(true, callback) {
        log::error!(
            target: "multiproc::mpi",
            "a callback panicked: {} ({})",
            panic.message,
            panic.location.as_deref().unwrap_or("unknown location")
        );
    }
}
