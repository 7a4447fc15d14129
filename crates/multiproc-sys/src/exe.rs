//! The identity of the running executable.
//!
//! ```
//! // The same executable gives the same fingerprint.
//! assert_eq!(multiproc_sys::exe::fingerprint()?, multiproc_sys::exe::fingerprint()?);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// Device, inode, size and modification time of `/proc/self/exe` (stat(2)): a child
/// re-executed from `/proc/self/exe` sees the same four numbers as its parent.
///
/// ```
/// let id = multiproc_sys::exe::fingerprint()?;
/// assert_eq!(id, multiproc_sys::exe::fingerprint()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn fingerprint() -> io::Result<[u64; 4]> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/proc/self/exe")?;
    Ok([meta.dev(), meta.ino(), meta.size(), meta.mtime() as u64])
}
