//! The forkserver start method: one spawned, single-threaded server that forks children on
//! request.
//!
//! Forking a multi-threaded program is unsafe in general (only the forking thread survives,
//! holding whatever locks the others held). The fork server is a fresh re-executed process that
//! never starts a thread, so forking *it* is safe, and cheap. Its children are its own, so only
//! it can `waitpid` them: it leaves a finished child as a zombie until the parent, which reads
//! the zombie's exit status from `/proc`, asks it to reap.

use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ipc_channel::ipc::{IpcReceiver, IpcSender, OpaqueIpcReceiver, OpaqueIpcSender};

use crate::error::ProcessError;
use crate::function::guard_decode;
use crate::identity::Identity;
use crate::logging;
use crate::registry::{self, ReapOnRequest};
use crate::settings::make_pipes;
use crate::spawn;
use crate::status;
use crate::sys;
use crate::tag;
use crate::wire::{Bootstrap, ChildIo, ChildSpec, Outcome, Reply, Request, Role, Trampoline};

/// The fork server. Returns the exit code when the parent goes away.
///
/// The server is a child subreaper: a descendant that escapes its parent (a grandchild that
/// double-forks and calls `setsid`, say) becomes the server's child, and when the parent
/// closes the server at exit, the server kills and reaps every such descendant before it
/// leaves. A server killed outright (its parent was SIGKILLed, and the parent-death signal
/// took the server) cannot: escaped descendants then go to init, as in CPython.
pub(crate) fn serve(requests: IpcReceiver<Request>, replies: IpcSender<Reply>) -> i32 {
    // A program that ignores SIGCHLD passed that on through exec; the server must keep its
    // children as zombies until their statuses are read, so it restores the default.
    if multiproc_sys::disposition::keep_child_exits().is_err() {
        return 73;
    }
    let _ = multiproc_sys::subreaper::set(true);
    let code = serve_requests(requests, replies);
    multiproc_sys::subreaper::end_children();
    code
}

fn serve_requests(requests: IpcReceiver<Request>, replies: IpcSender<Reply>) -> i32 {
    let server_pid = multiproc_sys::process::pid();
    // Children reaped on request while still running (the parent dropped them unjoined).
    let mut unreaped: HashSet<u32> = HashSet::new();
    let mut channels = (requests, replies);
    // The parent's ends of the last child's pipes, until the parent took them (`Release`).
    let mut held: Vec<OwnedFd> = Vec::new();
    loop {
        let request = match guard_decode(|| channels.0.recv()) {
            Ok(request) => request,
            // The parent is gone (or sent garbage): our children die with us.
            Err(_) => return 0,
        };
        let reply = match request {
            Request::Fork { spec, args, result } => {
                held.clear();
                // Never fork for a trampoline whose tag does not verify.
                let pipes = make_pipes(spec.settings.piped());
                match (sys::open(&spec.trampoline), pipes) {
                    (Err(e), _) => Reply::Failed {
                        error: e.to_string(),
                    },
                    (_, Err(e)) => Reply::Failed {
                        error: format!("could not create a pipe for a piped stream: {e}"),
                    },
                    (Ok(trampoline), Ok([parent_ends, child_ends])) => {
                        bootstrap_flush();
                        let ends = parent_ends
                            .each_ref()
                            .map(|end| end.as_ref().map(|fd| fd.as_raw_fd()));
                        let mut in_parent = Some((channels, parent_ends));
                        let forked = sys::fork_single_threaded(|| {
                            // The child must not keep the server's channels, nor the
                            // parent's ends of its own pipes, open.
                            drop(in_parent.take());
                            crate::leave::exit(run_forked(
                                server_pid, spec, trampoline, args, result, child_ends,
                            ))
                        });
                        // Here in the server, `args`, `result` and the child's ends went
                        // with the closure.
                        let Some((kept, parent_ends)) = in_parent else {
                            return 0;
                        };
                        channels = kept;
                        match forked {
                            Ok(pid) => {
                                held.extend(parent_ends.into_iter().flatten());
                                Reply::Forked { pid, ends }
                            }
                            Err(e) => Reply::Failed {
                                error: e.to_string(),
                            },
                        }
                    }
                }
            }
            Request::Release => {
                held.clear();
                continue;
            }
            Request::Reap { pid } => {
                unreaped.insert(pid);
                unreaped.retain(|&pid| matches!(status::waitpid(pid, false), Ok(None)));
                continue;
            }
        };
        if channels.1.send(reply).is_err() {
            return 0;
        }
        unreaped.retain(|&pid| matches!(status::waitpid(pid, false), Ok(None)));
    }
}

