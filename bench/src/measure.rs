//! What every implementation of a scenario receives and gives back.

use std::fmt::Display;
use std::io;
use std::time::Instant;

/// The size of one measurement, the same for our code, CPython and the floor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    /// Operations (items, messages, tasks, cycles) in one sample.
    pub(crate) n: u64,
    /// Samples to take.
    pub(crate) repeats: usize,
    /// Where the processes run.
    pub(crate) pinning: Pinning,
}

/// Where the processes of a measurement run. The harness pins the measuring process
/// before calling an implementation, so children inherit CPU 0; with [`Pinning::CrossCpu`]
/// the implementation's child moves itself to CPU 1 ([`Pinning::child_setup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pinning {
    /// Wherever the scheduler puts them.
    Unpinned,
    /// Every process on CPU 0.
    SameCpu,
    /// The parent on CPU 0, its child on CPU 1.
    CrossCpu,
}

impl Pinning {
    /// The name used in environment variables and on the Python command line.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Pinning::Unpinned => "none",
            Pinning::SameCpu => "same",
            Pinning::CrossCpu => "cross",
        }
    }

    /// The inverse of [`Pinning::as_str`].
    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Pinning::Unpinned, Pinning::SameCpu, Pinning::CrossCpu]
            .into_iter()
            .find(|pinning| pinning.as_str() == text)
    }

    /// Called by the measuring process before the implementation runs.
    pub(crate) fn parent_setup(self) -> io::Result<()> {
        match self {
            Pinning::Unpinned => Ok(()),
            Pinning::SameCpu | Pinning::CrossCpu => crate::sys::pin_to_cpu(0),
        }
    }

    /// Called first thing in a child whose CPU matters (an echo child): moves it to CPU 1
    /// for [`Pinning::CrossCpu`].
    pub(crate) fn child_setup(self) -> io::Result<()> {
        match self {
            Pinning::CrossCpu => crate::sys::pin_to_cpu(1),
            Pinning::Unpinned | Pinning::SameCpu => Ok(()),
        }
    }
}

/// The result of running one implementation of a scenario.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// One raw figure per repeat (see [`crate::scenario::Metric`] for its meaning).
    Samples(Vec<f64>),
    /// The implementation does not exist (yet), with the reason.
    Unavailable(String),
    /// The implementation exists but the run failed.
    Failed(String),
}

impl Outcome {
    /// The row of one of our scenarios whose crate API has not landed yet.
    #[allow(
        dead_code,
        reason = "every scenario has its API today; new ones start pending"
    )]
    pub(crate) fn pending(api: &str) -> Self {
        Outcome::Unavailable(format!("not yet available: needs {api}"))
    }
}

impl<E: Display> From<Result<Vec<f64>, E>> for Outcome {
    fn from(result: Result<Vec<f64>, E>) -> Self {
        match result {
            Ok(samples) => Outcome::Samples(samples),
            Err(err) => Outcome::Failed(err.to_string()),
        }
    }
}

/// The error type of implementation bodies: anything printable.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `body` once per repeat and returns the seconds each call took.
pub(crate) fn time_repeats<E>(
    params: &Params,
    mut body: impl FnMut() -> Result<(), E>,
) -> Result<Vec<f64>, E> {
    let mut samples = Vec::with_capacity(params.repeats);
    for _ in 0..params.repeats {
        let start = Instant::now();
        body()?;
        samples.push(start.elapsed().as_secs_f64());
    }
    Ok(samples)
}

/// Fails with a message when a correctness check of a benchmark run does not hold (a
/// wrong count means the figure is meaningless, not that the code is slow).
pub(crate) fn ensure(ok: bool, what: impl FnOnce() -> String) -> io::Result<()> {
    if ok {
        Ok(())
    } else {
        Err(io::Error::other(what()))
    }
}
