//! The result direction: how a worker hands a finished chunk to the pool (its ring or its
//! channel), and how the pool reads and checks what comes back.

use std::fmt;
use std::time::Duration;

use ipc_channel::ipc::{self, IpcReceiver, IpcSender};
use multiproc_channel::{Queue, QueueError as ChannelError};
use multiproc_shared::Value;
use multiproc_sys::panic::catch;
use serde::{Deserialize, Serialize};

use super::{Bytes, FromWorker};
use crate::get_wake::GetWake;

/// A result whose message is at most this long goes through the worker's ring; a longer one
/// through its channel.
pub(crate) const RING_MESSAGE_MAX: usize = 16 * 1024;
/// The size of each worker's result ring.
pub(crate) const RING_BYTES: usize = 64 * 1024;
/// How long a worker waits for room in a full ring before it nudges the result thread (and
/// learns whether the pool is still there).
const RING_FULL_NUDGE: Duration = Duration::from_millis(100);
/// What a `Done` message adds to its output: the variant, the id, the lengths.
const FRAMING: usize = 64;

/// Why the pool stopped trusting what a worker sent: its ring or a message is corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt(pub(crate) String);

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a worker's messages go.
///
/// A small result is written into a ring of shared memory ([`Queue`]'s byte path) that the
/// pool's result thread drains at every turn: no system call on either side while the
/// result thread is busy, and a result written there is delivered even if the worker dies
/// right after (the memory outlives it). The result thread sleeps only on the channels:
/// before it does, it sets `asleep` and looks at the rings once more; the worker that next
/// writes a result clears `asleep` and sends [`FromWorker::Ready`]. While a thread of the
/// pool's process is blocked in `AsyncResult::get`, the worker wakes that thread instead
/// (see [`GetWake`]), which books the result itself.
///
/// Large results, and everything else, go through the channel, whose end also tells the
/// pool at once that the worker is gone.
#[derive(Serialize, Deserialize)]
pub(crate) struct ResultSink {
    channel: IpcSender<FromWorker>,
    ring: Queue<()>,
    /// Shared by every worker of the pool: 1 while the result thread sleeps or is about to.
    asleep: Value<u32>,
    /// Shared by every worker of the pool: what threads blocked in `get` sleep on.
    get_wake: GetWake,
}

/// A worker's result path: the worker's [`ResultSink`], and the pool's ends of it (the
/// channel, for the result thread's select set, and the ring).
pub(crate) fn result_channel(
    asleep: &Value<u32>,
    get_wake: &GetWake,
) -> std::io::Result<(ResultSink, IpcReceiver<FromWorker>, Queue<()>)> {
    let (channel, receiver) = ipc::channel::<FromWorker>()?;
    let ring = Queue::with_capacity(None, RING_BYTES).map_err(std::io::Error::other)?;
    let sink = ResultSink {
        channel,
        ring: ring.clone(),
        asleep: asleep.clone(),
        get_wake: get_wake.clone(),
    };
    Ok((sink, receiver, ring))
}

impl ResultSink {
    /// Sends a message; `false` once the pool is gone.
    pub(crate) fn send(&self, message: FromWorker) -> bool {
        self.channel.send(message).is_ok()
    }

    /// Hands a finished chunk to the pool; `false` once the pool is gone. With
    /// `channel_only` (some of the chunk's results went through the channel already), it
    /// goes through the channel too, so that it cannot overtake them. `idle_next`: the
    /// worker has no other chunk to run next, so it may yield its CPU before it wakes the
    /// result thread (see [`deliver`](Self::deliver)).
    pub(crate) fn done(
        &self,
        id: u64,
        output: Result<Bytes, String>,
        channel_only: bool,
        buffer: &mut Vec<u8>,
        idle_next: bool,
    ) -> bool {
        // Decide on the output's length, before encoding anything.
        let small = match &output {
            Ok(bytes) => bytes.0.len() < RING_MESSAGE_MAX - FRAMING,
            Err(detail) => detail.len() < RING_MESSAGE_MAX - FRAMING,
        };
        self.deliver(
            FromWorker::Done { id, output },
            small && !channel_only,
            buffer,
            idle_next,
        )
    }

    /// Hands the results of the first tasks of a running chunk to the pool (postcard of
    /// `Vec<Result<Output, PanicInfo>>`); `None` once the pool is gone, else whether they
    /// went through the channel (see [`done`](ResultSink::done)).
    pub(crate) fn partial(
        &self,
        id: u64,
        output: Bytes,
        channel_only: bool,
        buffer: &mut Vec<u8>,
    ) -> Option<bool> {
        let small = output.0.len() < RING_MESSAGE_MAX - FRAMING && !channel_only;
        self.deliver(FromWorker::Partial { id, output }, small, buffer, false)
            .then_some(!small)
    }

