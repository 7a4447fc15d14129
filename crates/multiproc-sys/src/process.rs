//! Process identity, liveness and the workspace's one `/proc/<pid>/stat` reader.
//!
//! ```
//! use multiproc_sys::process;
//! assert_eq!(process::pid(), std::process::id());
//! assert!(process::is_alive(process::parent_pid()));
//! assert!(process::thread_count()? >= 1);
//! assert!(process::online_cpus().is_some_and(|n| n >= 1));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// The process id, cached: the uncontended lock path must cost one compare-and-swap, not a
/// system call. Zero means "not known yet"; a `pthread_atfork` child handler resets it in
/// every child made by `fork(2)` through libc.
static CACHED_PID: AtomicU32 = AtomicU32::new(0);

extern "C" fn forget_pid_after_fork() {
    // Runs in the child right after fork(2): only an atomic store, async-signal-safe.
    CACHED_PID.store(0, Ordering::Relaxed);
}

/// Whether the `pthread_atfork` handler is registered: 0 not yet, 1 being registered, 2
/// registered. Not a `Once`: a child forked while another thread was inside the registration
/// would find a `Once` "running" forever and block on it. With this word such a child just
/// never caches (it sees 1) and asks the kernel each time.
static ATFORK: AtomicU8 = AtomicU8::new(0);

/// The id of the calling process (getpid(2)), cached and correct in forked children.
///
/// ```
/// assert_eq!(multiproc_sys::process::pid(), std::process::id());
/// ```
#[inline]
pub fn pid() -> u32 {
    let pid = CACHED_PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    uncached_pid()
}

/// [`pid`] before it is cached: asks the kernel, and caches the answer once the fork
/// handler that forgets it is registered. Out of line, so the cached path inlines into
/// the lock words that call it on every acquire.
#[cold]
fn uncached_pid() -> u32 {
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
            // Without the handler a forked child would impersonate its parent as a lock
            // owner, so the pid is cached only once it is registered.
            if ret == 0 {
                ATFORK.store(2, Ordering::Release);
                CACHED_PID.store(pid, Ordering::Relaxed);
            }
        }
        // Another thread is registering the handler (or was when this process was forked).
        _ => {}
    }
    pid
}

/// An id of the calling thread, unique among the live threads of this process
/// (pthread_self(3)); with the pid it names an `RLock` owner.
///
/// ```
/// let here = multiproc_sys::process::thread_id();
/// let there = std::thread::spawn(multiproc_sys::process::thread_id).join().unwrap();
/// assert_ne!(here, there);
/// ```
#[inline]
pub fn thread_id() -> u64 {
    thread_local! {
        /// This thread's `pthread_self`, 0 until first asked: a thread-local read is one
        /// load, where the call into libc cost a fifth of a locked `Value` increment. A
        /// forked child's one thread keeps its parent thread's value, as pthread_self does.
        /// Const-initialised and without a destructor, so `with` cannot fail, even while
        /// the thread's other thread-locals are being destroyed.
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| match id.get() {
        0 => {
            // SAFETY: pthread_self has no preconditions and cannot fail.
            let fresh = unsafe { libc::pthread_self() } as u64;
            id.set(fresh);
            fresh
        }
        cached => cached,
    })
}

/// Whether the calling thread is the process's main thread (gettid(2) equals the pid).
///
/// ```
/// assert!(!std::thread::spawn(multiproc_sys::process::is_main_thread).join().unwrap());
/// ```
pub fn is_main_thread() -> bool {
    rustix::thread::gettid().as_raw_nonzero().get() as u32 == std::process::id()
}

/// The parent's process id (getppid(2)); 0 when the parent is outside this pid namespace.
///
/// ```
/// assert_ne!(multiproc_sys::process::parent_pid(), multiproc_sys::process::pid());
/// ```
pub fn parent_pid() -> u32 {
    rustix::process::getppid().map_or(0, |pid| pid.as_raw_nonzero().get() as u32)
}

/// What the kernel says about a process in `/proc/<pid>/stat` (proc(5)).
///
/// Parsed here rather than by the `procfs` crate, which is not a dependency: the workspace
/// reads five fields, and rustix has no `/proc` parser.
///
/// ```
/// let me = multiproc_sys::process::stat(multiproc_sys::process::pid())?;
/// assert_eq!(me.parent, multiproc_sys::process::parent_pid());
/// assert!(!me.has_exited());
/// assert_eq!(me.exit_status, None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 3, the state letter: `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead), ...
    pub state: u8,
    /// Field 4, the parent's pid.
    pub parent: u32,
    /// Field 20, the number of threads.
    pub threads: u64,
    /// Field 22, the start time in clock ticks after boot: with the pid, it names one
    /// process even after the pid is reused.
    pub start_time: u64,
    /// Field 52 (Linux 3.5), the wait status of a process that has exited, as waitpid(2)
    /// would report it; `None` while it runs.
    pub exit_status: Option<i32>,
}

impl ProcStat {
    /// Whether the process has ended (a zombie, dead not yet reaped, counts as ended).
    ///
    /// ```
    /// use std::process::Command;
    /// let mut child = Command::new("true").spawn()?;
    /// let pid = child.id();
    /// // Wait until it is a zombie (ended, not yet reaped), without reaping it.
    /// let mut stat = multiproc_sys::process::stat(pid)?;
    /// while !stat.has_exited() {
    ///     std::thread::yield_now();
    ///     stat = multiproc_sys::process::stat(pid)?;
    /// }
    /// assert_eq!(stat.exit_status, Some(0));
    /// child.wait()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn has_exited(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }

