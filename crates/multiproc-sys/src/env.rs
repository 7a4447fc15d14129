//! The environment, in code that runs before `main`.

/// Removes the environment variable `key`.
///
/// # Safety
///
/// No other thread may read or write the environment at the same time (std's
/// `remove_var` contract). Code that runs before `main` (a constructor), where the process
/// has only one thread, meets this.
pub unsafe fn remove_before_main(key: &str) {
    // SAFETY: the caller guarantees that nothing else touches the environment now.
    unsafe { std::env::remove_var(key) };
}
