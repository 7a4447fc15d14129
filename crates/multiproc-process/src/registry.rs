//! Per-process state: who this process is and the children it started. One lock guards it,
//! and a fork by this crate holds that lock, so a forked child always finds it consistent and
//! can reset it to describe itself.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::identity::Identity;
use crate::status::{self, ExitReason};

/// The target of the lifecycle records of processes (started, exited).
pub(crate) const PROCESS_TARGET: &str = "multiproc::process";

/// How to learn that a child ended, and how it ended.
#[derive(Debug)]
pub(crate) enum Reaper {
    /// This process forked or spawned the child, so it collects its status through its pidfd
    /// (`waitid(P_PIDFD)`).
    Direct,
    /// The fork server forked it: read the zombie's status, then ask the server to reap it.
    Forkserver(Arc<dyn ReapOnRequest>),
}

/// A process that reaps the children it forked for us when asked: the fork server's client.
pub(crate) trait ReapOnRequest: Send + Sync + std::fmt::Debug {
    /// Tells it that `pid`'s exit status was read.
    fn reap(&self, pid: u32);
}

/// The lifecycle record of a child's end, at `debug` level (CPython's `util.debug`).
fn log_exit(pid: u32, name: &str, how: Option<ExitReason>) {
    match how {
        Some(status) => log::debug!(
            target: PROCESS_TARGET,
            "process {name} (pid {pid}) exited: {status}"
        ),
        None => log::debug!(
            target: PROCESS_TARGET,
            "process {name} (pid {pid}) exited; its status was collected elsewhere"
        ),
    }
}

/// The parent's record of one started child, shared by its `Process` handle and the registry.
#[derive(Debug)]
pub(crate) struct ChildHandle {
    pub(crate) pid: u32,
    pub(crate) name: String,
    pub(crate) daemon: bool,
    pub(crate) pidfd: OwnedFd,
    pub(crate) reaper: Reaper,
    /// The process that holds this record (the one that started the child).
    pub(crate) owner: u32,
    /// Set when the child ended but its exit status had been taken by someone else: SIGCHLD
    /// ignored, or a `waitpid(-1)` elsewhere in the program.
    taken: AtomicBool,
    /// `Some` once reaped: the status, or `None` inside when it could not be learnt.
    status: Mutex<Option<Option<ExitReason>>>,
}

impl ChildHandle {
    pub(crate) fn new(
        pid: u32,
        name: String,
        daemon: bool,
        reaper: Reaper,
    ) -> std::io::Result<Self> {
        let pidfd = multiproc_sys::pidfd::open(pid)?;
        Ok(ChildHandle::with_pidfd(pid, pidfd, name, daemon, reaper))
    }

    /// The record of a child whose pidfd was opened before it could have ended (so that no
    /// reused pid can be behind it).
    pub(crate) fn with_pidfd(
        pid: u32,
        pidfd: OwnedFd,
        name: String,
        daemon: bool,
        reaper: Reaper,
    ) -> Self {
        ChildHandle {
            pid,
            name,
            daemon,
            pidfd,
            reaper,
            owner: multiproc_sys::process::pid(),
            taken: AtomicBool::new(false),
            status: Mutex::new(None),
        }
    }

    /// Whether the child ended with its exit status taken by someone else.
    pub(crate) fn status_taken(&self) -> bool {
        self.taken.load(Ordering::Relaxed)
    }

    /// The exit status if the child has ended (reaping it), `None` while it runs. The inner
    /// `None` means it ended but its status is unknown.
    pub(crate) fn try_reap(&self) -> Option<Option<ExitReason>> {
        let mut status = lock(&self.status);
        if let Some(known) = *status {
            return Some(known);
        }
        let reaped = match &self.reaper {
            Reaper::Direct => match status::waitid(self.pidfd.as_fd(), false) {
                Ok(Some(s)) => Some(Some(s)),
                Ok(None) => None,
                // ECHILD: someone else collected the status (SIGCHLD ignored, or a
                // `waitpid(-1)` elsewhere in the program).
                Err(_) => {
                    self.taken.store(true, Ordering::Relaxed);
                    Some(None)
                }
            },
            Reaper::Forkserver(server) => {
                if !multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), Some(Duration::ZERO))
                    .unwrap_or(true)
                {
                    None
                } else {
                    let known = status::zombie_exit_status(self.pid).ok();
                    server.reap(self.pid);
                    Some(known)
                }
            }
        };
        *status = reaped;
        drop(status);
        if let Some(how) = reaped {
            log_exit(self.pid, &self.name, how);
        }
        reaped
    }

    /// Waits until the child ends or the deadline passes.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Option<Option<ExitReason>> {
        loop {
            if let Some(done) = self.try_reap() {
                return Some(done);
            }
            let timeout = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return None,
                },
            };
            let _ = multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), timeout);
        }
    }

    /// Waits up to `timeout` for the child to end, without reaping it; returns whether it did.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> bool {
        multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), Some(timeout)).unwrap_or(true)
    }

    pub(crate) fn has_ended(&self) -> bool {
        multiproc_sys::poll::wait_readable(self.pidfd.as_fd(), Some(Duration::ZERO)).unwrap_or(true)
    }

    pub(crate) fn signal(&self, signal: i32) -> std::io::Result<()> {
        // Through the pidfd, which names this child even if its pid were reused; a reaped child
        // is not signalled.
        if lock(&self.status).is_some() {
            return Ok(());
        }
        match multiproc_sys::pidfd::send_signal(self.pidfd.as_fd(), signal) {
            // It ended meanwhile (ESRCH): nothing to signal.
            Err(_) if self.has_ended() => Ok(()),
            other => other,
        }
    }
}

