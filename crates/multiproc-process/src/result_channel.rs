//! Receiving a child's outcome on its result channel, with the header of each record
//! checked before ipc-channel reads it (`multiproc_sys::ipc_record`).
//!
//! Whatever can write to the parent's end of the result channel (the child's target, or
//! anything it hands the descriptor to) is hostile: ipc-channel reserves the size a record
//! announces at once, so a forged header claiming 2^62 bytes would abort the parent with a
//! failed allocation. A record that announces more than the process's maximum result size
//! ([`Process::set_max_result_size`](crate::Process::set_max_result_size)), or whose header
//! does not add up, is dropped unread, and `join` reports why.

use std::time::Duration;

use ipc_channel::platform::OsIpcSender;
use ipc_channel::{IpcError, TryRecvError};
use multiproc_sys::ipc_record::{self, Next};
use multiproc_sys::time::{deadline_after, remaining};

use crate::function::catch_panic;
use multiproc_sys::ipc_receiver::WatchedReceiver;

/// What one look at the result channel found.
pub(crate) enum Received<T> {
    /// The outcome.
    Message(T),
    /// Nothing yet.
    Empty,
    /// The channel closed without (another) message.
    Closed,
    /// A message that was refused or did not decode, or a failed system call; the text
    /// names the cause.
    Failed(String),
}

/// Waits up to `wait` (zero: look once) for the next message, refusing one that announces
/// more than `max` bytes.
pub(crate) fn receive<T>(receiver: &WatchedReceiver<T>, wait: Duration, max: usize) -> Received<T>
where
    T: for<'de> serde::Deserialize<'de> + serde::Serialize,
{
    let Some(fd) = receiver.fd() else {
        // An ipc-channel whose receivers do not show their descriptor: unchecked.
        let received = catch_panic(true, || receiver.try_recv_timeout(wait));
        return match received {
            Ok(Ok(message)) => Received::Message(message),
            Ok(Err(TryRecvError::Empty)) => Received::Empty,
            Ok(Err(TryRecvError::IpcError(IpcError::Disconnected))) => Received::Closed,
            Ok(Err(TryRecvError::IpcError(e))) => Received::Failed(e.to_string()),
            Err(panic) => Received::Failed(panic.message),
        };
    };
    let deadline = deadline_after(Some(wait));
    let max_fragment = OsIpcSender::get_max_fragment_size();
    // A look without waiting needs no poll: the check's non-blocking peek finds the same.
    let mut poll_first = !wait.is_zero();
    loop {
        if poll_first {
            match multiproc_sys::poll::wait_readable(fd, remaining(deadline)) {
                Ok(true) => {}
                Ok(false) => return Received::Empty,
                Err(e) => return Received::Failed(format!("could not wait for the result: {e}")),
            }
        }
        poll_first = true;
        // No deadline for the drain of a refused message (its own limits apply): cut short,
        // it would leave the child blocked on the rest of its message, and `join` waiting
        // for the child.
        match ipc_record::check_next(fd, max, max_fragment, None) {
            Ok(Ok(Next::Message | Next::End)) => break,
            Ok(Ok(Next::Nothing)) => {
                if remaining(deadline).is_some_and(|left| left.is_zero()) {
                    return Received::Empty;
                }
            }
            Ok(Err(refusal)) => {
                return Received::Failed(format!("the child's message was refused: {refusal}"));
            }
            Err(e) => return Received::Failed(format!("could not read the result: {e}")),
        }
    }
    // The record is there and passed the check: the blocking receive returns at once (a
    // result channel has one reader). `try_recv` is not used: it flips `O_NONBLOCK` on the
    // open file description, which a forked copy of this end would share.
    match catch_panic(true, || receiver.recv()) {
        Ok(Ok(message)) => Received::Message(message),
        Ok(Err(IpcError::Disconnected)) => Received::Closed,
        Ok(Err(e)) => Received::Failed(e.to_string()),
        Err(panic) => Received::Failed(panic.message),
    }
}