    /// Parses the contents of a `/proc/<pid>/stat` file. The command name (field 2) may hold
    /// spaces and parentheses, so the fields are counted after the last `)`.
    ///
    /// ```
    /// use multiproc_sys::process::ProcStat;
    /// let line = b"42 (a) b) Z 1 42 42 0 -1 4194560 90 0 0 0 0 0 0 0 20 0 1 0 1234 0 0 \
    ///     0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 256";
    /// let stat = ProcStat::parse(line).unwrap();
    /// assert!(stat.has_exited());
    /// assert_eq!(stat.start_time, 1234);
    /// assert_eq!(stat.parent, 1);
    /// assert_eq!(stat.threads, 1);
    /// assert_eq!(stat.exit_status, Some(256));
    /// assert!(ProcStat::parse(b"garbage").is_none());
    /// ```
    pub fn parse(stat: &[u8]) -> Option<ProcStat> {
        let after_name = stat.iter().rposition(|&b| b == b')')? + 1;
        let rest = std::str::from_utf8(&stat[after_name..]).ok()?;
        let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
        // `rest` starts at field 3 (state), so field N is at index N - 3.
        let state = *fields.first()?.as_bytes().first()?;
        let parent = fields.get(4 - 3)?.parse().ok()?;
        let threads = fields.get(20 - 3)?.parse().ok()?;
        let start_time = fields.get(22 - 3)?.parse().ok()?;
        let exited = matches!(state, b'Z' | b'X' | b'x');
        let exit_status = if exited {
            fields.get(52 - 3).and_then(|field| field.parse().ok())
        } else {
            None
        };
        Some(ProcStat {
            state,
            parent,
            threads,
            start_time,
            exit_status,
        })
    }
}

/// Reads `/proc/<pid>/stat`: the workspace's one `/proc` reader of another process's state.
///
/// ```
/// let me = multiproc_sys::process::stat(std::process::id())?;
/// assert!(!me.has_exited());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stat(pid: u32) -> io::Result<ProcStat> {
    parse_stat_file(&format!("/proc/{pid}/stat"))
}

fn parse_stat_file(path: &str) -> io::Result<ProcStat> {
    use std::io::Read;
    // One line of 52 fields and a name of at most 64 bytes: well under 2 KiB. Read into a
    // fixed buffer rather than with `fs::read`, whose size probe and doubling reads cost six
    // system calls more (this runs on every fork-server start and join).
    let mut buffer = [0u8; 2048];
    let mut file = std::fs::File::open(path)?;
    let mut len = 0;
    while len < buffer.len() {
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    ProcStat::parse(&buffer[..len])
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed /proc/<pid>/stat"))
}

/// Whether process `pid` still runs: the workspace's one liveness check. A zombie (dead, not
/// yet reaped) counts as dead, since a lock it held will never be released. Reads
/// `/proc/<pid>/stat`; where `/proc` cannot be read, asks kill(2) with signal 0.
///
/// ```
/// assert!(multiproc_sys::process::is_alive(std::process::id()));
/// assert!(!multiproc_sys::process::is_alive(0));
/// ```
pub fn is_alive(pid: u32) -> bool {
    let Some(raw) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match stat(pid) {
        Ok(stat) => !stat.has_exited(),
        Err(err) if err.kind() == io::ErrorKind::NotFound => false,
        Err(_) => match rustix::process::test_kill_process(raw) {
            Ok(()) => true,
            Err(err) => err != rustix::io::Errno::SRCH,
        },
    }
}

/// How many threads this process has now (`/proc/self/stat` field 20).
///
/// ```
/// assert!(multiproc_sys::process::thread_count()? >= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn thread_count() -> io::Result<usize> {
    // `/proc/self`, not `/proc/<pid>`: right even where `/proc` is another pid namespace's.
    let threads = parse_stat_file("/proc/self/stat")?.threads;
    usize::try_from(threads)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "malformed /proc/<pid>/stat"))
}

/// `sysconf(_SC_NPROCESSORS_ONLN)`: the number of online CPUs, if known.
///
/// ```
/// assert!(multiproc_sys::process::online_cpus().unwrap() >= 1);
/// ```
pub fn online_cpus() -> Option<usize> {
    // SAFETY: sysconf takes an integer name and touches no memory.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// The number of physical cores of the online CPUs (hyper-threads of one core count once),
/// from `/sys/devices/system/cpu/cpu*/topology`; `None` where the topology is not exposed.
///
/// Read by hand: neither std nor rustix exposes the CPU topology, and the crates that do
/// (`num_cpus`, `sysinfo`, `procfs`) are not dependencies.
///
/// ```
/// if let Some(cores) = multiproc_sys::process::physical_cores() {
///     assert!(cores >= 1);
/// }
/// ```
pub fn physical_cores() -> Option<usize> {
    let mut cores = std::collections::HashSet::new();
    for entry in std::fs::read_dir("/sys/devices/system/cpu").ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        let name = name.to_str()?;
        let Some(index) = name.strip_prefix("cpu") else {
            continue;
        };
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let online = std::fs::read_to_string(entry.path().join("online"));
        if matches!(online.as_deref().map(str::trim), Ok("0")) {
            continue;
        }
        let topology = entry.path().join("topology");
        let package = std::fs::read_to_string(topology.join("physical_package_id")).ok()?;
        let core = std::fs::read_to_string(topology.join("core_id")).ok()?;
        cores.insert((package.trim().to_owned(), core.trim().to_owned()));
    }
    Some(cores.len())
}
