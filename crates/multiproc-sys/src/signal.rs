//! Signal dispositions, and signal names for messages. Children are signalled through their
//! pidfd ([`crate::pidfd::send_signal`]); [`kill`] is for processes that have none.
//!
//! ```
//! let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
//! multiproc_sys::signal::kill(child.id(), multiproc_sys::signal::number::SIGTERM)?;
//! let status = child.wait()?;
//! assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(15));
//! assert_eq!(multiproc_sys::signal::name(15), "SIGTERM");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// Ignores SIGPIPE, as the Rust runtime does before `main`: a write to a closed pipe then
/// fails with `EPIPE` instead of killing the process. For code that runs before `main`.
///
/// ```
/// multiproc_sys::signal::ignore_sigpipe();
/// ```
pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN for SIGPIPE is always sound; no handler code is involved.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Unblocks every signal of the calling thread (pthread_sigmask(3)), so that a forked child
/// does not inherit a mask meant for one of its parent's threads.
///
/// ```
/// multiproc_sys::signal::reset_mask();
/// ```
pub fn reset_mask() {
    // SAFETY: `set` is initialised by sigemptyset before use; pthread_sigmask only reads it
    // and is given no old-set pointer.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// `kill(2)`: sends `signal` to `pid`. Only for a process that cannot be named by a pidfd
/// (one this process did not create); anything else uses [`crate::pidfd::send_signal`], which
/// cannot hit a process that reused the pid.
///
/// ```
/// multiproc_sys::signal::kill(std::process::id(), 0)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn kill(pid: u32, signal: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&pid| pid > 0)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill touches no memory of ours.
    crate::cvt(unsafe { libc::kill(pid, signal) }).map(drop)
}

/// `kill(2)` with a negative pid: sends `signal` to every process of the process group
/// `group`.
///
/// ```no_run
/// multiproc_sys::signal::kill_group(12345, multiproc_sys::signal::number::SIGINT)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn kill_group(group: u32, signal: i32) -> io::Result<()> {
    let group = libc::pid_t::try_from(group)
        .ok()
        .filter(|&group| group > 1)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill touches no memory of ours.
    crate::cvt(unsafe { libc::kill(-group, signal) }).map(drop)
}

/// The conventional name of a signal, for messages: `SIGKILL`, or `signal` when unknown.
///
/// A table of our own: rustix's `Signal` has no conventional names (its `Debug` form prints
/// `Signal::ABORT`, `Signal::ALARM`, and is no stable interface), libc's `sigabbrev_np` is
/// glibc-only and unsafe, and nix is not a dependency.
///
/// ```
/// assert_eq!(multiproc_sys::signal::name(9), "SIGKILL");
/// ```
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => "signal",
    }
}

/// Signal numbers the other crates name, so that they need no libc of their own.
///
/// ```
/// use multiproc_sys::signal::{name, number};
/// assert_eq!(name(number::SIGTERM), "SIGTERM");
/// assert_eq!(name(number::SIGKILL), "SIGKILL");
/// ```
pub mod number {
    /// `SIGTERM`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGTERM, 15);
    /// ```
    pub const SIGTERM: i32 = libc::SIGTERM;
    /// `SIGKILL`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGKILL, 9);
    /// ```
    pub const SIGKILL: i32 = libc::SIGKILL;
    /// `SIGINT`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGINT, 2);
    /// ```
    pub const SIGINT: i32 = libc::SIGINT;
    /// `SIGSTOP`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGSTOP, 19);
    /// ```
    pub const SIGSTOP: i32 = libc::SIGSTOP;
    /// `SIGCONT`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGCONT, 18);
    /// ```
    pub const SIGCONT: i32 = libc::SIGCONT;
    /// `SIGABRT`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGABRT, 6);
    /// ```
    pub const SIGABRT: i32 = libc::SIGABRT;
    /// `SIGXCPU`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::number::SIGXCPU, 24);
    /// ```
    pub const SIGXCPU: i32 = libc::SIGXCPU;
    /// `SIGSEGV`.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::signal::name(multiproc_sys::signal::number::SIGSEGV), "SIGSEGV");
    /// ```
    pub const SIGSEGV: i32 = libc::SIGSEGV;
}