    /// Sends a result through the ring if it is `small`, else through the channel. With
    /// `may_yield` (the worker would go idle next anyway), a worker that would have to wake
    /// the sleeping result thread yields its CPU once first.
    fn deliver(
        &self,
        message: FromWorker,
        small: bool,
        buffer: &mut Vec<u8>,
        may_yield: bool,
    ) -> bool {
        if !small {
            return self.send(message);
        }
        buffer.clear();
        match postcard::to_extend(&message, std::mem::take(buffer)) {
            Ok(encoded) => *buffer = encoded,
            Err(_) => return self.send(message),
        }
        loop {
            match self.ring.put_bytes_timeout(buffer, RING_FULL_NUDGE) {
                Ok(()) => break,
                // The result thread has not drained the ring for a while: nudge it, which
                // also finds out whether the pool is still there.
                Err(ChannelError::Full) if self.send(FromWorker::Ready) => {}
                Err(_) => return false,
            }
        }
        // A thread blocked in `get` books the result itself: wake it, not the result thread
        // (it hands on what it has not booked when it stops waiting).
        if self.get_wake.notify() {
            return true;
        }
        if may_yield && self.asleep.load() == 1 {
            // Waking the sleeping result thread costs a hop. The thread that handed this task
            // out a moment ago may be runnable on this very CPU, on its way to `get`: let it
            // run first. If it (or anyone) took the result meanwhile, nobody needs waking;
            // if it now waits, it is the one to wake. At most one yield per result, only by
            // a worker about to go idle (never for the partial results of a running chunk,
            // nor between the chunks of a batch) and only while the result thread sleeps:
            // a yield on a loaded CPU may hand it to another process for a while.
            std::thread::yield_now();
            if self.ring.is_empty() || self.get_wake.notify() {
                return true;
            }
        }
        if self.asleep.swap(0) == 1 {
            return self.send(FromWorker::Ready);
        }
        true
    }
}

/// What one read of a worker's result ring gave.
#[derive(Debug)]
pub(crate) enum RingRead {
    /// A message that decoded.
    Message(FromWorker),
    /// Nothing there (or the ring is closed).
    Empty,
    /// The ring or its record is corrupt: nothing more from this ring can be trusted.
    Corrupt(Corrupt),
}

/// Reads one message from a worker's result ring, waiting up to `wait` for its lock.
///
/// Every error of the ring other than "empty" or "closed" means the ring is corrupt (a
/// record length or a counter that the queue refused). A panic inside the read counts the
/// same: a peer's scribbles must not take the pool's result thread down.
pub(crate) fn read_ring(ring: &Queue<()>, wait: Duration) -> RingRead {
    let read = catch(true, || ring.get_bytes_timeout(wait));
    match read {
        Ok(Ok(bytes)) => match decode_ring_message(&bytes) {
            Ok(message) => RingRead::Message(message),
            Err(corrupt) => RingRead::Corrupt(corrupt),
        },
        Ok(Err(ChannelError::Empty | ChannelError::Closed)) => RingRead::Empty,
        Ok(Err(e)) => RingRead::Corrupt(Corrupt(format!("its result ring is corrupt: {e}"))),
        Err(panic) => RingRead::Corrupt(Corrupt(format!(
            "its result ring is corrupt (reading it failed: {})",
            panic.message
        ))),
    }
}

/// Decodes a message read from a result ring.
pub(crate) fn decode_ring_message(bytes: &[u8]) -> Result<FromWorker, Corrupt> {
    if bytes.len() > RING_MESSAGE_MAX {
        return Err(Corrupt(format!(
            "a record of {} bytes in its result ring, over the {RING_MESSAGE_MAX} a worker writes",
            bytes.len()
        )));
    }
    match postcard::from_bytes::<FromWorker>(bytes) {
        Ok(FromWorker::Done { id, output }) => Ok(FromWorker::Done { id, output }),
        Ok(FromWorker::Partial { id, output }) => Ok(FromWorker::Partial { id, output }),
        Ok(other) => Err(Corrupt(format!(
            "a stray message in its result ring: {other:?}"
        ))),
        Err(e) => Err(Corrupt(format!(
            "an undecodable record in its result ring: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_in_a_ring_record_is_corrupt_not_a_panic() {
        for garbage in [
            &[][..],
            &[0xff; 7],
            &[3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(decode_ring_message(garbage).is_err(), "{garbage:?}");
        }
        let ready = postcard::to_stdvec(&FromWorker::Ready).unwrap();
        assert!(decode_ring_message(&ready).unwrap_err().0.contains("stray"));
        let long = vec![0; RING_MESSAGE_MAX + 1];
        assert!(decode_ring_message(&long).unwrap_err().0.contains("over"));
    }

    #[test]
    fn a_ring_record_round_trips() {
        let done = FromWorker::Done {
            id: 7,
            output: Ok(Bytes(vec![1, 2, 3])),
        };
        let bytes = postcard::to_stdvec(&done).unwrap();
        assert!(matches!(
            decode_ring_message(&bytes),
            Ok(FromWorker::Done { id: 7, output: Ok(b) }) if b.0 == [1, 2, 3]
        ));
    }
}
