//! The workspace's one panic hook: it records the message and location of each panic for
//! [`catch`], and keeps quiet about panics that a quiet [`catch`] turns into errors.
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
            // `try_with`: a panic while thread-locals are being torn down records nothing.
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = Some(Caught { message, location });
                }
            });
            if !QUIET.try_with(Cell::get).unwrap_or(false) {
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
