//! Targets: functions that a child process can run, named by their place in the binary.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A function that can run in a child process, called with the argument tuple `Args`.
///
/// Implemented for every function item and every closure that captures nothing, of up to eight
/// arguments, whose arguments and result are serde types. Parent and child run the same
/// executable, so such a function is named across the process boundary by its offset in the
/// binary; nothing of it has to be serialized.
///
/// A closure is zero-sized only if it captures nothing: anything else is refused at compile
/// time, because its captures would not exist in a re-executed child. Pass the data as
/// arguments instead, or use [`Process::fork`](crate::Process::fork), which runs any closure in a
/// forked child.
///
/// ```
/// use multiproc_process::Target;
/// fn add(a: i32, b: i32) -> i32 { a + b }
/// assert_eq!(Target::call(add, (2, 3)), 5);
/// assert_eq!(Target::call(|| "hi", ()), "hi");
/// ```
///
/// A target that returns `Result<T, E>` returns it as a value; wrapped in
/// [`fallible`](crate::fallible), its `Err` is reported as the call's failure instead.
///
/// # When a capturing closure is refused
///
/// A closure that captures something that is not `Copy` (a `String`, a `Vec`, a reference to a
/// local) fails `cargo check`, on the closure, because a target must be `Copy + 'static`. A
/// closure that captures only `Copy` values (`move |x| x * factor`), and a `fn` pointer, pass
/// every trait bound: they are refused by a size check that runs when the program is built
/// (`cargo build`, `cargo test`), not by `cargo check` or rust-analyzer. That error reads
///
/// ```text
/// error[E0080]: evaluation panicked: a process target must be a function item or a closure
///               that captures nothing: ...
///    = ... evaluation of `TargetMustCaptureNothing::<{closure@src/main.rs:5:46: 5:59}>::CHECK` failed here
/// ```
///
/// and the type in angle brackets names the culprit: the closure's file, line and column, or
/// `fn(u32) -> u32` for a function pointer. (`tests/ui/capturing_copy_closure.stderr` pins
/// the whole message.)
///
/// Refusing these at `cargo check` too would need the target to be a `fn` pointer, to which
/// only a closure that captures nothing coerces. Rust coerces a function item to a `fn`
/// pointer only where the pointer's arity is already known, and in `Process::new(f, args)` and
/// `pool.map(f, iterable)` the arity comes from `args`, after `f`. These were tried (rustc
/// 1.95) and rejected:
///
/// * `new<Args: ArgTuple>(f: Args::Fn<R>, args: Args)`, with `Args::Fn<R> = fn(A, B) -> R`:
///   a function item fails to type-check (E0271, no coercion to a projection whose `Args` is
///   still unknown); only closures work, because rustc checks closure arguments last.
/// * The same with the arguments first, `new(args, f)`: everything works and a capturing
///   closure fails `cargo check` on the user's line, but it reverses Python's argument order
///   in every call of the API.
/// * A trait implemented for `fn(A) -> R`, `fn(A, B) -> R`, ... (`new<P: FnPtr>(f: P, args:
///   P::Args)`), or a two-step `Process::target(f).args(..)`: `f` is checked alone, so its
///   type is the function item's own type, which is not a `fn` pointer and is not coerced to
///   a type parameter (E0277). Writing `f as fn(_, _) -> _` at every call works, and costs
///   more than the error it avoids.
/// * A trait bound that a capturing closure lacks: a closure's traits (`Copy`, `Send`,
///   `Sync`, `'static`, ...) follow its captures, and a closure that captures a `u32` has
///   them all; stable Rust has no "zero-sized" or "captures nothing" trait, and
///   `#[diagnostic::on_unimplemented]` only rewords a bound that fails.
/// * `cargo check` does not evaluate the constants of generic functions (it stops before
///   monomorphization), so no form of the size assertion can fire there.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a process target for the arguments given",
    label = "not a target for these arguments",
    note = "a target is a function item or a closure that captures nothing, of up to eight \
            serde arguments, given as a tuple: `()`, `(x,)`, `(x, y)`...",
    note = "`fallible(f)` is a target when `f` is one and returns `Result<T, E>` with `E: \
            Into<Box<dyn Error + Send + Sync>>`"
)]
pub trait Target<Args>: Copy + Send + Sync + 'static {
    /// The function's return type.
    type Output;
    /// Calls the function with the tuple's elements as its arguments.
    fn call(self, args: Args) -> Self::Output;

    /// Calls the function, splitting a failure off its result: `Err` holds the error chain
    /// of a [`fallible`](crate::fallible) target's `Err`; every other target returns `Ok`.
    /// This is what a child runs.
    ///
    /// ```
    /// use multiproc_process::{Target, fallible};
    /// fn half(x: u32) -> Result<u32, String> {
    ///     if x % 2 == 0 { Ok(x / 2) } else { Err(format!("{x} is odd")) }
    /// }
    /// assert_eq!(fallible(half).try_call((4,)), Ok(2));
    /// assert_eq!(fallible(half).try_call((3,)), Err("3 is odd".to_owned()));
    /// assert_eq!(half.try_call((3,)), Ok(Err("3 is odd".to_owned())));
    /// ```
    fn try_call(self, args: Args) -> Result<Self::Output, String> {
        Ok(self.call(args))
    }
}

macro_rules! impl_target {
    ($($arg:ident),*) => {
        impl<Func, Ret, $($arg,)*> Target<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Ret + Copy + Send + Sync + 'static,
        {
            type Output = Ret;
            #[allow(non_snake_case)]
            fn call(self, ($($arg,)*): ($($arg,)*)) -> Ret {
                self($($arg),*)
            }
        }
    };
}

impl_target!();
impl_target!(A1);
impl_target!(A1, A2);
impl_target!(A1, A2, A3);
impl_target!(A1, A2, A3, A4);
impl_target!(A1, A2, A3, A4, A5);
impl_target!(A1, A2, A3, A4, A5, A6);
impl_target!(A1, A2, A3, A4, A5, A6, A7);
impl_target!(A1, A2, A3, A4, A5, A6, A7, A8);

/// Types that can cross a process boundary: serde both ways, owned, sendable between threads.
///
/// ```
/// use multiproc_process::{Portable, Process};
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
/// fn mirror(p: Point) -> Point { Point { x: -p.x, y: p.y } }
/// fn assert_portable<T: Portable>() {}
/// assert_portable::<Point>();
/// let mut p = Process::new(mirror, (Point { x: 1, y: 2 },));
/// p.start()?;
/// assert_eq!(p.join()?, Point { x: -1, y: 2 });
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
pub trait Portable: Serialize + DeserializeOwned + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Send + 'static> Portable for T {}

/// Refuses, when the program is built, a target that is not zero-sized (a closure that
/// captures a `Copy` value, or a `fn` pointer): it could not be named in a re-executed child.
///
/// Every path that names a target for another process (`Entry::sealed`, `FunctionRef::new`,
/// `sys::conjure_target`) reads `CHECK`: one constant per target type, so a refused target
/// gives one error, whose "evaluation of `TargetMustCaptureNothing::<T>::CHECK`" line names
/// `T`, the user's closure with its `file:line:column`.
pub(crate) struct TargetMustCaptureNothing<F>(PhantomData<F>);

impl<F> TargetMustCaptureNothing<F> {
    pub(crate) const CHECK: () = assert!(
        size_of::<F>() == 0,
        "a process target must be a function item or a closure that captures nothing: the \
         closure (or `fn` pointer) named in `TargetMustCaptureNothing::<..>` below is not \
         zero-sized. Pass what it captures as arguments, or run it with the unsafe \
         Process::fork"
    );
}