fn bootstrap_flush() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

fn run_forked(
    server_pid: u32,
    spec: ChildSpec,
    trampoline: Trampoline,
    args: OpaqueIpcReceiver,
    result: OpaqueIpcSender,
    child_ends: [Option<OwnedFd>; 3],
) -> i32 {
    if !multiproc_sys::fork::set_parent_death_signal(server_pid) {
        return 71;
    }
    let mut identity = spec.identity;
    identity.pid = multiproc_sys::process::pid();
    registry::set_child_identity(identity);
    crate::method::started_by(spec.method);
    // Before anything here can start a thread (the log forwarder may).
    if let Err(detail) = spec.settings.apply_in_child(child_ends) {
        let _ = result.to::<Outcome<()>>().send(Outcome::Setting(detail));
        return 1;
    }
    if let Some(sink) = spec.log {
        logging::install_forwarder(sink);
    }
    trampoline(ChildIo { args, result })
}

/// The parent's connection to its fork server.
pub(crate) struct ForkserverClient {
    pid: u32,
    pidfd: OwnedFd,
    /// The process that started the server: the only one that may talk to it.
    owner: u32,
    /// `None` once shut down.
    channel: Mutex<Option<(IpcSender<Request>, IpcReceiver<Reply>)>>,
}

impl ForkserverClient {
    /// Starts a fork server.
    pub(crate) fn start() -> Result<ForkserverClient, ProcessError> {
        let spawned = spawn::spawn(&Default::default())
            .map_err(|e| e.into_process_error("ForkServerProcess"))?;
        let me = registry::state().me.clone();
        let identity = Identity {
            name: "ForkServerProcess".to_owned(),
            pid: spawned.pid,
            daemon: true,
            path: me.path.clone(),
            parent: Some((me.name, me.pid)),
        };
        if let Err(e) = spawned.to_child.send(Bootstrap {
            key: tag::tree_key(),
            role: Role::Forkserver(identity),
        }) {
            // Not left behind as a zombie: it never became our server.
            let _ = multiproc_sys::pidfd::send_signal(
                spawned.pidfd.as_fd(),
                multiproc_sys::signal::number::SIGKILL,
            );
            let _ = status::waitid(spawned.pidfd.as_fd(), true);
            return Err(ProcessError::Forkserver(e.to_string()));
        }
        let pidfd = spawned.pidfd;
        let requests: IpcSender<Request> = spawned.to_child.to_opaque().to();
        let replies: IpcReceiver<Reply> = spawned.from_child.to_opaque().to();
        Ok(ForkserverClient {
            pid: spawned.pid,
            pidfd,
            owner: multiproc_sys::process::pid(),
            channel: Mutex::new(Some((requests, replies))),
        })
    }

