//! Resource limits a process sets on itself: getrlimit(2), setrlimit(2).
//!
//! ```
//! let open_files = multiproc_sys::rlimit::open_files();
//! assert!(open_files >= 3);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use rustix::process::{Resource, Rlimit};

/// Sets this process's soft limit on open descriptors (`RLIMIT_NOFILE`) to `limit`, keeping
/// the hard limit; for tests of what happens when descriptors run out.
///
/// ```
/// let before = multiproc_sys::rlimit::open_files();
/// multiproc_sys::rlimit::set_open_files(before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_open_files(limit: u64) -> io::Result<()> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut rlimit = getrlimit(Resource::Nofile);
    rlimit.current = Some(limit);
    setrlimit(Resource::Nofile, rlimit).map_err(Into::into)
}

/// This process's soft limit on open descriptors (`u64::MAX` when unlimited).
///
/// ```
/// assert!(multiproc_sys::rlimit::open_files() > 0);
/// ```
pub fn open_files() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// The limits this module sets.
///
/// ```
/// use multiproc_sys::rlimit::{Limit, get};
/// // Usually unlimited (`None`) unless a shell or container set one.
/// let _address_space: Option<u64> = get(Limit::AddressSpace)?;
/// let _data: Option<u64> = get(Limit::Data)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `RLIMIT_AS`: the size of the virtual address space; every `mmap(2)` counts.
    AddressSpace,
    /// `RLIMIT_DATA`: since Linux 4.7, private writable mappings and the heap (so large
    /// allocations count, shared file mappings do not).
    Data,
}

impl Limit {
    fn resource(self) -> Resource {
        match self {
            Limit::AddressSpace => Resource::As,
            Limit::Data => Resource::Data,
        }
    }
}

/// Sets the soft `limit` of this process in bytes (capped at the hard limit); `None`
/// removes it. An `mmap(2)` or allocation past it fails with `ENOMEM`. setrlimit(2).
///
/// ```
/// use multiproc_sys::rlimit::{Limit, get, set};
/// let before = get(Limit::AddressSpace)?;
/// set(Limit::AddressSpace, before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set(limit: Limit, bytes: Option<u64>) -> io::Result<()> {
    let resource = limit.resource();
    let hard = rustix::process::getrlimit(resource).maximum;
    let new = Rlimit {
        current: match (bytes, hard) {
            (Some(bytes), Some(hard)) => Some(bytes.min(hard)),
            (bytes, _) => bytes,
        },
        maximum: hard,
    };
    rustix::process::setrlimit(resource, new).map_err(Into::into)
}

/// The soft `limit` of this process in bytes, `None` if unlimited. getrlimit(2).
///
/// ```
/// let _ = multiproc_sys::rlimit::get(multiproc_sys::rlimit::Limit::Data)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn get(limit: Limit) -> io::Result<Option<u64>> {
    Ok(rustix::process::getrlimit(limit.resource()).current)
}

/// Sets this process's soft limit on CPU time (`RLIMIT_CPU`) to `seconds` (capped at the hard
/// limit), keeping the hard limit; `None` removes it. Past it the kernel sends `SIGXCPU`
/// (which ends the process unless handled) once a second, and `SIGKILL` at the hard limit.
/// The limit counts the process's whole CPU time, user and system. setrlimit(2).
///
/// ```
/// let before = multiproc_sys::rlimit::cpu_seconds()?;
/// multiproc_sys::rlimit::set_cpu_seconds(before)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_cpu_seconds(seconds: Option<u64>) -> io::Result<()> {
    let hard = rustix::process::getrlimit(Resource::Cpu).maximum;
    let new = Rlimit {
        current: match (seconds, hard) {
            (Some(seconds), Some(hard)) => Some(seconds.min(hard)),
            (Some(seconds), None) => Some(seconds),
            (None, hard) => hard,
        },
        maximum: hard,
    };
    rustix::process::setrlimit(Resource::Cpu, new).map_err(Into::into)
}

/// This process's soft limit on CPU time in seconds, `None` if unlimited. getrlimit(2).
///
/// ```
/// let _ = multiproc_sys::rlimit::cpu_seconds()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn cpu_seconds() -> io::Result<Option<u64>> {
    Ok(rustix::process::getrlimit(Resource::Cpu).current)
}

/// Sets this process's nice value (from -20, most favoured, to 19) with setpriority(2). Values
/// outside that range are clamped by the kernel; lowering the value below the current one
/// needs `CAP_SYS_NICE` (or `RLIMIT_NICE`) and fails with `EACCES` otherwise.
///
/// ```
/// let now = multiproc_sys::rlimit::nice()?;
/// multiproc_sys::rlimit::set_nice(now)?;
/// assert_eq!(multiproc_sys::rlimit::nice()?, now);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_nice(value: i32) -> io::Result<()> {
    rustix::process::setpriority_process(None, value).map_err(Into::into)
}

/// This process's nice value. getpriority(2).
///
/// ```
/// let now = multiproc_sys::rlimit::nice()?;
/// assert!((-20..=19).contains(&now));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn nice() -> io::Result<i32> {
    rustix::process::getpriority_process(None).map_err(Into::into)
}

/// The CPU time this process has used so far, user and system, as `RLIMIT_CPU` counts it.
/// getrusage(2).
///
/// ```
/// let used = multiproc_sys::rlimit::cpu_time_used()?;
/// assert!(used < std::time::Duration::from_secs(3600));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn cpu_time_used() -> io::Result<std::time::Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `usage` is writable memory of the size of a `rusage`, which getrusage fills
    // when it returns 0.
    crate::cvt(unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) })?;
    // SAFETY: getrusage returned 0, so it filled `usage`.
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        std::time::Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_usec)
                .unwrap_or(0)
                .saturating_mul(1000)
                .min(999_999_999),
        )
    };
    Ok(time(usage.ru_utime).saturating_add(time(usage.ru_stime)))
}

/// Gives this process `budget` more CPU time from now: sets the soft `RLIMIT_CPU` to the time
/// used so far (rounded up to a second) plus `budget` (rounded up, at least a second), so a
/// long-lived worker can cap each task rather than its whole life.
///
/// ```
/// use std::time::Duration;
/// multiproc_sys::rlimit::set_cpu_budget(Duration::from_secs(3600))?;
/// assert!(multiproc_sys::rlimit::cpu_seconds()?.is_some());
/// multiproc_sys::rlimit::set_cpu_seconds(None)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_cpu_budget(budget: std::time::Duration) -> io::Result<()> {
    let ceil = |d: std::time::Duration| d.as_secs() + u64::from(d.subsec_nanos() > 0);
    let used = ceil(cpu_time_used()?);
    set_cpu_seconds(Some(used.saturating_add(ceil(budget).max(1))))
}
