//! `Process`: one child process running one function. Starting it is `process_start.rs`,
//! joining it `process_join.rs`, the setters of its child's environment `process_settings.rs`.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use ipc_channel::ipc::IpcReceiver;

use crate::entry::Entry;
use crate::error::ProcessError;
use crate::fork_start::{Call, Closure, Payload};
use crate::identity::Identity;
use crate::method::{StartMethod, get_start_method};
use crate::registry::{self, ChildHandle};
use crate::settings::ChildSettings;
use crate::status::ExitReason;
use crate::stdio::ParentEnds;
use crate::target::{Portable, Target};
use crate::wire::Outcome;
use multiproc_sys::ipc_receiver::WatchedReceiver;

/// A child process running one function, like Python's `multiprocessing.Process`.
///
/// `Process::new(target, args)` names a function (or a closure that captures nothing) and its
/// arguments; [`start`](Process::start) starts the child with the default start method
/// ([`get_start_method`]); [`join`](Process::join) waits for it and gives back the function's
/// return value, or an error that says how the child failed: a panic with its message and
/// location, an exit code, a signal.
///
/// ```
/// use multiproc_process::Process;
///
/// fn worker(num: u32) -> String {
///     format!("Worker {num} started")
/// }
///
/// let mut p = Process::new(worker, (5,));
/// p.start()?;
/// assert_eq!(p.join()?, "Worker 5 started");
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
///
/// Arguments and results are serde types; they travel to the child serialized, except under
/// the fork start method, where the child simply has them in its copy of memory. A target that
/// captures variables does not compile (its captures would not exist in a re-executed child):
///
/// ```compile_fail,E0277
/// let greeting = String::from("hello");
/// let p = multiproc_process::Process::new(move || greeting.len(), ());
/// ```
///
/// and neither does an argument that serde cannot carry:
///
/// ```compile_fail,E0277
/// struct NotSerde;
/// fn worker(_: NotSerde) {}
/// let p = multiproc_process::Process::new(worker, (NotSerde,));
/// ```
///
/// Use [`Process::fork`] (an `unsafe fn`, with fork's contract) to run a capturing closure in
/// a forked child.
#[doc(alias = "multiprocessing.Process")]
pub struct Process<R> {
    pub(crate) identity: Identity,
    pub(crate) method: StartMethod,
    pub(crate) pid: Option<u32>,
    pub(crate) state: State<R>,
    /// The largest result message accepted from the child, in bytes.
    pub(crate) max_result_size: usize,
    /// Environment, directory, streams and limits (see `settings.rs`).
    pub(crate) settings: ChildSettings,
    /// The parent's ends of the piped streams, once started.
    pub(crate) ends: ParentEnds,
}

/// The largest result a child may send back unless
/// [`Process::set_max_result_size`] says otherwise: 64 MiB, as a pipe's largest message.
///
/// ```
/// fn nothing() {}
/// let p = multiproc_process::Process::new(nothing, ());
/// assert_eq!(p.max_result_size(), multiproc_process::DEFAULT_MAX_RESULT_SIZE);
/// ```
pub const DEFAULT_MAX_RESULT_SIZE: usize = multiproc_sys::ipc_record::DEFAULT_MAX_MESSAGE_SIZE;

/// Where a [`Process`] is in its life: its task not yet sent, its child running, joined
/// (with the child's exit status, if known), or closed.
pub(crate) enum State<R> {
    Pending(Box<dyn Payload<R>>),
    Running(Running<R>),
    Joined(Option<ExitReason>),
    Closed,
}

/// A started child, and the parent's ends of its piped streams (stdin, stdout, stderr).
pub(crate) type Started<R> = (Running<R>, [Option<OwnedFd>; 3]);

/// A started child: its record, its result channel, and what came through that channel.
pub(crate) struct Running<R> {
    pub(crate) child: Arc<ChildHandle>,
    pub(crate) result: WatchedReceiver<Outcome<R>>,
    pub(crate) outcome: Option<Outcome<R>>,
    /// Set when the result channel closed (or broke) without an outcome.
    pub(crate) result_closed: Option<String>,
}

impl<R: Portable> Running<R> {
    /// A child just started, whose outcome will come through `result`.
    pub(crate) fn new(child: Arc<ChildHandle>, result: IpcReceiver<Outcome<R>>) -> Running<R> {
        Running {
            child,
            result: WatchedReceiver::new(result),
            outcome: None,
            result_closed: None,
        }
    }
}

