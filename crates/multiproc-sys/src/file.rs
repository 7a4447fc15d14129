//! Opening files without following symbolic links, and asking who owns an open file.
//! See open(2) (`O_NOFOLLOW`, `O_EXCL`, `O_CLOEXEC`), fstat(2) and geteuid(2).
//!
//! ```
//! let link = std::env::temp_dir().join(format!("multiproc-doc-link-{}", std::process::id()));
//! std::os::unix::fs::symlink("/etc/hostname", &link)?;
//! let refused = multiproc_sys::file::open_no_follow(&link, false).unwrap_err();
//! assert!(multiproc_sys::file::is_symlink_refusal(&refused));
//! std::fs::remove_file(&link)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::File;
use std::io;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};

/// Opens `path` for reading and writing with `O_NOFOLLOW | O_CLOEXEC`; with `create`, also
/// `O_CREAT | O_EXCL` and mode 0600 (the file must not exist yet). A symbolic link as the
/// last component fails with `ELOOP` (`ErrorKind::FilesystemLoop` on recent Rust: match on
/// `raw_os_error() == Some(libc::ELOOP)`), so a link planted by someone else is never
/// followed.
///
/// ```
/// let path = std::env::temp_dir().join(format!("multiproc-sys-nofollow-{}", std::process::id()));
/// let file = multiproc_sys::file::open_no_follow(&path, true)?;
/// assert!(multiproc_sys::file::open_no_follow(&path, true).is_err()); // O_EXCL
/// let link = path.with_extension("link");
/// std::os::unix::fs::symlink(&path, &link)?;
/// let refused = multiproc_sys::file::open_no_follow(&link, false).unwrap_err();
/// assert!(multiproc_sys::file::is_symlink_refusal(&refused));
/// # std::fs::remove_file(&link)?; std::fs::remove_file(&path)?; drop(file);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_no_follow(path: &Path, create: bool) -> io::Result<File> {
    let mut flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if create {
        flags |= OFlags::CREATE | OFlags::EXCL;
    }
    let fd = rustix::fs::open(path, flags, Mode::RUSR | Mode::WUSR)?;
    Ok(File::from(fd))
}

/// Whether `err` is the `ELOOP` with which [`open_no_follow`] refuses a symbolic link.
///
/// ```
/// let err = std::io::Error::from_raw_os_error(libc::ELOOP);
/// assert!(multiproc_sys::file::is_symlink_refusal(&err));
/// ```
pub fn is_symlink_refusal(err: &io::Error) -> bool {
    err.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// Who owns an open file, and how (fstat(2)).
///
/// ```
/// use multiproc_sys::file::{Ownership, effective_uid, ownership};
/// let dir = std::env::temp_dir().join(format!("multiproc-doc-{}", std::process::id()));
/// let file = multiproc_sys::file::open_no_follow(&dir, true)?;
/// let Ownership { uid, regular, .. } = ownership(&file)?;
/// assert_eq!(uid, effective_uid());
/// assert!(regular);
/// std::fs::remove_file(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ownership {
    /// The owner's user id.
    pub uid: u32,
    /// The permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Whether it is a regular file.
    pub regular: bool,
    /// Its size in bytes (`st_size`).
    pub len: u64,
}

/// The owner, permission bits and type of the open file `file` (fstat(2)).
///
/// ```
/// let file = std::fs::File::open("/proc/self/stat")?;
/// let info = multiproc_sys::file::ownership(&file)?;
/// assert!(info.regular);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ownership(file: &File) -> io::Result<Ownership> {
    let stat = rustix::fs::fstat(file)?;
    Ok(Ownership {
        uid: stat.st_uid,
        mode: stat.st_mode & 0o7777,
        regular: FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile,
        len: stat.st_size.try_into().unwrap_or(0),
    })
}

/// The calling process's effective user id (geteuid(2)).
///
/// ```
/// let _ = multiproc_sys::file::effective_uid();
/// ```
pub fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}
