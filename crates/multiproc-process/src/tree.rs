//! The process tree: this process, its parent, its live children.

use crate::registry;

/// A snapshot of a process's identity, as [`current_process`], [`parent_process`] and
/// [`active_children`] report it.
///
/// ```
/// let me = multiproc_process::current_process();
/// assert_eq!(me.name(), "MainProcess");
/// assert_eq!(me.pid(), std::process::id());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    name: String,
    pid: u32,
    daemon: bool,
}

impl ProcessInfo {
    /// The process's name: `MainProcess`, `Process-N`, or the name it was given.
    ///
    /// ```
    /// assert_eq!(multiproc_process::current_process().name(), "MainProcess");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    ///
    /// ```
    /// assert_eq!(multiproc_process::current_process().pid(), std::process::id());
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether it is a daemon process.
    ///
    /// ```
    /// assert!(!multiproc_process::current_process().daemon());
    /// ```
    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Whether the process still runs (a zombie, ended but not yet reaped, does not).
    ///
    /// ```
    /// assert!(multiproc_process::current_process().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.pid == multiproc_sys::process::pid() || multiproc_sys::process::is_alive(self.pid)
    }
}

/// This process: `MainProcess` in the program that was started by the user, the child's name
/// in a child.
///
/// ```
/// let me = multiproc_process::current_process();
/// assert_eq!(me.name(), "MainProcess");
/// assert_eq!(me.pid(), std::process::id());
/// ```
#[doc(alias = "multiprocessing.current_process")]
pub fn current_process() -> ProcessInfo {
    let state = registry::state();
    ProcessInfo {
        name: state.me.name.clone(),
        pid: state.me.pid,
        daemon: state.me.daemon,
    }
}

/// The process that started this one, or `None` in the main process.
///
/// ```
/// assert!(multiproc_process::parent_process().is_none());
/// ```
#[doc(alias = "multiprocessing.parent_process")]
pub fn parent_process() -> Option<ProcessInfo> {
    let state = registry::state();
    state.me.parent.as_ref().map(|(name, pid)| ProcessInfo {
        name: name.clone(),
        pid: *pid,
        daemon: false,
    })
}

/// The children of this process that are still running. Finished children are reaped as a
/// side effect, as in Python.
///
/// ```
/// use multiproc_process::{active_children, Process};
/// fn forever() { loop { std::thread::park(); } }
/// let mut p = Process::new(forever, ());
/// p.start().unwrap();
/// assert!(active_children().iter().any(|c| Some(c.pid()) == p.pid()));
/// p.terminate().unwrap();
/// assert!(p.join().is_err()); // ended by SIGTERM
/// assert!(active_children().is_empty());
/// ```
#[doc(alias = "multiprocessing.active_children")]
pub fn active_children() -> Vec<ProcessInfo> {
    registry::live_children()
        .iter()
        .map(|c| ProcessInfo {
            name: c.name.clone(),
            pid: c.pid,
            daemon: c.daemon,
        })
        .collect()
}

/// The pid of this process's fork server, if one is running. The fork server is a child of this
/// process that lives until this process exits (see [`StartMethod::Forkserver`]).
///
/// [`StartMethod::Forkserver`]: crate::StartMethod::Forkserver
///
/// ```
/// use multiproc_process::{forkserver_pid, get_context, StartMethod};
/// fn nothing() {}
/// let mut p = get_context(StartMethod::Forkserver).process(nothing, ());
/// p.start().unwrap();
/// p.join().unwrap();
/// assert!(forkserver_pid().is_some());
/// ```
pub fn forkserver_pid() -> Option<u32> {
    crate::forkserver::running_pid()
}
