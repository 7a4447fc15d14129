//! A census of what a test could leak: this process's descriptors, the library's threads and
//! child processes, taken before and after, with a wait for what ends a moment late.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::counts::fd_count;
use crate::process_table::child_pids;
use crate::threads::library_threads;

/// What this process holds that a test could leak: open descriptors, the threads the library
/// started (see [`library_threads`]: the test harness's own threads do not count) and child
/// processes.
///
/// ```
/// use std::time::Duration;
/// use multiproc_test_support::Census;
///
/// let before = Census::take();
/// let (started, running) = std::sync::mpsc::channel::<()>();
/// let (release, wait) = std::sync::mpsc::channel::<()>();
/// let kept = std::thread::Builder::new()
///     .name("multiproc-kept".into())
///     .spawn(move || {
///         started.send(()).unwrap(); // it has its name by now
///         wait.recv()
///     })?;
/// running.recv().unwrap();
/// // A library thread that outlives the test is a leak, named in the report...
/// let leak = Census::take().growth_since(&before).expect("a leak");
/// assert!(leak.contains("multiproc-kept"), "{leak}");
/// // ...until it ends.
/// release.send(()).unwrap();
/// kept.join().unwrap().unwrap();
/// before.assert_no_leak(Duration::from_secs(5), "the example");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// The number of open file descriptors.
    pub fds: usize,
    /// The names of the library's threads, sorted.
    pub threads: Vec<String>,
    /// The pids of the direct children (running or zombie), ascending.
    pub children: Vec<u32>,
}

impl Census {
    /// Counts what this process holds now.
    ///
    /// ```
    /// let census = multiproc_test_support::Census::take();
    /// assert!(census.fds >= 3); // stdin, stdout, stderr at least
    /// ```
    pub fn take() -> Census {
        Census {
            fds: fd_count(),
            threads: library_threads(),
            children: child_pids(),
        }
    }

    /// What this census holds beyond `before`, said in one line: more descriptors, a library
    /// thread (by name) that `before` did not have, a child that `before` did not have.
    /// `None` if nothing grew (fewer of anything is no leak).
    ///
    /// ```
    /// use multiproc_test_support::Census;
    /// let before = Census { fds: 4, threads: vec!["multiproc-log".into()], children: vec![] };
    /// let after = Census {
    ///     fds: 4,
    ///     threads: vec!["multiproc-accep".into(), "multiproc-log".into()],
    ///     children: vec![],
    /// };
    /// assert_eq!(after.growth_since(&before).unwrap(), "threads [\"multiproc-accep\"]");
    /// assert_eq!(before.growth_since(&after), None);
    /// ```
    pub fn growth_since(&self, before: &Census) -> Option<String> {
        let mut grown = Vec::new();
        if self.fds > before.fds {
            grown.push(format!("fds {} -> {}", before.fds, self.fds));
        }
        let new_threads = beyond(&self.threads, &before.threads);
        if !new_threads.is_empty() {
            grown.push(format!("threads {new_threads:?}"));
        }
        let new_children: Vec<u32> = self
            .children
            .iter()
            .copied()
            .filter(|pid| !before.children.contains(pid))
            .collect();
        if !new_children.is_empty() {
            grown.push(format!("children {new_children:?}"));
        }
        (!grown.is_empty()).then(|| grown.join(", "))
    }

    /// Waits up to `limit` for this process to hold no more than this census (a joined
    /// thread, a closed descriptor or a reaped child leaves `/proc` a moment later); then
    /// `Err` says what is left over.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_test_support::Census;
    /// let before = Census::take();
    /// let file = std::fs::File::open("/proc/self/stat")?;
    /// assert!(before.settle(Duration::ZERO).unwrap_err().starts_with("fds"));
    /// drop(file);
    /// assert_eq!(before.settle(Duration::from_secs(5)), Ok(()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn settle(&self, limit: Duration) -> Result<(), String> {
        settle(limit, || Census::take().growth_since(self))
    }

    /// Like [`settle`](Census::settle), but fails the test with a message naming `what`,
    /// this census and what is left over.
    ///
    /// ```
    /// use std::time::Duration;
    /// let before = multiproc_test_support::Census::take();
    /// std::thread::spawn(|| 1 + 1).join().unwrap(); // not a library thread: never counted
    /// before.assert_no_leak(Duration::from_secs(5), "a harness-like thread");
    /// ```
    pub fn assert_no_leak(&self, limit: Duration, what: &str) {
        if let Err(leak) = self.settle(limit) {
            panic!("{what} leaked: {leak} (before: {self:?})");
        }
    }
}

/// Calls `leak` until it finds nothing (`None`) or `limit` has passed; then `Err` with what it
/// found last. For leak checks of more than a [`Census`] counts (shared memory blocks, say).
///
/// ```
/// use std::time::Duration;
/// let mut looks = 0;
/// let found = multiproc_test_support::settle(Duration::from_secs(5), || {
///     looks += 1;
///     (looks < 3).then(|| format!("still there after {looks} looks"))
/// });
/// assert_eq!((found, looks), (Ok(()), 3));
/// ```
pub fn settle(limit: Duration, mut leak: impl FnMut() -> Option<String>) -> Result<(), String> {
    // `Duration::MAX` (no deadline) waits for as long as it takes.
    let deadline = multiproc_sys::time::deadline_after(Some(limit));
    loop {
        let Some(found) = leak() else {
            return Ok(());
        };
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(found);
        }
        // Polling /proc for what ends on its own time, not synchronising with it.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The names in `after` beyond those in `before`, counting repeats (two threads of one name
/// where there was one is one more).
fn beyond(after: &[String], before: &[String]) -> Vec<String> {
    let mut left: BTreeMap<&str, usize> = BTreeMap::new();
    for name in before {
        *left.entry(name).or_default() += 1;
    }
    let mut new = Vec::new();
    for name in after {
        match left.get_mut(name.as_str()) {
            Some(count) if *count > 0 => *count -= 1,
            _ => new.push(name.clone()),
        }
    }
    new
}