    pub(crate) fn is_alive(&self) -> bool {
        !multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), Some(Duration::ZERO))
            .unwrap_or(true)
    }

    /// Asks the server to fork a child; returns its pid and the parent's ends of its piped
    /// streams (stdin, stdout, stderr). `after_request` runs once the request is sent and
    /// before the reply is read: it sends the child its arguments, which then wait in the
    /// channel for the child instead of the child waiting for them.
    pub(crate) fn fork(
        &self,
        spec: ChildSpec,
        args: OpaqueIpcReceiver,
        result: OpaqueIpcSender,
        after_request: impl FnOnce(),
    ) -> Result<(u32, [Option<OwnedFd>; 3]), ForkError> {
        let current = multiproc_sys::process::pid();
        if current != self.owner {
            return Err(ForkError::Process(ProcessError::WrongProcess {
                what: "the fork server client".to_owned(),
                owner: self.owner,
                current,
            }));
        }
        let piped = spec.settings.piped();
        let guard = self.channel.lock().unwrap_or_else(|p| p.into_inner());
        let gone = |e: &dyn std::fmt::Display| {
            ProcessError::Forkserver(format!("the fork server is gone: {e}"))
        };
        let Some(channel) = guard.as_ref() else {
            return Err(gone(&"it was shut down").into());
        };
        channel
            .0
            .send(Request::Fork { spec, args, result })
            .map_err(|e| gone(&e))?;
        // The server holds the arguments' receiving end from here: it hands it to the child,
        // or drops it if it cannot fork (then the send fails instead of waiting).
        after_request();
        // The reply comes from another process: a corrupt one is an error, never a panic
        // here (ipc-channel's decoding can panic on corrupt descriptor tables).
        let (pid, ends) = match guard_decode(|| channel.1.recv()).map_err(|e| gone(&e))? {
            Reply::Forked { pid, ends } => (pid, ends),
            Reply::Failed { error } => {
                return Err(ProcessError::Forkserver(format!("fork failed: {error}")).into());
            }
        };
        if !piped.contains(&true) {
            return Ok((pid, [None, None, None]));
        }
        let taken = self.take_ends(piped, ends);
        // Whether or not that worked, the server's copies must go: the child sees end of
        // file only once every copy of the parent's end is closed.
        let released = channel.0.send(Request::Release);
        drop(guard);
        match (taken, released) {
            (Ok(ends), Ok(())) => Ok((pid, ends)),
            (Err(detail), _) => {
                self.kill_and_reap(pid);
                Err(ForkError::Pipes(detail))
            }
            (Ok(_), Err(e)) => {
                self.kill_and_reap(pid);
                Err(gone(&e).into())
            }
        }
    }

    /// Kills a child we give up on (it may have its arguments already, and must not run
    /// unwatched) and asks for it to be reaped. The server keeps it unreaped until then, so
    /// `pid` still names it, and the pidfd opened here is that child's.
    pub(crate) fn kill_and_reap(&self, pid: u32) {
        match multiproc_sys::pidfd::open(pid) {
            Ok(pidfd) => {
                let _ = multiproc_sys::pidfd::send_signal(
                    std::os::fd::AsFd::as_fd(&pidfd),
                    multiproc_sys::signal::number::SIGKILL,
                );
            }
            Err(e) => log::warn!("could not open a pidfd to kill fork-server child {pid}: {e}"),
        }
        self.reap(pid);
    }

    /// Takes the parent's ends of a child's pipes from the server: `pidfd_getfd(2)`, or where
    /// that is refused (a seccomp filter, no ptrace access), `/proc/<server>/fd/<n>`, which
    /// opens the same pipe.
    fn take_ends(
        &self,
        piped: [bool; 3],
        ends: [Option<i32>; 3],
    ) -> Result<[Option<OwnedFd>; 3], String> {
        const NAMES: [&str; 3] = ["stdin", "stdout", "stderr"];
        let mut taken: [Option<OwnedFd>; 3] = [None, None, None];
        for (i, (piped, end)) in piped.into_iter().zip(ends).enumerate() {
            if !piped {
                continue;
            }
            // The number comes from the server: a descriptor number, nothing more is trusted.
            let Some(fd) = end.filter(|&fd| (3..1 << 24).contains(&fd)) else {
                return Err(format!(
                    "{} piped: the fork server sent no pipe for it",
                    NAMES[i]
                ));
            };
            let got = multiproc_sys::pidfd::get_fd(self.pidfd.as_fd(), fd).or_else(|first| {
                let path = format!("/proc/{}/fd/{fd}", self.pid);
                std::fs::OpenOptions::new()
                    .read(i != 0)
                    .write(i == 0)
                    .open(&path)
                    .map(OwnedFd::from)
                    .map_err(|second| {
                        format!(
                            "{} piped: could not take the pipe from the fork server \
                             (pidfd_getfd: {first}; {path}: {second})",
                            NAMES[i]
                        )
                    })
            })?;
            taken[i] = Some(got);
        }
        Ok(taken)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Tells the server that a child's exit status was read, so it may reap it.
    pub(crate) fn reap(&self, pid: u32) {
        if multiproc_sys::process::pid() != self.owner {
            return;
        }
        let channel = self.channel.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = channel.as_ref() {
            let _ = channel.0.send(Request::Reap { pid });
        }
    }

    /// Closes the request channel, which makes the server exit, and reaps it, so that no
    /// zombie is left behind for PID 1. Waits up to `limit` for it, then kills it.
    fn shut_down(&self, limit: Duration) {
        if multiproc_sys::process::pid() != self.owner {
            return;
        }
        drop(
            self.channel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        if !multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), Some(limit)).unwrap_or(true) {
            let _ = multiproc_sys::pidfd::send_signal(
                self.pidfd.as_fd(),
                multiproc_sys::signal::number::SIGKILL,
            );
        }
        let _ = status::waitid(self.pidfd.as_fd(), true);
    }
}

