//! The setters of a child's environment, working directory, standard streams and limits on
//! [`Process`] (what they set is `settings.rs`).

use std::ffi::OsStr;
use std::path::Path;

use crate::limits::Limits;
use crate::process::Process;
use crate::settings::{EnvOp, bytes};
use crate::stdio::{ChildInput, ChildOutput, Stdio};
use crate::target::Portable;

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