/// Everything this crate keeps per process.
pub(crate) struct State {
    /// The process this state describes: a child forked by the program itself (not by this
    /// crate) inherits it, and must not act on the parent's children.
    pid: u32,
    pub(crate) me: Identity,
    /// Children started so far, for their default names.
    pub(crate) started: u32,
    /// Children started and not yet reaped.
    pub(crate) children: Vec<Arc<ChildHandle>>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Locks the per-process state, creating it on first use (and again in a process that
/// inherited another's through a fork this crate did not make).
pub(crate) fn state() -> StateGuard {
    let mut guard = lock(&STATE);
    forget_if_inherited(&mut guard);
    if guard.is_none() {
        *guard = Some(State {
            pid: multiproc_sys::process::pid(),
            me: CHILD_IDENTITY
                .get()
                .filter(|me| me.pid == multiproc_sys::process::pid())
                .cloned()
                .unwrap_or_else(Identity::main_process),
            started: 0,
            children: Vec::new(),
        });
    }
    StateGuard(guard)
}

/// Drops (without running destructors: they would act for the parent) a state that another
/// process made.
fn forget_if_inherited(state: &mut Option<State>) {
    if state
        .as_ref()
        .is_some_and(|s| s.pid != multiproc_sys::process::pid())
    {
        std::mem::forget(state.take());
    }
}

/// The locked per-process state.
pub(crate) struct StateGuard(MutexGuard<'static, Option<State>>);

impl std::ops::Deref for StateGuard {
    type Target = State;
    fn deref(&self) -> &State {
        self.0.as_ref().expect("state is initialised by state()")
    }
}

impl std::ops::DerefMut for StateGuard {
    fn deref_mut(&mut self) -> &mut State {
        self.0.as_mut().expect("state is initialised by state()")
    }
}

impl StateGuard {
    /// Names the next child and reserves its identity.
    pub(crate) fn next_child_identity(&mut self, name: Option<&str>, daemon: bool) -> Identity {
        self.started += 1;
        let mut path = self.me.path.clone();
        path.push(self.started);
        let default_name = format!(
            "Process-{}",
            path.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(":")
        );
        Identity {
            name: name.map(str::to_owned).unwrap_or(default_name),
            pid: 0,
            daemon,
            path,
            parent: Some((self.me.name.clone(), self.me.pid)),
        }
    }

    /// Records a started child (the exit handler, `exit.rs`, waits for it).
    pub(crate) fn register(&mut self, child: Arc<ChildHandle>) {
        self.children.retain(|c| c.try_reap().is_none());
        self.children.push(child);
    }

    /// In a child just forked by this crate (while this lock was held): forget what belonged to
    /// the parent and become `me`. Nothing is dropped: the parent's handles are not ours to
    /// close, and dropping them could act on the parent's behalf.
    pub(crate) fn become_forked_child(&mut self, me: Identity) {
        let state = self.0.as_mut().expect("state is initialised by state()");
        std::mem::forget(std::mem::take(&mut state.children));
        state.pid = multiproc_sys::process::pid();
        state.started = 0;
        state.me = me;
    }
}

/// The identity a re-executed or fork-server child learnt in its bootstrap, set before anything
/// else reads the state.
static CHILD_IDENTITY: OnceLock<Identity> = OnceLock::new();

pub(crate) fn set_child_identity(me: Identity) {
    let _ = CHILD_IDENTITY.set(me.clone());
    // A fork-server child inherits the server's (never initialised) state; set it anyway in
    // case something initialised it.
    state().me = me;
}

/// Removes a child that was joined.
pub(crate) fn forget_child(pid: u32) {
    state().children.retain(|c| c.pid != pid);
}

/// Reaps finished children and returns the live ones.
pub(crate) fn live_children() -> Vec<Arc<ChildHandle>> {
    let mut state = state();
    state.children.retain(|c| c.try_reap().is_none());
    state.children.clone()
}

/// The children left at exit, taken out of the state; `None` if another thread holds the
/// lock (at exit it may hold it forever, being torn down).
pub(crate) fn take_children_at_exit() -> Option<Vec<Arc<ChildHandle>>> {
    let take = |state: &mut Option<State>| {
        state
            .as_mut()
            .map(|s| std::mem::take(&mut s.children))
            .unwrap_or_default()
    };
    match STATE.try_lock() {
        Ok(mut guard) => {
            forget_if_inherited(&mut guard);
            Some(take(&mut guard))
        }
        Err(std::sync::TryLockError::Poisoned(p)) => {
            let mut guard = p.into_inner();
            forget_if_inherited(&mut guard);
            Some(take(&mut guard))
        }
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}
