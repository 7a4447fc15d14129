//! The word that a thread blocked in `AsyncResult::get` sleeps on, shared by the pool and
//! every worker: a result reaches a waiting caller with one wake-up (worker → caller) instead
//! of two (worker → result thread → caller).
//!
//! Two 32-bit words in a small shared segment: a sequence number that is bumped (and
//! futex-woken) whenever something a waiter may want has happened, and the number of
//! threads waiting. A worker that has written a result into its ring bumps the sequence only
//! while somebody waits, so that a busy `map` pays no system call for it; the waiter then
//! books the ready results itself (see `Shared::book_ready`), the same way the result
//! thread does. A result that arrives any other way (the channel, a dead worker, a
//! cancellation) is stored by whoever books it, and storing it bumps the sequence too.
//!
//! Ordering: a publisher makes its news visible (a ring record, a stored result), then
//! issues a `SeqCst` fence and reads the waiter count; a waiter raises the count, then reads
//! the sequence, then looks for the news, then sleeps while the sequence is unchanged.
//! Either the publisher sees the waiter (and bumps the sequence after the waiter read it,
//! so the sleep returns at once), or the waiter sees the news.
//!
//! The words are in memory the workers can write. A worker that scribbles over them can make
//! waiters wake for nothing (they look again and sleep again), or, with a waiter count that
//! never drops to zero, make the other workers leave the result thread asleep: it still
//! looks at the rings every 100 ms, and storing a result still wakes every waiter. Nothing
//! is lost; only slower.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::{Duration, Instant};

use multiproc_shared::{Segment, SharedError};
use serde::{Deserialize, Serialize};

/// Byte offset of the sequence number.
const SEQUENCE: usize = 0;
/// Byte offset of the number of waiting threads.
const WAITERS: usize = 4;

thread_local! {
    /// This thread counts as a waiter (it is inside [`GetWake::wait`]): what it publishes
    /// itself needs no wake-up for it.
    static WAITING: Cell<bool> = const { Cell::new(false) };
}

/// The pool's shared wake-up word for threads blocked in `get` (see the module docs).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct GetWake {
    segment: Segment,
}

impl GetWake {
    pub(crate) fn new() -> Result<GetWake, SharedError> {
        let wake = GetWake {
            segment: Segment::new(8)?,
        };
        // Claim both words as 4-byte atomics now, so that no later access can fail.
        wake.segment.atomic_u32(SEQUENCE)?;
        wake.segment.atomic_u32(WAITERS)?;
        Ok(wake)
    }

    /// The word at `offset`; `None` only for a segment that is not the 8 bytes this type
    /// makes (a worker's copy arrived damaged), where nothing is woken or waited on.
    fn word(&self, offset: usize) -> Option<&AtomicU32> {
        self.segment.atomic_u32(offset).ok()
    }

    /// After news a waiter may want (a result written or stored): wakes the waiting threads,
    /// if there are any (other than this one). Returns whether there were (then they look
    /// at the news).
    pub(crate) fn notify(&self) -> bool {
        let (Some(sequence), Some(waiters)) = (self.word(SEQUENCE), self.word(WAITERS)) else {
            return false;
        };
        fence(Ordering::SeqCst);
        let me = u32::from(WAITING.with(Cell::get));
        if waiters.load(Ordering::SeqCst) <= me {
            return false;
        }
        sequence.fetch_add(1, Ordering::SeqCst);
        multiproc_sys::futex::wake(sequence, u32::MAX);
        true
    }

    /// Waits until `done()` holds or `deadline` passes (`None`: no limit), and returns
    /// whether `done()` held. `book()` runs before every look at `done()` (it books the
    /// results waiting in the rings). Once the thread no longer counts as a waiter,
    /// `on_leave()` runs: news published while it still counted went to it, so it must book
    /// them or hand them on.
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        mut book: impl FnMut(),
        mut done: impl FnMut() -> bool,
        on_leave: impl FnOnce(),
    ) -> bool {
        let (Some(sequence), Some(waiters)) = (self.word(SEQUENCE), self.word(WAITERS)) else {
            return done();
        };
        let registered = Registered::new(waiters);
        let finished = loop {
            let seen = sequence.load(Ordering::SeqCst);
            book();
            if done() {
                break true;
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break false;
                    }
                    Some(left.min(Duration::from_secs(3600)))
                }
            };
            // Any outcome (woken, the word moved, timed out, a signal) means: look again.
            let _ = multiproc_sys::futex::wait(sequence, seen, timeout);
        };
        drop(registered);
        on_leave();
        finished
    }
}

/// This thread counts as a waiter while it lives (even should `book` or `done` panic).
struct Registered<'a> {
    waiters: &'a AtomicU32,
    /// Whether the thread already counted as one (a wait inside a wait).
    nested: bool,
}

impl<'a> Registered<'a> {
    fn new(waiters: &'a AtomicU32) -> Registered<'a> {
        waiters.fetch_add(1, Ordering::SeqCst);
        let nested = WAITING.with(|w| w.replace(true));
        Registered { waiters, nested }
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        WAITING.with(|w| w.set(self.nested));
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Barrier};

    use super::*;

    #[test]
    fn nobody_waiting_means_no_wake_up() {
        let wake = GetWake::new().unwrap();
        assert!(!wake.notify());
    }

    #[test]
    fn a_waiter_is_woken_by_news_published_after_it_looked() {
        let wake = GetWake::new().unwrap();
        let news = Arc::new(AtomicBool::new(false));
        let started = Arc::new(Barrier::new(2));
        let waiter = {
            let (wake, news, started) = (wake.clone(), news.clone(), started.clone());
            std::thread::spawn(move || {
                let mut first = true;
                let mut looks = 0;
                let done = wake.wait(
                    Instant::now().checked_add(Duration::from_secs(60)),
                    || {},
                    || {
                        looks += 1;
                        if std::mem::take(&mut first) {
                            // Nothing yet; the news comes while it goes to sleep.
                            started.wait();
                            return false;
                        }
                        news.load(Ordering::SeqCst)
                    },
                    || {},
                );
                (done, looks)
            })
        };
        started.wait();
        news.store(true, Ordering::SeqCst);
        // The waiter counts as one from before its first look until it leaves.
        assert!(wake.notify());
        let (done, looks) = waiter.join().unwrap();
        assert!(done, "the wake-up was lost: it waited until its deadline");
        assert!(looks >= 2, "{looks}");
        assert!(!wake.notify(), "it no longer counts as a waiter");
    }

    #[test]
    fn a_wait_gives_up_at_its_deadline_and_leaves() {
        let wake = GetWake::new().unwrap();
        let mut left = false;
        let start = Instant::now();
        let done = wake.wait(
            Instant::now().checked_add(Duration::from_millis(20)),
            || {},
            || false,
            || left = true,
        );
        assert!(!done);
        assert!(left);
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(!wake.notify());
    }
}
