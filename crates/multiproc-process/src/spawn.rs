//! The spawn start method: re-execute this binary and hand the child its task over
//! ipc-channel.
//!
//! The child connects to a one-shot server of the parent and sends a channel back, as
//! ipc-channel requires (`IpcSender::connect` is the only way into a re-executed process).
//! `IpcOneShotServer::accept` blocks without a timeout, so the parent calls it only once the
//! child has connected: the child connects before it enters the rendezvous, and the parent
//! waits for the rendezvous with a poll that also watches the child's pidfd. After that the
//! accept returns at once, and its receive of the hello fails with a disconnect if the child
//! dies (the connection is the child's, and its end closes with it).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{Command, Stdio};

use ipc_channel::ipc::{IpcOneShotServer, IpcReceiver, IpcSender};

use crate::error::ProcessError;
use crate::function::guard_decode;
use crate::launcher::on_long_lived_thread;
use crate::rendezvous::{Refused, Rendezvous};
use crate::settings::ChildSettings;
use crate::status::{self, ExitReason};
use crate::wire::{Bootstrap, ENV_CHILD, Hello};

/// The longest socket path the kernel takes (`sun_path` holds 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// A re-executed child that has connected and proved itself.
pub(crate) struct Spawned {
    pub(crate) pid: u32,
    /// Opened right after the child was created, before it could have ended (it waits at the
    /// rendezvous until admitted).
    pub(crate) pidfd: OwnedFd,
    pub(crate) from_child: IpcReceiver<Hello>,
    pub(crate) to_child: IpcSender<Bootstrap>,
    /// The parent's ends of the child's piped streams (stdin, stdout, stderr).
    pub(crate) ends: [Option<OwnedFd>; 3],
}

