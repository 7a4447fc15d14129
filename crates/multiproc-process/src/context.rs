//! Contexts: a start method to make processes with.

use crate::method::{StartMethod, get_start_method};
use crate::process::Process;
use crate::target::{Portable, Target};

/// A start method to make processes with, like Python's `multiprocessing.get_context(...)`.
///
/// ```
/// use multiproc_process::{get_context, StartMethod};
/// fn square(x: u32) -> u32 { x * x }
/// let ctx = get_context(StartMethod::Spawn);
/// let mut p = ctx.process(square, (7,));
/// p.start().unwrap();
/// assert_eq!(p.join().unwrap(), 49);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(alias = "multiprocessing.context.BaseContext")]
pub struct Context {
    method: StartMethod,
}

impl Context {
    /// The start method of this context.
    ///
    /// ```
    /// use multiproc_process::{StartMethod, get_context};
    /// assert_eq!(get_context(StartMethod::Fork).start_method(), StartMethod::Fork);
    /// ```
    pub fn start_method(&self) -> StartMethod {
        self.method
    }

    /// A process that runs `target(args...)` with this context's start method. See
    /// [`Process::new`].
    ///
    /// ```
    /// use multiproc_process::{StartMethod, get_context};
    /// fn add(a: u32, b: u32) -> u32 { a + b }
    /// let mut p = get_context(StartMethod::Spawn).process(add, (1, 2));
    /// p.start()?;
    /// assert_eq!(p.join()?, 3);
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    pub fn process<F, Args>(&self, target: F, args: Args) -> Process<F::Output>
    where
        F: Target<Args>,
        Args: Portable,
        F::Output: Portable,
    {
        Process::with_method(self.method, target, args)
    }
}

impl Default for Context {
    /// The context of the default start method ([`get_start_method`]).
    fn default() -> Self {
        Context {
            method: get_start_method(),
        }
    }
}

/// The context for `method`.
///
/// ```
/// use multiproc_process::{StartMethod, get_context};
/// fn hello() -> String { "hello".to_owned() }
/// let context = get_context(StartMethod::Forkserver);
/// let mut p = context.process(hello, ());
/// p.start()?;
/// assert_eq!(p.join()?, "hello");
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
#[doc(alias = "multiprocessing.get_context")]
pub fn get_context(method: StartMethod) -> Context {
    Context { method }
}
