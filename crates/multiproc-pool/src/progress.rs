//! Progress of a submission: a plain counter, and with the `progress` feature an `indicatif`
//! bar.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// A counter for `total` tasks (`None`: not known yet), with a bar if asked for and the
    /// `progress` feature is on.
    pub(crate) fn new(total: Option<usize>, bar: bool) -> Progress {
        #[cfg(not(feature = "progress"))]
        let _ = bar;
        Progress {
            completed: AtomicUsize::new(0),
            total: AtomicUsize::new(total.unwrap_or(UNKNOWN)),
            #[cfg(feature = "progress")]
            bar: bar.then(|| {
                let bar = match total {
                    Some(total) => indicatif::ProgressBar::new(total as u64),
                    None => indicatif::ProgressBar::no_length(),
                };
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{wide_bar}] {pos}/{len} ({per_sec}, eta {eta})",
                ) {
                    bar.set_style(style);
                }
                bar
            }),
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
        }
    }

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
