//! Adaptive polling before a blocking wait for the next message of a connection (a
//! [`Connection`](crate::Connection) or a [`SocketConnection`](crate::SocketConnection)),
//! as KVM polls a halted virtual CPU before it sleeps (`halt_poll_ns`).
//!
//! A request and its reply are a round trip between two processes, and when each side
//! sleeps while the other works, each message wakes a CPU that went idle. That wake-up is
//! most of the round trip where idle CPUs are slow to wake: on the 2-vCPU VM of the
//! benchmarks a manager call took 43 µs, of which each side spent about 20 µs between its
//! wake-up and its running again (`perf sched timehist`), against about 6 µs when both
//! sides poll. So a side about to wait for a message first polls for it, briefly, yielding
//! its CPU between polls so that a thread it would otherwise keep from running (its peer,
//! on a machine with more runnable threads than CPUs) does run.
//!
//! Only a wait for a reply polls: one that follows a send on the same connection (a client
//! waiting for the answer to its request, a server for the next request after its reply).
//! A receiver that only receives, a stream, never polls: there the sender sends
//! without waiting and a wake-up overlaps the next send, and polling measured slower (8-byte
//! `Vec<f64>` messages on a `Pipe`: 0.89-0.90 M/s blocking, 0.52-0.74 M/s polling, in
//! alternating runs).
//!
//! How long to poll adapts to what the waits turn out to be, per connection:
//! - a message that arrives while polling keeps the budget;
//! - a wait that blocked and took between [`CHEAP_WAIT`] and [`LONG_WAIT`] grows the budget
//!   (doubled, from [`FIRST_POLL`], up to [`MAX_POLL`]): a longer poll might have caught it;
//! - a wait longer than [`LONG_WAIT`] (an idle client, a long call) sets it to zero, so
//!   that a connection used now and then costs no polling at all;
//! - a blocking wait shorter than [`CHEAP_WAIT`] (the wake-up was cheap: a busy machine,
//!   or the peer on this CPU) halves it, down to zero;
//! - one wait in [`PROBE_EVERY`] blocks without polling, to see whether blocking became
//!   cheap again (more clients than CPUs, say), where polling only takes turns away;
//! - while the budget is zero, one wait in [`SAMPLE_EVERY`] is timed to decide.
//!
//! On a machine with one CPU, polling can only delay the peer, and there is none.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The first budget after a wait that polling would have shortened.
const FIRST_POLL: Duration = Duration::from_micros(10);
/// The longest a wait polls.
const MAX_POLL: Duration = Duration::from_micros(50);
/// The longest wait that makes the next one poll. Longer than [`MAX_POLL`]: a side that
/// does not poll yet waits for the other side's wake-up, work and reply, and for its own
/// wake-up (about 55 µs on that VM), and polling shortens that. No longer than twice
/// [`MAX_POLL`]: a peer that answers later than that is out of reach, and polling for it
/// only burns the CPU (a manager client doing 100 µs of work between calls cost its
/// server thread 58 µs of CPU time per call with a limit of 200 µs, against 17.5 µs not
/// polling; with this limit the server does not poll for it).
const LONG_WAIT: Duration = Duration::from_micros(100);
/// A blocking wait this short means that waking this side is cheap: no polling.
const CHEAP_WAIT: Duration = Duration::from_micros(15);
/// One wait in this many blocks without polling, to measure what blocking costs now.
const PROBE_EVERY: u32 = 64;
/// While not polling, one wait in this many is timed (a divisor of [`PROBE_EVERY`]).
const SAMPLE_EVERY: u32 = 8;

/// The polling budget of one connection's waits.
#[derive(Clone, Copy, Debug, Default)]
struct Spin {
    budget: Duration,
    waits: u32,
    /// Whether this side sent since its last wait: the next wait is for a reply.
    sent: bool,
}

/// How one wait ended, for [`Spin::learn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waited {
    /// The message came while polling.
    Polled,
    /// The wait blocked; it took this long in all, polling included.
    Blocked(Duration),
}

