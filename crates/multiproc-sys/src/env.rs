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
