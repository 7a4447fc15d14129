//! Start methods, and the program's default one.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::ProcessError;

/// How a child process is started.
///
/// | method | how | cost | what the child gets |
/// |---|---|---|---|
/// | [`Fork`](StartMethod::Fork) | `fork()` of this process | lowest | a copy of this process's memory; [`Process::fork`](crate::Process::fork) (unsafe) runs any closure |
/// | [`Spawn`](StartMethod::Spawn) | re-executes this binary | one `exec` | a fresh process; the target and its serialized arguments |
/// | [`Forkserver`](StartMethod::Forkserver) | a fork of a fork server started once by spawn | near fork | a fresh process; never a fork of a multi-threaded parent |
///
/// The default is `Forkserver`, as in CPython 3.14 on Linux: forking a program that runs
/// threads can deadlock the child (it inherits locks that other threads held), and a fork server
/// never forks a multi-threaded process.
///
/// ```
/// use multiproc_process::{StartMethod, get_context};
/// fn square(x: u64) -> u64 { x * x }
/// for method in StartMethod::ALL {
///     let mut p = get_context(method).process(square, (7,));
///     p.start()?;
///     assert_eq!(p.join()?, 49);
/// }
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum StartMethod {
    /// `fork()` this process.
    ///
    /// # Why `Process::new` under this method is sound
    ///
    /// [`Process::fork`] runs a caller's closure in the child, so it is an `unsafe fn`. Under
    /// this start method [`Process::new`] forks too, yet it is safe, because the library, not
    /// the caller, decides what the child runs until the target is called:
    ///
    /// - Before forking, the parent finishes every lazy initialisation the child uses (the
    ///   panic hook, ipc-channel's buffer size, the process tree's key), and it holds this
    ///   crate's state lock and the standard stream locks across the fork, so the child finds
    ///   them free and consistent.
    /// - The child leaves with `_exit`: it runs none of the parent's destructors, exit handlers
    ///   or buffered output twice.
    /// - The target and its arguments are what the caller could equally run in a fresh
    ///   process (a function item or a capture-free closure, serde arguments): under the spawn
    ///   method the same code runs in a single-threaded process.
    /// - A lock that a vanished thread held (one of a library the target uses) can make the
    ///   child wait forever; that is a deadlock, not undefined behaviour. `std`'s locks are
    ///   futex words in the child's copy of memory: they stay locked, they are not corrupted.
    /// - `malloc` stays usable in the child because glibc's `fork` takes and resets its arena
    ///   locks around the fork.
    ///
    /// Assumed, and not checked: glibc's `fork` (the only C library this crate is tested
    /// with), and that no library the target calls keeps state that is
    /// unsound (rather than just locked) when a thread vanishes mid-update, for example a
    /// lock-free structure whose invariants a single writer restores. That is the same
    /// assumption Python's fork method makes; prefer [`Forkserver`](StartMethod::Forkserver)
    /// (the default) in threaded programs.
    ///
    /// [`Process::fork`]: crate::Process::fork
    /// [`Process::new`]: crate::Process::new
    Fork,
    /// Re-execute this binary (`/proc/self/exe`).
    Spawn,
    /// Ask this process's fork server to fork.
    Forkserver,
}

impl StartMethod {
    /// Every start method, in Python's order.
    ///
    /// ```
    /// use multiproc_process::StartMethod;
    /// let names: Vec<&str> = StartMethod::ALL.iter().map(|m| m.as_str()).collect();
    /// assert_eq!(names, ["fork", "spawn", "forkserver"]);
    /// ```
    pub const ALL: [StartMethod; 3] = [
        StartMethod::Fork,
        StartMethod::Spawn,
        StartMethod::Forkserver,
    ];

