//! The threads of this process that the multiproc crates started, told apart from the
//! others (the test harness's, which come and go while a test runs) by their names.

/// The prefix of the name of every thread that a multiproc crate starts (`multiproc-log`,
/// `multiproc-acceptor`, `multiproc-mgr-3`, ...). The kernel keeps only the first 15 bytes of
/// a thread's name (`/proc/<pid>/task/<tid>/comm`), which always hold these 10. The hyphen
/// tells them from a thread that merely inherited the name of a test program's main thread
/// (`multiproc_process-…`: cargo writes crate names with `_` there).
///
/// ```
/// assert!(multiproc_test_support::LIBRARY_THREAD_PREFIX.len() <= 15);
/// ```
pub const LIBRARY_THREAD_PREFIX: &str = "multiproc-";

/// The names of this process's threads that the library started (those whose name begins
/// with [`LIBRARY_THREAD_PREFIX`]), sorted, as the kernel keeps them (at most 15 bytes). A
/// thread that ended a moment ago may still be listed.
///
/// ```
/// use multiproc_test_support::library_threads;
///
/// let before = library_threads();
/// let (started, running) = std::sync::mpsc::channel::<()>();
/// let (release, wait) = std::sync::mpsc::channel::<()>();
/// let named = std::thread::Builder::new()
///     .name("multiproc-example".into())
///     .spawn(move || {
///         started.send(()).unwrap(); // a thread is named before its body runs
///         wait.recv()
///     })?;
/// let (release_other, wait_other) = std::sync::mpsc::channel::<()>();
/// let unnamed = std::thread::spawn(move || wait_other.recv());
/// running.recv().unwrap();
///
/// let during = library_threads();
/// assert_eq!(during.len(), before.len() + 1); // the unnamed thread is not counted
/// assert!(during.iter().any(|name| name == "multiproc-examp"));
///
/// release.send(()).unwrap();
/// release_other.send(()).unwrap();
/// named.join().unwrap().unwrap();
/// unnamed.join().unwrap().unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn library_threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|comm| comm.trim_end_matches('\n').to_owned())
        .filter(|name| name.starts_with(LIBRARY_THREAD_PREFIX))
        .collect();
    names.sort();
    names
}
