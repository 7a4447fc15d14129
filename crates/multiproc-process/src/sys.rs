//! The crate's unsafe code that is not a system call (system calls are in `multiproc-sys`):
//! turning a verified function offset back into a function, conjuring a zero-sized target,
//! the fork that starts a child, and removing the child marker from the environment before
//! `main`. Every other module of the crate denies `unsafe_code`.

use std::io;

use crate::tag::{Forged, Kind, Sealed, anchor_address};
use crate::target::{Target, TargetMustCaptureNothing};

mod fork_closure;

/// The function a sealed offset names, once its tag verified.
///
/// A valid tag proves that the offset was made by `Sealed::seal` from a function of type `T` in
/// a process of this process tree, and every process of the tree runs this very executable: a
/// forked child shares its parent's image, and a re-executed child receives the tree's key
/// only after proving, by its executable's fingerprint, that it runs the parent's file. The
/// image is loaded at one base, so the distance between two of its functions is the same in
/// every process that runs it.
pub(crate) fn open<T: Kind>(sealed: &Sealed<T>) -> Result<T, Forged> {
    const { assert!(size_of::<T>() == size_of::<usize>()) };
    sealed.verify()?;
    let address = anchor_address().wrapping_add_signed(sealed.offset());
    // SAFETY: the tag verified, so (see above) `address` is the address of a function of type
    // `T` in this image; `T` is a function pointer type of the size of `usize`.
    Ok(unsafe { std::mem::transmute_copy::<usize, T>(&address) })
}

/// Conjures the value of a target type in a process that never held one (a re-executed or
/// fork-server child, or a pool worker running a `FunctionRef`).
///
/// `F` is checked to be zero-sized at compile time, and `Target` requires `Copy`. It must also
/// be inhabited, which no trait can say; this fn is sound because of its only two callers,
/// the trampoline (`entry.rs`) and the batch function (`function.rs`) of a target: code names
/// them for a type `F` only inside `Process::new` and `FunctionRef::new`, which take a value of
/// `F`. A zero-sized, inhabited type has exactly one value and no bytes, so producing it out
/// of nothing is the same as copying the parent's.
pub(crate) fn conjure_target<F: Target<Args>, Args>() -> F {
    // The callers' constant (one error per refused target): asserts `size_of::<F>() == 0`.
    let () = TargetMustCaptureNothing::<F>::CHECK;
    // SAFETY: see above: `F` is an inhabited zero-sized type, so a zero-sized read through a
    // non-null, aligned (dangling) pointer produces its one value (`std::ptr` docs, "Safety").
    unsafe { std::ptr::NonNull::<F>::dangling().read() }
}

/// Forks a child that runs `child` and leaves with `_exit` with the code it returns (or
/// diverges on its own); returns the child's pid in the parent. The child never returns into
/// the caller.
///
/// This fn is safe to call because of who calls it, which this module can list: (1)
/// [`fork_single_threaded`], below, after checking that no other thread exists; (2) the fork
/// start method (`fork_start.rs`, called from `process_start.rs`), whose child runs either a
/// target of `Process::new` (sound by the argument written on `StartMethod::Fork`) or a
/// closure of `Process::fork`, whose caller took on fork's contract with `unsafe`. Before forking, that caller completes the lazy
/// initialisations the child uses and holds this crate's locks and the stdio locks, so the
/// child finds them free.
pub(crate) fn fork_child(child: impl FnOnce() -> i32) -> io::Result<u32> {
    // SAFETY: see above: the child runs only code that is sound after a fork in this
    // process's situation, and leaves with `_exit` without returning into the caller.
    match unsafe { multiproc_sys::fork::fork() }? {
        Some(pid) => Ok(pid),
        None => {
            let code = child();
            multiproc_sys::fork::exit_now(code)
        }
    }
}

/// Forks a child that runs `child`, as [`fork_child`], but only in a process that runs no
/// other thread (checked through `/proc/self/stat`): then the child inherits no lock or
/// half-done work of another thread, and may run any code. The fork server forks this way.
pub(crate) fn fork_single_threaded(child: impl FnOnce() -> i32) -> io::Result<u32> {
    let threads = multiproc_sys::process::thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "refusing to fork: this process runs {threads} threads"
        )));
    }
    fork_child(child)
}

/// Removes `key` from the environment if this process runs no other thread (in a constructor,
/// before `main`); returns whether it did.
pub(crate) fn remove_env_single_threaded(key: &str) -> bool {
    if !matches!(multiproc_sys::process::thread_count(), Ok(1)) {
        return false;
    }
    // SAFETY: only this thread exists, so nothing else reads or writes the environment now;
    // a thread started later sees the result.
    unsafe { multiproc_sys::env::remove_before_main(key) };
    true
}

/// Applies `changes` to the environment if this process runs no other thread (a child just
/// forked, before its target runs); an error otherwise, or for an invalid key or value.
pub(crate) fn change_env_single_threaded(
    changes: &[multiproc_sys::env::EnvChange],
) -> io::Result<()> {
    let threads = multiproc_sys::process::thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "cannot change the environment of a process that runs {threads} threads"
        )));
    }
    // SAFETY: only this thread exists, so nothing else reads or writes the environment now;
    // a thread started later sees the result. A fork cannot interrupt a C library
    // environment call of a well-behaved parent (std's `set_var` contract excludes one that
    // runs beside other threads).
    unsafe { multiproc_sys::env::apply_single_threaded(changes) }
}