    /// The method's name in Python: `"fork"`, `"spawn"` or `"forkserver"`.
    ///
    /// ```
    /// use multiproc_process::StartMethod;
    /// assert_eq!(StartMethod::Forkserver.as_str(), "forkserver");
    /// assert_eq!("spawn".parse::<StartMethod>()?, StartMethod::Spawn);
    /// # Ok::<(), multiproc_process::UnknownStartMethod>(())
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
            StartMethod::Forkserver => "forkserver",
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            StartMethod::Fork => 1,
            StartMethod::Spawn => 2,
            StartMethod::Forkserver => 3,
        }
    }

    fn from_u8(n: u8) -> Option<StartMethod> {
        match n {
            1 => Some(StartMethod::Fork),
            2 => Some(StartMethod::Spawn),
            3 => Some(StartMethod::Forkserver),
            _ => None,
        }
    }
}

impl fmt::Display for StartMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StartMethod {
    type Err = UnknownStartMethod;

    /// ```
    /// use multiproc_process::StartMethod;
    /// assert_eq!("spawn".parse::<StartMethod>().unwrap(), StartMethod::Spawn);
    /// assert!("thread".parse::<StartMethod>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StartMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownStartMethod(s.to_owned()))
    }
}

/// A start method name that is not `fork`, `spawn` or `forkserver`.
///
/// ```
/// use multiproc_process::{StartMethod, UnknownStartMethod};
/// let err: UnknownStartMethod = "vfork".parse::<StartMethod>().unwrap_err();
/// assert!(err.to_string().contains("vfork"));
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error("unknown start method {0:?} (expected fork, spawn or forkserver)")]
pub struct UnknownStartMethod(String);

/// 0 while `set_start_method` was never called.
static DEFAULT_METHOD: AtomicU8 = AtomicU8::new(0);

/// Sets the default start method. Like Python, a second call is an error unless `force`.
///
/// ```standalone_crate
/// use multiproc_process::{get_start_method, set_start_method, StartMethod};
/// set_start_method(StartMethod::Spawn, false).unwrap();
/// assert!(set_start_method(StartMethod::Fork, false).is_err());
/// set_start_method(StartMethod::Fork, true).unwrap();
/// assert_eq!(get_start_method(), StartMethod::Fork);
/// ```
#[doc(alias = "multiprocessing.set_start_method")]
pub fn set_start_method(method: StartMethod, force: bool) -> Result<(), ProcessError> {
    if force {
        DEFAULT_METHOD.store(method.to_u8(), Ordering::SeqCst);
        return Ok(());
    }
    DEFAULT_METHOD
        .compare_exchange(0, method.to_u8(), Ordering::SeqCst, Ordering::SeqCst)
        .map(drop)
        .map_err(|current| {
            ProcessError::ContextAlreadySet(
                StartMethod::from_u8(current).map_or("?", StartMethod::as_str),
            )
        })
}

/// In a child: the method that started it becomes its default, as if set by
/// [`set_start_method`] (CPython's spawn and forkserver children inherit the parent's context
/// this way), so that a spawn child starts its own children with spawn.
pub(crate) fn started_by(method: StartMethod) {
    // Only when it changes: a forked child's first write to a page copies the page.
    if DEFAULT_METHOD.load(Ordering::SeqCst) != method.to_u8() {
        DEFAULT_METHOD.store(method.to_u8(), Ordering::SeqCst);
    }
}

/// The default start method: the one set by [`set_start_method`], else `Forkserver`. In a
/// child, the method that started it (unless the child set another).
///
/// ```
/// use multiproc_process::{StartMethod, get_start_method};
/// assert_eq!(get_start_method(), StartMethod::Forkserver); // unless set_start_method was called
/// ```
#[doc(alias = "multiprocessing.get_start_method")]
pub fn get_start_method() -> StartMethod {
    StartMethod::from_u8(DEFAULT_METHOD.load(Ordering::SeqCst)).unwrap_or(StartMethod::Forkserver)
}

/// The start methods available on this platform, the default first.
///
/// ```
/// assert_eq!(multiproc_process::get_all_start_methods().len(), 3);
/// ```
#[doc(alias = "multiprocessing.get_all_start_methods")]
pub fn get_all_start_methods() -> Vec<StartMethod> {
    let default = get_start_method();
    let mut all = vec![default];
    all.extend(StartMethod::ALL.into_iter().filter(|&m| m != default));
    all
}