impl std::fmt::Debug for ForkserverClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForkserverClient")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Drop for ForkserverClient {
    fn drop(&mut self) {
        // Dropping the request channel makes the server exit; reap it if it has.
        if multiproc_sys::process::pid() == self.owner {
            let _ = status::waitid(self.pidfd.as_fd(), false);
        }
    }
}

impl ReapOnRequest for ForkserverClient {
    fn reap(&self, pid: u32) {
        ForkserverClient::reap(self, pid);
    }
}

/// Why a fork through the server failed.
pub(crate) enum ForkError {
    Process(ProcessError),
    /// The parent's ends of the child's pipes could not be taken from the server.
    Pipes(String),
}

impl From<ProcessError> for ForkError {
    fn from(e: ProcessError) -> ForkError {
        ForkError::Process(e)
    }
}

/// This process's fork server, once started.
static CLIENT: Mutex<Option<Arc<ForkserverClient>>> = Mutex::new(None);

/// The lock on this process's fork-server client, held across a fork by this crate so that the
/// child never inherits it held by another thread.
pub(crate) fn hold_for_fork() -> MutexGuard<'static, Option<Arc<ForkserverClient>>> {
    CLIENT.lock().unwrap_or_else(|p| p.into_inner())
}

/// In a child just forked while `held` was held: the fork server is the parent's, not ours.
/// Nothing is dropped: dropping would act on the parent's behalf.
pub(crate) fn forget_after_fork(held: &mut Option<Arc<ForkserverClient>>) {
    std::mem::forget(held.take());
}

/// The fork server of this process, started on first use (again if it died).
pub(crate) fn client() -> Result<Arc<ForkserverClient>, ProcessError> {
    {
        let mut slot = hold_for_fork();
        if let Some(server) = slot.as_ref() {
            if server.owner != multiproc_sys::process::pid() {
                // Inherited through a fork this crate did not make: the server is the
                // parent's. Forget it (dropping would act on the parent's behalf) and start
                // our own.
                std::mem::forget(slot.take());
            } else if server.is_alive() {
                return Ok(server.clone());
            }
        }
    }
    // Start outside the lock: starting takes a while, and needs the state lock and the
    // launcher thread (a fork takes those before this one).
    let server = Arc::new(ForkserverClient::start()?);
    let mut slot = hold_for_fork();
    match &*slot {
        Some(existing) if existing.is_alive() => Ok(existing.clone()),
        _ => {
            *slot = Some(server.clone());
            Ok(server)
        }
    }
}

/// At exit, after the children were waited for: stops this process's fork server and reaps
/// it.
pub(crate) fn shut_down_at_exit() {
    let server = match CLIENT.try_lock() {
        Ok(mut slot) => slot.take(),
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().take(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    if let Some(server) = server {
        server.shut_down(Duration::from_secs(2));
        // Other handles may still hold it (never dropped at exit); forget ours either way.
        std::mem::forget(server);
    }
}

/// The pid of this process's fork server, if one runs.
pub(crate) fn running_pid() -> Option<u32> {
    hold_for_fork()
        .as_ref()
        .filter(|s| s.is_alive())
        .map(|s| s.pid())
}
