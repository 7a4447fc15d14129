use std::fmt;
use std::io;

use crate::status::ExitReason;

/// Where a panic happened, and what it said.
///
/// ```
/// use multiproc_process::{PanicInfo, Process};
/// fn fail() { panic!("out of cheese") }
/// let mut p = Process::new(fail, ());
/// p.start()?;
/// let err = p.join().unwrap_err();
/// let panic: &PanicInfo = err.panic().unwrap();
/// assert_eq!(panic.message, "out of cheese");
/// assert!(panic.location.as_deref().is_some_and(|l| l.contains(".rs:")));
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PanicInfo {
    /// The panic message (`"explicit panic"` when the payload was not a string).
    pub message: String,
    /// `file:line:column` of the panic, when known.
    pub location: Option<String>,
}

impl fmt::Display for PanicInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "'{}' at {location}", self.message),
            None => write!(f, "'{}'", self.message),
        }
    }
}

/// Why one call of a target gave no value: it panicked, or a [`fallible`](crate::fallible)
/// target returned `Err`. One entry of a [`FunctionRef::call`](crate::FunctionRef::call)
/// output is a `Result<Output, CallError>`.
///
/// ```
/// use multiproc_process::{CallError, PanicInfo};
/// let failed = CallError::Failed("bad port: invalid digit found in string".into());
/// assert_eq!(failed.to_string(), "bad port: invalid digit found in string");
/// let panicked = CallError::Panicked(PanicInfo { message: "boom".into(), location: None });
/// assert_eq!(panicked.to_string(), "panicked: 'boom'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum CallError {
    /// The call panicked.
    #[error("panicked: {0}")]
    Panicked(PanicInfo),
    /// A fallible target returned `Err`: the error and its `source()` chain.
    #[error("{0}")]
    Failed(String),
}

