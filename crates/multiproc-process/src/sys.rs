//! Thin wrappers over the Linux system calls this crate needs.
//!
//! Every `unsafe` block of the crate lives here. Each wrapper cites its man page and turns a
//! `-1` return into an [`io::Error`] through [`cvt`].

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::tag::{Forged, Kind, Sealed, anchor_address};

/// Turns a C-style `-1` return into the thread's `errno` (nix's `Errno::result`).
pub(crate) fn cvt<T: PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Repeats a call while it fails with `EINTR`.
fn retry_eintr<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// How a process ended, as `waitpid(2)` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// The process called `exit` (or returned from `main`) with this code.
    Code(i32),
    /// The process was ended by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// The status as Python's `Process.exitcode` gives it: the exit code, or the negated signal
    /// number when a signal ended the process.
    ///
    /// ```
    /// use multiproc_process::ExitStatus;
    /// assert_eq!(ExitStatus::Code(3).exitcode(), 3);
    /// assert_eq!(ExitStatus::Signal(9).exitcode(), -9);
    /// ```
    pub fn exitcode(self) -> i32 {
        match self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal(signal) => -signal,
        }
    }

    /// Whether the process exited with code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }

    fn from_wait_status(status: libc::c_int) -> ExitStatus {
        if libc::WIFSIGNALED(status) {
            ExitStatus::Signal(libc::WTERMSIG(status))
        } else {
            ExitStatus::Code(libc::WEXITSTATUS(status))
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ExitStatus::Code(code) => write!(f, "exit code {code}"),
            ExitStatus::Signal(signal) => write!(f, "signal {signal} ({})", signal_name(signal)),
        }
    }
}

/// The conventional name of a signal, for error messages.
pub(crate) fn signal_name(signal: i32) -> &'static str {
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
        libc::SIGSYS => "SIGSYS",
        _ => "signal",
    }
}

/// `fork(2)`.
///
/// # Safety
///
/// In the child only the calling thread exists. Until it leaves with [`exit_now`], the child may
/// only do what is safe after `fork` in a multi-threaded program: no lock that another thread of
/// the parent may have held, no unwinding past the caller. The callers of this function keep to
/// that, and document where they rely on glibc making `malloc` usable after `fork`.
pub(crate) unsafe fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: `fork` has no memory-safety preconditions of its own; the caller upholds the
    // post-fork contract stated above.
    cvt(unsafe { libc::fork() })
}

/// `_exit(2)`: leaves at once, without running atexit handlers or destructors.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// `getpid(2)`.
pub(crate) fn getpid() -> u32 {
    std::process::id()
}

/// `getppid(2)`.
pub(crate) fn getppid() -> u32 {
    // SAFETY: `getppid` always succeeds and touches no memory.
    unsafe { libc::getppid() as u32 }
}

