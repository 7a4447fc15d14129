//! Resource limits a child sets on itself before its target runs: memory, CPU time, `nice`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::ExitReason;

/// Resource limits for a child process (or for every worker of a pool), set by the child on
/// itself (setrlimit(2), setpriority(2)) before its target runs, under every start method.
///
/// - [`memory`](Limits::memory): `RLIMIT_DATA`, the heap and private writable mappings, so
///   every large allocation counts; an allocation past it fails, and Rust's allocation-failure
///   handler prints `memory allocation of N bytes failed` and aborts the child.
///   Under the fork start method the child starts with a copy of the parent's memory, which
///   counts too: a cap below what the parent holds fails the child's first allocation.
/// - [`address_space`](Limits::address_space): `RLIMIT_AS`, all mappings (thread stacks and
///   reserved arenas included, so it needs more headroom than `memory`).
/// - [`cpu_time`](Limits::cpu_time): `RLIMIT_CPU`, in whole seconds (rounded up): the kernel
///   ends the child with `SIGXCPU` once it used that much CPU time, counted from the child's
///   start (for a pool worker, over all the tasks it ran).
/// - [`nice`](Limits::nice): the child's scheduling niceness (lowering it needs privilege).
///
/// A child that ends in a way its limits explain is reported with the limit named:
/// [`ProcessError::LimitExceeded`](crate::ProcessError::LimitExceeded) with a
/// [`LimitExceeded`]. cgroup v2's `memory.max` is not used: it needs a delegated cgroup
/// subtree per child, which most programs do not have.
///
/// ```
/// use std::time::Duration;
/// use multiproc_process::{LimitExceeded, Limits, Process, ProcessError};
/// fn spin() { loop { std::hint::black_box(0); } }
/// let limits = Limits::new().cpu_time(Duration::from_secs(1));
/// let mut p = Process::new(spin, ()).limits(limits);
/// p.start()?;
/// match p.join() {
///     Err(ProcessError::LimitExceeded { limit, .. }) => {
///         assert_eq!(limit, LimitExceeded::CpuTime { limit: Duration::from_secs(1) })
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), ProcessError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    memory: Option<u64>,
    address_space: Option<u64>,
    cpu_time: Option<Duration>,
    nice: Option<i32>,
}

impl Limits {
    /// No limits.
    ///
    /// ```
    /// assert!(multiproc_process::Limits::new().is_empty());
    /// ```
    pub fn new() -> Limits {
        Limits::default()
    }

    /// Caps the child's data (heap and private writable mappings, `RLIMIT_DATA`) at `bytes`.
    ///
    /// ```
    /// let limits = multiproc_process::Limits::new().memory(512 << 20);
    /// assert_eq!(limits.memory_limit(), Some(512 << 20));
    /// ```
    pub fn memory(mut self, bytes: u64) -> Limits {
        self.memory = Some(bytes);
        self
    }

    /// Caps the child's whole address space (`RLIMIT_AS`) at `bytes`.
    ///
    /// ```
    /// let limits = multiproc_process::Limits::new().address_space(1 << 30);
    /// assert_eq!(limits.address_space_limit(), Some(1 << 30));
    /// ```
    pub fn address_space(mut self, bytes: u64) -> Limits {
        self.address_space = Some(bytes);
        self
    }

    /// Caps the child's CPU time (`RLIMIT_CPU`), rounded up to whole seconds, at least one.
    ///
    /// ```
    /// use std::time::Duration;
    /// let limits = multiproc_process::Limits::new().cpu_time(Duration::from_millis(1500));
    /// assert_eq!(limits.cpu_time_limit(), Some(Duration::from_secs(2)));
    /// ```
    pub fn cpu_time(mut self, time: Duration) -> Limits {
        let seconds = time.as_secs() + u64::from(time.subsec_nanos() > 0);
        self.cpu_time = Some(Duration::from_secs(seconds.max(1)));
        self
    }

