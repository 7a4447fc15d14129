//! Starting a [`Process`]: under fork, spawn or the fork server, and the child's arguments
//! sent on their way.

use std::sync::Arc;

use ipc_channel::IpcError;
use ipc_channel::ipc::{self, IpcReceiver, IpcSender, OpaqueIpcSender};

use crate::child;
use crate::error::ProcessError;
use crate::exit;
use crate::fork_start::{Payload, fork_child};
use crate::forkserver;
use crate::launcher::on_long_lived_thread;
use crate::logging;
use crate::method::StartMethod;
use crate::process::{Process, Running, Started, State};
use crate::registry::{self, ChildHandle, Reaper};
use crate::spawn;
use crate::stdio::ParentEnds;
use crate::tag::{self, Sealed};
use crate::target::Portable;
use crate::wire::{Bootstrap, ChildSpec, ENV_CHILD, Outcome, Role, Trampoline};

impl<R: Portable> Process<R> {
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
        Ok((Running::new(child, result), ends))
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
        Ok((Running::new(child, result), spawned.ends))
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
        // The arguments go out right after the request, while the server forks: the child
        // finds them waiting rather than waiting for our reply, pidfd and send.
        let mut args_sent = None;
        let (pid, ends) = server
            .fork(spec, args_rx.to_opaque(), result_tx.to_opaque(), || {
                args_sent = Some(payload.send_args(args_tx.to_opaque()));
            })
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
                server.kill_and_reap(pid);
                return Err(ProcessError::Io {
                    context: "could not watch the child",
                    source: e,
                });
            }
        };
        register(child.clone());
        if let Some(sent) = args_sent {
            refuse_unsent_args(sent, &child)?;
        }
        Ok((Running::new(child, result), ends))
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
    refuse_unsent_args(payload.send_args(to), child)
}

/// After a send of the arguments: a serialization failure kills the child and is reported.
fn refuse_unsent_args(sent: Result<(), IpcError>, child: &ChildHandle) -> Result<(), ProcessError> {
    match sent {
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
