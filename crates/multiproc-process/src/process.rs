//! `Process`: one child process running one function.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipc_channel::IpcError;
use ipc_channel::ipc::{self, IpcReceiver, IpcSender, OpaqueIpcSender};

use crate::child;
use crate::entry::Entry;
use crate::error::ProcessError;
use crate::exit;
use crate::fork_start::{Call, Closure, Payload, fork_child};
use crate::forkserver;
use crate::identity::Identity;
use crate::launcher::on_long_lived_thread;
use crate::logging;
use crate::method::{StartMethod, get_start_method};
use crate::registry::{self, ChildHandle, Reaper};
use crate::result_channel::{Received, receive};
use crate::settings::ChildSettings;
use crate::spawn;
use crate::status::ExitReason;
use crate::stdio::ParentEnds;
use crate::tag::{self, Sealed};
use crate::target::{Portable, Target};
use crate::wire::{Bootstrap, ChildSpec, ENV_CHILD, Outcome, Role, Trampoline};
use multiproc_sys::ipc_receiver::WatchedReceiver;

/// How often a join re-checks that the child is still alive while it waits for the result. A
/// copy of the child's result channel inherited by another process would hide the child's end
/// from the channel; the check catches that.
const LIVENESS_CHECK: Duration = Duration::from_millis(100);

/// How long a join first waits for the child's exit alone. A child that finishes quickly has
/// sent its result (it fits in the socket buffer) and exited by then: one wake-up instead of
/// two (the result, then the exit). A child whose large result is still streaming is read
/// after this window.
const EXIT_FIRST: Duration = Duration::from_millis(2);

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
    identity: Identity,
    method: StartMethod,
    pid: Option<u32>,
    state: State<R>,
    /// The largest result message accepted from the child, in bytes.
    max_result_size: usize,
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

enum State<R> {
    Pending(Box<dyn Payload<R>>),
    Running(Running<R>),
    Joined(Option<ExitReason>),
    Closed,
}

/// A started child, and the parent's ends of its piped streams (stdin, stdout, stderr).
type Started<R> = (Running<R>, [Option<OwnedFd>; 3]);

struct Running<R> {
    child: Arc<ChildHandle>,
    result: WatchedReceiver<Outcome<R>>,
    outcome: Option<Outcome<R>>,
    /// Set when the result channel closed (or broke) without an outcome.
    result_closed: Option<String>,
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

