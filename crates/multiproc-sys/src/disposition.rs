//! Signal dispositions a process sets for itself: the default action back for SIGINT and
//! SIGTERM (which `nohup` and background jobs leave ignored), SIGCHLD back to its default in
//! a process that must keep its children's exit statuses (the fork server), and, for tests,
//! the two SIGCHLD settings that cost a program its children's exit statuses. sigaction(2).
//!
//! # Dispositions that cost exit statuses
//!
//! A child's exit status can be collected once. Two settings of the *parent* lose it to
//! whoever asks first:
//!
//! - SIGCHLD set to `SIG_IGN` (or `SA_NOCLDWAIT`): the kernel reaps children itself and
//!   discards their statuses ([`ignore_child_exits`]);
//! - a SIGCHLD handler (or another thread) that calls `waitpid(-1)`: it collects every
//!   child's status, including ones it did not start ([`reap_children_in_handler`]).
//!
//! ```
//! // SIGINT is not ignored in a test process (unless its shell ignored it).
//! let _ = multiproc_sys::disposition::is_ignored(multiproc_sys::signal::number::SIGINT);
//! assert!(multiproc_sys::disposition::child_exits_kept());
//! ```

use std::io;

fn set(signal: i32, handler: libc::sighandler_t, flags: i32) -> io::Result<()> {
    // SAFETY: `action` is fully initialised (zeroed, an empty mask, then the handler and the
    // flags); the handler is SIG_DFL, SIG_IGN, or `reap_all` below, which is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_sigaction = handler;
        action.sa_flags = flags;
        crate::cvt(libc::sigaction(signal, &action, std::ptr::null_mut())).map(drop)
    }
}

fn current(signal: i32) -> io::Result<libc::sighandler_t> {
    // SAFETY: a null new action only reads the current one into `old`, a valid out-pointer.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        crate::cvt(libc::sigaction(signal, std::ptr::null(), &mut old))?;
        Ok(old.sa_sigaction)
    }
}

/// Gives `signal` its default action (`SIG_DFL`).
///
/// ```
/// multiproc_sys::disposition::set_default(multiproc_sys::signal::number::SIGTERM)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_default(signal: i32) -> io::Result<()> {
    set(signal, libc::SIG_DFL, 0)
}

/// Whether `signal` is ignored (`SIG_IGN`) in this process.
///
/// ```
/// assert!(!multiproc_sys::disposition::is_ignored(multiproc_sys::signal::number::SIGKILL));
/// ```
pub fn is_ignored(signal: i32) -> bool {
    matches!(current(signal), Ok(handler) if handler == libc::SIG_IGN)
}

/// Whether SIGCHLD has its default disposition: this process keeps its children's exit
/// statuses until it collects them.
///
/// ```
/// assert!(multiproc_sys::disposition::child_exits_kept());
/// ```
pub fn child_exits_kept() -> bool {
    matches!(current(libc::SIGCHLD), Ok(handler) if handler == libc::SIG_DFL)
}

/// Gives SIGCHLD its default disposition again, so that this process's children stay
/// zombies until collected.
///
/// ```
/// multiproc_sys::disposition::keep_child_exits()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn keep_child_exits() -> io::Result<()> {
    set(libc::SIGCHLD, libc::SIG_DFL, 0)
}

/// Sets SIGCHLD to `SIG_IGN`: the kernel reaps this process's children and discards their
/// exit statuses. For tests of programs that do this.
///
/// ```no_run
/// multiproc_sys::disposition::ignore_child_exits()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ignore_child_exits() -> io::Result<()> {
    set(libc::SIGCHLD, libc::SIG_IGN, 0)
}

extern "C" fn reap_all(_: libc::c_int) {
    // SAFETY: waitpid is async-signal-safe; errno is saved and restored around it.
    unsafe {
        let errno = *libc::__errno_location();
        while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
        *libc::__errno_location() = errno;
    }
}

/// Installs a SIGCHLD handler that reaps every child with `waitpid(-1, WNOHANG)`, as some
/// programs do. For tests of such programs.
///
/// ```no_run
/// multiproc_sys::disposition::reap_children_in_handler()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn reap_children_in_handler() -> io::Result<()> {
    set(
        libc::SIGCHLD,
        reap_all as extern "C" fn(libc::c_int) as libc::sighandler_t,
        libc::SA_RESTART | libc::SA_NOCLDSTOP,
    )
}
