//! The environment, in code that runs before `main`.
//!
//! ```
//! // What a constructor that runs before `main` may do with the environment:
//! // SAFETY: no other thread touches the environment in this doc test.
//! unsafe { multiproc_sys::env::remove_before_main("MULTIPROC_NOT_SET") };
//! ```

/// Removes the environment variable `key`.
///
/// # Safety
///
/// No other thread may read or write the environment at the same time (std's
/// `remove_var` contract). Code that runs before `main` (a constructor), where the process
/// has only one thread, meets this.
///
/// ```
/// // SAFETY: a doc test's `main` has started no thread that reads the environment.
/// unsafe { multiproc_sys::env::remove_before_main("MULTIPROC_DOC_EXAMPLE") };
/// assert!(std::env::var_os("MULTIPROC_DOC_EXAMPLE").is_none());
/// ```
pub unsafe fn remove_before_main(key: &str) {
    // SAFETY: the caller guarantees that nothing else touches the environment now.
    unsafe { std::env::remove_var(key) };
}

/// One change to the environment of a child before it runs its target.
///
/// ```
/// use multiproc_sys::env::EnvChange;
/// let changes = [EnvChange::Clear, EnvChange::Set("LANG".into(), "C".into())];
/// assert_ne!(changes[0], changes[1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvChange {
    /// Set the variable (the key, the value).
    Set(std::ffi::OsString, std::ffi::OsString),
    /// Remove the variable.
    Remove(std::ffi::OsString),
    /// Remove every variable.
    Clear,
}

/// Applies `changes`, in order, to this process's environment through the C library
/// (setenv(3), unsetenv(3), clearenv(3)), bypassing std's environment lock: in a child just
/// forked from a multi-threaded parent, that lock may have been held by a thread that does
/// not exist in the child. An invalid key (empty, or with `=` or NUL) or a value with a NUL
/// is an `InvalidInput` error, with the changes before it applied.
///
/// # Safety
///
/// No other thread may read or write the environment at the same time: call it only in a
/// process that has one thread (a child just forked, before it starts any), where no C
/// library environment call was interrupted by the fork (std's `set_var` contract in the
/// parent guarantees that).
///
/// ```
/// use multiproc_sys::env::{EnvChange, apply_single_threaded};
/// // In a forked child (here a doc test's own process, which has one thread).
/// let changes = [EnvChange::Set("MULTIPROC_DOC".into(), "1".into())];
/// # if multiproc_sys::process::thread_count().unwrap_or(2) == 1 {
/// // SAFETY: this process has one thread.
/// unsafe { apply_single_threaded(&changes)? };
/// assert_eq!(std::env::var("MULTIPROC_DOC").as_deref(), Ok("1"));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub unsafe fn apply_single_threaded(changes: &[EnvChange]) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let invalid = || std::io::Error::from(std::io::ErrorKind::InvalidInput);
    let key = |key: &std::ffi::OsStr| {
        let bytes = key.as_bytes();
        if bytes.is_empty() || bytes.contains(&b'=') {
            return Err(invalid());
        }
        CString::new(bytes).map_err(|_| invalid())
    };
    for change in changes {
        match change {
            EnvChange::Set(k, v) => {
                let (k, v) = (key(k)?, CString::new(v.as_bytes()).map_err(|_| invalid())?);
                // SAFETY: both are NUL-terminated strings that outlive the call (setenv
                // copies them); the caller guarantees that no other thread touches the
                // environment.
                crate::cvt(unsafe { libc::setenv(k.as_ptr(), v.as_ptr(), 1) })?;
            }
            EnvChange::Remove(k) => {
                let k = key(k)?;
                // SAFETY: as above.
                crate::cvt(unsafe { libc::unsetenv(k.as_ptr()) })?;
            }
            EnvChange::Clear => {
                // SAFETY: the caller guarantees that no other thread touches the environment.
                crate::cvt(unsafe { libc::clearenv() })?;
            }
        }
    }
    Ok(())
}