impl Spin {
    /// Waits for the next message: polls `ready` (which must not block) for up to the
    /// budget, never past `deadline`, then calls `block` (which takes the message, or
    /// waits for it if no poll saw it), and learns from how it went. Returns what `block`
    /// returns.
    fn wait<T>(
        &mut self,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> bool,
        block: impl FnOnce() -> T,
    ) -> T {
        if !std::mem::take(&mut self.sent) || !several_cpus() {
            // Not a reply (a stream, or a second receive in a row), or nowhere to poll.
            return block();
        }
        self.waits = self.waits.wrapping_add(1);
        if self.budget.is_zero() && !self.waits.is_multiple_of(SAMPLE_EVERY) {
            // Not polling: only one wait in a few is timed, to see whether polling would
            // pay (two clock reads were 3% of a round trip on one CPU).
            return block();
        }
        let start = Instant::now();
        let budget = self.budget_now();
        if !budget.is_zero() {
            let until = start.checked_add(budget).unwrap_or(start);
            let until = deadline.map_or(until, |deadline| until.min(deadline));
            loop {
                if ready() {
                    self.learn(Waited::Polled);
                    return block();
                }
                if Instant::now() >= until {
                    break;
                }
                std::thread::yield_now();
            }
        }
        let outcome = block();
        self.learn(Waited::Blocked(start.elapsed()));
        outcome
    }

    /// Whether the next wait is for a reply (a send came since the last one): only such a
    /// wait polls.
    fn awaits_reply(&self) -> bool {
        self.sent
    }

    /// Notes a send: the next wait is for a reply.
    fn sent(&mut self) {
        self.sent = true;
    }

    /// The budget for this wait: none on a probing wait.
    fn budget_now(&self) -> Duration {
        if self.waits.is_multiple_of(PROBE_EVERY) {
            Duration::ZERO
        } else {
            self.budget
        }
    }

    /// Adjusts the budget to how a wait went.
    fn learn(&mut self, waited: Waited) {
        match waited {
            Waited::Polled => {}
            Waited::Blocked(took) if took > LONG_WAIT => self.budget = Duration::ZERO,
            Waited::Blocked(took) if took < CHEAP_WAIT => {
                // Halved, not dropped: a probe in a stream of polled replies can find the
                // reply at once (the CPU had not gone idle yet), and dropping the budget
                // there cost the next few round trips their polling.
                self.budget /= 2;
                if self.budget < FIRST_POLL {
                    self.budget = Duration::ZERO;
                }
            }
            Waited::Blocked(_) => {
                self.budget = self.budget.saturating_mul(2).clamp(FIRST_POLL, MAX_POLL);
            }
        }
    }

    /// The current budget.
    #[cfg(test)]
    fn budget(&self) -> Duration {
        self.budget
    }
}

/// A connection's [`Spin`], in a `Cell`: connections are `Send` but not `Sync`, and their
/// methods take `&self`.
#[derive(Debug, Default)]
pub(crate) struct ReplyWait(Cell<Spin>);

impl ReplyWait {
    /// Notes a send: the next wait is for a reply.
    pub(crate) fn sent(&self) {
        let mut spin = self.0.get();
        spin.sent();
        self.0.set(spin);
    }

    /// Whether the next wait is for a reply.
    pub(crate) fn awaits_reply(&self) -> bool {
        self.0.get().awaits_reply()
    }

    /// [`Spin::wait`] with this connection's budget.
    pub(crate) fn wait<T>(
        &self,
        deadline: Option<Instant>,
        ready: impl FnMut() -> bool,
        block: impl FnOnce() -> T,
    ) -> T {
        let mut spin = self.0.get();
        let outcome = spin.wait(deadline, ready, block);
        self.0.set(spin);
        outcome
    }
}

