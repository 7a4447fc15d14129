//! A child's standard streams: [`Stdio`] says what each one is, and a piped stream gives the
//! parent a [`ChildOutput`] to read or a [`ChildInput`] to write.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use serde::{Deserialize, Serialize};

/// What one of a child's standard streams is, as `std::process::Stdio`: the parent's
/// ([`inherit`](Stdio::inherit)), `/dev/null` ([`null`](Stdio::null)), or a new pipe to the
/// parent ([`piped`](Stdio::piped)), which [`Process::take_stdout`] and its siblings hand
/// over once the child started.
///
/// Every start method honours all three: spawn sets them on the re-executed program, fork in
/// the child after the fork, and the fork server in the child it forks (the parent takes its
/// end of the pipe from the server with `pidfd_getfd(2)`, or through `/proc` where that call
/// is refused).
///
/// Under the test harness, `print!` in a child forked from a test thread writes to the
/// harness's output capture of that thread, which the child inherited, not to descriptor 1;
/// `std::io::stdout().write_all` writes to the stream. A child forked from a thread other
/// than the main one does not flush `std::io::stdout()` when it ends (the stream's lock may
/// have been held by a thread that does not exist in the child): flush it in the target.
///
/// ```
/// use std::io::Read;
/// use multiproc_process::{Process, Stdio};
/// fn hello() { println!("hello from the child") }
/// let mut p = Process::new(hello, ()).stdout(Stdio::piped());
/// p.start()?;
/// let mut out = p.take_stdout().expect("piped");
/// p.join()?;
/// let mut text = String::new();
/// out.read_to_string(&mut text)?;
/// assert_eq!(text, "hello from the child\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Process::take_stdout`]: crate::Process::take_stdout
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stdio(pub(crate) StdioKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StdioKind {
    Inherit,
    Null,
    Piped,
}

impl Stdio {
    /// The child uses the parent's stream.
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn work() {}
    /// let mut p = Process::new(work, ()).stderr(Stdio::inherit());
    /// p.start()?;
    /// p.join()?;
    /// assert!(p.take_stderr().is_none());
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// The stream is `/dev/null`: reads see end of file, writes vanish.
    ///
    /// ```
    /// use multiproc_process::{Process, Stdio};
    /// fn noisy() { eprintln!("nobody reads this") }
    /// let mut p = Process::new(noisy, ()).stderr(Stdio::null());
    /// p.start()?;
    /// p.join()?;
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    /// A new pipe between the child's stream and the parent, whose end the parent takes with
    /// [`Process::take_stdin`], [`Process::take_stdout`] or [`Process::take_stderr`] after
    /// [`Process::start`].
    ///
    /// Read a piped output while the child runs if it may write more than a pipe holds
    /// (64 KiB by default): a child blocked on a full pipe never ends, and its join waits for
    /// ever.
    ///
    /// ```
    /// use std::io::Read;
    /// use multiproc_process::{Process, Stdio};
    /// fn shout() { eprint!("HEY") }
    /// let mut p = Process::new(shout, ()).stderr(Stdio::piped());
    /// p.start()?;
    /// let mut err = String::new();
    /// p.take_stderr().expect("piped").read_to_string(&mut err)?;
    /// p.join()?;
    /// assert_eq!(err, "HEY");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`Process::take_stdin`]: crate::Process::take_stdin
    /// [`Process::take_stdout`]: crate::Process::take_stdout
    /// [`Process::take_stderr`]: crate::Process::take_stderr
    /// [`Process::start`]: crate::Process::start
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }
}

/// The parent's end of a child's piped standard output or error, like
/// `std::process::ChildStdout`: a [`Read`] that sees end of file once the child (and every
/// process that inherited the stream from it) has closed it.
///
/// ```
/// use std::io::Read;
/// use multiproc_process::{Process, Stdio};
/// fn count() { for i in 0..3 { println!("{i}") } }
/// let mut p = Process::new(count, ()).stdout(Stdio::piped());
/// p.start()?;
/// let mut lines = String::new();
/// p.take_stdout().unwrap().read_to_string(&mut lines)?;
/// p.join()?;
/// assert_eq!(lines, "0\n1\n2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ChildOutput {
    file: File,
}

/// The parent's end of a child's piped standard input, like `std::process::ChildStdin`: a
/// [`Write`]. Drop it to let the child see end of file.
///
/// ```
/// use std::io::{Read, Write};
/// use multiproc_process::{Process, Stdio};
/// fn echo_len() -> usize {
///     let mut text = String::new();
///     std::io::stdin().read_to_string(&mut text).unwrap();
///     text.len()
/// }
/// let mut p = Process::new(echo_len, ()).stdin(Stdio::piped());
/// p.start()?;
/// let mut input = p.take_stdin().unwrap();
/// input.write_all(b"four")?;
/// drop(input);
/// assert_eq!(p.join()?, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ChildInput {
    file: File,
}

impl ChildOutput {
    pub(crate) fn new(fd: OwnedFd) -> ChildOutput {
        ChildOutput {
            file: File::from(fd),
        }
    }
}

impl ChildInput {
    pub(crate) fn new(fd: OwnedFd) -> ChildInput {
        ChildInput {
            file: File::from(fd),
        }
    }
}

impl Read for ChildOutput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Write for ChildInput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

macro_rules! fd_traits {
    ($t:ty) => {
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.file.as_fd()
            }
        }

        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                self.file.as_raw_fd()
            }
        }

        impl From<$t> for OwnedFd {
            fn from(end: $t) -> OwnedFd {
                end.file.into()
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &self.file.as_raw_fd())
                    .finish()
            }
        }
    };
}

fd_traits!(ChildOutput);
fd_traits!(ChildInput);

/// The parent's ends of a child's piped streams, until taken.
#[derive(Debug, Default)]
pub(crate) struct ParentEnds {
    pub(crate) stdin: Option<ChildInput>,
    pub(crate) stdout: Option<ChildOutput>,
    pub(crate) stderr: Option<ChildOutput>,
}

impl ParentEnds {
    /// From the parent's raw ends, in the order stdin, stdout, stderr.
    pub(crate) fn from_fds([stdin, stdout, stderr]: [Option<OwnedFd>; 3]) -> ParentEnds {
        ParentEnds {
            stdin: stdin.map(ChildInput::new),
            stdout: stdout.map(ChildOutput::new),
            stderr: stderr.map(ChildOutput::new),
        }
    }
}
