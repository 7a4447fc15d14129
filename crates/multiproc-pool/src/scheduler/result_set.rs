//! The result thread's watch over the workers' result channels and its own wake-up channel.
//!
//! ipc-channel's `IpcReceiverSet` reads every message of a readable channel itself and trusts
//! the size each record announces: it reserves that size at once, so a worker (or a task in
//! it) that writes a forged header claiming 2^62 bytes to its result channel would abort the
//! pool's process with a failed allocation. This set polls the channels itself and checks
//! each record's header (`multiproc_sys::ipc_record`) before ipc-channel reads it: a refused
//! message makes its worker corrupt (killed and replaced, its tasks failed with the cause).

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use ipc_channel::IpcError;
use ipc_channel::ipc::IpcReceiver;
use ipc_channel::platform::OsIpcSender;
use multiproc_sys::ipc_receiver::WatchedReceiver;
use multiproc_sys::ipc_record::{self, Next};
use multiproc_sys::panic::catch;

use crate::wire::{Corrupt, FromWorker};

/// The largest message a worker may send on its result channel unless
/// [`PoolBuilder::max_result_size`](crate::PoolBuilder::max_result_size) says otherwise:
/// 1 GiB. A chunk's results travel as one message.
///
/// ```
/// assert_eq!(multiproc_pool::DEFAULT_MAX_RESULT_SIZE, 1 << 30);
/// ```
pub const DEFAULT_MAX_RESULT_SIZE: usize = 1 << 30;

/// The largest wake-up message (they are empty).
const WAKE_MAX: usize = 64;

/// What one look at the set found.
pub(super) enum Event {
    /// A message from the worker whose channel has this id, or why it cannot be trusted.
    Message(u64, Result<FromWorker, Corrupt>),
    /// The channel with this id closed (it is out of the set now).
    Closed(u64),
}

/// The workers' result channels, each with an id, and the wake-up channel.
pub(super) struct ResultSet {
    wake: Option<WatchedReceiver<()>>,
    channels: Vec<(u64, WatchedReceiver<FromWorker>)>,
    next_id: u64,
    max: usize,
}

fn unknown_fd() -> io::Error {
    io::Error::other(
        "the descriptor of an ipc-channel receiver is unknown (ipc-channel other than 0.23)",
    )
}

impl ResultSet {
    /// A set that wakes on `wake` and refuses result messages over `max` bytes.
    pub(super) fn new(wake: IpcReceiver<()>, max: usize) -> io::Result<ResultSet> {
        let wake = WatchedReceiver::new(wake);
        if wake.fd().is_none() {
            return Err(unknown_fd());
        }
        Ok(ResultSet {
            wake: Some(wake),
            channels: Vec::new(),
            next_id: 0,
            max,
        })
    }

    /// Adds a worker's result channel; returns its id.
    pub(super) fn add(&mut self, results: IpcReceiver<FromWorker>) -> io::Result<u64> {
        let results = WatchedReceiver::new(results);
        if results.fd().is_none() {
            return Err(unknown_fd());
        }
        let id = self.next_id;
        self.next_id += 1;
        self.channels.push((id, results));
        Ok(id)
    }

    /// Waits up to `timeout` (zero: looks once) for a channel to become readable, and takes
    /// everything the readable ones hold. An empty list if nothing came (or only a wake-up).
    pub(super) fn select(&mut self, timeout: Duration) -> io::Result<Vec<Event>> {
        let (ready_wake, ready) = {
            let wake = self.wake.as_ref().and_then(WatchedReceiver::fd);
            let mut fds: Vec<BorrowedFd<'_>> = Vec::with_capacity(self.channels.len() + 1);
            fds.extend(wake);
            // Every channel's descriptor is known (checked by `add`; none is ever serialized).
            fds.extend(self.channels.iter().filter_map(|(_, r)| r.fd()));
            let readable = multiproc_sys::poll::readable(&fds, Some(timeout))?;
            let (wake, channels) = readable.split_at(usize::from(wake.is_some()));
            (wake.first().copied().unwrap_or(false), channels.to_vec())
        };
        if ready_wake {
            self.drain_wake();
        }
        let max_fragment = OsIpcSender::get_max_fragment_size();
        let mut events = Vec::new();
        let mut closed = Vec::new();
        for ((id, receiver), ready) in self.channels.iter().zip(ready) {
            if ready && !take_all(*id, receiver, self.max, max_fragment, &mut events) {
                closed.push(*id);
            }
        }
        self.channels.retain(|(id, _)| !closed.contains(id));
        Ok(events)
    }