/// Whether the machine has more than one CPU online (asked once). Not this process's
/// affinity: a process pinned to one CPU may wait for a peer pinned to another, which is
/// where polling pays most; a peer on the same CPU makes the waits cheap, which stops it.
fn several_cpus() -> bool {
    static SEVERAL: OnceLock<bool> = OnceLock::new();
    *SEVERAL.get_or_init(|| multiproc_sys::process::online_cpus().is_some_and(|n| n > 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// One wait whose polls all answer `ready` and whose blocking part returns at once;
    /// returns how many polls it made.
    fn count_polls(spin: &mut Spin, deadline: Option<Instant>, ready: bool) -> u32 {
        let mut polls = 0;
        spin.wait(
            deadline,
            || {
                polls += 1;
                ready
            },
            || (),
        );
        polls
    }

    #[test]
    fn waits_that_polling_would_shorten_grow_the_budget_to_its_cap() {
        let mut spin = Spin::default();
        assert_eq!(spin.budget(), Duration::ZERO);
        spin.learn(Waited::Blocked(micros(35)));
        assert_eq!(spin.budget(), FIRST_POLL);
        spin.learn(Waited::Blocked(micros(35)));
        assert_eq!(spin.budget(), FIRST_POLL * 2);
        for _ in 0..10 {
            spin.learn(Waited::Blocked(micros(40)));
        }
        assert_eq!(spin.budget(), MAX_POLL);
        // A message caught by polling keeps it.
        spin.learn(Waited::Polled);
        assert_eq!(spin.budget(), MAX_POLL);
    }

    #[test]
    fn long_or_cheap_waits_stop_the_polling() {
        let mut spin = Spin::default();
        spin.learn(Waited::Blocked(micros(30)));
        assert!(!spin.budget().is_zero());
        spin.learn(Waited::Blocked(LONG_WAIT + micros(1)));
        assert_eq!(
            spin.budget(),
            Duration::ZERO,
            "an idle peer costs no polling"
        );
        spin.learn(Waited::Blocked(micros(30)));
        spin.learn(Waited::Blocked(micros(30)));
        spin.learn(Waited::Blocked(micros(3)));
        assert_eq!(
            spin.budget(),
            FIRST_POLL,
            "a cheap wake-up halves the budget"
        );
        spin.learn(Waited::Blocked(micros(3)));
        assert_eq!(
            spin.budget(),
            Duration::ZERO,
            "cheap wake-ups need no polling"
        );
    }

    #[test]
    fn a_reply_wait_polls_first_and_keeps_the_budget_when_that_caught_the_reply() {
        let mut spin = Spin::default();
        spin.learn(Waited::Blocked(micros(30)));
        spin.sent();
        let polls = count_polls(&mut spin, None, true);
        if several_cpus() {
            assert_eq!(polls, 1);
            assert_eq!(spin.budget(), FIRST_POLL, "kept after a polled message");
        } else {
            eprintln!("one CPU: no polling to check");
            assert_eq!(polls, 0);
        }
    }

    #[test]
    fn polling_stops_at_the_budget_and_at_the_deadline() {
        let mut spin = Spin::default();
        for _ in 0..10 {
            spin.learn(Waited::Blocked(micros(40)));
        }
        // A peer that never answers: the poll ends within its budget, then blocks.
        let start = Instant::now();
        spin.sent();
        count_polls(&mut spin, None, false);
        assert!(start.elapsed() >= MAX_POLL || !several_cpus());
        // A deadline already passed: one poll at most.
        let mut spin = Spin::default();
        spin.learn(Waited::Blocked(micros(40)));
        spin.sent();
        let polls = count_polls(&mut spin, Some(Instant::now()), false);
        assert!(polls <= 1, "polled {polls} times past the deadline");
    }

    #[test]
    fn one_wait_in_a_while_blocks_to_probe_the_cost_of_blocking() {
        let mut spin = Spin::default();
        spin.learn(Waited::Blocked(micros(40)));
        let mut polled_waits = 0;
        for _ in 0..PROBE_EVERY {
            spin.sent();
            if count_polls(&mut spin, None, true) > 0 {
                polled_waits += 1;
            } else {
                // The probe's blocking part "took" 40 µs as far as learning goes.
                spin.learn(Waited::Blocked(micros(40)));
            }
        }
        if several_cpus() {
            assert_eq!(polled_waits, PROBE_EVERY - 1);
        }
    }

    #[test]
    fn a_wait_that_follows_no_send_never_polls_nor_learns() {
        let mut spin = Spin::default();
        spin.learn(Waited::Blocked(micros(40)));
        assert_eq!(
            count_polls(&mut spin, None, true),
            0,
            "a stream's receive polled"
        );
        assert_eq!(
            spin.budget(),
            FIRST_POLL,
            "a stream's receive changed the budget"
        );
        // One send, one polled wait; the next wait without a send does not poll.
        spin.sent();
        count_polls(&mut spin, None, true);
        assert_eq!(count_polls(&mut spin, None, true), 0);
    }
}