    /// Starts the child. Returns once the child exists and has its task; an error if it could
    /// not be started, or if it was started before.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn add(a: u32, b: u32) -> u32 { a + b }
    /// let mut p = Process::new(add, (2, 3));
    /// p.start()?;
    /// assert!(p.start().is_err()); // a process starts once
    /// assert_eq!(p.join()?, 5);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn start(&mut self) -> Result<(), ProcessError> {
        child::ensure_linked();
        if std::env::var_os(ENV_CHILD).is_some() {
            return Err(ProcessError::BootstrapNotRun);
        }
        if matches!(self.state, State::Pending(_))
            && let Err(detail) = self.settings.prepare()
        {
            return Err(ProcessError::Setting {
                name: self.identity.name.clone(),
                method: self.method,
                detail,
            });
        }
        let payload = match std::mem::replace(&mut self.state, State::Closed) {
            State::Pending(payload) => payload,
            other => {
                self.state = other;
                return Err(ProcessError::AlreadyStarted {
                    name: self.identity.name.clone(),
                });
            }
        };
        // ipc-channel asserts on some failures (an exhausted descriptor table, an unusable
        // temporary directory): those become errors here, never a panic in the caller.
        let started =
            multiproc_sys::panic::catch(true, || match (self.method, payload.trampoline()) {
                (StartMethod::Fork, _) => self.start_fork(payload),
                (StartMethod::Spawn, Some(trampoline)) => self.start_spawn(payload, trampoline),
                (StartMethod::Forkserver, Some(trampoline)) => {
                    self.start_forkserver(payload, trampoline)
                }
                (_, None) => Err(ProcessError::Unsupported(
                    "spawn or forkserver for a closure",
                )),
            })
            .unwrap_or_else(|panic| {
                Err(ProcessError::Io {
                    context: "could not start the child",
                    source: std::io::Error::other(panic.message),
                })
            });
        match started {
            Ok((running, ends)) => {
                self.ends = ParentEnds::from_fds(ends);
                log::debug!(
                    target: crate::registry::PROCESS_TARGET,
                    "process {} started: pid {}, start method {}",
                    self.identity.name,
                    running.child.pid,
                    self.method
                );
                self.pid = Some(running.child.pid);
                self.state = State::Running(running);
                Ok(())
            }
            Err(e) => {
                self.state = State::Joined(None);
                Err(e)
            }
        }
    }

    fn start_fork(&self, payload: Box<dyn Payload<R>>) -> Result<Started<R>, ProcessError> {
        let (result_tx, result) = channel::<Outcome<R>>()
            .map_err(ProcessError::io("could not create the result channel"))?;
        let mut identity = self.identity.clone();
        {
            // Here, on the caller's thread: the launcher thread must not take these locks.
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
        }
        let settings = self.settings.clone();
        let (child, ends) =
            on_long_lived_thread(move || fork_child(&mut identity, payload, result_tx, &settings))
                .map_err(ProcessError::io("could not start the launcher thread"))??;
        let running = Running {
            child,
            result: WatchedReceiver::new(result),
            outcome: None,
            result_closed: None,
        };
        Ok((running, ends))
    }

    fn start_spawn(
        &self,
        payload: Box<dyn Payload<R>>,
        trampoline: Sealed<Trampoline>,
    ) -> Result<Started<R>, ProcessError> {
        let name = &self.identity.name;
        let spawned = spawn::spawn(&self.settings).map_err(|e| e.into_process_error(name))?;
        let child = Arc::new(ChildHandle::with_pidfd(
            spawned.pid,
            spawned.pidfd,
            name.clone(),
            self.identity.daemon,
            Reaper::Direct,
        ));
        register(child.clone());
        let spec = ChildSpec {
            identity: self.identity.clone(),
            trampoline,
            log: logging::sink_for_child(),
            method: StartMethod::Spawn,
            settings: self.settings.after_exec(),
        };
        // A send that fails means the child died; its join tells how.
        let bootstrap = Bootstrap {
            key: tag::tree_key(),
            role: Role::Run(spec),
        };
        if spawned.to_child.send(bootstrap).is_ok() {
            send_args(payload, spawned.to_child.to_opaque(), &child)?;
        }
        let result = spawned.from_child.to_opaque().to::<Outcome<R>>();
        let running = Running {
            child,
            result: WatchedReceiver::new(result),
            outcome: None,
            result_closed: None,
        };
        Ok((running, spawned.ends))
    }

    fn start_forkserver(
        &self,
        payload: Box<dyn Payload<R>>,
        trampoline: Sealed<Trampoline>,
    ) -> Result<Started<R>, ProcessError> {
        let server = forkserver::client()?;
        let channel_error = ProcessError::io("could not create a channel");
        let (args_tx, args_rx) = channel::<()>().map_err(channel_error)?;
        let (result_tx, result) =
            channel::<Outcome<R>>().map_err(ProcessError::io("could not create a channel"))?;
        let spec = ChildSpec {
            identity: self.identity.clone(),
            trampoline,
            log: logging::sink_for_child(),
            method: StartMethod::Forkserver,
            settings: self.settings.clone(),
        };
        let (pid, ends) = server
            .fork(spec, args_rx.to_opaque(), result_tx.to_opaque())
            .map_err(|e| match e {
                forkserver::ForkError::Process(e) => e,
                forkserver::ForkError::Pipes(detail) => ProcessError::Setting {
                    name: self.identity.name.clone(),
                    method: StartMethod::Forkserver,
                    detail,
                },
            })?;
        // The server keeps the child unreaped until asked, so `pid` names it here.
        let child = match ChildHandle::new(
            pid,
            self.identity.name.clone(),
            self.identity.daemon,
            Reaper::Forkserver(server.clone()),
        ) {
            Ok(child) => Arc::new(child),
            Err(e) => {
                // Without its arguments (dropped with `args_tx`) the child ends; the server
                // reaps it then.
                server.reap(pid);
                return Err(ProcessError::Io {
                    context: "could not watch the child",
                    source: e,
                });
            }
        };
        register(child.clone());
        send_args(payload, args_tx.to_opaque(), &child)?;
        let running = Running {
            child,
            result: WatchedReceiver::new(result),
            outcome: None,
            result_closed: None,
        };
        Ok((running, ends))
    }

    /// Waits for the child to end and returns what its target returned.
    ///
    /// Errors say why there is no result: [`ProcessError::Panicked`] (with the panic's message
    /// and location), [`ProcessError::Died`] (an exit code or a signal: `exit`, `abort`, a
    /// crash, [`kill`](Process::kill)), [`ProcessError::NotStarted`],
    /// [`ProcessError::AlreadyJoined`].
    ///
    /// ```
    /// use multiproc_process::{Process, ProcessError};
    /// fn fail() -> u8 { panic!("out of cheese") }
    /// let mut p = Process::new(fail, ());
    /// p.start().unwrap();
    /// match p.join() {
    ///     Err(ProcessError::Panicked { panic, .. }) => assert_eq!(panic.message, "out of cheese"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// assert_eq!(p.exitcode().unwrap(), Some(1));
    /// ```
    pub fn join(&mut self) -> Result<R, ProcessError> {
        self.join_until(None)
    }

    /// Like [`join`](Process::join), but gives up after `timeout` with
    /// [`ProcessError::Timeout`], leaving the child running; joining again is allowed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_process::{Process, ProcessError};
    /// fn sleepy() { std::thread::sleep(Duration::from_secs(30)) }
    /// let mut p = Process::new(sleepy, ());
    /// p.start().unwrap();
    /// assert!(matches!(p.join_timeout(Duration::from_millis(50)), Err(ProcessError::Timeout { .. })));
    /// p.kill().unwrap();
    /// assert!(matches!(p.join(), Err(ProcessError::Died { .. })));
    /// assert_eq!(p.exitcode().unwrap(), Some(-9));
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        // `Duration::MAX` (any timeout past the clock's end) means no limit; zero polls once.
        self.join_until(multiproc_sys::time::deadline_after(Some(timeout)))
    }

    fn join_until(&mut self, deadline: Option<Instant>) -> Result<R, ProcessError> {
        let name = self.identity.name.clone();
        let (method, limits) = (self.method, self.settings.limits);
        let running = match &mut self.state {
            State::Running(running) => running,
            State::Pending(_) => return Err(ProcessError::NotStarted { name }),
            State::Joined(_) => return Err(ProcessError::AlreadyJoined { name }),
            State::Closed => return Err(ProcessError::Closed { name }),
        };
        check_owner(&running.child)?;
        let max = self.max_result_size;
        if running.outcome.is_none() && running.result_closed.is_none() {
            let window = match deadline {
                None => EXIT_FIRST,
                Some(deadline) => deadline
                    .saturating_duration_since(Instant::now())
                    .min(EXIT_FIRST),
            };
            if running.child.wait_exit(window) {
                match receive(&running.result, Duration::ZERO, max) {
                    Received::Message(outcome) => running.outcome = Some(outcome),
                    // Nothing was sent, or the channel closed: the loop below tells which.
                    Received::Empty | Received::Closed => {}
                    Received::Failed(e) => running.result_closed = Some(e),
                }
            }
        }
        while running.outcome.is_none() && running.result_closed.is_none() {
            let left = match deadline {
                None => LIVENESS_CHECK,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(LIVENESS_CHECK),
                    _ => return Err(ProcessError::Timeout { name }),
                },
            };
            match receive(&running.result, left, max) {
                Received::Message(outcome) => running.outcome = Some(outcome),
                Received::Empty => {
                    if running.child.has_ended() {
                        // Ended, yet the channel is open: take what it sent, if anything.
                        match receive(&running.result, Duration::ZERO, max) {
                            Received::Message(outcome) => running.outcome = Some(outcome),
                            Received::Failed(e) => running.result_closed = Some(e),
                            Received::Empty | Received::Closed => {
                                running.result_closed = Some(String::new())
                            }
                        }
                    }
                }
                Received::Closed => running.result_closed = Some(String::new()),
                Received::Failed(e) => running.result_closed = Some(e),
            }
        }
        let Some(status) = running.child.wait(deadline) else {
            return Err(ProcessError::Timeout { name });
        };
        let outcome = running.outcome.take();
        let taken = running.child.status_taken();
        let transfer_error = running.result_closed.take().filter(|e| !e.is_empty());
        registry::forget_child(running.child.pid);
        // The child's last log records may still be on their way to our logger.
        crate::logging::flush_child_records();
        self.state = State::Joined(status);
        match (outcome, status) {
            (Some(Outcome::Returned(value)), _) => Ok(value),
            (Some(Outcome::Panicked(panic)), status) => Err(ProcessError::Panicked {
                name,
                panic,
                status,
            }),
            (Some(Outcome::Error(message)), status) => Err(ProcessError::Failed {
                name,
                message,
                status,
            }),
            (Some(Outcome::Failed(detail)), _) => Err(ProcessError::Transfer {
                what: "the arguments",
                detail,
            }),
            (Some(Outcome::Setting(detail)), _) => Err(ProcessError::Setting {
                name,
                method,
                detail,
            }),
            (None, _) if transfer_error.is_some() => Err(ProcessError::Transfer {
                what: "the result",
                detail: transfer_error.unwrap_or_default(),
            }),
            (None, Some(status)) => match limits.explain(status) {
                Some(limit) => Err(ProcessError::LimitExceeded {
                    name,
                    limit,
                    status,
                }),
                None => Err(ProcessError::Died { name, status }),
            },
            (None, None) if taken => Err(ProcessError::StatusTaken { name }),
            (None, None) => Err(ProcessError::Lost { name }),
        }
    }

    /// For [`join_async`](Process::join_async): the outcome of [`join`](Process::join) once
    /// the child has ended (or cannot be awaited), else the child's record to wait on. It
    /// reads whatever the child has sent meanwhile, so that a result too large for the
    /// channel's buffer does not keep the child from ending.
    pub(crate) fn join_if_ended(&mut self) -> Result<Result<R, ProcessError>, Arc<ChildHandle>> {
        let max = self.max_result_size;
        let State::Running(running) = &mut self.state else {
            return Ok(self.join());
        };
        if let Err(wrong) = check_owner(&running.child) {
            return Ok(Err(wrong));
        }
        if running.outcome.is_none() && running.result_closed.is_none() {
            match receive(&running.result, Duration::ZERO, max) {
                Received::Message(outcome) => running.outcome = Some(outcome),
                // Nothing yet, or the channel closed: the child's end tells which.
                Received::Empty | Received::Closed => {}
                Received::Failed(e) => running.result_closed = Some(e),
            }
        }
        if running.child.has_ended() {
            return Ok(self.join());
        }
        Err(running.child.clone())
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
fn check_owner(child: &ChildHandle) -> Result<(), ProcessError> {
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

/// `ipc::channel`, with a panic inside ipc-channel (it asserts on some failures, such as an
/// exhausted descriptor table) turned into an error.
fn channel<T: serde::Serialize + for<'de> serde::Deserialize<'de>>()
-> std::io::Result<(IpcSender<T>, IpcReceiver<T>)> {
    multiproc_sys::panic::catch(true, ipc::channel::<T>)
        .unwrap_or_else(|panic| Err(std::io::Error::other(panic.message)))
}

/// Records a started child; the exit handler will wait for it.
fn register(child: Arc<ChildHandle>) {
    exit::install_handler();
    registry::state().register(child);
}

/// Sends the arguments to the child; a serialization failure kills the child and is reported.
fn send_args<R>(
    payload: Box<dyn Payload<R>>,
    to: OpaqueIpcSender,
    child: &ChildHandle,
) -> Result<(), ProcessError> {
    match payload.send_args(to) {
        Err(IpcError::SerializationError(e)) => {
            let _ = child.signal(multiproc_sys::signal::number::SIGKILL);
            child.wait(None);
            registry::forget_child(child.pid);
            Err(ProcessError::Transfer {
                what: "the arguments",
                detail: e.to_string(),
            })
        }
        // Any other failure means the child died; its join tells how.
        _ => Ok(()),
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
