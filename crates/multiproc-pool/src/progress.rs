//! Progress of a submission: a plain counter, and with the `progress` feature an `indicatif`
//! bar.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What [`Options`](crate::Options) asked for: no bar, the default bar, the default bar with a
/// style of the user's, or the user's own bar.
#[derive(Clone, Default)]
pub(crate) enum Choice {
    #[default]
    Hidden,
    #[cfg(feature = "progress")]
    Default,
    #[cfg(feature = "progress")]
    Style(indicatif::ProgressStyle),
    #[cfg(feature = "progress")]
    Bar(indicatif::ProgressBar),
}

impl fmt::Debug for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Hidden => "Hidden",
            #[cfg(feature = "progress")]
            Choice::Default => "Default",
            #[cfg(feature = "progress")]
            Choice::Style(_) => "Style(..)",
            #[cfg(feature = "progress")]
            Choice::Bar(_) => "Bar(..)",
        })
    }
}

impl From<bool> for Choice {
    fn from(show: bool) -> Choice {
        #[cfg(feature = "progress")]
        if show {
            return Choice::Default;
        }
        #[cfg(not(feature = "progress"))]
        let _ = show;
        Choice::Hidden
    }
}

/// The bar's look unless the user gives a style or a bar.
#[cfg(feature = "progress")]
const DEFAULT_TEMPLATE: &str = "{elapsed_precise} [{wide_bar}] {pos}/{len} ({per_sec}, eta {eta})";

/// `total` while the number of tasks is not known yet (an `imap` whose input is not
/// exhausted).
const UNKNOWN: usize = usize::MAX;

/// Counts the finished tasks of one submission and drives its progress bar, if any.
pub(crate) struct Progress {
    completed: AtomicUsize,
    total: AtomicUsize,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("completed", &self.completed())
            .field("total", &self.total())
            .finish()
    }
}

impl Progress {
    /// A counter for `total` tasks (`None`: not known yet), with the bar asked for (`true`:
    /// the default bar) if the `progress` feature is on.
    pub(crate) fn new(total: Option<usize>, bar: impl Into<Choice>) -> Progress {
        let choice = bar.into();
        #[cfg(not(feature = "progress"))]
        let _ = choice;
        Progress {
            completed: AtomicUsize::new(0),
            total: AtomicUsize::new(total.unwrap_or(UNKNOWN)),
            #[cfg(feature = "progress")]
            bar: make_bar(choice, total),
        }
    }

    pub(crate) fn completed(&self) -> usize {
        self.completed.load(Ordering::Relaxed)
    }

    pub(crate) fn total(&self) -> Option<usize> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t != UNKNOWN)
    }

    pub(crate) fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            if self.completed() == total {
                bar.finish();
            }
        }
    }

    /// Books `tasks` more finished tasks: the bar moves by one per task, not per chunk.
    pub(crate) fn add(&self, tasks: usize) {
        let done = self.completed.fetch_add(tasks, Ordering::Relaxed) + tasks;
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.inc(tasks as u64);
            if self.total() == Some(done) {
                bar.finish();
            }
        }
        #[cfg(not(feature = "progress"))]
        let _ = done;
    }
}

/// The bar for `choice`, its length set to `total` where known (a bar of the user's keeps
/// its style and draw target; its position starts where it is).
#[cfg(feature = "progress")]
fn make_bar(choice: Choice, total: Option<usize>) -> Option<indicatif::ProgressBar> {
    let style = match choice {
        Choice::Hidden => return None,
        Choice::Bar(bar) => {
            match total {
                Some(total) => bar.set_length(total as u64),
                None => bar.unset_length(),
            }
            return Some(bar);
        }
        Choice::Default => indicatif::ProgressStyle::with_template(DEFAULT_TEMPLATE).ok(),
        Choice::Style(style) => Some(style),
    };
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(total as u64),
        None => indicatif::ProgressBar::no_length(),
    };
    if let Some(style) = style {
        bar.set_style(style);
    }
    Some(bar)
}
