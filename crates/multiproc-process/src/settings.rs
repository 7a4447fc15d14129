//! What a child is started with besides its target: its environment, working directory,
//! standard streams and resource limits, set on a [`Process`] before
//! [`start`](Process::start).

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::process::Process;
use crate::stdio::{ChildInput, ChildOutput, Stdio, StdioKind};
use crate::target::Portable;

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

fn bytes(s: impl AsRef<OsStr>) -> Vec<u8> {
    s.as_ref().as_bytes().to_vec()
}

/// The child's environment, directory, streams and limits: set before
/// [`start`](Process::start), like `std::process::Command`'s; a setting made after `start` has
/// no effect. Under every start method: spawn sets environment, directory and streams on the
/// program it re-executes, fork and forkserver in the child right after the fork, before the
/// target runs (and before any thread starts there). A setting the child cannot apply (a
/// directory that vanished, a `nice` below the parent's without privilege) makes `start` or
/// [`join`](Process::join) fail with [`ProcessError::Setting`](crate::ProcessError::Setting),
/// which names it and the start method.
impl<R: Portable> Process<R> {
    /// Sets the environment variable `key` to `value` in the child.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn greeting() -> Option<String> { std::env::var("GREETING").ok() }
    /// let mut p = Process::new(greeting, ()).env("GREETING", "hello");
    /// p.start()?;
    /// assert_eq!(p.join()?.as_deref(), Some("hello"));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.settings.env.push(EnvOp::Set(bytes(key), bytes(value)));
        self
    }

    /// Sets several environment variables in the child.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn both() -> String { std::env::var("A").unwrap() + &std::env::var("B").unwrap() }
    /// let mut p = Process::new(both, ()).envs([("A", "1"), ("B", "2")]);
    /// p.start()?;
    /// assert_eq!(p.join()?, "12");
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn envs<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (key, value) in vars {
            self = self.env(key, value);
        }
        self
    }

    /// Removes the environment variable `key` in the child.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn home() -> bool { std::env::var_os("HOME").is_some() }
    /// let mut p = Process::new(home, ()).env_remove("HOME");
    /// p.start()?;
    /// assert!(!p.join()?);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.settings.env.push(EnvOp::Remove(bytes(key)));
        self
    }

    /// Empties the child's environment (variables set after this call are kept).
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn count() -> usize { std::env::vars_os().count() }
    /// let mut p = Process::new(count, ()).env_clear().env("ONLY", "1");
    /// p.start()?;
    /// assert_eq!(p.join()?, 1);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn env_clear(mut self) -> Self {
        self.settings.env.push(EnvOp::Clear);
        self
    }

    /// Sets the child's working directory. A directory that does not exist makes
    /// [`start`](Process::start) fail.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn cwd() -> std::path::PathBuf { std::env::current_dir().unwrap() }
    /// let mut p = Process::new(cwd, ()).current_dir("/");
    /// p.start()?;
    /// assert_eq!(p.join()?, std::path::Path::new("/"));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.settings.cwd = Some(bytes(dir.as_ref()));
        self
    }

    /// Sets the child's standard input (by default `/dev/null` under spawn and forkserver,
    /// the parent's under fork).
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn read_all() -> usize { std::io::read_to_string(std::io::stdin()).unwrap().len() }
    /// let mut p = Process::new(read_all, ()).stdin(Stdio::null());
    /// p.start()?;
    /// assert_eq!(p.join()?, 0);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn stdin(mut self, stdio: Stdio) -> Self {
        self.settings.stdio[0] = Some(stdio);
        self
    }

    /// Sets the child's standard output (by default the parent's).
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn quiet() { println!("to /dev/null") }
    /// let mut p = Process::new(quiet, ()).stdout(Stdio::null());
    /// p.start()?;
    /// p.join()?;
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn stdout(mut self, stdio: Stdio) -> Self {
        self.settings.stdio[1] = Some(stdio);
        self
    }

    /// Sets the child's standard error (by default the parent's).
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn quiet() { eprintln!("to /dev/null") }
    /// let mut p = Process::new(quiet, ()).stderr(Stdio::null());
    /// p.start()?;
    /// p.join()?;
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn stderr(mut self, stdio: Stdio) -> Self {
        self.settings.stdio[2] = Some(stdio);
        self
    }

    /// Sets the child's resource limits (see [`Limits`]).
    ///
    /// ```
    /// use multiproc_process::{Limits, Process};
    /// fn data_limit() -> Option<u64> {
    ///     multiproc_sys::rlimit::get(multiproc_sys::rlimit::Limit::Data).unwrap()
    /// }
    /// let mut p = Process::new(data_limit, ()).limits(Limits::new().memory(1 << 30));
    /// p.start()?;
    /// assert_eq!(p.join()?, Some(1 << 30));
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// The parent's end of the child's piped standard input, once: after
    /// [`start`](Process::start), with [`Stdio::piped`].
    ///
    /// ```
    /// use std::io::Write;
    /// use multiproc_process::{Process, Stdio};
    /// fn first_line() -> String {
    ///     let mut line = String::new();
    ///     std::io::stdin().read_line(&mut line).unwrap();
    ///     line
    /// }
    /// let mut p = Process::new(first_line, ()).stdin(Stdio::piped());
    /// p.start()?;
    /// writeln!(p.take_stdin().unwrap(), "hi")?;
    /// assert_eq!(p.join()?, "hi\n");
    /// assert!(p.take_stdin().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_stdin(&mut self) -> Option<ChildInput> {
        self.ends.stdin.take()
    }

    /// The parent's end of the child's piped standard output, once: after
    /// [`start`](Process::start), with [`Stdio::piped`].
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn hi() { print!("hi") }
    /// let mut p = Process::new(hi, ()).stdout(Stdio::piped());
    /// assert!(p.take_stdout().is_none());
    /// p.start()?;
    /// let out = p.take_stdout().unwrap();
    /// p.join()?;
    /// assert_eq!(std::io::read_to_string(out)?, "hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_stdout(&mut self) -> Option<ChildOutput> {
        self.ends.stdout.take()
    }

    /// The parent's end of the child's piped standard error, once: after
    /// [`start`](Process::start), with [`Stdio::piped`].
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn warn() { eprint!("careful") }
    /// let mut p = Process::new(warn, ()).stderr(Stdio::piped());
    /// p.start()?;
    /// let err = p.take_stderr().unwrap();
    /// p.join()?;
    /// assert_eq!(std::io::read_to_string(err)?, "careful");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_stderr(&mut self) -> Option<ChildOutput> {
        self.ends.stderr.take()
    }
}
