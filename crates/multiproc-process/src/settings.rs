//! What a child is started with besides its target: its environment, working directory,
//! standard streams and resource limits, set on a [`Process`](crate::Process) before
//! [`start`](crate::Process::start). The setters are in `process_settings.rs`.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::stdio::{Stdio, StdioKind};

/// One change to a child's environment, in the order given.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum EnvOp {
    Set(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
    Clear,
}

/// A child's settings, as they travel to it (the fork server, or a re-executed child).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ChildSettings {
    pub(crate) env: Vec<EnvOp>,
    pub(crate) cwd: Option<Vec<u8>>,
    /// stdin, stdout, stderr; `None` leaves the start method's default.
    pub(crate) stdio: [Option<Stdio>; 3],
    pub(crate) limits: Limits,
}

const STREAMS: [multiproc_sys::stdio::StdStream; 3] = [
    multiproc_sys::stdio::StdStream::Stdin,
    multiproc_sys::stdio::StdStream::Stdout,
    multiproc_sys::stdio::StdStream::Stderr,
];

const STREAM_NAMES: [&str; 3] = ["stdin", "stdout", "stderr"];

impl ChildSettings {
    /// An error for settings no child could apply, found before starting one. Makes a
    /// relative working directory absolute, against this process's directory now: the fork
    /// server's may differ.
    pub(crate) fn prepare(&mut self) -> Result<(), String> {
        for op in &self.env {
            let (key, value) = match op {
                EnvOp::Set(key, value) => (key, Some(value)),
                EnvOp::Remove(key) => (key, None),
                EnvOp::Clear => continue,
            };
            let shown = String::from_utf8_lossy(key);
            if key.is_empty() || key.contains(&b'=') || key.contains(&0) {
                return Err(format!(
                    "env: the variable name {shown:?} is empty or holds '=' or NUL"
                ));
            }
            if value.is_some_and(|value| value.contains(&0)) {
                return Err(format!("env: the value of {shown} holds a NUL byte"));
            }
        }
        if let Some(dir) = &mut self.cwd {
            let absolute = std::path::absolute(Path::new(OsStr::from_bytes(dir)))
                .map_err(|e| format!("current_dir {}: {e}", String::from_utf8_lossy(dir)))?;
            *dir = bytes(&absolute);
            let dir = absolute.as_path();
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(format!("current_dir {}: not a directory", dir.display())),
                Err(e) => return Err(format!("current_dir {}: {e}", dir.display())),
            }
        }
        Ok(())
    }

    /// Which streams are piped (stdin, stdout, stderr).
    pub(crate) fn piped(&self) -> [bool; 3] {
        self.stdio.map(|s| s == Some(Stdio::piped()))
    }

    /// The part a re-executed child applies itself: the rest was set on the program it runs.
    pub(crate) fn after_exec(&self) -> ChildSettings {
        ChildSettings {
            limits: self.limits,
            ..ChildSettings::default()
        }
    }

    /// Sets environment, directory and streams on the command that re-executes the program.
    pub(crate) fn configure(&self, command: &mut std::process::Command) {
        for op in &self.env {
            match op {
                EnvOp::Set(key, value) => {
                    command.env(OsStr::from_bytes(key), OsStr::from_bytes(value));
                }
                EnvOp::Remove(key) => {
                    command.env_remove(OsStr::from_bytes(key));
                }
                EnvOp::Clear => {
                    command.env_clear();
                }
            }
        }
        if let Some(dir) = &self.cwd {
            command.current_dir(OsStr::from_bytes(dir));
        }
        let std_stdio = |stdio: Option<Stdio>| match stdio.map(|s| s.0) {
            Some(StdioKind::Inherit) => Some(std::process::Stdio::inherit()),
            Some(StdioKind::Null) => Some(std::process::Stdio::null()),
            Some(StdioKind::Piped) => Some(std::process::Stdio::piped()),
            None => None,
        };
        if let Some(stdin) = std_stdio(self.stdio[0]) {
            command.stdin(stdin);
        }
        if let Some(stdout) = std_stdio(self.stdio[1]) {
            command.stdout(stdout);
        }
        if let Some(stderr) = std_stdio(self.stdio[2]) {
            command.stderr(stderr);
        }
    }

    /// Applies the settings in a child that has one thread (forked, before its target runs),
    /// with `child_ends` its ends of the piped streams. An error names what failed.
    pub(crate) fn apply_in_child(&self, child_ends: [Option<OwnedFd>; 3]) -> Result<(), String> {
        if !self.env.is_empty() {
            let changes: Vec<_> = self
                .env
                .iter()
                .map(|op| match op {
                    EnvOp::Set(key, value) => multiproc_sys::env::EnvChange::Set(
                        OsString::from_vec(key.clone()),
                        OsString::from_vec(value.clone()),
                    ),
                    EnvOp::Remove(key) => {
                        multiproc_sys::env::EnvChange::Remove(OsString::from_vec(key.clone()))
                    }
                    EnvOp::Clear => multiproc_sys::env::EnvChange::Clear,
                })
                .collect();
            crate::sys::change_env_single_threaded(&changes).map_err(|e| format!("env: {e}"))?;
        }
        if let Some(dir) = &self.cwd {
            let dir = Path::new(OsStr::from_bytes(dir));
            std::env::set_current_dir(dir)
                .map_err(|e| format!("current_dir {}: {e}", dir.display()))?;
        }
        for ((stdio, end), (stream, name)) in self
            .stdio
            .iter()
            .zip(child_ends)
            .zip(STREAMS.into_iter().zip(STREAM_NAMES))
        {
            let done = match (stdio.map(|s| s.0), end) {
                (Some(StdioKind::Null), _) => multiproc_sys::stdio::redirect_to_null(stream),
                (Some(StdioKind::Piped), Some(end)) => {
                    multiproc_sys::stdio::redirect(end.as_fd(), stream)
                }
                (Some(StdioKind::Piped), None) => Err(std::io::Error::other("no pipe was made")),
                (Some(StdioKind::Inherit) | None, _) => Ok(()),
            };
            done.map_err(|e| format!("{name}: {e}"))?;
        }
        self.limits.apply()
    }
}

/// Makes the parent's and the child's ends of the piped streams: `(parent, child)`, each in
/// the order stdin, stdout, stderr.
pub(crate) fn make_pipes(piped: [bool; 3]) -> std::io::Result<[[Option<OwnedFd>; 3]; 2]> {
    let mut parent: [Option<OwnedFd>; 3] = [None, None, None];
    let mut child: [Option<OwnedFd>; 3] = [None, None, None];
    for (i, piped) in piped.into_iter().enumerate() {
        if piped {
            let (reader, writer) = std::io::pipe()?;
            let (reader, writer) = (OwnedFd::from(reader), OwnedFd::from(writer));
            (parent[i], child[i]) = if i == 0 {
                (Some(writer), Some(reader))
            } else {
                (Some(reader), Some(writer))
            };
        }
    }
    Ok([parent, child])
}

pub(crate) fn bytes(s: impl AsRef<OsStr>) -> Vec<u8> {
    s.as_ref().as_bytes().to_vec()
}