/// Why a spawn failed; the caller adds the child's name.
pub(crate) enum SpawnError {
    Died {
        status: ExitReason,
        detail: String,
    },
    Mismatch,
    Io(&'static str, std::io::Error),
    /// A setting the re-executed program could not be started with.
    Setting(String),
}

impl SpawnError {
    pub(crate) fn into_process_error(self, name: &str) -> ProcessError {
        match self {
            SpawnError::Died { status, detail } => ProcessError::Bootstrap {
                name: name.to_owned(),
                status,
                detail,
            },
            SpawnError::Mismatch => ProcessError::BinaryMismatch,
            SpawnError::Io(context, source) => ProcessError::Io { context, source },
            SpawnError::Setting(detail) => ProcessError::Setting {
                name: name.to_owned(),
                method: crate::StartMethod::Spawn,
                detail,
            },
        }
    }
}

/// Re-executes this binary as a child and waits for it to connect.
/// `settings` gives the program its environment, directory and standard streams.
pub(crate) fn spawn(settings: &ChildSettings) -> Result<Spawned, SpawnError> {
    check_tmpdir()?;
    // ipc-channel asserts on some failures (an exhausted descriptor table): an error here.
    let (server, server_name) = multiproc_sys::panic::catch(true, IpcOneShotServer::<Hello>::new)
        .unwrap_or_else(|panic| Err(std::io::Error::other(panic.message)))
        .map_err(|e| SpawnError::Io("could not create the bootstrap socket", e))?;
    if server_name.len() > MAX_SOCKET_PATH {
        return Err(SpawnError::Io(
            "the bootstrap socket path is too long (set TMPDIR to a shorter directory)",
            std::io::Error::from(std::io::ErrorKind::InvalidInput),
        ));
    }
    let rendezvous = Rendezvous::beside(&server_name)
        .map_err(|e| SpawnError::Io("could not create the rendezvous socket", e))?;
    let token = multiproc_sys::random::u64();
    let marker = format!("{server_name}\t{}", multiproc_sys::process::pid());

    let mut command = Command::new("/proc/self/exe");
    if let Some(arg0) = std::env::args_os().next() {
        std::os::unix::process::CommandExt::arg0(&mut command, arg0);
    }
    command.stdin(Stdio::null());
    settings.configure(&mut command);
    // After the user's changes: `env_clear` must not remove it.
    command.env(ENV_CHILD, marker);
    let cwd = settings.cwd.clone();
    let mut child = on_long_lived_thread(move || command.spawn())
        .and_then(|spawned| spawned)
        .map_err(|e| {
            use std::io::ErrorKind::{NotADirectory, NotFound, PermissionDenied};
            match (cwd, e.kind()) {
                // `/proc/self/exe` is there to execute: these come from the `chdir` before.
                (Some(dir), NotFound | PermissionDenied | NotADirectory) => SpawnError::Setting(
                    format!("current_dir {}: {e}", String::from_utf8_lossy(&dir)),
                ),
                _ => SpawnError::Io("could not re-execute the program", e),
            }
        })?;
    let pid = child.id();
    let ends = [
        child.stdin.take().map(OwnedFd::from),
        child.stdout.take().map(OwnedFd::from),
        child.stderr.take().map(OwnedFd::from),
    ];
    drop(child);

    let pidfd = match multiproc_sys::pidfd::open(pid) {
        Ok(fd) => fd,
        Err(e) => {
            // Still our unreaped child unless it died at once: it waits at the rendezvous.
            let _ = multiproc_sys::signal::kill(pid, multiproc_sys::signal::number::SIGKILL);
            let _ = multiproc_sys::wait::waitpid(pid, true);
            return Err(SpawnError::Io("could not watch the child", e));
        }
    };
    // The child waits at the rendezvous until admitted, so it cannot have ended and been
    // reaped (by a foreign `waitpid(-1)`, or SIGCHLD ignored) before the pidfd was opened,
    // unless it failed at once. Then the pid may already name another process: the pidfd is
    // ours only if that process is our child.
    // (When `/proc` cannot be read, out of descriptors say, the check is skipped.)
    let ours = match multiproc_sys::process::stat(pid) {
        Ok(stat) => stat.parent == multiproc_sys::process::pid(),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    };
    if !ours {
        return Err(SpawnError::Died {
            status: ExitReason::Code(-1),
            detail: "the re-executed child ended at once, and its exit status was collected \
                     by someone else (SIGCHLD ignored, or a waitpid(-1) elsewhere)"
                .to_owned(),
        });
    }
    // The token goes only to the process we started, of our user, as the kernel says.
    if let Err(refused) = rendezvous.admit(pid, pidfd.as_fd(), token) {
        let status = kill_and_reap(pidfd.as_fd());
        return Err(match refused {
            Refused::ChildGone { refused: 0 } => SpawnError::Died {
                status,
                detail: String::new(),
            },
            Refused::ChildGone { refused } => SpawnError::Died {
                status,
                detail: format!(
                    "{refused} connection(s) from other processes were refused at the rendezvous"
                ),
            },
            Refused::Io(e) => SpawnError::Io("the rendezvous with the child failed", e),
        });
    }
    drop(rendezvous);
    // The child connected to the bootstrap socket before the rendezvous (`child.rs`), so the
    // accept does not wait for a connection, only for the hello on it.
    let accepted = guard_decode(|| server.accept());

    let (from_child, hello) = match accepted {
        Ok(pair) => pair,
        Err(e) => {
            // A child that is still alive sent something that is not a hello: it is not ours
            // to trust.
            let status = kill_and_reap(pidfd.as_fd());
            return Err(SpawnError::Died {
                status,
                detail: describe_early_death(&e),
            });
        }
    };
    if hello.token != token || hello.pid != pid || hello.fingerprint != own_fingerprint() {
        kill_and_reap(pidfd.as_fd());
        return Err(SpawnError::Mismatch);
    }
    Ok(Spawned {
        pid,
        pidfd,
        from_child,
        to_child: hello.to_child,
        ends,
    })
}

/// The bootstrap socket lives in `TMPDIR` (or `/tmp`): an error up front, naming the
/// variable, when that is not a directory, rather than a failure deep inside ipc-channel.
fn check_tmpdir() -> Result<(), SpawnError> {
    let dir = std::env::temp_dir();
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(SpawnError::Io(
            "the temporary directory (TMPDIR, else /tmp) is not a directory",
            std::io::Error::from(std::io::ErrorKind::NotADirectory),
        )),
        Err(e) => Err(SpawnError::Io(
            "the temporary directory (TMPDIR, else /tmp) cannot be used",
            e,
        )),
    }
}

/// Kills the child behind `pidfd` (a no-op once it ended) and reaps it; its status, or `-1`
/// when it is unknown (taken by a `waitpid(-1)` elsewhere, or SIGCHLD ignored).
fn kill_and_reap(pidfd: BorrowedFd<'_>) -> ExitReason {
    let _ = multiproc_sys::pidfd::send_signal(pidfd, multiproc_sys::signal::number::SIGKILL);
    status::waitid(pidfd, true)
        .ok()
        .flatten()
        .unwrap_or(ExitReason::Code(-1))
}

/// This process's executable identity, read once: the file behind a running process's
/// `/proc/self/exe` does not change.
fn own_fingerprint() -> [u64; 4] {
    static FINGERPRINT: std::sync::OnceLock<[u64; 4]> = std::sync::OnceLock::new();
    *FINGERPRINT.get_or_init(|| multiproc_sys::exe::fingerprint().unwrap_or_default())
}

fn describe_early_death(e: &str) -> String {
    // Disconnected: the child died after connecting, without a hello.
    if e.contains("Disconnected") {
        String::new()
    } else {
        format!("bootstrap channel: {e}")
    }
}
