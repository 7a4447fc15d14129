//! Random bytes from the kernel: getrandom(2), through rustix (the `rand`, `getrandom` and
//! `tempfile` crates are not dependencies; a random name is these bytes in hex).
//!
//! ```
//! let mut nonce = [0u8; 32];
//! multiproc_sys::random::fill(&mut nonce)?;
//! assert_ne!(multiproc_sys::random::u64(), multiproc_sys::random::u64());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

/// Fills `buf` with random bytes from the kernel's CSPRNG, retrying short reads and `EINTR`.
///
/// ```
/// let mut key = [0u8; 32];
/// multiproc_sys::random::fill(&mut key)?;
/// assert_ne!(key, [0u8; 32]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn fill(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// A random `u64`; falls back to the standard library's per-process hasher keys if the kernel
/// has no entropy to give (never on a running Linux).
///
/// ```
/// assert_ne!(multiproc_sys::random::u64(), multiproc_sys::random::u64());
/// ```
pub fn u64() -> u64 {
    let mut buf = [0u8; 8];
    match fill(&mut buf) {
        Ok(()) => u64::from_ne_bytes(buf),
        Err(_) => {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(std::time::SystemTime::now())
        }
    }
}
