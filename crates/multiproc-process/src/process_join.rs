//! Joining a [`Process`]: waiting for its child to end and reading what it sent back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::ProcessError;
use crate::process::{Process, State, check_owner};
use crate::registry::{self, ChildHandle};
use crate::result_channel::{Received, receive};
use crate::target::Portable;
use crate::wire::Outcome;

/// How often a join re-checks that the child is still alive while it waits for the result. A
/// copy of the child's result channel inherited by another process would hide the child's end
/// from the channel; the check catches that.
const LIVENESS_CHECK: Duration = Duration::from_millis(100);

/// How long a join first waits for the child's exit alone. A child that finishes quickly has
/// sent its result (it fits in the socket buffer) and exited by then: one wake-up instead of
/// two (the result, then the exit). A child whose large result is still streaming is read
/// after this window.
const EXIT_FIRST: Duration = Duration::from_millis(2);

impl<R: Portable> Process<R> {
    /// Waits for the child to end and returns what its target returned.
    ///
    /// Errors say why there is no result: [`ProcessError::Panicked`] (with the panic's message
    /// and location), [`ProcessError::Died`] (an exit code or a signal: `exit`, `abort`, a
    /// crash, [`kill`](Process::kill)), [`ProcessError::NotStarted`],
    /// [`ProcessError::AlreadyJoined`].
    ///
    /// ```
    /// use multiproc_process::{Process, ProcessError};
    /// fn fail() -> u8 { panic!("out of cheese") }
    /// let mut p = Process::new(fail, ());
    /// p.start().unwrap();
    /// match p.join() {
    ///     Err(ProcessError::Panicked { panic, .. }) => assert_eq!(panic.message, "out of cheese"),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// assert_eq!(p.exitcode().unwrap(), Some(1));
    /// ```
    pub fn join(&mut self) -> Result<R, ProcessError> {
        self.join_until(None)
    }

    /// Like [`join`](Process::join), but gives up after `timeout` with
    /// [`ProcessError::Timeout`], leaving the child running; joining again is allowed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use multiproc_process::{Process, ProcessError};
    /// fn sleepy() { std::thread::sleep(Duration::from_secs(30)) }
    /// let mut p = Process::new(sleepy, ());
    /// p.start().unwrap();
    /// assert!(matches!(p.join_timeout(Duration::from_millis(50)), Err(ProcessError::Timeout { .. })));
    /// p.kill().unwrap();
    /// assert!(matches!(p.join(), Err(ProcessError::Died { .. })));
    /// assert_eq!(p.exitcode().unwrap(), Some(-9));
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, ProcessError> {
        // `Duration::MAX` (any timeout past the clock's end) means no limit; zero polls once.
        self.join_until(multiproc_sys::time::deadline_after(Some(timeout)))
    }

    fn join_until(&mut self, deadline: Option<Instant>) -> Result<R, ProcessError> {
        let name = self.identity.name.clone();
        let (method, limits) = (self.method, self.settings.limits);
        let running = match &mut self.state {
            State::Running(running) => running,
            State::Pending(_) => return Err(ProcessError::NotStarted { name }),
            State::Joined(_) => return Err(ProcessError::AlreadyJoined { name }),
            State::Closed => return Err(ProcessError::Closed { name }),
        };
        check_owner(&running.child)?;
        let max = self.max_result_size;
        if running.outcome.is_none() && running.result_closed.is_none() {
            let window = match deadline {
                None => EXIT_FIRST,
                Some(deadline) => deadline
                    .saturating_duration_since(Instant::now())
                    .min(EXIT_FIRST),
            };
            if running.child.wait_exit(window) {
                match receive(&running.result, Duration::ZERO, max) {
                    Received::Message(outcome) => running.outcome = Some(outcome),
                    // Nothing was sent, or the channel closed: the loop below tells which.
                    Received::Empty | Received::Closed => {}
                    Received::Failed(e) => running.result_closed = Some(e),
                }
            }
        }
        while running.outcome.is_none() && running.result_closed.is_none() {
            let left = match deadline {
                None => LIVENESS_CHECK,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(LIVENESS_CHECK),
                    _ => return Err(ProcessError::Timeout { name }),
                },
            };
            match receive(&running.result, left, max) {
                Received::Message(outcome) => running.outcome = Some(outcome),
                Received::Empty => {
                    if running.child.has_ended() {
                        // Ended, yet the channel is open: take what it sent, if anything.
                        match receive(&running.result, Duration::ZERO, max) {
                            Received::Message(outcome) => running.outcome = Some(outcome),
                            Received::Failed(e) => running.result_closed = Some(e),
                            Received::Empty | Received::Closed => {
                                running.result_closed = Some(String::new())
                            }
                        }
                    }
                }
                Received::Closed => running.result_closed = Some(String::new()),
                Received::Failed(e) => running.result_closed = Some(e),
            }
        }
        let Some(status) = running.child.wait(deadline) else {
            return Err(ProcessError::Timeout { name });
        };
        let outcome = running.outcome.take();
        let taken = running.child.status_taken();
        let transfer_error = running.result_closed.take().filter(|e| !e.is_empty());
        registry::forget_child(running.child.pid);
        // The child's last log records may still be on their way to our logger.
        crate::logging::flush_child_records();
        self.state = State::Joined(status);
        match (outcome, status) {
            (Some(Outcome::Returned(value)), _) => Ok(value),
            (Some(Outcome::Panicked(panic)), status) => Err(ProcessError::Panicked {
                name,
                panic,
                status,
            }),
            (Some(Outcome::Error(message)), status) => Err(ProcessError::Failed {
                name,
                message,
                status,
            }),
            (Some(Outcome::Failed(detail)), _) => Err(ProcessError::Transfer {
                what: "the arguments",
                detail,
            }),
            (Some(Outcome::Setting(detail)), _) => Err(ProcessError::Setting {
                name,
                method,
                detail,
            }),
            (None, _) if transfer_error.is_some() => Err(ProcessError::Transfer {
                what: "the result",
                detail: transfer_error.unwrap_or_default(),
            }),
            (None, Some(status)) => match limits.explain(status) {
                Some(limit) => Err(ProcessError::LimitExceeded {
                    name,
                    limit,
                    status,
                }),
                None => Err(ProcessError::Died { name, status }),
            },
            (None, None) if taken => Err(ProcessError::StatusTaken { name }),
            (None, None) => Err(ProcessError::Lost { name }),
        }
    }

    /// For [`join_async`](Process::join_async): the outcome of [`join`](Process::join) once
    /// the child has ended (or cannot be awaited), else the child's record to wait on. It
    /// reads whatever the child has sent meanwhile, so that a result too large for the
    /// channel's buffer does not keep the child from ending.
    pub(crate) fn join_if_ended(&mut self) -> Result<Result<R, ProcessError>, Arc<ChildHandle>> {
        let max = self.max_result_size;
        let State::Running(running) = &mut self.state else {
            return Ok(self.join());
        };
        if let Err(wrong) = check_owner(&running.child) {
            return Ok(Err(wrong));
        }
        if running.outcome.is_none() && running.result_closed.is_none() {
            match receive(&running.result, Duration::ZERO, max) {
                Received::Message(outcome) => running.outcome = Some(outcome),
                // Nothing yet, or the channel closed: the child's end tells which.
                Received::Empty | Received::Closed => {}
                Received::Failed(e) => running.result_closed = Some(e),
            }
        }
        if running.child.has_ended() {
            return Ok(self.join());
        }
        Err(running.child.clone())
    }
}
