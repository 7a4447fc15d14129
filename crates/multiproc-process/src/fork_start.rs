//! What a child runs (a named target with its arguments, or a closure), and the fork start
//! method that runs it in a forked child.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use ipc_channel::IpcError;
use ipc_channel::ipc::{IpcSender, OpaqueIpcSender};

use crate::entry::Entry;
use crate::error::ProcessError;
use crate::exit;
use crate::forkserver;
use crate::function::catch_child_panic;
use crate::identity::Identity;
use crate::launcher::{self};
use crate::logging;
use crate::method::StartMethod;
use crate::registry::{self, ChildHandle, Reaper};
use crate::settings::{ChildSettings, make_pipes};
use crate::status::{self};
use crate::sys;
use crate::tag::Sealed;
use crate::target::{Portable, Target};
use crate::wire::{Outcome, Trampoline};

/// What a child runs: a named function with its arguments, or a closure (fork only).
pub(crate) trait Payload<R>: Send {
    /// The trampoline's offset, for a child that does not share our memory.
    fn trampoline(&self) -> Option<Sealed<Trampoline>>;
    /// Sends the arguments to a re-executed or fork-server child.
    fn send_args(self: Box<Self>, to: OpaqueIpcSender) -> Result<(), IpcError>;
    /// Runs the target here (in a forked child); `Err` is a fallible target's error chain.
    fn run_here(self: Box<Self>) -> Result<R, String>;
}

pub(crate) struct Call<F, Args> {
    pub(crate) target: F,
    pub(crate) args: Args,
}

impl<F, Args> Payload<F::Output> for Call<F, Args>
where
    F: Target<Args>,
    Args: Portable,
    F::Output: Portable,
{
    fn trampoline(&self) -> Option<Sealed<Trampoline>> {
        Some(Entry::<F, Args>::sealed())
    }

    fn send_args(self: Box<Self>, to: OpaqueIpcSender) -> Result<(), IpcError> {
        to.to::<Args>().send(self.args)
    }

    fn run_here(self: Box<Self>) -> Result<F::Output, String> {
        self.target.try_call(self.args)
    }
}

pub(crate) struct Closure<F>(pub(crate) F);

impl<F, R> Payload<R> for Closure<F>
where
    F: FnOnce() -> R + Send,
{
    fn trampoline(&self) -> Option<Sealed<Trampoline>> {
        None
    }

    fn send_args(self: Box<Self>, _: OpaqueIpcSender) -> Result<(), IpcError> {
        Err(IpcError::Io(std::io::Error::other(
            "a closure can only run in a forked child",
        )))
    }

    fn run_here(self: Box<Self>) -> Result<R, String> {
        Ok((self.0)())
    }
}

