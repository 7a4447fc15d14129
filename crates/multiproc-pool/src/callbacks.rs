//! The pool's callback thread: where `callback` and `error_callback` run, off the result
//! thread, so that a callback may use its own pool (`apply`, `map`, `join`) without waiting
//! for the thread that would deliver the answer.

use std::fmt;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};

/// A callback with its value, ready to run.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// One thread per pool that runs callbacks in the order their results arrived. It never
/// panics: each callback runs under [`multiproc_sys::panic::catch`], and one that panics is
/// logged and dropped. It leaves once the pool closes its queue ([`Callbacks::shut_down`]),
/// after running what was queued.
pub(crate) struct Callbacks {
    queue: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Callbacks {
    /// Starts the callback thread.
    pub(crate) fn start() -> std::io::Result<Arc<Callbacks>> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("multiproc-pool-callbacks".into())
            .spawn(move || {
                while let Ok(job) = jobs.recv() {
                    run(job);
                }
            })?;
        Ok(Arc::new(Callbacks {
            queue: Mutex::new(Some(queue)),
            thread_id: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Queues a callback for the callback thread; once that has left, runs it here.
    pub(crate) fn run_later(&self, job: Job) {
        let refused = match &*lock(&self.queue) {
            Some(queue) => queue.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = refused {
            run(job);
        }
    }

    /// Whether the caller is the callback thread.
    pub(crate) fn is_current(&self) -> bool {
        std::thread::current().id() == self.thread_id
    }

    /// Closes the queue and waits until the thread has run what was queued and left. Called
    /// from a callback, it only closes the queue: the thread cannot wait for itself.
    pub(crate) fn shut_down(&self) {
        drop(lock(&self.queue).take());
        if self.is_current() {
            return;
        }
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            // `run` catches every panic: the thread cannot end with one.
            let _ = thread.join();
        }
    }
}

/// Runs a callback; a panic in it is logged and goes no further.
pub(crate) fn run(callback: impl FnOnce()) {
    if let Err(panic) = multiproc_sys::panic::catch(true, callback) {
        log::error!(
            "a pool callback panicked: {} ({})",
            panic.message,
            panic.location.as_deref().unwrap_or("unknown location")
        );
    }
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field("open", &lock(&self.queue).is_some())
            .finish()
    }
}