/// Whether the calling thread is the process's main thread (`gettid(2)` equals the pid).
pub(crate) fn is_main_thread() -> bool {
    // SAFETY: `gettid` always succeeds and touches no memory.
    let tid = unsafe { libc::gettid() };
    tid as u32 == getpid()
}

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`: this process is killed when the thread that created it
/// exits. Returns whether the expected parent is still the parent afterwards (closing the race
/// where it died before the call).
pub(crate) fn kill_me_with_parent(expected_parent: u32) -> bool {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    let ret = unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    ret == 0 && getppid() == expected_parent
}

/// Ignores SIGPIPE, as the Rust runtime does before `main`: a write to a closed pipe then fails
/// with `EPIPE` instead of killing the process. Needed in code that runs before `main`.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN for SIGPIPE is always sound.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Restores the default disposition of every catchable signal and unblocks all signals, so a
/// forked child does not inherit handlers meant for the parent (signal(7)).
pub(crate) fn reset_signal_mask() {
    // SAFETY: `sigset` is initialised by `sigemptyset` before use; `pthread_sigmask` only reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// `kill(2)`.
pub(crate) fn kill(pid: u32, signal: i32) -> io::Result<()> {
    // SAFETY: `kill` touches no memory of ours.
    cvt(unsafe { libc::kill(pid as libc::pid_t, signal) }).map(drop)
}

/// `waitpid(2)` on one child. `block = false` adds `WNOHANG` and returns `None` while the child
/// runs.
pub(crate) fn waitpid(pid: u32, block: bool) -> io::Result<Option<ExitStatus>> {
    let flags = if block { 0 } else { libc::WNOHANG };
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer for the duration of the call.
    let ret =
        retry_eintr(|| cvt(unsafe { libc::waitpid(pid as libc::pid_t, &mut status, flags) }))?;
    Ok((ret != 0).then(|| ExitStatus::from_wait_status(status)))
}

/// `pidfd_open(2)`: a descriptor that becomes readable when the process ends (Linux 5.3).
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: the syscall takes two integers and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0) })?;
    // SAFETY: on success the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `poll(2)` on one descriptor for readability. `None` waits without limit. Returns whether it
/// became readable (or hung up) before the timeout.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let millis = match timeout {
        None => -1,
        // Round up so that a short timeout does not become a busy loop of zero-length polls.
        Some(t) => t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
    };
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call.
    let n = retry_eintr(|| cvt(unsafe { libc::poll(&mut pfd, 1, millis) }))?;
    Ok(n > 0)
}

/// `getrandom(2)`: a random `u64`, for the bootstrap token.
pub(crate) fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is valid for 8 bytes of writes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == 8 {
        u64::from_ne_bytes(buf)
    } else {
        // Fall back to the hasher's per-process random keys; the token only has to be hard to
        // guess for another user, not cryptographically strong.
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::time::SystemTime::now())
    }
}

/// Flushes the C `stdio` buffers (`fflush(NULL)`), before a fork and before `_exit`.
pub(crate) fn flush_c_stdio() {
    // SAFETY: `fflush(NULL)` flushes every open C stream; it has no preconditions.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}

/// `atexit(3)`.
pub(crate) fn atexit(handler: extern "C" fn()) {
    // SAFETY: `handler` is a plain `extern "C" fn()` that lives for the whole program.
    unsafe { libc::atexit(handler) };
}

/// `sysconf(_SC_NPROCESSORS_ONLN)`.
pub(crate) fn online_cpus() -> Option<usize> {
    // SAFETY: `sysconf` takes an integer name and touches no memory.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    (n > 0).then_some(n as usize)
}

/// Sets an environment variable's removal in code that runs before `main`.
///
/// # Safety
///
/// No other thread may read or write the environment at the same time. The caller runs before
/// `main`, where the process has only one thread.
pub(crate) unsafe fn remove_env_before_main(key: &str) {
    // SAFETY: the caller guarantees that the process is single-threaded here.
    unsafe { std::env::remove_var(key) };
}

/// Conjures a value of a zero-sized function type.
///
/// # Safety
///
/// `F` must be zero-sized, inhabited and `Copy`: a function item or a closure that captures
/// nothing, of which the parent process held a value. Such a type has exactly one value and no
/// bytes, so producing it out of nothing is the same as copying the parent's.
pub(crate) unsafe fn conjure_zst<F: Copy>() -> F {
    const { assert!(size_of::<F>() == 0) };
    // SAFETY: per the contract, `F` is an inhabited zero-sized type, so it has exactly one
    // value and no bytes; a zero-sized read through a non-null, aligned (dangling) pointer is
    // valid (`std::ptr` docs, "Safety").
    unsafe { std::ptr::NonNull::<F>::dangling().read() }
}

/// The function a sealed offset names, once its tag verified.
///
/// A valid tag proves that the offset was made by `Sealed::seal` from a function of type `T` in
/// a process of this process tree, and every process of the tree runs this very executable: a
/// forked child shares its parent's image, and a re-executed child receives the tree's key
/// only after proving, by its executable's fingerprint, that it runs the parent's file. The
/// image is loaded at one base, so the distance between two of its functions is the same in
/// every process that runs it.
pub(crate) fn open<T: Kind>(sealed: &Sealed<T>) -> Result<T, Forged> {
    const { assert!(size_of::<T>() == size_of::<usize>()) };
    sealed.verify()?;
    let address = anchor_address().wrapping_add_signed(sealed.offset());
    // SAFETY: the tag verified, so (see above) `address` is the address of a function of type
    // `T` in this image; `T` is a function pointer type of the size of `usize`.
    Ok(unsafe { std::mem::transmute_copy::<usize, T>(&address) })
}

/// Identity of the running executable (`stat(2)` of `/proc/self/exe`): device, inode, size and
/// modification time. A child re-executed from `/proc/self/exe` sees the same file.
pub(crate) fn exe_fingerprint() -> io::Result<[u64; 4]> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/proc/self/exe")?;
    Ok([meta.dev(), meta.ino(), meta.size(), meta.mtime() as u64])
}

/// The exit status of a zombie process, read from `/proc/<pid>/stat` (proc(5), field 52,
/// `exit_code`, Linux 3.5). Used for children of the fork server, which this process cannot
/// `waitpid`; the fork server leaves them unreaped until asked, so the pid stays valid.
pub(crate) fn zombie_exit_status(pid: u32) -> io::Result<ExitStatus> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let state = fields.first().copied().unwrap_or("");
    if state != "Z" && state != "X" {
        return Err(io::Error::other(format!(
            "process {pid} has not exited (state {state})"
        )));
    }
    let code: i32 = fields
        .get(52 - 3)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no exit code in /proc/{pid}/stat")))?;
    Ok(ExitStatus::from_wait_status(code))
}

/// `eventfd(2)`, close-on-exec: a descriptor to wake a `poll` from another thread.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: `eventfd` takes two integers and returns a new descriptor or -1.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) })?;
    // SAFETY: on success the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable.
pub(crate) fn eventfd_signal(fd: BorrowedFd<'_>) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a valid `u64` to a descriptor we borrow.
    unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// `poll(2)` on several descriptors for readability, without timeout. Returns the index of the
/// first ready one.
pub(crate) fn poll_first_readable(fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` holds `pfds.len()` valid pollfds for the duration of the call.
    retry_eintr(|| cvt(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, -1) }))?;
    Ok(pfds.iter().position(|p| p.revents != 0).unwrap_or(0))
}
