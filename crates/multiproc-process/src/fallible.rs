//! Fallible targets: a function that returns `Result<T, E>` whose error reaches the caller as
//! an error of its own, with the error's chain, distinct from a panic.

use std::error::Error;

use crate::target::Target;

/// The longest chain of `source()` links that [`error_chain`] follows: a chain is written by
/// user code, and a cycle must not hang the child.
const MAX_CHAIN: usize = 32;

/// A target whose `Err` is the task's failure: made by [`fallible`].
///
/// `Fallible(f)` is a [`Target`] whose output is `T` when `f` returns `Result<T, E>`: its `Ok`
/// is the result, and its `Err` reaches the caller as
/// [`ProcessError::Failed`](crate::ProcessError::Failed) from
/// [`Process::join`](crate::Process::join), or as `PoolError::Failed` from a pool, with the
/// error's chain as the message. It is zero-sized when `f` is, so it is a valid target exactly
/// when `f` is.
///
/// ```
/// use multiproc_process::{Process, ProcessError, fallible};
/// fn parse(text: String) -> Result<u32, std::num::ParseIntError> { text.parse() }
///
/// let mut ok = Process::new(fallible(parse), ("42".to_owned(),));
/// ok.start()?;
/// assert_eq!(ok.join()?, 42);
///
/// let mut bad = Process::new(fallible(parse), ("forty-two".to_owned(),));
/// bad.start()?;
/// let error = bad.join().unwrap_err();
/// assert!(matches!(&error, ProcessError::Failed { message, .. }
///     if message == "invalid digit found in string"));
/// # Ok::<(), ProcessError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Fallible<F>(F);

/// Makes `f`, a target returning `Result<T, E>`, a target whose `Err` is reported as a failure
/// of the call rather than returned as a value.
///
/// Without it, a target returning a `Result` is a target like any other, and its `Result`
/// (when `T` and `E` are serde types) comes back as the value. With it, the caller gets `T`,
/// and an `Err` becomes [`ProcessError::Failed`](crate::ProcessError::Failed) (or a pool's
/// `PoolError::Failed`), whose message is the error's chain written as anyhow's `{:#}` does:
/// the error, then each `source()`, separated by `": "`.
///
/// `E` is any type that converts into `Box<dyn Error + Send + Sync>`: every error type that is
/// `Error + Send + Sync + 'static`, `anyhow::Error`, `Box<dyn Error + Send + Sync>`, `String`
/// and `&str`. A type that is only `Display` can be mapped first (`.map_err(|e| e.to_string())`).
///
/// ```
/// use std::fmt;
/// use multiproc_process::{Process, ProcessError, fallible};
///
/// #[derive(Debug)]
/// struct ConfigError(std::num::ParseIntError);
/// impl fmt::Display for ConfigError {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("bad port") }
/// }
/// impl std::error::Error for ConfigError {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
/// }
///
/// fn port(text: String) -> Result<u16, ConfigError> { text.parse().map_err(ConfigError) }
///
/// let mut p = Process::new(fallible(port), ("http".to_owned(),));
/// p.start()?;
/// match p.join() {
///     Err(ProcessError::Failed { message, .. }) => {
///         assert_eq!(message, "bad port: invalid digit found in string");
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), ProcessError>(())
/// ```
#[doc(alias = "try_map")]
pub fn fallible<F>(f: F) -> Fallible<F> {
    Fallible(f)
}

// Not offered in the error for a target that fails its bounds (a capturing closure): wrapping
// it in `fallible` is never the fix.
#[diagnostic::do_not_recommend]
impl<F, Args, T, E> Target<Args> for Fallible<F>
where
    F: Target<Args, Output = Result<T, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
{
    type Output = T;

    /// Calls the function; an `Err` panics with the error's chain (the library calls
    /// [`try_call`](Target::try_call), which returns it).
    fn call(self, args: Args) -> T {
        match self.try_call(args) {
            Ok(value) => value,
            Err(chain) => panic!("{chain}"),
        }
    }

    fn try_call(self, args: Args) -> Result<T, String> {
        self.0.call(args).map_err(|e| error_chain(&*e.into()))
    }
}

/// An error and its `source()` chain, separated by `": "` (anyhow's `{:#}`), at most
/// [`MAX_CHAIN`] links.
fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut next = error.source();
    for _ in 0..MAX_CHAIN {
        let Some(source) = next else { break };
        chain.push_str(": ");
        chain.push_str(&source.to_string());
        next = source.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Looping;
    impl std::fmt::Display for Looping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("loop")
        }
    }
    impl Error for Looping {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(self)
        }
    }

    #[test]
    fn a_cyclic_chain_is_cut() {
        let chain = error_chain(&Looping);
        assert_eq!(chain.matches("loop").count(), MAX_CHAIN + 1);
    }

    #[test]
    fn a_boxed_error_and_a_string_keep_their_message() {
        fn boxed(_: u8) -> Result<u8, Box<dyn Error + Send + Sync>> {
            Err("from a box".into())
        }
        fn string(_: u8) -> Result<u8, String> {
            Err("from a string".to_owned())
        }
        assert_eq!(fallible(boxed).try_call((1,)), Err("from a box".to_owned()));
        assert_eq!(
            fallible(string).try_call((1,)),
            Err("from a string".to_owned())
        );
    }
}
