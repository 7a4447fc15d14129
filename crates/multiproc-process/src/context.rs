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
    pub fn start_method(&self) -> StartMethod {
        self.method
    }

    /// A process that runs `target(args...)` with this context's start method. See
    /// [`Process::new`].
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
#[doc(alias = "multiprocessing.get_context")]
pub fn get_context(method: StartMethod) -> Context {
    Context { method }
}