/// Why starting, joining or controlling a [`Process`](crate::Process) failed.
///
/// ```
/// use multiproc_process::{ExitReason, Process, ProcessError};
/// fn leave() { std::process::exit(2) }
/// let mut p = Process::new(leave, ()).with_name("Leaver");
/// p.start()?;
/// match p.join() {
///     Err(err @ ProcessError::Died { .. }) => assert_eq!(err.exit_status(), Some(ExitReason::Code(2))),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), ProcessError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The target panicked in the child.
    #[error("process {name} panicked: {panic}")]
    Panicked {
        /// The child's name.
        name: String,
        /// The panic message and location.
        panic: PanicInfo,
        /// How the child exited afterwards.
        status: Option<ExitReason>,
    },
    /// The target, made [`fallible`](crate::fallible), returned `Err` in the child: the
    /// error and its `source()` chain, `"error: source: ..."`. The child exited with code 1.
    ///
    /// ```
    /// use multiproc_process::{Process, ProcessError, fallible};
    /// fn check(x: i32) -> Result<i32, String> {
    ///     if x < 0 { Err(format!("{x} is negative")) } else { Ok(x) }
    /// }
    /// let mut p = Process::new(fallible(check), (-1,));
    /// p.start()?;
    /// let error = p.join().unwrap_err();
    /// assert_eq!(error.to_string(), format!("process {} failed: -1 is negative", p.name()));
    /// # Ok::<(), ProcessError>(())
    /// ```
    #[error("process {name} failed: {message}")]
    Failed {
        /// The child's name.
        name: String,
        /// The error and its chain.
        message: String,
        /// How the child exited afterwards.
        status: Option<ExitReason>,
    },
    /// The child ended without returning a result: it called `exit`, or a signal (a crash,
    /// `abort`, `kill`) ended it.
    #[error("process {name} ended with {status} before returning a result")]
    Died {
        /// The child's name.
        name: String,
        /// How it ended.
        status: ExitReason,
    },
    /// The child ended in a way one of its [`Limits`](crate::Limits) explains: `SIGXCPU` under
    /// a CPU time cap, or an abort (as when an allocation fails) under a memory cap.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_process::{ExitReason, LimitExceeded, ProcessError};
    /// let e = ProcessError::LimitExceeded {
    ///     name: "Process-1".into(),
    ///     limit: LimitExceeded::CpuTime { limit: Duration::from_secs(1) },
    ///     status: ExitReason::Signal(24),
    /// };
    /// assert!(e.to_string().contains("the CPU time limit of 1s"));
    /// ```
    #[error("process {name} hit {limit} and ended with {status}")]
    LimitExceeded {
        /// The child's name.
        name: String,
        /// The limit.
        limit: crate::LimitExceeded,
        /// How it ended.
        status: ExitReason,
    },
    /// The child's environment, working directory, standard streams or limits (see
    /// [`Process::env`](crate::Process::env) and its siblings) could not be applied: found by
    /// `start` (a directory that does not exist, a variable name with `=`), or by the child
    /// before its target ran (then `join` reports it).
    ///
    /// ```
    /// use multiproc_process::{Process, ProcessError};
    /// fn work() {}
    /// let mut p = Process::new(work, ()).current_dir("/no/such/dir");
    /// let e = p.start().unwrap_err();
    /// assert!(matches!(e, ProcessError::Setting { .. }));
    /// assert!(e.to_string().contains("current_dir /no/such/dir"));
    /// ```
    #[error(
        "process {name} could not apply its settings under the {method} start method: {detail}"
    )]
    Setting {
        /// The child's name.
        name: String,
        /// The start method.
        method: crate::StartMethod,
        /// What failed, naming the setting.
        detail: String,
    },
    /// The child ended, but how could not be learnt (its parent, the fork server, was gone).
    #[error("process {name} ended before returning a result; its exit status is unknown")]
    Lost {
        /// The child's name.
        name: String,
    },
    /// The child ended, but its exit status had already been collected by someone else: this
    /// program ignores SIGCHLD (`SIG_IGN` or `SA_NOCLDWAIT`, under which the kernel discards
    /// every child's status), or a SIGCHLD handler or another thread calls `waitpid(-1)`.
    /// Those dispositions cost the fork and spawn start methods their children's statuses;
    /// the forkserver method keeps them (the fork server restores SIGCHLD's default).
    #[error(
        "process {name} ended before returning a result; its exit status was collected by \
         someone else (SIGCHLD is ignored, or a SIGCHLD handler or another thread calls \
         waitpid(-1))"
    )]
    StatusTaken {
        /// The child's name.
        name: String,
    },
    /// A `Process` handle (or another object tied to the process that made it) was used in
    /// another process, such as a forked child.
    #[error(
        "{what} belongs to process {owner} and cannot be used in process {current} (was it \
         inherited through fork?)"
    )]
    WrongProcess {
        /// What was used.
        what: String,
        /// The pid of the process that made it.
        owner: u32,
        /// The pid of this process.
        current: u32,
    },
    /// The process handle was closed with [`close`](crate::Process::close) (Python raises
    /// `ValueError`).
    #[error("process {name} was closed")]
    Closed {
        /// The child's name.
        name: String,
    },
    /// The child died before it could receive its task.
    #[error("process {name} died during start-up ({status}){}", detail_suffix(.detail))]
    Bootstrap {
        /// The child's name.
        name: String,
        /// How it ended.
        status: ExitReason,
        /// What the child reported, if anything.
        detail: String,
    },
    /// The child runs another executable than the parent, so function addresses cannot be
    /// shared.
    #[error(
        "the child process runs a different executable than its parent (was the binary rebuilt or replaced?)"
    )]
    BinaryMismatch,
    /// The arguments or the result could not cross the process boundary.
    #[error("could not transfer {what}: {detail}")]
    Transfer {
        /// `"the arguments"` or `"the result"`.
        what: &'static str,
        /// The serializer's or channel's message.
        detail: String,
    },
    /// `join_timeout` ran out while the child was still running. Joining again is allowed.
    #[error("process {name} is still running after the timeout")]
    Timeout {
        /// The child's name.
        name: String,
    },
    /// The process was already started.
    #[error("process {name} was already started")]
    AlreadyStarted {
        /// The child's name.
        name: String,
    },
    /// The process has not been started yet.
    #[error("process {name} has not been started")]
    NotStarted {
        /// The child's name.
        name: String,
    },
    /// The result was already taken by an earlier `join`.
    #[error("process {name} was already joined")]
    AlreadyJoined {
        /// The child's name.
        name: String,
    },
    /// `close` was called while the child was still running.
    #[error("process {name} is still running and cannot be closed")]
    StillRunning {
        /// The child's name.
        name: String,
    },
    /// The start method is not available on this platform or in this situation.
    #[error("start method {0} is not available here")]
    Unsupported(&'static str),
    /// `set_start_method` was called a second time without `force`.
    #[error("the start method was already set to {0}")]
    ContextAlreadySet(&'static str),
    /// The binary's child bootstrap did not run: this process was started as a `multiproc`
    /// child but reached ordinary code.
    #[error(
        "this process was started as a multiproc child, but the child bootstrap did not run \
         before main; make sure the executable links multiproc-process"
    )]
    BootstrapNotRun,
    /// The fork server could not be started or stopped answering.
    #[error("the fork server failed: {0}")]
    Forkserver(String),
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl ProcessError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> ProcessError {
        move |source| ProcessError::Io { context, source }
    }

    /// How the child exited, when the error is about a child that ended.
    ///
    /// ```
    /// use multiproc_process::{ExitReason, ProcessError};
    /// let e = ProcessError::Died { name: "Process-1".into(), status: ExitReason::Signal(9) };
    /// assert_eq!(e.exit_status(), Some(ExitReason::Signal(9)));
    /// ```
    pub fn exit_status(&self) -> Option<ExitReason> {
        match self {
            ProcessError::Panicked { status, .. } | ProcessError::Failed { status, .. } => *status,
            ProcessError::Died { status, .. }
            | ProcessError::Bootstrap { status, .. }
            | ProcessError::LimitExceeded { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The panic, when the error is a panic in the child.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn fail() { panic!("no") }
    /// let mut p = Process::new(fail, ());
    /// p.start()?;
    /// assert_eq!(p.join().unwrap_err().panic().map(|p| p.message.as_str()), Some("no"));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn panic(&self) -> Option<&PanicInfo> {
        match self {
            ProcessError::Panicked { panic, .. } => Some(panic),
            _ => None,
        }
    }
}