impl<R: Portable> Process<R> {
    /// A process that will run `target(args...)` with the default start method.
    ///
    /// `target` is a function item or a closure that captures nothing, of up to eight
    /// arguments; `args` is the tuple of its arguments (`()` for none, `(x,)` for one).
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn multiply(a: i64, b: i64) -> i64 { a * b }
    /// let mut p = Process::new(multiply, (6, 7));
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 42);
    /// ```
    pub fn new<F, Args>(target: F, args: Args) -> Process<R>
    where
        F: Target<Args, Output = R>,
        Args: Portable,
    {
        Process::with_method(get_start_method(), target, args)
    }

    pub(crate) fn with_method<F, Args>(method: StartMethod, target: F, args: Args) -> Process<R>
    where
        F: Target<Args, Output = R>,
        Args: Portable,
    {
        // Fails the build for a target that is not zero-sized (see `Target`).
        let _ = Entry::<F, Args>::sealed;
        Process::from_payload(method, Box::new(Call { target, args }))
    }

    /// A process whose forked child runs `closure`: the body of the `unsafe`
    /// [`Process::fork`] (declared in the OS layer, `sys/fork_closure.rs`), whose caller
    /// took on fork's contract. Nothing else calls it.
    pub(crate) fn forking<F>(closure: F) -> Process<R>
    where
        F: FnOnce() -> R + Send + 'static,
    {
        Process::from_payload(StartMethod::Fork, Box::new(Closure(closure)))
    }

    fn from_payload(method: StartMethod, payload: Box<dyn Payload<R>>) -> Process<R> {
        let identity = registry::state().next_child_identity(None, false);
        Process {
            identity,
            method,
            pid: None,
            state: State::Pending(payload),
            max_result_size: DEFAULT_MAX_RESULT_SIZE,
            settings: ChildSettings::default(),
            ends: ParentEnds::default(),
        }
    }

    /// The process's name: `Process-N` unless set (`Process-1:2` for the second child of the
    /// first child, as in Python).
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn work() {}
    /// let p = Process::new(work, ()).with_name("Worker1");
    /// assert_eq!(p.name(), "Worker1");
    /// assert!(Process::new(work, ()).name().starts_with("Process-"));
    /// ```
    pub fn name(&self) -> &str {
        &self.identity.name
    }

    /// Renames the process. The child sees its name from [`current_process`]; a rename after
    /// [`start`](Process::start) only changes this handle.
    ///
    /// [`current_process`]: crate::current_process
    ///
    /// ```
    /// use multiproc_process::{Process, current_process};
    /// fn my_name() -> String { current_process().name().to_owned() }
    /// let mut p = Process::new(my_name, ());
    /// p.set_name("Renamed");
    /// p.start()?;
    /// assert_eq!(p.join()?, "Renamed");
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.identity.name = name.into();
    }

    /// Builder form of [`set_name`](Process::set_name).
    ///
    /// ```
    /// fn worker() {}
    /// let p = multiproc_process::Process::new(worker, ()).with_name("Worker1");
    /// assert_eq!(p.name(), "Worker1");
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.set_name(name);
        self
    }

    /// Whether the process is a daemon: terminated when this process exits, instead of waited
    /// for.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn work() {}
    /// assert!(!Process::new(work, ()).daemon());
    /// assert!(Process::new(work, ()).with_daemon(true).daemon());
    /// ```
    pub fn daemon(&self) -> bool {
        self.identity.daemon
    }

    /// Makes the process a daemon (or not). Only before [`start`](Process::start).
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn work() {}
    /// let mut p = Process::new(work, ());
    /// p.set_daemon(true)?;
    /// p.start()?;
    /// assert!(p.set_daemon(false).is_err()); // too late: it runs
    /// p.join()?;
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ProcessError> {
        if !matches!(self.state, State::Pending(_)) {
            return Err(ProcessError::AlreadyStarted {
                name: self.identity.name.clone(),
            });
        }
        self.identity.daemon = daemon;
        Ok(())
    }

    /// Builder form of [`set_daemon`](Process::set_daemon), for a process not yet started.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn answer() -> u32 { 42 }
    /// let mut p = Process::new(answer, ()).with_daemon(true);
    /// p.start()?;
    /// assert_eq!(p.join()?, 42);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn with_daemon(mut self, daemon: bool) -> Self {
        self.identity.daemon = daemon;
        self
    }

    /// The largest result the child may send back, in bytes of its encoded form
    /// ([`DEFAULT_MAX_RESULT_SIZE`], 64 MiB, unless set).
    ///
    /// ```
    /// fn nothing() {}
    /// let p = multiproc_process::Process::new(nothing, ()).with_max_result_size(4096);
    /// assert_eq!(p.max_result_size(), 4096);
    /// ```
    pub fn max_result_size(&self) -> usize {
        self.max_result_size
    }

    /// Sets the largest result the child may send back, in bytes of its encoded form. A
    /// larger one (or a message whose header claims more, such as a forged one that
    /// announces 2^62 bytes) is dropped unread, and [`join`](Process::join) returns
    /// [`ProcessError::Transfer`] naming the sizes: never an allocation of the claimed size.
    /// Takes effect at the next `join`, so it may be set after [`start`](Process::start).
    /// The rest of a refused result is read and dropped for up to 10 seconds, so that the
    /// child can finish sending and exit; a child still sending after that stays blocked
    /// (ipc-channel gives its sender no way out), and `join` waits for it.
    ///
    /// ```
    /// use multiproc_process::{Process, ProcessError};
    /// fn big() -> Vec<u8> { vec![7; 4096] }
    /// let mut p = Process::new(big, ());
    /// p.set_max_result_size(1024);
    /// p.start().unwrap();
    /// let e = p.join().unwrap_err();
    /// assert!(matches!(e, ProcessError::Transfer { .. }), "{e}");
    /// assert!(e.to_string().contains("larger than the maximum of 1024 bytes"), "{e}");
    /// ```
    pub fn set_max_result_size(&mut self, bytes: usize) {
        self.max_result_size = bytes;
    }

    /// Builder form of [`set_max_result_size`](Process::set_max_result_size).
    ///
    /// ```
    /// fn small() -> u8 { 42 }
    /// let mut p = multiproc_process::Process::new(small, ()).with_max_result_size(64);
    /// p.start().unwrap();
    /// assert_eq!(p.join().unwrap(), 42);
    /// ```
    pub fn with_max_result_size(mut self, bytes: usize) -> Self {
        self.set_max_result_size(bytes);
        self
    }

    /// The start method this process uses.
    ///
    /// ```
    /// use multiproc_process::{StartMethod, get_context};
    /// fn work() {}
    /// let p = get_context(StartMethod::Spawn).process(work, ());
    /// assert_eq!(p.start_method(), StartMethod::Spawn);
    /// ```
    pub fn start_method(&self) -> StartMethod {
        self.method
    }

    /// Whether the child has been started and has not ended yet (`false` in a process other
    /// than the one that started it).
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn nap() { std::thread::sleep(std::time::Duration::from_secs(30)) }
    /// let mut p = Process::new(nap, ());
    /// assert!(!p.is_alive());
    /// p.start()?;
    /// assert!(p.is_alive());
    /// p.kill()?;
    /// let _ = p.join();
    /// assert!(!p.is_alive());
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        match &self.state {
            State::Running(running) => {
                check_owner(&running.child).is_ok() && !running.child.has_ended()
            }
            _ => false,
        }
    }

    /// The child's pid, once started.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn my_pid() -> u32 { std::process::id() }
    /// let mut p = Process::new(my_pid, ());
    /// assert_eq!(p.pid(), None);
    /// p.start()?;
    /// let pid = p.pid();
    /// assert_eq!(Some(p.join()?), pid);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Python's `exitcode`: `None` while the child runs (or before it started), then its exit
    /// code, or the negated number of the signal that ended it. An error after
    /// [`close`](Process::close) (Python raises `ValueError`), or in a process other than the
    /// one that started the child.
    ///
    /// ```
    /// fn work() {}
    /// let mut p = multiproc_process::Process::new(work, ());
    /// assert_eq!(p.exitcode().unwrap(), None);
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// assert_eq!(p.exitcode().unwrap(), Some(0));
    /// p.close().unwrap();
    /// assert!(p.exitcode().is_err());
    /// ```
    pub fn exitcode(&self) -> Result<Option<i32>, ProcessError> {
        match &self.state {
            State::Running(running) => {
                check_owner(&running.child)?;
                Ok(running.child.try_reap().flatten().map(ExitReason::exitcode))
            }
            State::Joined(status) => Ok(status.map(ExitReason::exitcode)),
            State::Pending(_) => Ok(None),
            State::Closed => Err(ProcessError::Closed {
                name: self.identity.name.clone(),
            }),
        }
    }

    /// How the child ended, once it has.
    ///
    /// ```
    /// use multiproc_process::{ExitReason, Process};
    /// fn leave() { std::process::exit(3) }
    /// let mut p = Process::new(leave, ());
    /// p.start()?;
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(ExitReason::Code(3)));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn exit_status(&self) -> Option<ExitReason> {
        match &self.state {
            State::Running(running) => running.child.try_reap().flatten(),
            State::Joined(status) => *status,
            _ => None,
        }
    }

    /// Sends SIGTERM to the child (Python's `terminate`). A child that already ended is left
    /// alone. The signal goes through the child's pidfd, opened before the child could end,
    /// so it never reaches another process that reused the pid, even in a program that reaps
    /// children itself. An error after [`close`](Process::close), or in a process other than
    /// the one that started the child.
    ///
    /// ```
    /// use multiproc_process::{ExitReason, Process};
    /// fn nap() { std::thread::sleep(std::time::Duration::from_secs(30)) }
    /// let mut p = Process::new(nap, ());
    /// p.start()?;
    /// p.terminate()?;
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(ExitReason::Signal(15)));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(multiproc_sys::signal::number::SIGTERM)
    }

    /// Sends SIGKILL to the child (Python's `kill`).
    ///
    /// ```
    /// use multiproc_process::{ExitReason, Process};
    /// fn nap() { std::thread::sleep(std::time::Duration::from_secs(30)) }
    /// let mut p = Process::new(nap, ());
    /// p.start()?;
    /// p.kill()?;
    /// assert!(p.join().is_err());
    /// assert_eq!(p.exit_status(), Some(ExitReason::Signal(9)));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(multiproc_sys::signal::number::SIGKILL)
    }

    fn signal(&self, signal: i32) -> Result<(), ProcessError> {
        match &self.state {
            State::Running(running) => {
                check_owner(&running.child)?;
                running
                    .child
                    .signal(signal)
                    .map_err(ProcessError::io("could not signal the child"))
            }
            State::Pending(_) => Err(ProcessError::NotStarted {
                name: self.identity.name.clone(),
            }),
            State::Joined(_) => Ok(()),
            State::Closed => Err(ProcessError::Closed {
                name: self.identity.name.clone(),
            }),
        }
    }

    /// A descriptor that becomes readable when the child ends (a pidfd), for `poll`/`epoll` or
    /// `multiproc::channel::wait`. `None` unless the child is running.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn work() {}
    /// let mut p = Process::new(work, ());
    /// assert!(p.sentinel().is_none());
    /// p.start()?;
    /// assert!(p.sentinel().is_some()); // readable once the child ends
    /// p.join()?;
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn sentinel(&self) -> Option<BorrowedFd<'_>> {
        match &self.state {
            State::Running(running) => Some(running.child.pidfd.as_fd()),
            _ => None,
        }
    }

    /// Releases the handle's resources (Python's `close`). An error if the child still runs.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn work() {}
    /// let mut p = Process::new(work, ());
    /// p.start()?;
    /// p.join()?;
    /// p.close()?;
    /// assert!(p.terminate().is_err()); // closed
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn close(&mut self) -> Result<(), ProcessError> {
        if let State::Running(running) = &self.state {
            check_owner(&running.child)?;
            match running.child.try_reap() {
                None => {
                    return Err(ProcessError::StillRunning {
                        name: self.identity.name.clone(),
                    });
                }
                Some(_) => registry::forget_child(running.child.pid),
            }
        }
        self.state = State::Closed;
        Ok(())
    }
}

/// An error unless this process is the one that started `child` (a handle inherited by a
/// forked child must not reap or signal its parent's children).
pub(crate) fn check_owner(child: &ChildHandle) -> Result<(), ProcessError> {
    let current = multiproc_sys::process::pid();
    if child.owner == current {
        Ok(())
    } else {
        Err(ProcessError::WrongProcess {
            what: format!("the handle of process {}", child.name),
            owner: child.owner,
            current,
        })
    }
}

impl<R> fmt::Debug for Process<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Pending(_) => "initial",
            State::Running(_) => "started",
            State::Joined(_) => "stopped",
            State::Closed => "closed",
        };
        f.debug_struct("Process")
            .field("name", &self.identity.name)
            .field("method", &self.method)
            .field("pid", &self.pid)
            .field("daemon", &self.identity.daemon)
            .field("state", &state)
            .finish()
    }
}
