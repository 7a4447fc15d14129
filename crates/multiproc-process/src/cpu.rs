//! How many CPUs there are, and how many this process may use.

/// The number of logical CPUs in the machine, like Python's `os.cpu_count()`.
///
/// This counts every online CPU, including those this process may not run on; size a pool by
/// [`process_cpu_count`] instead.
///
/// ```
/// assert!(multiproc_process::cpu_count() >= 1);
/// ```
#[doc(alias = "multiprocessing.cpu_count")]
pub fn cpu_count() -> usize {
    multiproc_sys::process::online_cpus().unwrap_or(1)
}

/// The number of CPUs this process may use: its CPU affinity mask and its cgroup CPU quota
/// both count, like Python 3.13's `os.process_cpu_count()` (which only sees affinity).
///
/// This is what [`std::thread::available_parallelism`] computes on Linux.
///
/// ```
/// assert!(multiproc_process::process_cpu_count() <= multiproc_process::cpu_count());
/// ```
#[doc(alias = "os.process_cpu_count")]
pub fn process_cpu_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(cpu_count())
}

/// The number of physical cores (hyper-threads of one core count once), read from
/// `/sys/devices/system/cpu`. Falls back to [`cpu_count`] where the topology is not exposed.
///
/// CPU-bound work rarely gains from two workers on one core's hyper-threads, so this is often
/// the better pool size; Python cannot tell it.
///
/// ```
/// let physical = multiproc_process::physical_cpu_count();
/// assert!(physical >= 1 && physical <= multiproc_process::cpu_count());
/// ```
pub fn physical_cpu_count() -> usize {
    multiproc_sys::process::physical_cores()
        .filter(|&n| n > 0)
        .unwrap_or_else(cpu_count)
        .min(cpu_count())
}
