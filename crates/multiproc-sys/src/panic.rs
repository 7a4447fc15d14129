//! The workspace's one panic hook: it records the message and location of each panic for
//! [`catch`], keeps quiet about panics that a quiet [`catch`] turns into errors, and reports
//! the panics inside [`catch_reported`] under the process's name.
//!
//! ```
//! multiproc_sys::panic::install();
//! let caught = multiproc_sys::panic::catch(true, || -> u8 { panic!("caught {}", 1) });
//! assert_eq!(caught.unwrap_err().message, "caught 1");
//! assert_eq!(multiproc_sys::panic::catch(true, || 5), Ok(5));
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};

/// A panic caught by [`catch`]: its message and, when the hook saw it, its location.
///
/// ```
/// use multiproc_sys::panic::{Caught, catch, install};
/// install();
/// let caught: Caught = catch(true, || panic!("quietly")).unwrap_err();
/// assert_eq!(caught.message, "quietly");
/// assert!(caught.location.is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caught {
    /// The panic's message (`"explicit panic"` for a payload that is not a string).
    pub message: String,
    /// `file:line:column`, when known.
    pub location: Option<String>,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<Caught>> = const { RefCell::new(None) };
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// The process name that [`catch_reported`] prints panics under.
    static REPORT_AS: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook, once per process. It records each panic for [`catch`] and then runs
/// the hook that was there before, unless the panic happened inside a quiet [`catch`].
///
/// A state word rather than a `Once`: a child forked (by a program's own `fork`) while
/// another thread was installing the hook would wait on a `Once` forever. Such a child sees
/// "being installed" and goes on without the hook (its panics then have no location). Call
/// this before forking so that children have it.
///
/// ```
/// multiproc_sys::panic::install();
/// ```
pub fn install() {
    static HOOK: AtomicU8 = AtomicU8::new(0);
    if HOOK
        .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = message(info.payload());
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            let quiet = QUIET.try_with(Cell::get).unwrap_or(false);
            let report_as = REPORT_AS
                .try_with(|name| name.try_borrow().ok().and_then(|name| name.clone()))
                .ok()
                .flatten();
            if !quiet && let Some(process) = &report_as {
                report(process, &message, location.as_deref());
            }
            // `try_with`: a panic while thread-locals are being torn down records nothing.
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = Some(Caught { message, location });
                }
            });
            if !quiet && report_as.is_none() {
                previous(info);
            }
        }));
        HOOK.store(2, Ordering::Release);
    }
}

/// The message of a panic payload.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(multiproc_sys::panic::message(&*payload), "boom 1");
/// ```
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "explicit panic".to_owned()
    }
}

/// Runs `f`, turning a panic into a [`Caught`] with its message and location. With `quiet`
/// the panic is not printed (the caller reports it some other way).
///
/// ```
/// let caught = multiproc_sys::panic::catch(true, || -> u32 { panic!("boom") }).unwrap_err();
/// assert_eq!(caught.message, "boom");
/// assert!(caught.location.unwrap().contains(".rs:"));
/// ```
pub fn catch<R>(quiet: bool, f: impl FnOnce() -> R) -> Result<R, Caught> {
    install();
    let was_quiet = QUIET.with(|q| q.replace(quiet));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    result.map_err(|payload| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| Caught {
                message: message(&*payload),
                location: None,
            })
    })
}

/// Like [`catch`] (not quiet), for the target of a child process: a panic is printed to
/// stderr under the process's name, as `process 'name' (pid N) panicked at file:line:col:`
/// and the message, in place of std's `thread '<unnamed>' panicked at ...`. A backtrace
/// follows only when `RUST_BACKTRACE` is set (and not `0`), as with std's hook; without
/// it, no backtrace and no note about one.
///
/// ```
/// let caught = multiproc_sys::panic::catch_reported("Process-1", || -> u32 {
///     panic!("boom")
/// });
/// assert_eq!(caught.unwrap_err().message, "boom");
/// ```
pub fn catch_reported<R>(process: &str, f: impl FnOnce() -> R) -> Result<R, Caught> {
    install();
    let outer = REPORT_AS.with(|name| name.replace(Some(process.to_owned())));
    let result = catch(false, f);
    REPORT_AS.with(|name| *name.borrow_mut() = outer);
    result
}

/// Prints a panic under the process's name, on a duplicate of the stderr descriptor (a
/// panic hook must not take the stdio lock: the panicking thread may hold it).
fn report(process: &str, message: &str, location: Option<&str>) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    use std::os::fd::AsFd;

    let mut text = format!(
        "process '{process}' (pid {}) panicked",
        crate::process::pid()
    );
    if let Some(location) = location {
        let _ = write!(text, " at {location}");
    }
    let _ = writeln!(text, ":\n{message}");
    let style = std::env::var_os("RUST_BACKTRACE");
    if style.as_ref().is_some_and(|value| value != "0") {
        let backtrace = std::backtrace::Backtrace::force_capture().to_string();
        if style.is_some_and(|value| value == "full") {
            let _ = write!(text, "stack backtrace:\n{backtrace}");
        } else {
            let _ = write!(text, "stack backtrace:\n{}", short_backtrace(&backtrace));
            text.push_str(
                "note: some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
            );
        }
    }
    if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
        let _ = std::fs::File::from(fd).write_all(text.as_bytes());
    }
}

/// The frames of a printed backtrace between the panic machinery and the start of the
/// thread (std's `__rust_end_short_backtrace` and `__rust_begin_short_backtrace` markers)
/// or this module's [`catch`], as std's hook shows them without `RUST_BACKTRACE=full`; all
/// of them if the markers are missing.
fn short_backtrace(full: &str) -> String {
    // A frame is a line `  N: symbol` and the `at file:line` lines under it.
    let mut frames: Vec<String> = Vec::new();
    for line in full.lines() {
        let numbered = line
            .trim_start()
            .split_once(": ")
            .is_some_and(|(index, _)| {
                !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())
            });
        match frames.last_mut() {
            Some(frame) if !numbered => {
                frame.push_str(line);
                frame.push('\n');
            }
            _ => frames.push(format!("{line}\n")),
        }
    }
    let start = frames
        .iter()
        .rposition(|frame| frame.contains("__rust_end_short_backtrace"))
        .map_or(0, |end| end + 1);
    let stop = frames
        .iter()
        .skip(start)
        .position(|frame| {
            frame.contains("__rust_begin_short_backtrace")
                || frame.contains("multiproc_sys::panic::catch")
        })
        .map_or(frames.len(), |at| start + at);
    frames[start..stop].concat()
}

#[cfg(test)]
mod tests {
    use super::short_backtrace;

    #[test]
    fn a_short_backtrace_keeps_the_frames_between_the_markers() {
        let full = "   0: std::panicking::begin_panic\n             at std/src/panicking.rs:1:1\n   1: std::sys::backtrace::__rust_end_short_backtrace\n   2: user::boom\n             at src/main.rs:3:5\n   3: user::run\n   4: std::sys::backtrace::__rust_begin_short_backtrace\n   5: main\n";
        assert_eq!(
            short_backtrace(full),
            "   2: user::boom\n             at src/main.rs:3:5\n   3: user::run\n"
        );
        assert_eq!(short_backtrace("   0: a\n   1: b\n"), "   0: a\n   1: b\n");
    }
}
