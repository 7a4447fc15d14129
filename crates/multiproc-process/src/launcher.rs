//! A thread that lives as long as the process, to start children from.
//!
//! A child asks the kernel to kill it when its parent goes (`PR_SET_PDEATHSIG`), so that no
//! child outlives a parent killed with SIGKILL. The kernel sends that signal when the *thread*
//! that created the child exits, not the process. A child started from a short-lived thread
//! (every `cargo test` test runs on its own) would die with that thread. So children are started
//! either from the main thread, which lives as long as the process, or from this thread.

use std::sync::{Mutex, MutexGuard, mpsc};

type Job = Box<dyn FnOnce() + Send>;

/// The handle to the launcher thread: a queue of jobs it runs one after another.
#[derive(Debug)]
pub(crate) struct Launcher {
    jobs: mpsc::Sender<Job>,
}

static LAUNCHER: Mutex<Option<Launcher>> = Mutex::new(None);

/// The lock on the launcher's handle, held across a fork by this crate so that the child never
/// inherits it held by another thread.
pub(crate) fn hold_for_fork() -> MutexGuard<'static, Option<Launcher>> {
    LAUNCHER.lock().unwrap_or_else(|p| p.into_inner())
}

/// In a child just forked while `held` was held: the launcher thread stayed in the parent.
pub(crate) fn forget_after_fork(held: &mut Option<Launcher>) {
    std::mem::forget(held.take());
}

/// Runs `f` on a thread that lives as long as the process (this one, if it is the main thread).
/// An error if that thread cannot be started (the thread limit is reached) or is gone.
pub(crate) fn on_long_lived_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    if multiproc_sys::process::is_main_thread() {
        return Ok(f());
    }
    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = reply_tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    let gone = || std::io::Error::other("the multiproc launcher thread is gone");
    let jobs = {
        let mut launcher = hold_for_fork();
        if launcher.is_none() {
            let (jobs, queue) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("multiproc-launcher".into())
                .spawn(move || {
                    for job in queue {
                        job();
                    }
                })?;
            *launcher = Some(Launcher { jobs });
        }
        launcher.as_ref().map(|l| l.jobs.clone()).ok_or_else(gone)?
    };
    jobs.send(job).map_err(|_| gone())?;
    match reply_rx.recv().map_err(|_| gone())? {
        Ok(value) => Ok(value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
