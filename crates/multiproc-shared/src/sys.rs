//! The crate's only contact with the operating system: futexes, process identity and
//! liveness, and mapping `/dev/shm` files. Everything here is Linux-specific.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::time::Duration;

/// Turns the `-1` that a libc call returns on failure into the `errno` it left behind
/// (nix's `Errno::result`).
fn cvt<T: From<i8> + PartialEq>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Sleeps while `word` still holds `expected`, for at most `timeout` (relative, measured
/// on `CLOCK_MONOTONIC`), or until [`futex_wake`] is called on the same word.
///
/// The futex is shared (no `FUTEX_PRIVATE_FLAG`), so the kernel keys it on the page and
/// offset of the mapping: processes that map the same segment at different addresses
/// wake each other. Returns `Ok(())` on a wake-up, or the error the kernel gave:
/// `EAGAIN` (the word had changed), `ETIMEDOUT`, `EINTR`. Callers re-check their
/// condition in every case. See futex(2), `FUTEX_WAIT`.
pub(crate) fn futex_wait(
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> io::Result<()> {
    let timespec = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        // Always below 1e9, so this never overflows and is always a normalized timespec.
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let timespec_ptr = timespec
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word.as_ptr()` points to a live, 4-byte aligned u32 for the duration of the
    // call (the borrow keeps it alive); `timespec_ptr` is null or points to a local that
    // outlives the call. FUTEX_WAIT reads both and writes neither.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            timespec_ptr,
        )
    };
    cvt(ret).map(drop)
}

/// Wakes up to `count` processes or threads sleeping in [`futex_wait`] on `word` and
/// returns how many were woken. See futex(2), `FUTEX_WAKE`.
pub(crate) fn futex_wake(word: &AtomicU32, count: i32) -> usize {
    // SAFETY: `word.as_ptr()` points to a live, aligned u32; FUTEX_WAKE only uses the
    // address as a key and dereferences nothing else.
    let ret = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count) };
    // FUTEX_WAKE fails only for a bad address or operation, which the types rule out.
    usize::try_from(ret).unwrap_or(0)
}

/// The process id, cached: the uncontended lock path must cost one CAS, not a syscall.
/// Zero means "not known yet"; a `pthread_atfork` child handler resets it in every
/// child made by `fork(2)` through libc.
static CACHED_PID: AtomicU32 = AtomicU32::new(0);

extern "C" fn forget_pid_after_fork() {
    // Runs in the child right after fork(2): only an atomic store, async-signal-safe.
    CACHED_PID.store(0, Ordering::Relaxed);
}

/// Whether the `pthread_atfork` handler is registered: 0 not yet, 1 being registered,
/// 2 registered. Not a `Once`: a child forked while another thread was inside the
/// registration would find a `Once` "running" forever and block on it. With this word the
/// child just never caches (it sees 1) and asks the kernel each time.
static ATFORK: AtomicU8 = AtomicU8::new(0);

/// The id of the calling process (getpid(2)), as stored in lock words.
pub(crate) fn current_pid() -> u32 {
    let pid = CACHED_PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    let pid = std::process::id();
    match ATFORK.load(Ordering::Acquire) {
        2 => CACHED_PID.store(pid, Ordering::Relaxed),
        0 if ATFORK
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok() =>
        {
            // SAFETY: the handler is an `extern "C" fn()` with static lifetime that only
            // stores to an atomic; pthread_atfork(3) merely records the pointer.
            let ret = unsafe { libc::pthread_atfork(None, None, Some(forget_pid_after_fork)) };
            // Without the handler a forked child would impersonate its parent as lock
            // owner, so the pid is cached only once it is registered.
            if ret == 0 {
                ATFORK.store(2, Ordering::Release);
                CACHED_PID.store(pid, Ordering::Relaxed);
            }
        }
        // Another thread is registering the handler (or was when this process was forked):
        // do not cache.
        _ => {}
    }
    pid
}

/// An id of the calling thread, unique among the live threads of this process
/// (pthread_self(3)); combined with the pid it names an `RLock` owner.
pub(crate) fn current_thread() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    let id = unsafe { libc::pthread_self() };
    id as u64
}

/// Whether process `pid` still runs. A zombie (dead, not yet reaped) counts as dead: a
/// lock it held will never be released. Reads `/proc/<pid>/stat` (proc(5)) and falls back
/// to `kill(pid, 0)` (kill(2)) where `/proc` is not mounted.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    match std::fs::read(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state letter follows the last ')' (the command name may contain ')').
            let after_name = stat.iter().rposition(|&b| b == b')').map_or(0, |i| i + 1);
            let state = stat[after_name..].iter().find(|b| !b.is_ascii_whitespace());
            !matches!(state, Some(b'Z' | b'X' | b'x'))
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => false,
        Err(_) => {
            let Ok(pid) = libc::pid_t::try_from(pid) else {
                return false;
            };
            // SAFETY: signal 0 performs only the existence and permission check.
            let ret = unsafe { libc::kill(pid, 0) };
            cvt(ret).is_ok() || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
        }
    }
}

/// Maps `len` bytes of `file` shared and writable (mmap(2), `MAP_SHARED`). memmap2's
/// `map_raw` is safe because a raw mapping hands out only pointers; the truncation hazard
/// (SIGBUS) is documented on `SharedMemory`.
pub(crate) fn map_shared(file: &File, len: usize) -> io::Result<memmap2::MmapRaw> {
    memmap2::MmapOptions::new().len(len).map_raw(file)
}

/// Gives the pages of a fresh, zero-filled shared mapping back to the kernel: they read as
/// zeros and are allocated again when first written. ipc-channel fills a new region byte by
/// byte, which leaves all of it resident; this undoes that for regions that are mostly
/// untouched at first, such as a queue's ring. See madvise(2), `MADV_REMOVE` (which frees
/// the backing store of a shared memory mapping, unlike `MADV_DONTNEED`). Failure only
/// leaves the pages resident, so it is ignored.
pub(crate) fn release_pages(base: *mut u8, len: usize) {
    // SAFETY: the caller passes a page-aligned shared mapping of at least `len` bytes that
    // nobody has a reference into; MADV_REMOVE keeps the mapping valid (it reads as zeros).
    let _ = unsafe { libc::madvise(base.cast(), len, libc::MADV_REMOVE) };
}
