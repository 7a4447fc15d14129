//! Per-process state: who this process is, the children it started, the fork server and the
//! launcher thread. One lock guards it all, and a fork by this crate holds that lock, so a
//! forked child always finds it consistent and can reset it to describe itself.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::forkserver::ForkserverClient;
use crate::launcher::Launcher;
use crate::sys::{self, ExitStatus};

/// Who a process is: what [`current_process`](crate::current_process) reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) daemon: bool,
    /// Python's `_identity`: the child's index at each level, `[1, 2]` for `Process-1:2`.
    pub(crate) path: Vec<u32>,
    pub(crate) parent: Option<(String, u32)>,
}

impl Identity {
    fn main_process() -> Identity {
        Identity {
            name: "MainProcess".to_owned(),
            pid: sys::getpid(),
            daemon: false,
            path: Vec::new(),
            parent: None,
        }
    }
}

/// How to learn that a child ended, and how it ended.
#[derive(Debug)]
pub(crate) enum Reaper {
    /// This process forked or spawned the child, so it can `waitpid` it.
    Direct,
    /// The fork server forked it: read the zombie's status, then ask the server to reap it.
    Forkserver(Arc<ForkserverClient>),
}

/// The parent's record of one started child, shared by its `Process` handle and the registry.
#[derive(Debug)]
pub(crate) struct ChildHandle {
    pub(crate) pid: u32,
    pub(crate) name: String,
    pub(crate) daemon: bool,
    pub(crate) pidfd: OwnedFd,
    pub(crate) reaper: Reaper,
    /// `Some` once reaped: the status, or `None` inside when it could not be learnt.
    status: Mutex<Option<Option<ExitStatus>>>,
}

impl ChildHandle {
    pub(crate) fn new(
        pid: u32,
        name: String,
        daemon: bool,
        reaper: Reaper,
    ) -> std::io::Result<Self> {
        let pidfd = sys::pidfd_open(pid)?;
        Ok(ChildHandle {
            pid,
            name,
            daemon,
            pidfd,
            reaper,
            status: Mutex::new(None),
        })
    }

    /// The exit status if the child has ended (reaping it), `None` while it runs. The inner
    /// `None` means it ended but its status is unknown.
    pub(crate) fn try_reap(&self) -> Option<Option<ExitStatus>> {
        let mut status = lock(&self.status);
        if let Some(known) = *status {
            return Some(known);
        }
        let reaped = match &self.reaper {
            Reaper::Direct => match sys::waitpid(self.pid, false) {
                Ok(Some(s)) => Some(Some(s)),
                Ok(None) => None,
                // ECHILD: someone else reaped it (a `waitpid(-1)` elsewhere in the program).
                Err(_) => Some(None),
            },
            Reaper::Forkserver(server) => {
                if !sys::poll_readable(self.pidfd.as_fd(), Some(Duration::ZERO)).unwrap_or(true) {
                    None
                } else {
                    let known = sys::zombie_exit_status(self.pid).ok();
                    server.reap(self.pid);
                    Some(known)
                }
            }
        };
        *status = reaped;
        reaped
    }

    /// Waits until the child ends or the deadline passes.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Option<Option<ExitStatus>> {
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
            let _ = sys::poll_readable(self.pidfd.as_fd(), timeout);
        }
    }

    /// Waits up to `timeout` for the child to end, without reaping it; returns whether it did.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> bool {
        sys::poll_readable(self.pidfd.as_fd(), Some(timeout)).unwrap_or(true)
    }

    pub(crate) fn has_ended(&self) -> bool {
        sys::poll_readable(self.pidfd.as_fd(), Some(Duration::ZERO)).unwrap_or(true)
    }

    pub(crate) fn signal(&self, signal: i32) -> std::io::Result<()> {
        // The pid cannot have been reused: it stays ours until reaped, and a reaped child is
        // not signalled.
        if lock(&self.status).is_some() {
            return Ok(());
        }
        match sys::kill(self.pid, signal) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }
}

/// Everything this crate keeps per process.
pub(crate) struct State {
    pub(crate) me: Identity,
    /// Children started so far, for their default names.
    pub(crate) started: u32,
    /// Children started and not yet reaped.
    pub(crate) children: Vec<Arc<ChildHandle>>,
    pub(crate) forkserver: Option<Arc<ForkserverClient>>,
    pub(crate) launcher: Option<Launcher>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static ATEXIT: Once = Once::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Locks the per-process state, creating it on first use.
pub(crate) fn state() -> StateGuard {
    let mut guard = lock(&STATE);
    if guard.is_none() {
        *guard = Some(State {
            me: CHILD_IDENTITY
                .get()
                .cloned()
                .unwrap_or_else(Identity::main_process),
            started: 0,
            children: Vec::new(),
            forkserver: None,
            launcher: None,
        });
    }
    StateGuard(guard)
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

    /// Records a started child and makes sure the exit handler will see it.
    pub(crate) fn register(&mut self, child: Arc<ChildHandle>) {
        ATEXIT.call_once(|| sys::atexit(at_exit));
        self.children.retain(|c| c.try_reap().is_none());
        self.children.push(child);
    }

    /// In a child just forked by this crate (while this lock was held): forget what belonged to
    /// the parent and become `me`. Nothing is dropped: the parent's handles are not ours to
    /// close, and dropping them could act on the parent's behalf.
    pub(crate) fn become_forked_child(&mut self, me: Identity) {
        let state = self.0.as_mut().expect("state is initialised by state()");
        std::mem::forget(std::mem::take(&mut state.children));
        std::mem::forget(state.forkserver.take());
        std::mem::forget(state.launcher.take());
        state.started = 0;
        state.me = me;
        crate::logging::forget_receiver_after_fork();
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

/// What Python does at interpreter exit: terminate daemonic children, then wait for the others.
fn cleanup_children() {
    // At exit another thread may hold the lock forever (it is being torn down): then leave the
    // children to the parent-death signal rather than hang.
    let children = match STATE.try_lock() {
        Ok(mut guard) => guard
            .as_mut()
            .map(|s| std::mem::take(&mut s.children))
            .unwrap_or_default(),
        Err(std::sync::TryLockError::Poisoned(p)) => p
            .into_inner()
            .as_mut()
            .map(|s| std::mem::take(&mut s.children))
            .unwrap_or_default(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    for child in children.iter().filter(|c| c.daemon) {
        let _ = child.signal(libc::SIGTERM);
    }
    for child in &children {
        child.wait(None);
    }
    crate::logging::flush_child_records();
}

extern "C" fn at_exit() {
    // By the time exit handlers run, glibc has destroyed the exiting thread's thread-locals,
    // and ipc-channel's sends need theirs (to ask the fork server to reap, to flush child log
    // records). A fresh thread has its own.
    let cleanup = || {
        let _ = std::thread::Builder::new()
            .name("multiproc-exit".into())
            .spawn(cleanup_children)
            .map(|thread| thread.join());
    };
    // Never unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(cleanup);
}

/// Called by a child right before it leaves: its own children are handled as at exit.
pub(crate) fn before_child_exit() {
    cleanup_children();
}
