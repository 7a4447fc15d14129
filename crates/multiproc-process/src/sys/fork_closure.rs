//! `Process::fork`, the crate's one `unsafe fn`: declared here, in the OS layer, because
//! the workspace denies `unsafe_code` everywhere else.

use crate::process::Process;
use crate::target::Portable;

impl<R: Portable> Process<R> {
    /// A process that runs any closure, captures included, in a forked child (the fork start
    /// method, whatever the default). The closure's result comes back through
    /// [`join`](Process::join) as for [`Process::new`].
    ///
    /// The child is a copy of this process, made by `fork()` when [`start`](Process::start)
    /// is called: the closure sees the captured data without serializing it.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// let words = vec!["fork", "captures", "anything"];
    /// // SAFETY: this doc test runs no other thread, and the closure only allocates.
    /// let mut p = unsafe { Process::fork(move || words.join(" ").len()) };
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 22);
    /// ```
    ///
    /// # Safety
    ///
    /// In the forked child only the thread that called `fork()` exists (this crate forks from
    /// the main thread or from its launcher thread). If this program runs other threads at the
    /// time of [`start`](Process::start), the child inherits their memory in whatever state
    /// they left it: a lock another thread held stays held forever, data it was half-way
    /// through updating stays half-updated. So, as for `fork(2)` itself (see nix's
    /// `unistd::fork`), in a multi-threaded program the closure may only do what is
    /// async-signal-safe (signal-safety(7)) until it returns; the child then leaves with
    /// `_exit` and runs no destructors or exit handlers of the parent's.
    ///
    /// The caller promises that one of these holds when `start` is called:
    ///
    /// - the program runs no other thread; or
    /// - the closure touches no state that another thread may have been using: no lock
    ///   (`Mutex`, `RwLock`, `OnceLock` or `LazyLock` being initialised, stdio locks, a
    ///   logger's lock), no data another thread was mutating, and no library that keeps such
    ///   state.
    ///
    /// What this crate does for the closure: it completes its own lazy initialisations before
    /// forking, holds its own state lock and the standard stream locks across the fork (so the
    /// child never inherits them held by another thread), and relies on glibc resetting
    /// `malloc`'s locks in the child (glibc's `fork` does; other C libraries may not), so that
    /// allocating, sending the result and printing are fine.
    ///
    /// With [`Process::new`] there is no such contract: the target runs in a fresh process
    /// under the spawn and forkserver start methods, and under the fork method the library,
    /// not the caller, controls what the child does (see [`StartMethod::Fork`](crate::StartMethod::Fork)).
    pub unsafe fn fork<F>(closure: F) -> Process<R>
    where
        F: FnOnce() -> R + Send + 'static,
    {
        Process::forking(closure)
    }
}