/// Forks a child that runs `payload` and sends its outcome on `result`. Runs on a long-lived
/// thread, holding the state lock across the fork so that the child finds the state consistent
/// and no other fork of this crate inherits the result channel.
pub(crate) fn fork_child<R: Portable>(
    identity: &mut Identity,
    payload: Box<dyn Payload<R>>,
    result: IpcSender<Outcome<R>>,
    settings: &ChildSettings,
) -> Result<(Arc<ChildHandle>, [Option<OwnedFd>; 3]), ProcessError> {
    use std::io::Write;
    // Finish every lazy initialisation the child will need, so that no other thread can be
    // half-way through one when we fork (the child would wait for it forever).
    crate::function::prepare_for_fork();
    let state = registry::state();
    let forkserver = forkserver::hold_for_fork();
    let launcher = launcher::hold_for_fork();
    let parent = multiproc_sys::process::pid();
    // The child waits for this before it does anything, so that it cannot end (and, in a
    // program that ignores SIGCHLD or reaps with `waitpid(-1)`, be reaped and its pid reused)
    // before the parent holds its pidfd.
    let go =
        multiproc_sys::eventfd::new().map_err(ProcessError::io("could not create an eventfd"))?;
    // Made under the state lock, so that no other fork of this crate inherits the child's
    // ends (a reader would then wait for that other child too).
    let [parent_ends, child_ends] = make_pipes(settings.piped()).map_err(ProcessError::io(
        "could not create a pipe for a piped stream",
    ))?;
    // On the caller's own thread (the main thread), hold the standard streams across the
    // fork, as glibc holds malloc's locks: the child then never inherits them locked by
    // another thread, and can print and flush. On the launcher thread, never: the caller may
    // hold them while it waits for us (it flushed them before handing over), and a library
    // thread never takes the stdio locks. A child forked there may find a stream locked by a
    // thread that does not exist in it (see `StartMethod::Fork`).
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let mut streams =
        multiproc_sys::process::is_main_thread().then(|| (stdout.lock(), stderr.lock()));
    let streams_held = streams.is_some();
    if let Some((out, err)) = streams.as_mut() {
        let _ = out.flush();
        let _ = err.flush();
    }
    multiproc_sys::fork::flush_c_stdio();
    // Asked here, on the forking thread: a child that inherits an empty mask keeps it as is.
    let reset_mask = !multiproc_sys::fork::signal_mask_is_empty();
    let mut held = Some((state, forkserver, launcher));
    // The child closes its copies of the parent's ends: a child that kept the write end of
    // its own standard input would never see its end.
    let mut parent_ends = Some(parent_ends);
    let forked = sys::fork_child(|| {
        drop(streams);
        drop(parent_ends.take());
        if !multiproc_sys::fork::set_parent_death_signal(parent) {
            return 71;
        }
        if !matches!(
            multiproc_sys::poll::wait_readable(go.as_fd(), None),
            Ok(true)
        ) {
            return 71;
        }
        if reset_mask {
            multiproc_sys::signal::reset_mask();
        }
        crate::method::started_by(StartMethod::Fork);
        identity.pid = multiproc_sys::process::pid();
        // Every page the child writes is a copy-on-write fault: the identity moves into the
        // state (no clone), and only its name is copied, for panic reports.
        let name = identity.name.as_str().to_owned();
        if let Some((mut state, mut forkserver, mut launcher)) = held.take() {
            state.become_forked_child(std::mem::replace(identity, Identity::empty()));
            forkserver::forget_after_fork(&mut forkserver);
            launcher::forget_after_fork(&mut launcher);
        }
        logging::forget_receiver_after_fork();
        if let Err(detail) = settings.apply_in_child(child_ends) {
            exit::before_child_exit();
            let _ = result.send(Outcome::Setting(detail));
            return 1;
        }
        let outcome = match catch_child_panic(&name, move || payload.run_here()) {
            Ok(Ok(value)) => Outcome::Returned(value),
            Ok(Err(chain)) => Outcome::Error(chain),
            Err(panic) => Outcome::Panicked(panic),
        };
        let code = if matches!(outcome, Outcome::Returned(_)) {
            0
        } else {
            1
        };
        exit::before_child_exit();
        let code = match result.send(outcome) {
            Ok(()) => code,
            Err(IpcError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
            Err(e) => {
                crate::leave::write_stderr_raw(&format!(
                    "multiproc: could not send the result to the parent: {e}"
                ));
                1
            }
        };
        // Only when the streams were held across the fork: otherwise another thread of the
        // parent may have held them, and here they would stay locked for ever.
        if streams_held {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
        }
        multiproc_sys::fork::flush_c_stdio();
        code
    });
    // In the parent: the closure, with the stdio locks and the result sender, is gone.
    let Some((mut state, forkserver, launcher)) = held else {
        return Err(ProcessError::Unsupported("a fork that returned twice"));
    };
    drop((forkserver, launcher));
    let parent_ends = parent_ends.unwrap_or_default();
    let pid = forked.map_err(|e| ProcessError::Io {
        context: "fork failed",
        source: e,
    })?;
    let pidfd = match multiproc_sys::pidfd::open(pid) {
        Ok(pidfd) => pidfd,
        Err(e) => {
            // The child is still waiting for `go`: it has not ended, so `pid` is still it.
            let _ = multiproc_sys::signal::kill(pid, multiproc_sys::signal::number::SIGKILL);
            let _ = status::waitpid(pid, true);
            return Err(ProcessError::Io {
                context: "could not watch the child",
                source: e,
            });
        }
    };
    multiproc_sys::eventfd::signal(go.as_fd());
    let child = Arc::new(ChildHandle::with_pidfd(
        pid,
        pidfd,
        identity.name.clone(),
        identity.daemon,
        Reaper::Direct,
    ));
    exit::install_handler();
    state.register(child.clone());
    Ok((child, parent_ends))
}
