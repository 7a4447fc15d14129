//! A child's standard streams: dup2(2) of a descriptor onto 0, 1 or 2, and `/dev/null`.
//!
//! ```
//! use multiproc_sys::stdio::{StdStream, redirect_to_null};
//! // What a child does for `Stdio::null()` on its standard input.
//! redirect_to_null(StdStream::Stdin)?;
//! assert_eq!(std::io::read_to_string(std::io::stdin())?, "");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// One of the three standard streams.
///
/// ```
/// use multiproc_sys::stdio::StdStream;
/// assert_eq!(StdStream::Stdin.fd(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdStream {
    /// Descriptor 0.
    Stdin,
    /// Descriptor 1.
    Stdout,
    /// Descriptor 2.
    Stderr,
}

impl StdStream {
    /// Its descriptor number.
    ///
    /// ```
    /// assert_eq!(multiproc_sys::stdio::StdStream::Stderr.fd(), 2);
    /// ```
    pub fn fd(self) -> i32 {
        match self {
            StdStream::Stdin => 0,
            StdStream::Stdout => 1,
            StdStream::Stderr => 2,
        }
    }
}

/// Makes `stream` a copy of `fd` (dup2(2)), without `FD_CLOEXEC`; `fd` itself stays open.
/// Whatever the stream was before is closed. Retries `EINTR`.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::fd::AsFd;
/// use multiproc_sys::stdio::{StdStream, redirect};
/// // This doc test's standard input becomes a pipe.
/// let (reader, mut writer) = std::io::pipe()?;
/// redirect(reader.as_fd(), StdStream::Stdin)?;
/// drop(reader);
/// writer.write_all(b"hi")?;
/// drop(writer);
/// let mut got = String::new();
/// std::io::stdin().read_to_string(&mut got)?;
/// assert_eq!(got, "hi");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn redirect(fd: BorrowedFd<'_>, stream: StdStream) -> io::Result<()> {
    if fd.as_raw_fd() == stream.fd() {
        // dup2 onto itself keeps FD_CLOEXEC: clear it instead.
        return rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty()).map_err(Into::into);
    }
    loop {
        // SAFETY: dup2 takes two descriptor numbers and touches no memory; `fd` is open (it
        // is borrowed), and replacing a standard stream is what the caller asks for.
        match crate::cvt(unsafe { libc::dup2(fd.as_raw_fd(), stream.fd()) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result.map(drop),
        }
    }
}

/// Points `stream` at `/dev/null` (for reading, for standard input; else for writing).
///
/// ```
/// use std::io::Read;
/// use multiproc_sys::stdio::{StdStream, redirect_to_null};
/// redirect_to_null(StdStream::Stdin)?;
/// let mut got = Vec::new();
/// assert_eq!(std::io::stdin().read_to_end(&mut got)?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn redirect_to_null(stream: StdStream) -> io::Result<()> {
    use std::os::fd::AsFd;
    let null = std::fs::OpenOptions::new()
        .read(stream == StdStream::Stdin)
        .write(stream != StdStream::Stdin)
        .open("/dev/null")?;
    redirect(null.as_fd(), stream)
}
