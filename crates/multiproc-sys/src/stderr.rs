//! Writing to the standard error descriptor without `std::io::Stderr`'s lock.
//!
//! A library thread (the log thread, a pool's result thread) must never take the stdio
//! locks: a thread of the user's may hold one across a `fork`, and the child would wait on
//! it forever. These writes go to descriptor 2 with `write(2)`, one call per line where the
//! kernel takes it whole.
//!
//! ```
//! multiproc_sys::stderr::write_all(b"[DEBUG/MainProcess] written without the stderr lock\n")?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use crate::cvt;

/// Writes all of `bytes` to descriptor 2 with `write(2)`, retrying on `EINTR` and after a
/// short write. Fails with the `errno` of the first failed call (`EBADF` when descriptor 2
/// is closed, `EPIPE` when its reader is gone). See write(2).
///
/// ```
/// multiproc_sys::stderr::write_all(b"a line for stderr\n")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_all(mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let written = crate::time::retry_eintr(None, |_| {
            // SAFETY: the pointer and length describe `bytes`, a live slice that write(2)
            // only reads; descriptor 2 is a plain integer here, so a closed descriptor gives
            // EBADF, not a use of someone else's `OwnedFd`.
            cvt(unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) })
        })?;
        let written = usize::try_from(written).unwrap_or(0);
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = bytes.get(written..).unwrap_or_default();
    }
    Ok(())
}
