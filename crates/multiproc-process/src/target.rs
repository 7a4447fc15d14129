//! Targets: functions that a child process can run, named by their place in the binary.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A function that can run in a child process, called with the argument tuple `Args`.
///
/// Implemented for every function item and every closure that captures nothing, of up to eight
/// arguments, whose arguments and result are serde types. Parent and child run the same
/// executable, so such a function is named across the process boundary by its offset in the
/// binary; nothing of it has to be serialized.
///
/// A capturing closure is zero-sized only if it captures nothing: anything else is refused at
/// compile time, because its captures would not exist in a re-executed child. Pass the data as
/// arguments instead, or use [`Process::fork`](crate::Process::fork), which runs any closure in a
/// forked child.
///
/// ```
/// use multiproc_process::Target;
/// fn add(a: i32, b: i32) -> i32 { a + b }
/// assert_eq!(Target::call(add, (2, 3)), 5);
/// assert_eq!(Target::call(|| "hi", ()), "hi");
/// ```
pub trait Target<Args>: Copy + Send + Sync + 'static {
    /// The function's return type.
    type Output;
    /// Calls the function with the tuple's elements as its arguments.
    fn call(self, args: Args) -> Self::Output;
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

/// Refuses, at compile time, a target that is not zero-sized (a capturing closure or a function
/// pointer): it could not be named in a re-executed child.
pub(crate) const fn assert_nameable<F>() {
    assert!(
        size_of::<F>() == 0,
        "a process target must be a function item or a closure that captures nothing; \
         pass captured data as arguments, or use Process::fork"
    );
}