    /// Takes the wake-up messages (whatever they say); forgets the channel once it closed.
    fn drain_wake(&mut self) {
        let Some(wake) = &self.wake else { return };
        let Some(fd) = wake.fd() else { return };
        let max_fragment = OsIpcSender::get_max_fragment_size();
        loop {
            match ipc_record::check_next(fd, WAKE_MAX, max_fragment, None) {
                Ok(Ok(Next::Message)) => {
                    let _ = catch(true, || wake.recv());
                }
                Ok(Ok(Next::Nothing)) => return,
                // Refused (only a forked worker could have written it): dropped, go on.
                Ok(Err(_)) => {}
                Ok(Ok(Next::End)) | Err(_) => {
                    self.wake = None;
                    return;
                }
            }
        }
    }
}

/// Takes every message queued on one worker's channel into `events`; `false` once the
/// channel closed (a [`Event::Closed`] is among the events then).
fn take_all(
    id: u64,
    receiver: &WatchedReceiver<FromWorker>,
    max: usize,
    max_fragment: usize,
    events: &mut Vec<Event>,
) -> bool {
    let Some(fd) = receiver.fd() else {
        events.push(Event::Closed(id));
        return false;
    };
    loop {
        match ipc_record::check_next(fd, max, max_fragment, None) {
            Ok(Ok(Next::Message)) => {}
            Ok(Ok(Next::Nothing)) => return true,
            Ok(Ok(Next::End)) => {
                events.push(Event::Closed(id));
                return false;
            }
            Ok(Err(refusal)) => {
                let corrupt = Corrupt(format!(
                    "a refused message on its result channel: {refusal}"
                ));
                events.push(Event::Message(id, Err(corrupt)));
                return true;
            }
            Err(e) => {
                let corrupt = Corrupt(format!("its result channel failed: {e}"));
                events.push(Event::Message(id, Err(corrupt)));
                return true;
            }
        }
        // The record is there and passed the check: the blocking receive returns at once.
        match catch(true, || receiver.recv()) {
            Ok(Ok(message)) => events.push(Event::Message(id, Ok(message))),
            Ok(Err(IpcError::Disconnected)) => {
                events.push(Event::Closed(id));
                return false;
            }
            Ok(Err(e)) => {
                let corrupt = Corrupt(format!("an undecodable message on its result channel: {e}"));
                events.push(Event::Message(id, Err(corrupt)));
                return true;
            }
            Err(panic) => {
                let corrupt = Corrupt(format!(
                    "a malformed message on its result channel: {}",
                    panic.message
                ));
                events.push(Event::Message(id, Err(corrupt)));
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_with_one_channel(max: usize) -> (ResultSet, u64, ipc_channel::ipc::OpaqueIpcSender) {
        let (_wake, wake_rx) = ipc_channel::ipc::channel::<()>().unwrap();
        let mut set = ResultSet::new(wake_rx, max).unwrap();
        let (tx, rx) = ipc_channel::ipc::channel::<FromWorker>().unwrap();
        let id = set.add(rx).unwrap();
        (set, id, tx.to_opaque())
    }

    #[test]
    fn a_message_over_the_maximum_is_refused_unread() {
        let (mut set, id, tx) = set_with_one_channel(100);
        let tx = tx.to::<Vec<u8>>();
        tx.send(vec![0; 1000]).unwrap();
        let events = set.select(Duration::ZERO).unwrap();
        assert!(matches!(
            &events[..],
            [Event::Message(i, Err(Corrupt(why)))] if *i == id && why.contains("larger than the maximum of 100")
        ));
        assert!(set.select(Duration::ZERO).unwrap().is_empty());
    }

    #[test]
    fn garbage_on_the_channel_is_corrupt_not_a_panic() {
        let (mut set, id, tx) = set_with_one_channel(1 << 20);
        // A claimed byte-string length of about 2^63: an error, not an allocation.
        let mut huge = vec![0u8];
        huge.extend([0xff; 9]);
        huge.push(0x7f);
        let tx = tx.to::<Vec<u8>>();
        for garbage in [vec![9], vec![0xff; 12], huge] {
            tx.send(garbage.clone()).unwrap();
            let events = set.select(Duration::ZERO).unwrap();
            assert!(
                matches!(&events[..], [Event::Message(i, Err(_))] if *i == id),
                "{garbage:?}"
            );
        }
        drop(tx);
        let events = set.select(Duration::ZERO).unwrap();
        assert!(matches!(&events[..], [Event::Closed(i)] if *i == id));
    }
}