    /// Sets the child's nice value (-20 to 19; the kernel clamps others). Raising it (lower
    /// priority) is always allowed; lowering it below the parent's needs `CAP_SYS_NICE`, and
    /// the child then fails to start its target with
    /// [`ProcessError::Setting`](crate::ProcessError::Setting).
    ///
    /// ```
    /// use multiproc_process::{Limits, Process};
    /// fn niceness() -> i32 { multiproc_sys::rlimit::nice().unwrap() }
    /// let mut p = Process::new(niceness, ()).limits(Limits::new().nice(19));
    /// p.start()?;
    /// assert_eq!(p.join()?, 19);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn nice(mut self, value: i32) -> Limits {
        self.nice = Some(value);
        self
    }

    /// The [`memory`](Limits::memory) cap, if set.
    ///
    /// ```
    /// assert_eq!(multiproc_process::Limits::new().memory_limit(), None);
    /// ```
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory
    }

    /// The [`address_space`](Limits::address_space) cap, if set.
    ///
    /// ```
    /// assert_eq!(multiproc_process::Limits::new().address_space_limit(), None);
    /// ```
    pub fn address_space_limit(&self) -> Option<u64> {
        self.address_space
    }

    /// The [`cpu_time`](Limits::cpu_time) cap, if set.
    ///
    /// ```
    /// assert_eq!(multiproc_process::Limits::new().cpu_time_limit(), None);
    /// ```
    pub fn cpu_time_limit(&self) -> Option<Duration> {
        self.cpu_time
    }

    /// The [`nice`](Limits::nice) value, if set.
    ///
    /// ```
    /// assert_eq!(multiproc_process::Limits::new().nice(5).nice_value(), Some(5));
    /// ```
    pub fn nice_value(&self) -> Option<i32> {
        self.nice
    }

    /// Whether nothing is set.
    ///
    /// ```
    /// assert!(!multiproc_process::Limits::new().nice(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// The limit that explains a child ending with `status` under these limits, if one does:
    /// `SIGXCPU` under a CPU cap, `SIGABRT` (Rust's allocation-failure handler aborts) under
    /// a memory or address-space cap. The second is a likelihood, not a certainty: an
    /// `abort` for another reason looks the same from outside.
    ///
    /// ```
    /// use multiproc_process::{ExitReason, LimitExceeded, Limits};
    /// let limits = Limits::new().memory(256 << 20);
    /// let sigabrt = ExitReason::Signal(6);
    /// assert_eq!(limits.explain(sigabrt), Some(LimitExceeded::Memory { limit: 256 << 20 }));
    /// assert_eq!(limits.explain(ExitReason::Code(1)), None);
    /// ```
    pub fn explain(&self, status: ExitReason) -> Option<LimitExceeded> {
        use multiproc_sys::signal::number::{SIGABRT, SIGXCPU};
        match status {
            ExitReason::Signal(signal) if signal == SIGXCPU => {
                self.cpu_time.map(|limit| LimitExceeded::CpuTime { limit })
            }
            ExitReason::Signal(signal) if signal == SIGABRT => {
                match (self.memory, self.address_space) {
                    (Some(limit), _) => Some(LimitExceeded::Memory { limit }),
                    (None, Some(limit)) => Some(LimitExceeded::AddressSpace { limit }),
                    (None, None) => None,
                }
            }
            _ => None,
        }
    }

    /// Applies the limits to this process. An error names the limit that could not be set.
    pub(crate) fn apply(&self) -> Result<(), String> {
        use multiproc_sys::rlimit::{self, Limit};
        if let Some(bytes) = self.memory {
            rlimit::set(Limit::Data, Some(bytes))
                .map_err(|e| format!("the memory limit (RLIMIT_DATA) of {bytes} bytes: {e}"))?;
        }
        if let Some(bytes) = self.address_space {
            rlimit::set(Limit::AddressSpace, Some(bytes)).map_err(|e| {
                format!("the address-space limit (RLIMIT_AS) of {bytes} bytes: {e}")
            })?;
        }
        if let Some(time) = self.cpu_time {
            rlimit::set_cpu_seconds(Some(time.as_secs()))
                .map_err(|e| format!("the CPU time limit (RLIMIT_CPU) of {time:?}: {e}"))?;
        }
        if let Some(value) = self.nice {
            rlimit::set_nice(value).map_err(|e| format!("nice {value}: {e}"))?;
        }
        Ok(())
    }
}

/// The resource limit that ended a child (see [`Limits::explain`]).
///
/// ```
/// use std::time::Duration;
/// use multiproc_process::LimitExceeded;
/// let hit = LimitExceeded::CpuTime { limit: Duration::from_secs(1) };
/// assert_eq!(hit.to_string(), "the CPU time limit of 1s (SIGXCPU)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// The CPU time cap: the kernel sent `SIGXCPU`.
    CpuTime {
        /// The cap.
        limit: Duration,
    },
    /// The memory (`RLIMIT_DATA`) cap, likely: the child aborted while it was set, as Rust
    /// does when an allocation fails.
    Memory {
        /// The cap in bytes.
        limit: u64,
    },
    /// The address-space (`RLIMIT_AS`) cap, likely: the child aborted while it was set.
    AddressSpace {
        /// The cap in bytes.
        limit: u64,
    },
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitExceeded::CpuTime { limit } => {
                write!(f, "the CPU time limit of {limit:?} (SIGXCPU)")
            }
            LimitExceeded::Memory { limit } => write!(
                f,
                "likely the memory limit of {limit} bytes (it aborted, as an allocation that \
                 fails does)"
            ),
            LimitExceeded::AddressSpace { limit } => write!(
                f,
                "likely the address-space limit of {limit} bytes (it aborted, as an allocation \
                 that fails does)"
            ),
        }
    }
}
